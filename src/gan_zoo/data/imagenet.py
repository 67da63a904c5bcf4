"""Downsampled ImageNet (Chrabaszcz, Loshchilov & Hutter 2017, arXiv 1707.08819) at 32 or 64 px.

Distributed as numpy ``.npz`` batches (``Imagenet32_train_npz.zip``, ``Imagenet64_train_part{1,2}_npz.zip``):
``train_data_batch_1.npz`` .. ``train_data_batch_10.npz`` (1,281,167 images) and ``val_data.npz`` (50k),
each with ``data`` (uint8 ``[n, 3*r*r]``, every row the R, G and B planes of one image, so it reshapes to
``[n, 3, r, r]``) and ``labels`` (class indices 1..1000; converted here to 0..999).

Two ways to load:
- memory-mapped (recommended): ``gan-zoo-prepare imagenet --source DIR --resolution R`` converts the batches
  once into ``imagenet{R}_{split}_images.npy`` (uint8 ``[N, 3, R, R]``) and ``imagenet{R}_{split}_labels.npy``
  (int64, 0-based) in DIR; loading then maps the file (resident memory = pages touched).
- directly from the ``.npz`` batches when no ``.npy`` is present: everything is decoded into RAM
  (3.9 GB at 32 px, 15.7 GB at 64 px for train), so keep this for small subsets and tests.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from gan_zoo.data.base import ImageDataset
from gan_zoo.data.image_archive import MappedImageDataset
from gan_zoo.errors import ConfigError, DataError

RESOLUTIONS = (32, 64)
NUM_CLASSES = 1000
SPLIT_FILES = {"train": [f"train_data_batch_{i}.npz" for i in range(1, 11)], "val": ["val_data.npz"]}
DOWNLOAD_HINT = (
    "download Imagenet{r}_train_npz.zip / Imagenet{r}_val_npz.zip from image-net.org (Downsampled ImageNet)"
)


def check_resolution(resolution: int) -> int:
    if resolution not in RESOLUTIONS:
        raise ConfigError(f"dataset.resolution = {resolution}: downsampled ImageNet presets are 32 or 64 px")
    return int(resolution)


def npy_paths(directory: str | Path, resolution: int, split: str) -> tuple[Path, Path]:
    """Where ``gan-zoo-prepare imagenet`` writes (and the loader looks for) the converted arrays."""
    stem = Path(directory).expanduser() / f"imagenet{resolution}_{split}"
    return Path(f"{stem}_images.npy"), Path(f"{stem}_labels.npy")


def batch_paths(directory: str | Path, split: str) -> list[Path]:
    if split not in SPLIT_FILES:
        raise ConfigError(f"dataset.split = {split!r}: use 'train' or 'val'")
    return [Path(directory).expanduser() / name for name in SPLIT_FILES[split]]


def _check_row_size(path: Path, row: int, resolution: int) -> None:
    if row == 3 * resolution * resolution:
        return
    side = int(round((row / 3) ** 0.5))
    if 3 * side * side == row:
        raise ConfigError(
            f"dataset.resolution = {resolution} but {path} holds {side}x{side} images; "
            f"set dataset.resolution={side}"
        )
    raise DataError(f"{path}: rows of {row} bytes are not 3 planes of a square image")


def read_npz_labels(path: Path) -> np.ndarray:
    """The 0-based int64 labels of one batch (reads only the ``labels`` member)."""
    with _open_npz(path) as npz:
        labels = _member(npz, path, "labels").astype(np.int64).ravel()
    if len(labels) and (labels.min() < 1 or labels.max() > NUM_CLASSES):
        raise DataError(f"{path}: labels span {labels.min()}..{labels.max()}, expected 1..{NUM_CLASSES}")
    return labels - 1


def read_npz_batch(path: Path, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """One batch as uint8 ``[n, 3, r, r]`` and 0-based int64 labels."""
    labels = read_npz_labels(path)
    with _open_npz(path) as npz:
        data = _member(npz, path, "data")
    if data.dtype != np.uint8 or data.ndim != 2:
        raise DataError(f"{path}: 'data' is {data.dtype} {data.shape}, expected uint8 [n, 3*r*r]")
    _check_row_size(path, data.shape[1], resolution)
    if len(data) != len(labels):
        raise DataError(f"{path}: {len(labels)} labels for {len(data)} images")
    return data.reshape(-1, 3, resolution, resolution), labels


def _open_npz(path: Path):
    if not path.is_file():
        raise DataError(f"{path}: batch file missing; {DOWNLOAD_HINT.format(r='<32|64>')} and unzip it there")
    try:
        return np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise DataError(f"{path}: not a readable .npz ({type(e).__name__}: {e}); download it again") from e


def _member(npz, path: Path, key: str) -> np.ndarray:
    try:
        return npz[key]
    except KeyError as e:
        raise DataError(
            f"{path}: no '{key}' array in it (has {sorted(npz.files)}); not a downsampled-ImageNet batch"
        ) from e
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise DataError(
            f"{path}: '{key}' is truncated or corrupt ({type(e).__name__}: {e}); download it again"
        ) from e


def convert_to_npy(
    source: str | Path, resolution: int, split: str = "train", dest: str | Path | None = None
) -> Path:
    """Write the batches of ``split`` as memory-mappable ``.npy`` files (one batch in RAM at a time)."""
    resolution = check_resolution(resolution)
    paths = batch_paths(source, split)
    counts = [len(read_npz_labels(p)) for p in paths]  # labels only: sizes the output before any image
    images_path, labels_path = npy_paths(dest or source, resolution, split)
    images_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_images = images_path.with_name(images_path.name + f".tmp-{os.getpid()}")
    tmp_labels = labels_path.with_name(labels_path.name + f".tmp-{os.getpid()}")
    try:
        out = np.lib.format.open_memmap(
            tmp_images, mode="w+", dtype=np.uint8, shape=(sum(counts), 3, resolution, resolution)
        )
        labels, start = [], 0
        for path, n in zip(paths, counts):
            images, batch_labels = read_npz_batch(path, resolution)
            out[start : start + n] = images
            labels.append(batch_labels)
            start += n
        out.flush()
        del out
        with open(tmp_labels, "wb") as f:
            np.save(f, np.concatenate(labels))
        os.replace(tmp_images, images_path)
        os.replace(tmp_labels, labels_path)
    finally:
        tmp_images.unlink(missing_ok=True)
        tmp_labels.unlink(missing_ok=True)
    return images_path


def _load_npy(images_path: Path, labels_path: Path, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    try:
        images = np.load(images_path, mmap_mode="r")
        labels = np.load(labels_path)
    except (OSError, ValueError, EOFError) as e:
        raise DataError(
            f"{images_path.parent}: unreadable converted arrays ({e}); run gan-zoo-prepare imagenet again"
        ) from e
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1] != 3:
        raise DataError(f"{images_path}: {images.dtype} {images.shape}, expected uint8 [N, 3, R, R]")
    if images.shape[2:] != (resolution, resolution):
        raise ConfigError(
            f"dataset.resolution = {resolution} but {images_path} holds {images.shape[-1]} px images; "
            f"set dataset.resolution={images.shape[-1]}"
        )
    if len(labels) != len(images):
        raise DataError(
            f"{labels_path}: {len(labels)} labels for {len(images)} images; run gan-zoo-prepare again"
        )
    return images, labels


def imagenet(
    root: str | Path,
    resolution: int = 32,
    split: str = "train",
    labels: bool = True,
    xflip: bool = False,
) -> ImageDataset:
    """Downsampled ImageNet ``split`` as uint8 ``[N, 3, r, r]`` with 1000 classes (0-based labels)."""
    resolution = check_resolution(resolution)
    root = Path(root).expanduser()
    images_path, labels_path = npy_paths(root, resolution, split)
    paths = batch_paths(root, split)
    kwargs = dict(num_classes=NUM_CLASSES, name=f"imagenet{resolution}", xflip=xflip)
    if images_path.is_file() and labels_path.is_file():
        _, targets = _load_npy(images_path, labels_path, resolution)
        return MappedImageDataset(images_path, targets if labels else None, source=str(images_path), **kwargs)
    if not any(p.is_file() for p in paths):
        raise DataError(
            f"{root}: no {paths[0].name} nor {images_path.name}; {DOWNLOAD_HINT.format(r=resolution)}, "
            f"unzip it there and run: gan-zoo-prepare imagenet --source {root} --resolution {resolution}"
        )
    batches = [read_npz_batch(p, resolution) for p in paths]
    images = np.concatenate([b[0] for b in batches])
    targets = np.concatenate([b[1] for b in batches])
    return ImageDataset(images, targets if labels else None, source=f"{root} ({split} npz)", **kwargs)
