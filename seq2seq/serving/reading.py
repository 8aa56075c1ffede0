"""`POST /read` for an image_to_text run: the body an image file (PNG, JPEG, TIFF, BMP, GIF, WebP), or a
multipart/form-data upload of one, read with the run's limits (data.max_pixels before decoding, data.max_width):

    curl -s 'localhost:8000/read?beam_size=5&attention=true' -H 'content-type: image/png' --data-binary @line.png
    curl -s 'localhost:8000/read' -F file=@line.png

An image is decoded and scaled on a worker thread first, then it joins the batcher's queue."""

from __future__ import annotations

import asyncio
from typing import Any, Optional

from fastapi import HTTPException, Query, Request
from pydantic import BaseModel, Field

from ..config import ServeSettings
from ..errors import UserError
from ..inference.reader import Reader, Reading
from .batcher import Batcher, Decode
from .routes import ERRORS, TaskRoutes
from .uploads import FileKind, file_body

UPLOAD = "request body"
IMAGE_TYPES = ("image/png", "image/jpeg", "image/tiff", "image/bmp", "image/gif", "image/webp",
               "application/octet-stream")
IMAGE = FileKind("an image", "image", IMAGE_TYPES, "image/png, image/jpeg, image/tiff, image/bmp, image/gif, "
                 "image/webp or application/octet-stream", "image/", "image/… or application/octet-stream",
                 "curl -F file=@line.png …/read")


class ReadingOut(BaseModel):
    text: str = Field(description="what the image says")
    score: float = Field(description="log-probability of the output, EOS included")
    tokens: list[str] = Field(description="output pieces; ends with </s> when the model stopped by itself")
    attention: Optional[list[list[float]]] = Field(
        None, description="one row per token, one column per encoder state (each covers `reduction` columns)")
    reduction: int = Field(description="image columns per encoder state")
    columns: int = Field(description="pixel columns of the image scaled to `height` rows")
    height: int = Field(description="the run's image height: every image is scaled to it")
    beam_size: int
    batched_with: int = Field(description="images decoded in the same batch as this one (itself included)")


def reading(reader: Reader) -> Decode:
    """Decode normalised image columns with options (beam_size,) into `Reading`s (attention always kept)."""
    def decode(columns: list, options: tuple[int]) -> list[Reading]:
        return reader.read_features(columns, [UPLOAD] * len(columns), beam_size=options[0],
                                    batch_size=len(columns))
    return decode


IMAGE_BODY = {"requestBody": {"required": True, "description": "an image file: the body itself, or the one file "
                              "of a multipart/form-data upload",
                              "content": {**{kind: {"schema": {"type": "string", "format": "binary"}}
                                             for kind in ("image/png", "image/jpeg", "application/octet-stream")},
                                          "multipart/form-data": {"schema": {
                                              "type": "object", "required": ["file"], "properties": {"file": {
                                                  "type": "string", "format": "binary", "description": "the image "
                                                  "(any field name is accepted; one file per request)"}}}}}}}


def add_routes(app, reader: Reader, batcher: Batcher, settings: ServeSettings, runs: list[str]) -> None:
    config = reader.config
    has_attention = reader.model.decoder.has_attention

    @app.post("/read", response_model=ReadingOut, response_model_exclude_none=True, openapi_extra=IMAGE_BODY,
              responses={**ERRORS, 415: {"description": "the body (or the uploaded file) is not typed as an "
                                                        "image or untyped bytes"}})
    async def read(http: Request, beam_size: Optional[int] = Query(None, ge=1, description="1 = greedy; default: "
                   "the run's decode.beam_size"), attention: bool = Query(False, description="also return the "
                   "attention of every output token over the image's columns")) -> dict[str, Any]:
        beam = beam_size or config.decode.beam_size
        if beam > settings.max_beam:
            raise HTTPException(status_code=422, detail=f"beam_size: {beam}; at most {settings.max_beam} (--max-beam)")
        body = await file_body(http, IMAGE)
        try:
            result, batched = await asyncio.wait_for(asyncio.shield(_read(reader, batcher, body, beam)),
                                                     settings.timeout_s)
        except asyncio.TimeoutError:
            raise HTTPException(status_code=504, detail=f"reading took longer than this server's limit of "
                                                        f"{settings.timeout_s:g} s (--timeout)") from None
        except UserError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        reply = {"text": result.text, "score": round(result.score, 6), "tokens": result.tokens,
                 "reduction": result.reduction, "columns": result.columns, "height": config.data.height,
                 "beam_size": beam, "batched_with": batched}
        if attention and has_attention and result.attention is not None:
            reply["attention"] = [[round(float(w), 5) for w in row] for row in result.attention]
        return reply


async def _read(reader: Reader, batcher: Batcher, body: bytes, beam: int) -> tuple[Reading, int]:
    """Decode and scale the image on a worker thread, then read it in the batcher's queue."""
    columns = await asyncio.get_running_loop().run_in_executor(None, reader.features, body, 0, UPLOAD)
    [result], batched = await batcher.submit([columns], (beam,))
    return result, batched


def _limits(settings: ServeSettings) -> dict[str, Any]:
    return {"reading": {"max_body_bytes": settings.max_body_bytes, "image_types": list(IMAGE_TYPES)}}


ROUTES = TaskRoutes("/read", "POST an image to /read", add_routes, reading, _limits)
