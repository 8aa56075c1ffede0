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

import json
import os
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Optional

import uvicorn
from fastapi import FastAPI, HTTPException

from ..config import ServeSettings
from ..inference.loading import task_of
from ..rundir import FORMAT_VERSION, RunDir
from ..tasks import TASKS
from ..version import __version__
from .batcher import Batcher
from .middleware import BodyLimit, RequestLog, say
from .pages import add_pages


def create_app(run_dir: str | Path | list[str], settings: Optional[ServeSettings] = None, device: str = "cpu",
               log_requests: bool = False):
    """The FastAPI app serving the run (or ensemble of runs) in `run_dir` at its task's endpoint
    (`Task.serving()`: `POST /translate`, `/transcribe`, `/synthesize`; every other task's answers 404 saying so);
    `log_requests`: one line per request on stderr.
    `app.state.serving` names what it serves, e.g. "runs/m30k_ref (translation, cpu)"."""
    settings = settings or ServeSettings()
    runs = [str(run_dir)] if isinstance(run_dir, (str, Path)) else [str(r) for r in run_dir]
    task = task_of(runs)
    predictor = task.predictor().load(runs if len(runs) > 1 else runs[0], device=device)
    routes = task.serving()
    batcher = Batcher(routes.decoding(predictor), settings)

    @asynccontextmanager
    async def lifespan(app):
        batcher.start()
        yield
        await batcher.stop()

    app = FastAPI(title="seq2seq", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Translate, transcribe or synthesise with a trained seq2seq run. Concurrent requests "
                              "are decoded together.")
    app.state.serving = f"{' + '.join(runs)} ({task.name}, {predictor.device})"
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, timeout_s=settings.body_timeout_s)
    if log_requests:
        app.add_middleware(RequestLog)                   # outermost: refusals by BodyLimit are logged too
    names = [RunDir(r).name for r in runs]              # callers are told what is served, never where it lives
    routes.add(app, predictor, batcher, settings, names)
    _refuse_other_tasks(app, task.name, names)
    _add_info(app, predictor, routes, settings, names)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    add_pages(app)
    return app


def _add_info(app, predictor, routes, settings: ServeSettings, runs: list[str]) -> None:
    """`GET /info`: what is served — the runs, task, versions, the predictor's own facts, the endpoint's limits,
    the model and decode config, and the server's settings."""
    config = predictor.config

    @app.get("/info")
    async def info() -> dict[str, Any]:
        return {"runs": runs, "task": config.task, "format_version": FORMAT_VERSION, "seq2seq": __version__,
                **predictor.info(), "attention": predictor.has_attention, **routes.info(settings),
                "model": config.model.model_dump(mode="json"), "decode": config.decode.model_dump(mode="json"),
                "serve": settings.model_dump(mode="json")}


def _refuse_other_tasks(app, task: str, runs: list[str]) -> None:
    """Every other task's endpoint answers 404 saying what this server serves instead."""
    how = TASKS[task].serving().how
    for other, task_class in TASKS.items():
        path = task_class.serving().path
        if other != task:
            _refuse(app, path, f"this server serves a {task} run ({' + '.join(runs)}): {how}; {path} needs a "
                               f"{other} run")


def _refuse(app, path: str, detail: str) -> None:
    """`POST path` answers 404 with `detail`."""
    @app.post(path, include_in_schema=False)
    async def refuse() -> None:
        raise HTTPException(status_code=404, detail=detail)


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
        from ..devices import resolve_device

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
    uvicorn.run("seq2seq.serving.app:app_from_environment", factory=True, host=host, port=port, workers=workers,
                log_level="warning")


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
