"""`POST /transcribe` for a speech_to_text run: the body a WAV file, or a multipart/form-data upload of one file
(any field name; what `curl -F` and an HTML form send), read with the same limits and checks:

    curl -s 'localhost:8000/transcribe?beam_size=5&attention=true' -H 'content-type: audio/wav' --data-binary @a.wav
    curl -s 'localhost:8000/transcribe?beam_size=5' -F file=@a.wav

A recording's features are computed on a worker thread first, then it joins the batcher's queue."""

from __future__ import annotations

import asyncio
from typing import Any, Optional

from fastapi import HTTPException, Query, Request
from pydantic import BaseModel, Field

from ..config import ServeSettings
from ..data.audio.wav import Audio, read_audio_bytes
from ..errors import UserError
from ..inference.transcriber import Transcriber, Transcript
from .batcher import Batcher, Decode
from .routes import ERRORS, SPECTROGRAM_ROWS, TaskRoutes, downsampled
from .uploads import FileKind, file_body

UPLOAD = "request body"                 # how messages about an uploaded recording name it
WAV_TYPES = ("audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave", "application/octet-stream")
WAV = FileKind("a WAV file", "WAV file", WAV_TYPES, "audio/wav, audio/x-wav or application/octet-stream", "audio/",
               "audio/wav or application/octet-stream", "curl -F file=@a.wav …/transcribe")


class TranscriptionOut(BaseModel):
    text: str = Field(description="the transcript")
    score: float = Field(description="log-probability of the output, EOS included")
    tokens: list[str] = Field(description="output pieces; ends with </s> when the model stopped by itself")
    attention: Optional[list[list[float]]] = Field(
        None, description="one row per token, one column per encoder state (each covers `reduction` frames)")
    reduction: int = Field(description="feature frames per encoder state")
    frames: int = Field(description="feature frames of the audio (one per hop_ms)")
    seconds: float = Field(description="length of the audio")
    spectrogram: Optional[list[list[float]]] = Field(
        None, description="with attention: the log-mel features, one row per `spectrogram_step` frames (averaged), "
                          "one column per mel band, lowest first")
    spectrogram_step: Optional[int] = None
    beam_size: int
    batched_with: int = Field(description="recordings decoded in the same batch as this one (itself included)")


def transcribing(transcriber: Transcriber) -> Decode:
    """Decode normalised feature frames with options (beam_size,) into `Transcript`s (attention always kept)."""
    def decode(frames: list, options: tuple[int]) -> list[Transcript]:
        return transcriber.transcribe_features(frames, [UPLOAD] * len(frames), beam_size=options[0],
                                               batch_size=len(frames))
    return decode


WAV_BODY = {"requestBody": {"required": True, "description": "a WAV file (PCM 8/16/24/32-bit or float, any rate): "
                            "the body itself, or the one file of a multipart/form-data upload",
                            "content": {**{kind: {"schema": {"type": "string", "format": "binary"}}
                                           for kind in WAV_TYPES[:2] + WAV_TYPES[-1:]},
                                        "multipart/form-data": {"schema": {
                                            "type": "object", "required": ["file"], "properties": {"file": {
                                                "type": "string", "format": "binary", "description": "the WAV file "
                                                "(any field name is accepted; one file per request)"}}}}}}}


def add_routes(app, transcriber: Transcriber, batcher: Batcher, settings: ServeSettings,
                          runs: list[str]) -> None:
    config = transcriber.config
    has_attention = transcriber.model.decoder.has_attention

    @app.post("/transcribe", response_model=TranscriptionOut, response_model_exclude_none=True, openapi_extra=WAV_BODY,
              responses={**ERRORS, 415: {"description": "the body (or the uploaded file) is not typed as a WAV "
                                                        "file, audio or untyped bytes"}})
    async def transcribe(http: Request, beam_size: Optional[int] = Query(None, ge=1, description="1 = greedy; "
                         "default: the run's decode.beam_size"), attention: bool = Query(False, description="also "
                         "return the attention and the spectrogram")) -> dict[str, Any]:
        beam = beam_size or config.decode.beam_size
        if beam > settings.max_beam:
            raise HTTPException(status_code=422, detail=f"beam_size: {beam}; at most {settings.max_beam} (--max-beam)")
        body = await file_body(http, WAV)
        try:
            audio, mel, transcript, batched = await asyncio.wait_for(
                asyncio.shield(_transcribe(transcriber, batcher, body, beam, http)), settings.timeout_s)
        except asyncio.TimeoutError:
            raise HTTPException(status_code=504, detail=f"transcription took longer than this server's limit of "
                                                        f"{settings.timeout_s:g} s (--timeout)") from None
        except UserError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        reply = _transcript_reply(transcript, audio, mel, attention and has_attention)
        return {**reply, "beam_size": beam, "batched_with": batched}



async def _transcribe(transcriber: Transcriber, batcher: Batcher, body: bytes, beam: int,
                      http: Request) -> tuple[Audio, Any, Transcript, int]:
    """Read and featurise the recording on a worker thread, then decode it in the batcher's queue."""
    audio, mel, frames = await asyncio.get_running_loop().run_in_executor(None, _features, transcriber, body)
    http.state.seconds = audio.seconds                   # for the request log
    [transcript], batched = await batcher.submit([frames], (beam,))
    return audio, mel, transcript, batched


def _features(transcriber: Transcriber, body: bytes) -> tuple[Audio, Any, Any]:
    """The recording in `body` (within the run's data.max_seconds), its (frames, n_mels) log-mel features, and
    those normalised (what the model reads)."""
    audio = read_audio_bytes(body, UPLOAD, transcriber.config.data.max_seconds)
    mel = transcriber.log_mel(audio)
    return audio, mel, transcriber.vocab.normalise(mel)


def _transcript_reply(t: Transcript, audio: Audio, mel, attention: bool) -> dict[str, Any]:
    """The reply for one recording; with `attention`, the weights and the spectrogram to draw them under."""
    reply = {"text": t.text, "score": round(t.score, 6), "tokens": t.tokens, "reduction": t.reduction,
             "frames": t.frames, "seconds": round(audio.seconds, 4)}
    if attention and t.attention is not None:
        step = -(-len(mel) // SPECTROGRAM_ROWS) or 1     # frames averaged into one row
        reply["attention"] = [[round(float(w), 5) for w in row] for row in t.attention]
        reply["spectrogram"], reply["spectrogram_step"] = downsampled(mel, step), step
    return reply


ROUTES = TaskRoutes("/transcribe", "POST a WAV file to /transcribe", add_routes, transcribing)
