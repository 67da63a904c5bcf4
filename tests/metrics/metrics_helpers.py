"""Helpers for the metrics tests: tiny generators and small structured image datasets (CPU-cheap)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from gan_zoo.data.base import ImageDataset


class TinyImageG(nn.Module):
    """G(z, c) -> images in [-1, 1]; one linear layer, conditional when c_dim > 0."""

    def __init__(
        self,
        resolution: int = 16,
        channels: int = 3,
        z_dim: int = 8,
        c_dim: int = 0,
        seed: int = 0,
        offset: float = 0.0,
    ):
        super().__init__()
        torch.manual_seed(seed)
        self.z_dim, self.c_dim, self.resolution, self.img_channels = z_dim, c_dim, resolution, channels
        self.fc = nn.Linear(z_dim + c_dim, channels * resolution * resolution)
        self.offset = offset

    def forward(self, z, c=None):
        h = z if c is None else torch.cat([z, c], 1)
        out = torch.tanh(self.fc(h) + self.offset)
        return out.view(-1, self.img_channels, self.resolution, self.resolution)


class TinyPointG(nn.Module):
    """G(z, c) -> 2-D points: the ``centers`` chosen by z's sign pattern plus ``noise`` * z."""

    def __init__(self, centers: np.ndarray, noise: float):
        super().__init__()
        self.z_dim, self.c_dim, self.resolution, self.img_channels = 2, 0, None, 0
        self.register_buffer("centers", torch.as_tensor(np.asarray(centers), dtype=torch.float32))
        self.noise = nn.Parameter(torch.tensor(float(noise)))

    def forward(self, z, c=None):
        idx = ((z[:, 0] * 1000).long().abs()) % len(self.centers)
        return self.centers[idx] + self.noise * z


def smooth_images(n: int, channels: int, resolution: int, seed: int, shift: float = 0.0) -> np.ndarray:
    """uint8 images with some structure (blurred noise), so features differ between sets."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, channels, resolution + 2, resolution + 2))
    x = (x[..., :-2, :-2] + x[..., 1:-1, 1:-1] + x[..., 2:, 2:]) / 3 + shift
    return np.clip(x * 60 + 128, 0, 255).astype(np.uint8)


def image_dataset(
    n: int = 10,
    channels: int = 3,
    resolution: int = 16,
    seed: int = 1,
    name: str = "smooth",
    xflip: bool = False,
) -> ImageDataset:
    return ImageDataset(
        smooth_images(n, channels, resolution, seed), name=name, source=f"test(seed={seed})", xflip=xflip
    )
