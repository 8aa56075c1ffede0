"""Training-time image augmentation on (width, height) columns: a small rotation and scale, elastic distortion,
blur, noise and contrast. Every draw comes from a generator seeded from torch's global one, which train_state.pt
saves, so a resumed run augments exactly as an uninterrupted one. Never applied at validation or inference."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def augment_columns(columns: torch.Tensor, generator: torch.Generator, rotate_deg: float, scale: float,
                    elastic: float, blur: float, noise: float, contrast: float) -> torch.Tensor:
    """A distorted copy of (width, height) columns (same shape); each effect drawn between none and its setting."""
    image = columns.T[None, None]                                         # (1, 1, height, width)
    _, _, height, width = image.shape

    def uniform(low: float, high: float) -> float:
        return low + (high - low) * float(torch.rand((), generator=generator))

    angle = math.radians(uniform(-rotate_deg, rotate_deg))
    zoom = 1.0 + uniform(-scale, scale)
    aspect = width / height
    theta = torch.tensor([[math.cos(angle) / zoom, -math.sin(angle) / zoom / aspect, 0.0],
                          [math.sin(angle) / zoom * aspect, math.cos(angle) / zoom, 0.0]])[None]
    grid = F.affine_grid(theta, list(image.shape), align_corners=False)     # (1, height, width, 2)
    if elastic > 0:
        field = torch.randn(1, 2, max(2, height // 8), max(2, width // 8), generator=generator) * elastic
        field = F.interpolate(field, size=(height, width), mode="bilinear", align_corners=False)
        grid = grid + field.permute(0, 2, 3, 1) * torch.tensor([1.0 / width, 1.0 / height]) * 2
    image = F.grid_sample(image, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    sigma = uniform(0, blur)
    if sigma > 0.1:
        image = _blur(image, sigma)
    image = image * (1.0 + uniform(-contrast, contrast))
    image = image + torch.randn(image.shape, generator=generator) * uniform(0, noise)
    return image[0, 0].T.contiguous()                                     # (width, height)


def _blur(image: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = max(1, int(math.ceil(2 * sigma)))
    x = torch.arange(-radius, radius + 1, dtype=image.dtype)
    kernel = torch.exp(-(x**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    image = F.conv2d(image, kernel.view(1, 1, 1, -1), padding=(0, radius))
    return F.conv2d(image, kernel.view(1, 1, -1, 1), padding=(radius, 0))
