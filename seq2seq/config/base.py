"""What every config section shares: unknown keys refused, assignments validated; the device and precision choices."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

DEVICE_PATTERN = r"^(auto|cpu|cuda|cuda:\d+|mps)$"   # see devices.resolve_device
Precision = Literal["fp32", "bf16"]                  # see devices.precision_context


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)
