"""2-D mixture metrics of VEEGAN (Srivastava et al. 2017, Sec. 5.1) and PacGAN (Lin et al. 2018, Sec. 5.1).

On 2,500 generated points: a point is *high quality* if it lies within 3 standard deviations of its nearest
mode centre; a mode is *recovered* if it is the nearest mode of at least one high-quality point. Reported as
``modes`` (count), ``hq`` (percent of high-quality points) and ``kl``, PacGAN's reverse KL
KL(q || uniform) = log K - H(q) of the histogram q of the points' nearest modes (all points, not only the
high-quality ones, so it is defined for any sample; 0 when every mode gets an equal share). Centres and std
come from the dataset (:class:`gan_zoo.data.toy2d.Toy2D` exposes ``centers`` [K, 2] and ``std``): ring of 8,
radius 1, std 0.01; grid of 25 at {-4, -2, 0, 2, 4}^2, std 0.05.
"""

from __future__ import annotations

import numpy as np
import torch

from gan_zoo.errors import ConfigError

DEFAULT_SAMPLES = 2_500
THRESHOLD_STDS = 3.0


def toy2d_metrics(
    points: np.ndarray | torch.Tensor, centers: np.ndarray, std: float, threshold: float = THRESHOLD_STDS
) -> dict[str, float]:
    """``{"modes": modes recovered, "hq": % of high-quality points, "kl": reverse KL to uniform}`` for
    ``points`` [N, 2]."""
    x = np.asarray(points.detach().cpu() if isinstance(points, torch.Tensor) else points, dtype=np.float64)
    c = np.asarray(centers, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2 or len(x) == 0:
        raise ConfigError(f"toy2d metric needs generated 2-D points [N, 2], got shape {x.shape}")
    if c.ndim != 2 or c.shape[1] != 2 or float(std) <= 0:
        raise ConfigError(f"toy2d metric needs centers [K, 2] and std > 0, got {c.shape} and {std}")
    dist = np.sqrt(((x[:, None, :] - c[None, :, :]) ** 2).sum(-1))  # [N, K]
    nearest = dist.argmin(1)
    hq = dist[np.arange(len(x)), nearest] <= threshold * float(std)
    hq &= np.isfinite(x).all(1)
    q = np.bincount(nearest, minlength=len(c)) / len(x)
    nz = q[q > 0]
    kl = float(np.log(len(c)) + (nz * np.log(nz)).sum())
    return {"modes": float(len(np.unique(nearest[hq]))), "hq": 100.0 * float(hq.mean()), "kl": max(kl, 0.0)}


def dataset_modes(dataset) -> tuple[np.ndarray, float]:
    """``(centers, std)`` of a 2-D mixture dataset, or a one-line error naming what is missing."""
    centers, std = getattr(dataset, "centers", None), getattr(dataset, "std", None)
    if centers is None or std is None:
        name = getattr(getattr(dataset, "info", None), "name", type(dataset).__name__)
        raise ConfigError(
            f"metric toy2d: dataset {name} has no 'centers'/'std'; use it with a toy2d ring/grid dataset"
        )
    return np.asarray(centers), float(std)
