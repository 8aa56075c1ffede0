"""ASGI middleware of the server: the request-body limit and the one-line request log."""

from __future__ import annotations

import asyncio
import json
import sys
import time

DRAIN_LIMIT = 64 * 2**20   # a refused body is read and dropped up to this many bytes; past it, the client sees a reset


class BodyLimit:
    """ASGI middleware: every request body is read here, then handed on whole. Over `limit` bytes (by its
    Content-Length, or while it arrives) it gets 413 — after the rest of the body is read and dropped (up to
    DRAIN_LIMIT), so that a client that sends the whole body before it reads (Python's urllib) reads the 413 instead
    of a reset connection (the server cannot read a body once it has answered).
    A body that stalls for `timeout_s` between two pieces gets 408: a slow client holds no batch and no worker."""

    def __init__(self, app, limit: int, timeout_s: float = 10.0):
        self.app, self.limit, self.timeout_s = app, limit, timeout_s

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await self._drain(receive)
            return await self._answer(send, 413, f"request body of {int(length):,} bytes is over this server's "
                                                 f"limit of {self.limit:,} bytes (--max-body-bytes)")
        parts, size = [], 0
        while True:
            try:
                message = await asyncio.wait_for(receive(), self.timeout_s)
            except asyncio.TimeoutError:
                return await self._answer(send, 408, f"the request body stalled: nothing arrived for "
                                                     f"{self.timeout_s:g} s (--body-timeout-s)")
            if message["type"] != "http.request":
                return await self.app(scope, _replay([message], receive), send)
            parts.append(message.get("body", b""))
            size += len(parts[-1])
            if size > self.limit:
                if message.get("more_body", False):
                    await self._drain(receive)
                return await self._answer(send, 413, f"request body of more than {self.limit:,} bytes is over "
                                                     f"this server's limit of {self.limit:,} bytes (--max-body-bytes)")
            if not message.get("more_body", False):
                break
        whole = {"type": "http.request", "body": b"".join(parts), "more_body": False}
        await self.app(scope, _replay([whole], receive), send)

    async def _drain(self, receive) -> None:
        """Read and drop what is left of a refused body (bounded in bytes and in time)."""
        dropped = 0
        while dropped < DRAIN_LIMIT:
            try:
                message = await asyncio.wait_for(receive(), self.timeout_s)
            except asyncio.TimeoutError:
                return
            if message["type"] != "http.request":
                return
            dropped += len(message.get("body", b""))
            if not message.get("more_body", False):
                return

    @staticmethod
    async def _answer(send, status: int, detail: str) -> None:
        body = json.dumps({"detail": detail}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
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
