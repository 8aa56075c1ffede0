"""What every config section shares: unknown keys refused, assignments validated; the device and precision choices."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, ValidationError

DEVICE_PATTERN = r"^(auto|cpu|cuda|cuda:\d+|mps)$"   # see devices.resolve_device
Precision = Literal["fp32", "bf16"]                  # see devices.precision_context


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def describe_invalid(exc: ValidationError, names: Optional[dict[str, str]] = None) -> str:
    """A validation error as one line: `name value: what is allowed` (names: e.g. field → command-line flag)."""
    err = exc.errors()[0]
    field = str(err["loc"][0]) if err["loc"] else ""
    name = (names or {}).get(field, field)
    msg = err["msg"].removeprefix("Value error, ")
    return f"{name} {err['input']}: {msg}" if name and not isinstance(err["input"], dict) else msg
