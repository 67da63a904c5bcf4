"""MNIST and Fashion-MNIST from a directory of idx files (see :mod:`gan_zoo.data.idx`).

- ``fmnist``: Fashion-MNIST (Xiao et al. 2017). Default root is Debian's ``dataset-fashion-mnist`` package
  (``/usr/share/datasets/fashion-mnist``), which works offline.
- ``mnist``: MNIST (LeCun et al. 1998); ``download: true`` fetches it with torchvision into
  ``<root>/MNIST/raw`` (torchvision's layout, md5-checked by torchvision).

A root is searched as given, then in torchvision's layout ``<root>/<MNIST|FashionMNIST>/raw``.

``resolution: 32`` zero-pads the 28x28 images by 2 pixels on every side (the digit keeps its pixels and
scale). ``resolution: 16`` and ``resolution: 8`` (CPU scales, not any paper's) pad to 32 the same way, then
average each 2x2 (16 px) or 4x4 (8 px) block (an exact area downsample, rounded half up): the digit keeps its
place and shape at half or a quarter of the size.
``channels: 3`` repeats the grey channel into R, G and B, for RGB networks.
``split`` is ``train`` (60k), ``test`` (10k) or ``train+test`` (70k).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gan_zoo.data.base import ImageDataset
from gan_zoo.data.idx import read_idx_split
from gan_zoo.errors import ConfigError, DataError

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
NATIVE_RESOLUTION = 28
RESOLUTIONS = (8, 16, 28, 32)
PADDED_RESOLUTION = 32  # below 28 px: pad to 32, then area-downsample by 32 // resolution

# family -> (torchvision class name, human name, offline hint)
FAMILIES = {
    "mnist": (
        "MNIST",
        "MNIST",
        "set dataset.download=true (needs internet) or copy the four idx files there",
    ),
    "fmnist": (
        "FashionMNIST",
        "Fashion-MNIST",
        "install the Debian package dataset-fashion-mnist (it fills /usr/share/datasets/fashion-mnist) "
        "or set dataset.download=true",
    ),
}


def _has_idx_files(directory: Path) -> bool:
    return any((directory / f"train-images-idx3-ubyte{ext}").is_file() for ext in ("", ".gz"))


def _download(root: Path, family: str) -> None:
    import torchvision.datasets as tvd

    tv_name, human, _ = FAMILIES[family]
    try:
        getattr(tvd, tv_name)(str(root), train=False, download=True)
    except Exception as e:  # torchvision raises RuntimeError/URLError/OSError when offline or on bad md5
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DataError(
            f"{root / tv_name / 'raw'}: downloading {human} with torchvision failed ({first}); "
            f"offline, copy train/t10k images/labels idx files (.gz) into {root}"
        ) from e


def resolve_idx_dir(root: str | Path, family: str = "mnist", download: bool = False) -> Path:
    """The directory holding the idx files: ``root`` or ``root/<TorchvisionName>/raw``; downloads if asked."""
    if family not in FAMILIES:
        raise ConfigError(f"dataset.family = {family!r}: use one of {sorted(FAMILIES)}")
    root = Path(root).expanduser()
    tv_dir = root / FAMILIES[family][0] / "raw"
    for candidate in (root, tv_dir):
        if _has_idx_files(candidate):
            return candidate
    if download:
        _download(root, family)
        if _has_idx_files(tv_dir):
            return tv_dir
    what = "directory not found" if not root.is_dir() else "no train-images-idx3-ubyte[.gz] in it"
    raise DataError(f"{root}: {what}; {FAMILIES[family][2]}")


def check_resolution(resolution: int) -> int:
    if resolution not in RESOLUTIONS:
        raise ConfigError(
            f"dataset.resolution = {resolution}: MNIST-format images are 28x28; use 28, 32 (zero-padded) "
            "or 16 / 8 (zero-padded to 32, then 2x2 / 4x4 area-downsampled)"
        )
    return int(resolution)


def pad_images(images: np.ndarray, resolution: int) -> np.ndarray:
    """Zero-pad uint8 ``[..., 28, 28]`` images symmetrically to ``resolution`` (no resizing)."""
    size = images.shape[-1]
    if resolution == size:
        return images
    if resolution < size or (resolution - size) % 2:
        raise ConfigError(f"dataset.resolution = {resolution}: can only pad {size}x{size} images to 28 or 32")
    p = (resolution - size) // 2
    pad = [(0, 0)] * (images.ndim - 2) + [(p, p), (p, p)]
    return np.pad(images, pad, mode="constant", constant_values=0)


def area_downsample(images: np.ndarray, factor: int) -> np.ndarray:
    """``factor`` x ``factor`` area downsample of uint8 ``[..., H, W]`` images (H, W divisible by ``factor``):
    each output pixel is its block's mean, rounded half up (``(sum + factor**2 // 2) // factor**2``), so a
    constant block keeps its value exactly."""
    h, w = images.shape[-2:]
    if h % factor or w % factor:
        raise ConfigError(
            f"images are {h}x{w}: a {factor}x{factor} area downsample needs sides divisible by {factor}"
        )
    blocks = images.reshape(*images.shape[:-2], h // factor, factor, w // factor, factor).astype(np.uint32)
    area = factor * factor
    return ((blocks.sum(axis=(-3, -1)) + area // 2) // area).astype(np.uint8)


def halve_images(images: np.ndarray) -> np.ndarray:
    """2x2 area downsample of uint8 ``[..., H, W]`` images (H, W even), rounded half up: ``(sum + 2) // 4``."""
    return area_downsample(images, 2)


