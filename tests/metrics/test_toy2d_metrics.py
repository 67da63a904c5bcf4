"""2-D mixture metrics on hand-placed points."""

from __future__ import annotations

import numpy as np
import pytest

from gan_zoo.data.toy2d import Toy2D
from gan_zoo.errors import ConfigError
from gan_zoo.metrics.toy2d import dataset_modes, toy2d_metrics


def test_ring_hand_placed_points():
    ring = Toy2D("ring", num_points=100)
    centers, std = dataset_modes(ring)
    assert centers.shape == (8, 2) and std == pytest.approx(0.01)
    points = np.array(
        [
            centers[0],  # hq, mode 0
            centers[0] + [0.0, 2.9 * std],  # hq, mode 0 again
            centers[3] + [2.9 * std * 0.6, 2.9 * std * 0.8],  # hq (distance 2.9 std), mode 3
            centers[5] + [3.1 * std, 0.0],  # 3.1 std: not hq, so mode 5 is not recovered
            [0.0, 0.0],  # the centre of the ring: far from every mode
            [np.nan, 0.0],  # a diverged sample never counts
        ]
    )
    out = toy2d_metrics(points, centers, std)
    assert out["modes"] == 2  # modes 0 and 3
    assert out["hq"] == pytest.approx(100 * 3 / 6)


def test_grid_all_modes_exact():
    grid = Toy2D("grid", num_points=100)
    centers, std = dataset_modes(grid)
    assert centers.shape == (25, 2) and std == pytest.approx(0.05)
    assert {tuple(c) for c in centers} == {(x, y) for x in range(-4, 5, 2) for y in range(-4, 5, 2)}
    out = toy2d_metrics(np.repeat(centers, 100, axis=0), centers, std)
    assert out == {"modes": 25.0, "hq": 100.0, "kl": pytest.approx(0.0, abs=1e-12)}
    # half of the points shifted by 4 std: still 25 modes, 50 % high quality
    pts = np.repeat(centers, 2, axis=0) + np.tile([[0, 0], [4 * std, 0]], (25, 1))
    assert toy2d_metrics(pts, centers, std) == {"modes": 25.0, "hq": 50.0, "kl": pytest.approx(0.0, abs=1e-12)}


def test_reverse_kl_by_hand():
    """PacGAN's reverse KL of the nearest-mode histogram: log K - H(q), computed here by hand."""
    centers, std = Toy2D("ring", num_points=10).centers, 0.01
    # 3 points at mode 0, 1 at mode 1, none elsewhere: q = (3/4, 1/4, 0, ...)
    pts = centers[[0, 0, 0, 1]]
    expected = np.log(8) + 0.75 * np.log(0.75) + 0.25 * np.log(0.25)
    assert toy2d_metrics(pts, centers, std)["kl"] == pytest.approx(expected, rel=1e-12)
    # all points at one mode: KL = log 8 (complete collapse)
    assert toy2d_metrics(centers[[2] * 5], centers, std)["kl"] == pytest.approx(np.log(8), rel=1e-12)


def test_bad_inputs():
    with pytest.raises(ConfigError, match=r"points \[N, 2\]"):
        toy2d_metrics(np.zeros((5, 3)), np.zeros((2, 2)), 0.1)

    class NoModes:
        pass

    with pytest.raises(ConfigError, match="no 'centers'/'std'"):
        dataset_modes(NoModes())
