"""scikit-learn's bundled handwritten digits (1797 images, 8x8, values 0-16), offline everywhere.

- ``digits``: each digit as a 3-channel grey image (the R3GAN networks produce RGB), 10 labelled classes.
- ``stacked_digits``: StackedMNIST's construction (Metz et al. 2017; PacGAN, Lin et al. 2018) on these
  digits: three randomly drawn digits become the R, G and B channels, label ``100*d0 + 10*d1 + d2`` (1000
  modes), built deterministically from ``seed``. The demo and most tests train on it: 8 px is ~25x faster
  than 32 px on CPU.

Values 0-16 are mapped to 0-255 (``v * 255 // 16``); images are uint8 ``[N, 3, 8, 8]``. ``resolution`` 16
or 32 enlarges each pixel to a 2x2 / 4x4 block (nearest neighbour), for architectures that need more than 8
px (BigGAN's CPU presets); a 2x bilinear downsample restores the 8 px digit exactly, so the 8 px digit
classifier still measures them.
"""

from __future__ import annotations

import numpy as np

from gan_zoo.data.base import ImageDataset
from gan_zoo.errors import ConfigError


def load_digit_images() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 digits as uint8 [N, 8, 8] and their labels."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images.astype(np.int64) * 255 // 16).astype(np.uint8)
    return images, bunch.target.astype(np.int64)


def _check_resolution(resolution: int) -> int:
    """The integer enlargement factor of 8 px digits to ``resolution`` (8, 16 or 32)."""
    if resolution not in (8, 16, 32):
        raise ConfigError(f"dataset.resolution = {resolution}: scikit-learn digits are 8x8 (enlarged: 16 or 32); "
                          "set it to 8, 16 or 32")
    return resolution // 8


def _enlarge(images: np.ndarray, factor: int) -> np.ndarray:
    return images if factor == 1 else images.repeat(factor, axis=-1).repeat(factor, axis=-2)


def digits(resolution: int = 8, xflip: bool = False, labels: bool = True) -> ImageDataset:
    factor = _check_resolution(resolution)
    images, targets = load_digit_images()
    rgb = _enlarge(np.repeat(images[:, None], 3, axis=1), factor)
    return ImageDataset(rgb, targets if labels else None, num_classes=10, name="digits",
                        source="sklearn.datasets.load_digits", xflip=xflip)


def stacked_digits(
    num_images: int = 50_000, seed: int = 0, resolution: int = 8, xflip: bool = False, labels: bool = True
) -> ImageDataset:
    factor = _check_resolution(resolution)
    images, targets = load_digit_images()
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(images), size=(num_images, 3))
    stacked = _enlarge(images[picks], factor)  # [N, 3, R, R]: channel k is digit picks[:, k]
    label = targets[picks] @ np.array([100, 10, 1])
    return ImageDataset(np.ascontiguousarray(stacked), label if labels else None, num_classes=1000,
                        name="stacked_digits", source=f"sklearn.datasets.load_digits(seed={seed})", xflip=xflip)
