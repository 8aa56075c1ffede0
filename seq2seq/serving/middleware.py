"""ASGI middleware of the server: the request-body limit and the one-line request log."""

from __future__ import annotations

import json
import sys
import time


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
