"""`POST /synthesize` for a text_to_speech run: the reply is the WAV file itself, or with `"alignment": true` JSON
holding it (base64) with the mel spectrogram and the attention that the page draws:

    curl -s localhost:8000/synthesize -H 'content-type: application/json' -d '{"text": "three five"}' -o out.wav

A synthesis's Griffin-Lim and WAV encoding run on the decoding thread too."""

from __future__ import annotations

import asyncio
import base64
from typing import Any, Optional

from fastapi import HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ..config import ServeSettings
from ..data.audio.wav import wav_bytes
from ..errors import UserError
from ..inference.synthesizer import MAX_CHARS as SYNTHESIS_MAX_CHARS
from ..inference.synthesizer import Synthesis, Synthesizer
from .batcher import Batcher, Decode
from .routes import ERRORS, SPECTROGRAM_ROWS, TaskRoutes, downsampled

GRIFFIN_LIM_ITERS, MAX_GRIFFIN_LIM_ITERS = 60, 200      # a synthesis's phase iterations: default (the CLI's), most


class SynthesizeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="what to say: one utterance")
    griffin_lim_iters: int = Field(GRIFFIN_LIM_ITERS, ge=1, le=MAX_GRIFFIN_LIM_ITERS,
                                   description="Griffin-Lim phase iterations (more: cleaner, slower)")
    seed: int = Field(0, ge=0, description="Griffin-Lim's random initial phase (the frames vary from call to call "
                                           "all the same: the decoder's prenet keeps its dropout at inference)")
    alignment: bool = Field(False, description="reply with JSON (the WAV in base64, the mel spectrogram and the "
                                               "attention) instead of the WAV file itself")


class SynthesisOut(BaseModel):
    text: str
    sample_rate: int
    seconds: float = Field(description="length of the audio")
    stopped: bool = Field(description="the model's stop flag ended it (false: it ran to its step limit)")
    wav_base64: str = Field(description="the 16-bit PCM WAV file, base64")
    tokens: list[str] = Field(description="the input pieces the model read (unknown symbols dropped)")
    reduction: int = Field(description="mel frames per decoder step")
    frames: int = Field(description="mel frames generated (decoder steps × reduction)")
    mel: list[list[float]] = Field(description="the generated log-mel, one row per `mel_step` frames (averaged), one "
                                               "column per mel band, lowest first")
    mel_step: int
    attention: Optional[list[list[float]]] = Field(
        None, description="one row per decoder step, one column per input token; rows sum to 1 (absent: the model "
                          "has no attention)")
    griffin_lim_iters: int
    batched_with: int = Field(description="texts synthesised in the same batch as this one (itself included)")


def synthesizing(synthesizer: Synthesizer) -> Decode:
    """Synthesise texts with options (griffin_lim_iters, seed) into (`Synthesis`, its WAV bytes) pairs."""
    def decode(texts: list[str], options: tuple[int, int]) -> list[tuple[Synthesis, bytes]]:
        iterations, seed = options
        return [(s, wav_bytes(s.samples, s.sample_rate))
                for s in synthesizer.synthesize(texts, iterations=iterations, seed=seed)]
    return decode


SYNTHESIS_RESPONSES = {**ERRORS, 200: {
    "model": SynthesisOut, "description": "the WAV file (16-bit PCM at the run's sample rate); JSON with `alignment`",
    "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}},
    "headers": {"x-stopped": {"description": "with the WAV: true where the model's stop flag ended it, false where "
                                             "it ran to its step limit", "schema": {"type": "string"}}}}}


def add_routes(app, synthesizer: Synthesizer, batcher: Batcher, settings: ServeSettings,
                      runs: list[str]) -> None:
    config = synthesizer.config

    @app.post("/synthesize", response_class=Response, responses=SYNTHESIS_RESPONSES)
    async def synthesize(request: SynthesizeRequest, http: Request) -> Response:
        tokens = _synthesis_tokens(synthesizer, request.text, settings)
        options = (request.griffin_lim_iters, request.seed)
        try:
            [(synthesis, wav)], batched = await asyncio.wait_for(
                asyncio.shield(batcher.submit([request.text], options)), settings.timeout_s)
        except asyncio.TimeoutError:
            raise HTTPException(status_code=504, detail=f"synthesis took longer than this server's limit of "
                                                        f"{settings.timeout_s:g} s (--timeout)") from None
        except UserError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        http.state.seconds = len(synthesis.samples) / synthesis.sample_rate       # for the request log
        if not request.alignment:
            return Response(wav, media_type="audio/wav", headers={"x-stopped": str(synthesis.stopped).lower()})
        reply = _synthesis_reply(synthesis, wav, tokens, config.model.head.reduction)
        body = {**reply, "griffin_lim_iters": request.griffin_lim_iters, "batched_with": batched}
        return JSONResponse(body)



def _synthesis_tokens(synthesizer: Synthesizer, text: str, settings: ServeSettings) -> list[str]:
    """The pieces the model will read for `text`; 422 for a text over the limits, empty, or all unknown (checked
    here, before the batch, so that one bad text fails only its own request)."""
    if len(text) > settings.max_chars:
        raise HTTPException(status_code=422, detail=f"text: {len(text):,} characters; at most "
                                                    f"{settings.max_chars:,} (--max-chars)")
    try:
        [ids] = synthesizer.encode([text])
    except UserError as exc:
        raise HTTPException(status_code=422, detail=str(exc).replace("text 1 ", "text ", 1)) from None
    return synthesizer.vocab.text.pieces(ids)


def _synthesis_reply(s: Synthesis, wav: bytes, tokens: list[str], reduction: int) -> dict[str, Any]:
    """The JSON reply for one synthesis: the WAV in base64, the mel spectrogram (averaged down when long) and the
    attention, all on one time axis (decoder step t made frames t·reduction … (t+1)·reduction − 1)."""
    step = -(-len(s.mel) // SPECTROGRAM_ROWS) or 1
    reply = {"text": s.text, "sample_rate": s.sample_rate, "seconds": round(len(s.samples) / s.sample_rate, 4),
             "stopped": s.stopped, "wav_base64": base64.b64encode(wav).decode("ascii"), "tokens": tokens,
             "reduction": reduction, "frames": len(s.mel), "mel": downsampled(s.mel, step), "mel_step": step}
    if s.attention is not None:
        reply["attention"] = [[round(float(w), 5) for w in row] for row in s.attention]
    return reply


def limits(settings: ServeSettings) -> dict:
    """What `GET /info` says of synthesis requests."""
    return {"synthesis": {"max_chars": min(settings.max_chars, SYNTHESIS_MAX_CHARS),
                          "griffin_lim_iters": GRIFFIN_LIM_ITERS, "max_griffin_lim_iters": MAX_GRIFFIN_LIM_ITERS}}


ROUTES = TaskRoutes("/synthesize", "POST JSON text to /synthesize", add_routes, synthesizing, limits)
