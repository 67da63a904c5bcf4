"""The one dataset shape every source produces.

Images are stored as uint8 ``[N, C, H, W]`` (the form in which papers' datasets are distributed, 4x smaller
than float) and turned into floats in [-1, 1] on the device by :func:`to_float`. Labels are int64 class
indices; an unlabelled dataset has ``num_classes == 0`` and returns label 0.

Horizontal flips follow stylegan2-ada's ``--mirror``: the dataset doubles in length and index ``i >= N`` is
the mirror image of ``i - N``. That keeps sampling deterministic and flips exactly half of every epoch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from gan_zoo.errors import DataError


@dataclass(frozen=True)
class DatasetInfo:
    """What a model and a metric need to know about a dataset, and a stable identity for caching."""

    name: str
    num_images: int
    shape: tuple[int, ...]  # (C, H, W) for images, (D,) for points
    num_classes: int
    source: str

    @property
    def resolution(self) -> int | None:
        return self.shape[-1] if len(self.shape) == 3 else None

    def summary(self) -> str:
        res = f"{self.shape[-1]}x{self.shape[-2]}x{self.shape[0]}" if len(self.shape) == 3 else f"{self.shape}"
        classes = f"{self.num_classes} classes" if self.num_classes else "unlabelled"
        return f"dataset {self.name}: {self.num_images} images, {res}, {classes}, from {self.source}"


class ImageDataset(Dataset):
    """uint8 images ``[N, C, H, W]`` (numpy array, possibly memory-mapped) with optional labels."""

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray | None = None,
        *,
        num_classes: int = 0,
        name: str = "images",
        source: str = "memory",
        xflip: bool = False,
    ) -> None:
        if images.dtype != np.uint8 or images.ndim != 4:
            raise DataError(f"{source}: expected uint8 images [N, C, H, W], got {images.dtype} {images.shape}")
        if images.shape[1] not in (1, 3):
            raise DataError(f"{source}: expected 1 or 3 channels, got {images.shape[1]} (shape {images.shape})")
        if labels is not None:
            labels = np.asarray(labels, dtype=np.int64)
            if len(labels) != len(images):
                raise DataError(f"{source}: {len(labels)} labels for {len(images)} images; they must match")
            if num_classes and len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
                raise DataError(
                    f"{source}: labels span [{labels.min()}, {labels.max()}], outside 0..{num_classes - 1}"
                )
        self.images = images
        self.labels = labels
        self.num_classes = int(num_classes) if labels is not None else 0
        self.xflip = bool(xflip)
        self.info = DatasetInfo(name, len(images), tuple(images.shape[1:]), self.num_classes, str(source))

    @property
    def resolution(self) -> int:
        return int(self.images.shape[-1])

    @property
    def num_channels(self) -> int:
        return int(self.images.shape[1])

    def __len__(self) -> int:
        return len(self.images) * (2 if self.xflip else 1)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        n = len(self.images)
        img = self.images[index % n]
        if index >= n:
            img = img[..., ::-1]
        label = int(self.labels[index % n]) if self.labels is not None else 0
        # np.array copies: the storage may be a read-only memory map that torch must not alias
        return torch.from_numpy(np.array(img)), torch.tensor(label, dtype=torch.int64)


class PointDataset(Dataset):
    """float32 points ``[N, D]`` (2-D mixtures) with the index of the mode each was drawn from."""

    def __init__(self, points: np.ndarray, labels: np.ndarray, *, name: str, source: str, num_classes: int = 0):
        self.points = torch.as_tensor(np.asarray(points, dtype=np.float32))
        self.labels = torch.as_tensor(np.asarray(labels, dtype=np.int64))
        self.num_classes = int(num_classes)
        self.xflip = False
        self.info = DatasetInfo(name, len(self.points), tuple(self.points.shape[1:]), self.num_classes, source)

    resolution = None

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.points[index], self.labels[index] if self.num_classes else torch.tensor(0)


def to_float(x: torch.Tensor) -> torch.Tensor:
    """uint8 images -> float in [-1, 1]; float data (points) passes through unchanged."""
    if x.dtype == torch.uint8:
        return x.float().div_(127.5).sub_(1.0)
    return x.float()


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """Generator output (float, about [-1, 1]) -> uint8 images, rounding as stylegan2-ada's image export."""
    return (x.float() * 127.5 + 128).clamp(0, 255).to(torch.uint8)
