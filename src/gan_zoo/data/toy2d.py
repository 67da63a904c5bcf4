"""2-D Gaussian mixtures of VEEGAN (Srivastava et al. 2017, Sec. 5.1) and PacGAN (Lin et al. 2018, Sec. 5.1).

- ``ring``: 8 Gaussians evenly spaced on a circle of radius 1, std 0.01.
- ``grid``: 25 Gaussians at {-4, -2, 0, 2, 4}^2, std 0.05.
The training set is 100k points drawn with a fixed seed; each point's label is the index of its mode. The
dataset exposes ``centers`` [K, 2] and ``std`` so the 2-D metrics (modes recovered, % high quality) use the
same numbers.
"""

from __future__ import annotations

import numpy as np

from gan_zoo.data.base import PointDataset
from gan_zoo.errors import ConfigError


def mixture_centers(kind: str) -> tuple[np.ndarray, float]:
    if kind == "ring":
        angles = 2 * np.pi * np.arange(8) / 8
        return np.stack([np.cos(angles), np.sin(angles)], axis=1), 0.01
    if kind == "grid":
        g = np.arange(-4, 5, 2, dtype=np.float64)
        return np.stack(np.meshgrid(g, g, indexing="ij"), axis=-1).reshape(-1, 2), 0.05
    raise ConfigError(f"dataset.kind = {kind!r} is not a 2-D mixture; use 'ring' or 'grid'")


class Toy2D(PointDataset):
    def __init__(self, kind: str = "ring", num_points: int = 100_000, seed: int = 0, resolution=None):
        if resolution is not None:
            raise ConfigError("dataset.resolution must be null for 2-D points (they are not images)")
        centers, std = mixture_centers(kind)
        rng = np.random.default_rng(seed)
        labels = rng.integers(0, len(centers), size=num_points)
        points = centers[labels] + std * rng.standard_normal((num_points, 2))
        super().__init__(points, labels, name=f"toy2d_{kind}", source=f"generated(seed={seed})",
                         num_classes=len(centers))
        self.centers, self.std, self.kind = centers.astype(np.float32), float(std), kind
