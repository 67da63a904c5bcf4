"""The Dirac-GAN's data (Mescheder, Geiger, Nowozin, "Which Training Methods for GANs do actually Converge?",
ICML 2018, Sec. 2.2): a point mass at ``x0`` (0 in the paper), one-dimensional.

Every sample is ``x0``, so a real batch is ``x0`` repeated and the losses are exactly their expectations: the
training step sees the paper's deterministic dynamics. Pair with ``model=dirac`` (G(theta) = theta,
D(x) = psi * x); the equilibrium is theta = x0, psi = 0.
"""

from __future__ import annotations

import numpy as np

from gan_zoo.data.base import PointDataset
from gan_zoo.errors import ConfigError


class DiracDataset(PointDataset):
    def __init__(self, x0: float = 0.0, num_points: int = 1000, resolution=None):
        if resolution is not None:
            raise ConfigError("dataset.resolution must be null for the Dirac-GAN (its data is a 1-D point mass)")
        if int(num_points) < 1:
            raise ConfigError(f"dataset.num_points must be >= 1 (got {num_points})")
        points = np.full((int(num_points), 1), float(x0), dtype=np.float32)
        super().__init__(points, np.zeros(int(num_points), dtype=np.int64), name="dirac",
                         source=f"point mass at {float(x0)}")
        self.x0 = float(x0)
