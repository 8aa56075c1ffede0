"""Serving: a FastAPI app that translates (transcribes, synthesises) over HTTP, merging concurrent requests into
batches.

    seq2seq serve runs/m30k_ref --port 8000
    curl -s localhost:8000/translate -H 'content-type: application/json' \\
         -d '{"texts": ["Ein Mann fährt Fahrrad."], "beam_size": 5, "attention": true}'

A speech_to_text run is served at `POST /transcribe` instead, the body a WAV file, or a multipart/form-data upload
of one file (any field name; what `curl -F` and an HTML form send), read with the same limits and checks:

    curl -s 'localhost:8000/transcribe?beam_size=5&attention=true' -H 'content-type: audio/wav' --data-binary @a.wav
    curl -s 'localhost:8000/transcribe?beam_size=5' -F file=@a.wav

A text_to_speech run is served at `POST /synthesize`: the reply is the WAV file itself, or with `"alignment": true`
JSON holding it (base64) with the mel spectrogram and the attention that the page draws:

    curl -s localhost:8000/synthesize -H 'content-type: application/json' -d '{"text": "three five"}' -o out.wav

Requests wait in one queue. The batcher takes the first, then keeps collecting until `max_batch_size` sentences
(recordings, texts to say) are waiting or `max_wait_ms` have passed since that first one, and decodes requests with
the same search options together (search results do not depend on the batch: tests/test_search.py). Decoding runs
on one worker thread (a recording's features are computed on another first; a synthesis's Griffin-Lim and WAV
encoding run on the decoding thread too), so the event loop keeps accepting requests meanwhile. `GET /` is the
attention web page (seq2seq/web/), `GET /docs` the OpenAPI docs, with every asset served by the package (no CDN).
`seq2seq serve` says on stderr where it listens once it does, then logs one line per request there (`--quiet`:
neither).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import uvicorn
from fastapi import FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import __version__
from .api import Translation, Translator
from .checkpoint import FORMAT_VERSION, read_config
from .config import ServeSettings
from .data.audio import Audio, read_audio_bytes, wav_bytes
from .errors import UserError
from .synthesizer import MAX_CHARS as SYNTHESIS_MAX_CHARS, Synthesis, Synthesizer
from .transcriber import Transcriber, Transcript

WEB = Path(__file__).parent / "web"
UPLOAD = "request body"                 # how messages about an uploaded recording name it
WAV_TYPES = ("audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave", "application/octet-stream")
MAX_FORM_FIELDS = 16                    # text fields a multipart upload may carry besides its file (ignored)
SPECTROGRAM_ROWS = 800                  # a longer recording's spectrogram is averaged down to this many rows
GRIFFIN_LIM_ITERS, MAX_GRIFFIN_LIM_ITERS = 60, 200      # a synthesis's phase iterations: default (the CLI's), most


class TranslateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    texts: list[str] = Field(description="sentences to translate, one output per text, in order")
    beam_size: Optional[int] = Field(None, ge=1, description="1 = greedy; default: the run's decode.beam_size")
    n_best: int = Field(1, ge=1, description="hypotheses per text (the beam is widened to n_best if narrower)")
    attention: bool = Field(False, description="also return tokens and the attention matrix of the best hypothesis")


class Hypothesis(BaseModel):
    text: str
    score: float = Field(description="log-probability of the output, EOS included")


class TranslationOut(BaseModel):
    text: str = Field(description="the best translation")
    score: float
    n_best: list[Hypothesis]
    src_tokens: Optional[list[str]] = None
    tgt_tokens: Optional[list[str]] = None
    attention: Optional[list[list[float]]] = Field(
        None, description="one row per target token (EOS included), one column per source token; rows sum to 1")
    truncated: bool = Field(False, description="the source was longer than the model's limit and was cut")


class TranslateResponse(BaseModel):
    translations: list[TranslationOut]
    beam_size: int
    batched_with: int = Field(description="sentences decoded in the same batch as this request's (itself included)")


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


Decode = Callable[[list, tuple], list]     # (items, search options) → one result per item, in order


@dataclass
class Job:
    items: list                                         # texts, or the feature frames of one recording
    options: tuple                                      # search options: only jobs with equal ones share a batch
    future: asyncio.Future
    queued: float = field(default_factory=time.perf_counter)


class Batcher:
    """One queue, one decoding thread. `submit` returns the job's results (from `decode`) and the size of the batch
    it rode in."""

    def __init__(self, decode: Decode, settings: ServeSettings):
        self.decode, self.settings = decode, settings
        self.queue: Optional[asyncio.Queue[Job]] = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seq2seq-decode")
        self.task: Optional[asyncio.Task] = None

    def start(self) -> None:
        self.queue = asyncio.Queue()
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def submit(self, items: list, options: tuple) -> tuple[list, int]:
        job = Job(items, options, asyncio.get_running_loop().create_future())
        await self.queue.put(job)
        return await job.future

    async def _collect(self) -> list[Job]:
        first = await self.queue.get()
        jobs, count = [first], len(first.items)
        if not self.settings.batching:
            return jobs
        deadline = first.queued + self.settings.max_wait_ms / 1000
        while count < self.settings.max_batch_size:
            try:
                job = self.queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    break
                try:
                    job = await asyncio.wait_for(self.queue.get(), remaining)
                except asyncio.TimeoutError:
                    break
            jobs.append(job)
            count += len(job.items)
        return jobs

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            jobs = await self._collect()
            groups: dict[tuple, list[Job]] = {}
            for job in jobs:
                groups.setdefault(job.options, []).append(job)
            for options, members in groups.items():
                items = [item for job in members for item in job.items]
                try:
                    results = await loop.run_in_executor(self.executor, self._decode, items, options)
                except Exception as exc:          # a bug: fail these requests, keep serving
                    for job in members:
                        if not job.future.done():
                            job.future.set_exception(exc)
                    continue
                start = 0
                for job in members:
                    if not job.future.done():     # (a request that timed out has stopped waiting)
                        job.future.set_result((results[start: start + len(job.items)], len(items)))
                    start += len(job.items)

    def _decode(self, items: list, options: tuple) -> list:
        return self.decode(items, options) if items else []


def translating(translator: Translator) -> Decode:
    """Decode texts with options (beam_size, n_best, attention) into n-best lists of `Translation`s."""
    def decode(texts: list[str], options: tuple[int, int, bool]) -> list[list[Translation]]:
        beam, n_best, attention = options
        return translator.translate_n_best(texts, n_best, batch_size=len(texts), beam_size=beam, attention=attention)
    return decode


def transcribing(transcriber: Transcriber) -> Decode:
    """Decode normalised feature frames with options (beam_size,) into `Transcript`s (attention always kept)."""
    def decode(frames: list, options: tuple[int]) -> list[Transcript]:
        return transcriber.transcribe_features(frames, [UPLOAD] * len(frames), beam_size=options[0],
                                               batch_size=len(frames))
    return decode


def synthesizing(synthesizer: Synthesizer) -> Decode:
    """Synthesise texts with options (griffin_lim_iters, seed) into (`Synthesis`, its WAV bytes) pairs."""
    def decode(texts: list[str], options: tuple[int, int]) -> list[tuple[Synthesis, bytes]]:
        iterations, seed = options
        return [(s, wav_bytes(s.samples, s.sample_rate))
                for s in synthesizer.synthesize(texts, iterations=iterations, seed=seed)]
    return decode


class BodyLimit:
    """ASGI middleware: a request body over `limit` bytes gets 413, judged by Content-Length or, for a body sent
    without one (chunked), while it arrives: the body is read here, up to the limit, and handed on whole."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await self._refuse(send, f"{int(length):,} bytes")
        if length is not None:
            return await self.app(scope, receive, send)   # the server never delivers more than Content-Length
        parts, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, _replay([message], receive), send)
            parts.append(message.get("body", b""))
            size += len(parts[-1])
            if size > self.limit:
                return await self._refuse(send, f"more than {self.limit:,} bytes")
            if not message.get("more_body", False):
                break
        whole = {"type": "http.request", "body": b"".join(parts), "more_body": False}
        await self.app(scope, _replay([whole], receive), send)

    async def _refuse(self, send, size: str) -> None:
        body = json.dumps({"detail": f"request body of {size} is over this server's limit of {self.limit:,} "
                                     f"bytes (--max-body-bytes)"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class RequestLog:
    """ASGI middleware: one line per HTTP request on stderr once it is answered, e.g.
    `2026-11-29 14:03:01 POST /translate 200 12.3 ms 3 texts` (the texts, or a recording's seconds, as the endpoint
    noted them in the request's state)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, status, state = time.perf_counter(), [500], scope.setdefault("state", {})

        async def noting_status(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            texts, seconds = state.get("texts"), state.get("seconds")
            count = "" if texts is None else f" {texts} text{'s' if texts != 1 else ''}"
            count += "" if seconds is None else f" {seconds:.1f} s audio"
            say(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {scope['method']} {scope['path']} {status[0]} "
                f"{(time.perf_counter() - start) * 1000:.1f} ms{count}")


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _replay(messages: list[dict], then):
    """A `receive` that first hands out `messages`, then defers to `then` (which reports the disconnect)."""
    async def receive():
        return messages.pop(0) if messages else await then()
    return receive


def create_app(run_dir: str | Path | list[str], settings: Optional[ServeSettings] = None, device: str = "cpu",
               log_requests: bool = False):
    """The FastAPI app serving the run (or ensemble of runs) in `run_dir`: `POST /translate` for a translation run,
    `POST /transcribe` for a speech_to_text run, `POST /synthesize` for a text_to_speech run (the other two answer
    404 saying so); `log_requests`: one line per request on stderr.
    `app.state.serving` names what it serves, e.g. "runs/m30k_ref (translation, cpu)"."""
    settings = settings or ServeSettings()
    runs = [str(run_dir)] if isinstance(run_dir, (str, Path)) else [str(r) for r in run_dir]
    model = _load(run_dir, runs, device)
    task = model.config.task
    routes, decoding = TASKS[task]
    batcher = Batcher(decoding(model), settings)

    @asynccontextmanager
    async def lifespan(app):
        batcher.start()
        yield
        await batcher.stop()

    app = FastAPI(title="seq2seq", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Translate, transcribe or synthesise with a trained seq2seq run. Concurrent requests "
                              "are decoded together.")
    app.state.serving = f"{' + '.join(runs)} ({task}, {model.device})"
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    if log_requests:
        app.add_middleware(RequestLog)                   # outermost: refusals by BodyLimit are logged too
    routes(app, model, batcher, settings, runs)
    _refuse_other_tasks(app, task, runs)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    _add_pages(app)
    return app


def _load(run_dir, runs: list[str], device: str) -> Translator | Transcriber | Synthesizer:
    """A Transcriber for one speech_to_text run, a Synthesizer for one text_to_speech run, else a Translator (which
    names a run it cannot translate with)."""
    task = read_config(Path(runs[0])).task if len(runs) == 1 else "translation"
    if task == "speech_to_text":
        return Transcriber.load(runs[0], device=device)
    if task == "text_to_speech":
        return Synthesizer.load(runs[0], device=device)
    return Translator.load(run_dir, device=device)


ENDPOINTS = {"translation": ("/translate", "POST JSON texts to /translate"),     # task: (its endpoint, how to call it)
             "speech_to_text": ("/transcribe", "POST a WAV file to /transcribe"),
             "text_to_speech": ("/synthesize", "POST JSON text to /synthesize")}


def _refuse_other_tasks(app, task: str, runs: list[str]) -> None:
    """Every other task's endpoint answers 404 saying what this server serves instead."""
    how = ENDPOINTS[task][1]
    for other, (path, _) in ENDPOINTS.items():
        if other != task:
            _refuse(app, path, f"this server serves a {task} run ({' + '.join(runs)}): {how}; {path} needs a "
                               f"{other} run")


def _refuse(app, path: str, detail: str) -> None:
    """`POST path` answers 404 with `detail`."""
    @app.post(path, include_in_schema=False)
    async def refuse() -> None:
        raise HTTPException(status_code=404, detail=detail)


ERRORS = {413: {"description": "request body too large"},
          422: {"description": "a limit or a field is wrong (the detail says which)"},
          504: {"description": "timed out"}}


def _translation_routes(app, translator: Translator, batcher: Batcher, settings: ServeSettings,
                        runs: list[str]) -> None:
    default_beam = translator.config.decode.beam_size

    @app.post("/translate", response_model=TranslateResponse, response_model_exclude_none=True, responses=ERRORS)
    async def translate(request: TranslateRequest, http: Request) -> dict[str, Any]:
        http.state.texts = len(request.texts)            # for the request log
        beam = request.beam_size or default_beam
        problems = _over_limits(request, beam, settings)
        if problems:
            raise HTTPException(status_code=422, detail="; ".join(problems))
        wants_attention = request.attention and translator.has_attention
        try:
            results, batched = await asyncio.wait_for(
                asyncio.shield(batcher.submit(request.texts, (beam, request.n_best, request.attention))),
                settings.timeout_s)
        except asyncio.TimeoutError:
            raise HTTPException(status_code=504, detail=f"translation took longer than this server's limit of "
                                                        f"{settings.timeout_s:g} s (--timeout)") from None
        except UserError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        out = [_reply_item(hyps, request.attention, wants_attention) for hyps in results]
        return {"translations": out, "beam_size": beam, "batched_with": batched}

    @app.get("/info")
    async def info() -> dict[str, Any]:
        config = translator.config
        return {"runs": runs, "task": config.task, "format_version": FORMAT_VERSION, "seq2seq": __version__,
                "vocab": {"source": translator.src_tokenizer.vocab_size, "target": translator.tgt_tokenizer.vocab_size},
                "attention": translator.has_attention, "model": config.model.model_dump(mode="json"),
                "decode": config.decode.model_dump(mode="json"), "serve": settings.model_dump(mode="json")}


WAV_BODY = {"requestBody": {"required": True, "description": "a WAV file (PCM 8/16/24/32-bit or float, any rate): "
                            "the body itself, or the one file of a multipart/form-data upload",
                            "content": {**{kind: {"schema": {"type": "string", "format": "binary"}}
                                           for kind in WAV_TYPES[:2] + WAV_TYPES[-1:]},
                                        "multipart/form-data": {"schema": {
                                            "type": "object", "required": ["file"], "properties": {"file": {
                                                "type": "string", "format": "binary", "description": "the WAV file "
                                                "(any field name is accepted; one file per request)"}}}}}}}


def _transcription_routes(app, transcriber: Transcriber, batcher: Batcher, settings: ServeSettings,
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

    @app.get("/info")
    async def info() -> dict[str, Any]:
        return {"runs": runs, "task": config.task, "format_version": FORMAT_VERSION, "seq2seq": __version__,
                "vocab": {"target": transcriber.vocab.text.vocab_size}, "attention": has_attention,
                "audio": {"max_seconds": config.data.max_seconds, "reduction": transcriber.model.encoder.reduction,
                          "features": config.data.features.model_dump(mode="json")},
                "model": config.model.model_dump(mode="json"), "decode": config.decode.model_dump(mode="json"),
                "serve": settings.model_dump(mode="json")}


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
        reply["spectrogram"], reply["spectrogram_step"] = _downsampled(mel, step), step
    return reply


def _downsampled(mel, step: int) -> list[list[float]]:
    """(ceil(frames / step), n_mels) means of `step` consecutive frames (the last row: of those left), rounded."""
    rows = [mel[i: i + step].mean(0) for i in range(0, len(mel), step)]
    return [[round(float(v), 2) for v in row] for row in rows]


SYNTHESIS_RESPONSES = {**ERRORS, 200: {
    "model": SynthesisOut, "description": "the WAV file (16-bit PCM at the run's sample rate); JSON with `alignment`",
    "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}},
    "headers": {"x-stopped": {"description": "with the WAV: true where the model's stop flag ended it, false where "
                                             "it ran to its step limit", "schema": {"type": "string"}}}}}


def _synthesis_routes(app, synthesizer: Synthesizer, batcher: Batcher, settings: ServeSettings,
                      runs: list[str]) -> None:
    config = synthesizer.config
    max_chars = min(settings.max_chars, SYNTHESIS_MAX_CHARS)

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

    @app.get("/info")
    async def info() -> dict[str, Any]:
        return {"runs": runs, "task": config.task, "format_version": FORMAT_VERSION, "seq2seq": __version__,
                "vocab": {"source": synthesizer.vocab.text.vocab_size},
                "attention": synthesizer.model.decoder.has_attention,
                "audio": {"sample_rate": synthesizer.vocab.sample_rate, "reduction": config.model.head.reduction,
                          "max_steps": config.model.head.max_steps,
                          "max_steps_per_token": config.model.head.max_steps_per_token,
                          "features": config.data.features.model_dump(mode="json")},
                "synthesis": {"max_chars": max_chars, "griffin_lim_iters": GRIFFIN_LIM_ITERS,
                              "max_griffin_lim_iters": MAX_GRIFFIN_LIM_ITERS},
                "model": config.model.model_dump(mode="json"), "decode": config.decode.model_dump(mode="json"),
                "serve": settings.model_dump(mode="json")}


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
             "reduction": reduction, "frames": len(s.mel), "mel": _downsampled(s.mel, step), "mel_step": step}
    if s.attention is not None:
        reply["attention"] = [[round(float(w), 5) for w in row] for row in s.attention]
    return reply


TASKS = {"translation": (_translation_routes, translating),       # task: (its routes, its decode function)
         "speech_to_text": (_transcription_routes, transcribing),
         "text_to_speech": (_synthesis_routes, synthesizing)}


def _over_limits(request: TranslateRequest, beam: int, settings: ServeSettings) -> list[str]:
    """What in a request exceeds this server's limits, one phrase each naming the limit's option."""
    problems = []
    if len(request.texts) > settings.max_texts:
        problems.append(f"texts: {len(request.texts)} texts; this server takes at most {settings.max_texts} per "
                        f"request (--max-texts)")
    for i, text in enumerate(request.texts):
        if len(text) > settings.max_chars:
            problems.append(f"texts[{i}]: {len(text):,} characters; at most {settings.max_chars:,} per text "
                            f"(--max-chars)")
            break
    for name, value in (("beam_size", beam), ("n_best", request.n_best)):   # n_best widens the beam
        if value > settings.max_beam:
            problems.append(f"{name}: {value}; at most {settings.max_beam} (--max-beam)")
    return problems


def _reply_item(hyps: list, tokens: bool, attention: bool) -> dict[str, Any]:
    """One input's reply: the best translation, its n-best list, and (asked for) tokens and attention."""
    best = hyps[0]
    item = {"text": best.text, "score": round(best.score, 6), "truncated": best.truncated,
            "n_best": [{"text": h.text, "score": round(h.score, 6)} for h in hyps]}
    if tokens:
        item["src_tokens"], item["tgt_tokens"] = best.src_tokens, best.tokens
        if attention and best.attention is not None:
            item["attention"] = [[round(float(w), 5) for w in row] for row in best.attention]
    return item


def _add_pages(app) -> None:
    """The web page, its assets, and the API docs served from local files (no CDN)."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import FileResponse, HTMLResponse
    from fastapi.staticfiles import StaticFiles

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(WEB / "index.html", media_type="text/html")

    app.mount("/web", StaticFiles(directory=WEB), name="web")
    swagger = _swagger_assets()
    if swagger is not None:
        app.mount("/docs-assets", StaticFiles(directory=swagger), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        if swagger is None:
            return HTMLResponse("<p>Swagger UI assets are not installed (pip install swagger-ui-bundle); the "
                                "OpenAPI schema is at <a href='/openapi.json'>/openapi.json</a>.</p>")
        return get_swagger_ui_html(openapi_url="/openapi.json", title="seq2seq API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon-32x32.png")


def _swagger_assets() -> Optional[str]:
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return None
    return str(swagger_ui_path)


ENV = "SEQ2SEQ_SERVE"   # how `--workers N` passes the run and settings to each worker process


def app_from_environment():
    spec = json.loads(os.environ[ENV])
    if spec.get("threads"):
        import torch

        torch.set_num_threads(spec["threads"])
    return create_app(spec["run_dir"], ServeSettings(**spec["settings"]), spec["device"], spec.get("log", False))


class ReadyServer(uvicorn.Server):
    """uvicorn's server, calling `on_ready(port)` once its socket listens."""

    def __init__(self, config: uvicorn.Config, on_ready):
        super().__init__(config)
        self.on_ready = on_ready

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets)
        if self.started:
            self.on_ready(self.servers[0].sockets[0].getsockname()[1])


PAGES = "page at /, API docs at /docs; Ctrl-C stops"


def serve(run_dir: list[str], host: str, port: int, workers: int, settings: ServeSettings, device: str,
          threads: Optional[int] = None, quiet: bool = False) -> None:
    """Serve until Ctrl-C. On stderr, unless `quiet`: where it listens, once it does, then one line per request."""
    if threads:
        import torch

        torch.set_num_threads(threads)
    if workers > 1:
        from .devices import resolve_device

        spec = {"run_dir": run_dir, "settings": settings.model_dump(), "device": str(resolve_device(device)),
                "threads": threads, "log": not quiet}
        _serve_workers(spec, host, port, workers, quiet)
    else:
        _serve_one(create_app(run_dir, settings, device, log_requests=not quiet), host, port, quiet)


def _serve_one(app, host: str, port: int, quiet: bool) -> None:
    def ready(bound: int) -> None:
        if not quiet:
            say(f"seq2seq: serving {app.state.serving} on {_url(host, bound)} — {PAGES}")

    ReadyServer(uvicorn.Config(app, host=host, port=port, log_level="warning"), ready).run()


def _serve_workers(spec: dict[str, Any], host: str, port: int, workers: int, quiet: bool) -> None:
    """`workers` processes sharing one socket, each building its app from `spec` (passed in the environment)."""
    os.environ[ENV] = json.dumps(spec)
    if not quiet:                                        # said before the workers start and load the model
        say(f"seq2seq: starting {workers} workers serving {' + '.join(spec['run_dir'])} ({spec['device']}) on "
            f"{_url(host, port)} — {PAGES}")
    uvicorn.run("seq2seq.serve:app_from_environment", factory=True, host=host, port=port, workers=workers,
                log_level="warning")


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
