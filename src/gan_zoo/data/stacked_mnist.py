"""StackedMNIST (Metz et al. 2017, "Unrolled GANs"; PacGAN, Lin et al. 2018, Sec. 5.1) from any idx source.

Each image stacks three independently drawn digits as its R, G and B channels; its label is
``100*d0 + 10*d1 + d2`` (1000 modes). As in PacGAN's StackedMNIST, the digits are drawn uniformly, with
replacement, from all 70k train+test images, and the set holds 128,000 images by default. R3GAN (Sec. 4,
Table 1/3) trains at 32x32: the 28x28 digits are zero-padded by 2 pixels (never resized).

``source`` is any MNIST-format idx directory: MNIST for the papers' protocol, or Fashion-MNIST
(``family: fmnist``; Debian's dataset-fashion-mnist) for a 1000-mode "stacked Fashion-MNIST" that builds
offline. The build is a single vectorised gather, deterministic in ``seed`` (numpy PCG64).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gan_zoo.data.base import ImageDataset
from gan_zoo.data.mnist import load_idx_images
from gan_zoo.errors import ConfigError

PLACE_VALUES = np.array([100, 10, 1], dtype=np.int64)


class StackedMNIST(ImageDataset):
    """An :class:`ImageDataset` that also keeps, per image, which source digit went into each channel.

    ``digit_indices[i, k]`` is the index (into the source's train+test images) of channel ``k`` of image
    ``i``; ``digit_labels[i, k]`` is that digit's source label, so ``label = digit_labels @ [100, 10, 1]``.
    """

    def __init__(
        self,
        images: np.ndarray,
        digit_indices: np.ndarray,
        digit_labels: np.ndarray,
        *,
        labels: bool,
        name: str,
        source: str,
        xflip: bool,
    ) -> None:
        self.digit_indices = digit_indices
        self.digit_labels = digit_labels
        super().__init__(
            images,
            digit_labels @ PLACE_VALUES if labels else None,
            num_classes=1000,
            name=name,
            source=source,
            xflip=xflip,
        )


def stack_digits(
    digits: np.ndarray, digit_labels: np.ndarray, num_images: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``[num_images, 3]`` digit indices from ``seed``; return the stacked images, indices, labels."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(digits), size=(num_images, 3), dtype=np.int64)
    images = digits[picks]  # [N, 3, H, W]: channel k is digit picks[:, k]
    return images, picks, digit_labels[picks]


def stacked_mnist(
    source: str | Path = "data/mnist",
    family: str = "mnist",
    num_images: int = 128_000,
    seed: int = 0,
    resolution: int = 32,
    split: str = "train+test",
    labels: bool = True,
    xflip: bool = False,
    download: bool = False,
) -> StackedMNIST:
    """StackedMNIST of ``num_images`` uint8 ``[3, resolution, resolution]`` images, 1000 classes."""
    if num_images <= 0:
        raise ConfigError(f"dataset.num_images = {num_images}: must be a positive number of images")
    digits, digit_labels, directory = load_idx_images(source, family, split, resolution, download)
    images, picks, picked_labels = stack_digits(digits, digit_labels, int(num_images), int(seed))
    return StackedMNIST(
        images,
        picks,
        picked_labels,
        labels=labels,
        name=f"stacked_{family}",
        source=f"{directory} ({split}, seed={seed})",
        xflip=xflip,
    )
