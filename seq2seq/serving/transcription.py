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
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..config import ServeSettings
from ..data.audio.wav import Audio, read_audio_bytes
from ..errors import UserError
from ..inference.transcriber import Transcriber, Transcript
from .batcher import Batcher, Decode
from .routes import ERRORS, SPECTROGRAM_ROWS, TaskRoutes, downsampled

UPLOAD = "request body"                 # how messages about an uploaded recording name it
WAV_TYPES = ("audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave", "application/octet-stream")
MAX_FORM_FIELDS = 16                    # text fields a multipart upload may carry besides its file (ignored)


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
        body = await _wav_body(http)
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



async def _wav_body(http: Request) -> bytes:
    """The request's body, refused with 415 unless it is sent as a WAV file (or untyped bytes); for a
    multipart/form-data request, the bytes of its one uploaded file."""
    kind = http.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        return await _uploaded_wav(http)
    if kind and kind not in WAV_TYPES:
        raise HTTPException(status_code=415, detail=f"the body must be a WAV file (content-type audio/wav, "
                                                    f"audio/x-wav or application/octet-stream) or a "
                                                    f"multipart/form-data upload of one, not {kind}")
    return await http.body()


async def _uploaded_wav(http: Request) -> bytes:
    """The bytes of the one file in a multipart/form-data request (its other fields are ignored): 422 when the
    form cannot be read, holds no file or more than one, 415 when the file is typed as something other than audio
    (untyped or application/octet-stream is fine). The WAV reader then checks them as it checks a raw body."""
    try:
        form = await http.form(max_files=1, max_fields=MAX_FORM_FIELDS)
    except StarletteHTTPException as exc:         # Starlette's 400 for a malformed form or one over the limits
        detail = "one WAV file per request, not several" if str(exc.detail).startswith("Too many files") \
            else f"the multipart upload could not be read: {exc.detail}"
        raise HTTPException(status_code=422, detail=detail) from None
    try:
        upload = _one_file(form)
        kind = (upload.content_type or "").split(";")[0].strip().lower()
        if kind and not kind.startswith("audio/") and kind != "application/octet-stream":
            raise HTTPException(status_code=415, detail=f"the uploaded file must be a WAV file (content-type "
                                                        f"audio/wav or application/octet-stream), not {kind}")
        return await upload.read()
    finally:
        await form.close()


def _one_file(form: FormData) -> UploadFile:
    """The form's file, whatever its field's name (the form was read with max_files=1): 422 without one. A file
    input left empty (no name, no bytes, as a browser sends it) is no file."""
    files = [value for _, value in form.multi_items()
             if isinstance(value, UploadFile) and (value.filename or value.size)]
    if not files:
        raise HTTPException(status_code=422, detail="the multipart upload holds no file: send the WAV file as a "
                                                    "file part, e.g. curl -F file=@a.wav …/transcribe")
    return files[0]


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