def load_idx_images(
    root: str | Path, family: str, split: str, resolution: int, download: bool = False
) -> tuple[np.ndarray, np.ndarray, Path]:
    """uint8 ``[N, resolution, resolution]`` images, int64 labels and the directory they came from."""
    resolution = check_resolution(resolution)
    directory = resolve_idx_dir(root, family, download)
    images, labels = read_idx_split(directory, split)
    if images.shape[1:] != (NATIVE_RESOLUTION, NATIVE_RESOLUTION):
        raise DataError(f"{directory}: images are {images.shape[1:]}, expected 28x28 MNIST-format images")
    if resolution < NATIVE_RESOLUTION:
        padded = pad_images(images, PADDED_RESOLUTION)
        return area_downsample(padded, PADDED_RESOLUTION // resolution), labels, directory
    return pad_images(images, resolution), labels, directory


def _idx_dataset(
    family: str,
    root: str | Path,
    split: str,
    resolution: int,
    channels: int,
    labels: bool,
    xflip: bool,
    download: bool,
) -> ImageDataset:
    if channels not in (1, 3):
        raise ConfigError(f"dataset.channels = {channels}: use 1 (grey) or 3 (grey repeated as RGB)")
    images, targets, directory = load_idx_images(root, family, split, resolution, download)
    images = images[:, None]
    if channels == 3:
        images = np.repeat(images, 3, axis=1)
    return ImageDataset(
        np.ascontiguousarray(images),
        targets if labels else None,
        num_classes=10,
        name=family,
        source=f"{directory} ({split})",
        xflip=xflip,
    )


def mnist(
    root: str | Path = "data/mnist",
    split: str = "train",
    resolution: int = 28,
    channels: int = 1,
    labels: bool = True,
    xflip: bool = False,
    download: bool = False,
) -> ImageDataset:
    """MNIST digits as uint8 ``[N, channels, resolution, resolution]`` with labels 0-9."""
    return _idx_dataset("mnist", root, split, resolution, channels, labels, xflip, download)


def fmnist(
    root: str | Path = FASHION_MNIST_DIR,
    split: str = "train",
    resolution: int = 28,
    channels: int = 1,
    labels: bool = True,
    xflip: bool = False,
    download: bool = False,
) -> ImageDataset:
    """Fashion-MNIST as uint8 ``[N, channels, resolution, resolution]`` with labels 0-9."""
    return _idx_dataset("fmnist", root, split, resolution, channels, labels, xflip, download)
