"""Serving over HTTP: the app and its workers (`app.py`), the batching queue (`batcher.py`), the middleware (body
limit, request log), the web page, and one module of routes per task (`translation.py`, `transcription.py`,
`synthesis.py`; each task names its own through `Task.serving()`)."""

from .app import create_app, serve

__all__ = ["create_app", "serve"]
