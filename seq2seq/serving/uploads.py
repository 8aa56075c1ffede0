"""A file sent to an endpoint: the request body itself, or the one file of a multipart/form-data upload (any field
name; what `curl -F` and an HTML form send), refused with 415 when typed as something else and 422 when the form
holds no file or several. `/transcribe` takes WAV files this way, `/read` images."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException, Request
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

MAX_FORM_FIELDS = 16                    # text fields a multipart upload may carry besides its file (ignored)


@dataclass(frozen=True)
class FileKind:
    """What an endpoint takes: `noun` ("a WAV file"), `short` ("WAV file"), the content types of a raw body (and
    how to name them), the type prefix an uploaded file may have ("audio/"), and a curl example."""

    noun: str
    short: str
    body_types: tuple[str, ...]
    body_types_text: str
    upload_prefix: str
    upload_types_text: str
    example: str                          # e.g. "curl -F file=@a.wav …/transcribe"


async def file_body(http: Request, kind: FileKind) -> bytes:
    """The request's body, refused with 415 unless it is typed as `kind` (or untyped bytes); for a
    multipart/form-data request, the bytes of its one uploaded file."""
    content = http.headers.get("content-type", "").split(";")[0].strip().lower()
    if content == "multipart/form-data":
        return await _uploaded(http, kind)
    if content and content not in kind.body_types:
        raise HTTPException(status_code=415, detail=f"the body must be {kind.noun} (content-type "
                                                    f"{kind.body_types_text}) or a multipart/form-data upload of "
                                                    f"one, not {content}")
    return await http.body()


async def _uploaded(http: Request, kind: FileKind) -> bytes:
    """The bytes of the one file in a multipart/form-data request (its other fields are ignored): 422 when the
    form cannot be read, holds no file or more than one, 415 when the file is typed as something other than
    `kind` (untyped or application/octet-stream is fine). The endpoint's reader then checks the bytes."""
    try:
        form = await http.form(max_files=1, max_fields=MAX_FORM_FIELDS)
    except StarletteHTTPException as exc:         # Starlette's 400 for a malformed form or one over the limits
        detail = f"one {kind.short} per request, not several" if str(exc.detail).startswith("Too many files") \
            else f"the multipart upload could not be read: {exc.detail}"
        raise HTTPException(status_code=422, detail=detail) from None
    try:
        upload = _one_file(form, kind)
        content = (upload.content_type or "").split(";")[0].strip().lower()
        if content and not content.startswith(kind.upload_prefix) and content != "application/octet-stream":
            raise HTTPException(status_code=415, detail=f"the uploaded file must be {kind.noun} (content-type "
                                                        f"{kind.upload_types_text}), not {content}")
        return await upload.read()
    finally:
        await form.close()


def _one_file(form: FormData, kind: FileKind) -> UploadFile:
    """The form's file, whatever its field's name (the form was read with max_files=1): 422 without one. A file
    input left empty (no name, no bytes, as a browser sends it) is no file."""
    files = [value for _, value in form.multi_items()
             if isinstance(value, UploadFile) and (value.filename or value.size)]
    if not files:
        raise HTTPException(status_code=422, detail=f"the multipart upload holds no file: send the {kind.short} "
                                                    f"as a file part, e.g. {kind.example}")
    return files[0]
