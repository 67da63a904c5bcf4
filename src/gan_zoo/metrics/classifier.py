"""A small CNN classifier for single-channel digit/fashion images (8, 28 or 32 px), and its on-disk cache.

It plays the role of the "pretrained MNIST classifier" of the StackedMNIST protocol (Metz et al. 2017;
PacGAN, Lin et al. 2018: ~99 % MNIST test accuracy), and, through its penultimate layer, of an offline
feature extractor for Fréchet distances where Inception weights are unavailable.

Architecture: three 3x3 conv + BN + ReLU layers (32, 48, 64 channels) with 2x2 max-pooling after the first
two, adaptive average pooling to 2x2 (so 8, 28 and 32 px inputs all work), a 128-unit ReLU layer (the
features) and a linear classification head; ~0.1 M parameters, kept small so it trains on a CPU in minutes
(channels-last layout, ~2x faster on CPU). Input: uint8 images, scaled to [-1, 1].

Cache: ``<cache_dir>/classifiers/<name>.pt`` where ``cache_dir`` is ``${paths.cache_dir}``, else
``$GAN_ZOO_CACHE``, else ``~/.cache/gan_zoo``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gan_zoo.errors import ConfigError, DataError

FEATURE_DIM = 128
FORMAT_VERSION = 1


def default_cache_dir(cache_dir: str | Path | None = None) -> Path:
    """``cache_dir`` if given, else ``$GAN_ZOO_CACHE``, else ``~/.cache/gan_zoo``."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    return Path(os.environ.get("GAN_ZOO_CACHE") or Path.home() / ".cache" / "gan_zoo").expanduser()


def classifier_path(name: str, cache_dir: str | Path | None = None) -> Path:
    return default_cache_dir(cache_dir) / "classifiers" / f"{name}.pt"


def _block(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class DigitClassifier(nn.Module):
    """CNN for ``[N, 1, H, W]`` uint8 images; ``features(x)`` is the 128-d penultimate layer."""

    def __init__(self, num_classes: int = 10, resolution: int = 28, name: str = "classifier") -> None:
        super().__init__()
        self.num_classes, self.resolution, self.name = int(num_classes), int(resolution), str(name)
        self.body = nn.Sequential(
            *_block(1, 32),
            nn.MaxPool2d(2),
            # 28/32 px: 14/16 -> 7/8; 8 px digits keep their 4x4 map for the last two convs
            *_block(32, 48),
            nn.MaxPool2d(2) if resolution >= 16 else nn.Identity(),
            *_block(48, 64),
            nn.AdaptiveAvgPool2d(2),
            nn.Flatten(),
            nn.Linear(64 * 4, FEATURE_DIM),
            nn.ReLU(inplace=True),
        )
        self.dropout = nn.Dropout(0.1)
        self.head = nn.Linear(FEATURE_DIM, num_classes)
        self.test_accuracy: float | None = None

    @staticmethod
    def prepare(x: torch.Tensor) -> torch.Tensor:
        if x.dtype != torch.uint8 or x.ndim != 4 or x.shape[1] != 1:
            raise ConfigError(f"classifier input must be uint8 [N, 1, H, W], got {x.dtype} {tuple(x.shape)}")
        return x.float().div(127.5).sub(1.0)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(self.prepare(x).contiguous(memory_format=torch.channels_last))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))

    @torch.no_grad()
    def predict(self, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
        was = self.training
        self.eval()
        out = torch.cat([self(x[i : i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])
        self.train(was)
        return out


@dataclass
class TrainResult:
    test_accuracy: float
    train_seconds: float
    epochs: int
    path: Path | None


def _as_tensor(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(images)) if not isinstance(images, torch.Tensor) else images
    if x.ndim == 3:
        x = x[:, None]
    if x.dtype != torch.uint8 or x.ndim != 4 or x.shape[1] != 1:
        raise DataError(f"classifier data must be uint8 [N, (1,) H, W], got {x.dtype} {tuple(x.shape)}")
    return x


def accuracy(model: DigitClassifier, images, labels, batch_size: int = 1024) -> float:
    x, y = _as_tensor(images), torch.as_tensor(np.asarray(labels)).long()
    return float((model.predict(x, batch_size) == y).float().mean())


def train_classifier(
    model: DigitClassifier,
    train: tuple,
    test: tuple,
    *,
    epochs: int = 4,
    batch_size: int = 128,
    lr: float = 2e-3,
    seed: int = 0,
    shift: int = 2,
    log=print,
) -> TrainResult:
    """Adam with a one-cycle cosine lr and random translations of up to ``shift`` px; returns the test
    accuracy after the last epoch."""
    torch.manual_seed(seed)
    model.to(memory_format=torch.channels_last)
    x, y = _as_tensor(train[0]), torch.as_tensor(np.asarray(train[1])).long()
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999))
    steps = epochs * ((len(x) + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15)
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=gen)
        total = 0.0
        for i in range(0, len(x), batch_size):
            idx = perm[i : i + batch_size]
            xb = _random_shift(x[idx], shift, gen)
            loss = F.cross_entropy(model(xb), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        acc = accuracy(model, *test)
        log(
            f"epoch {epoch + 1}/{epochs}: loss {total / len(x):.4f}, test accuracy {acc:.4f} "
            f"({time.perf_counter() - start:.0f} s)"
        )
    model.eval()
    model.test_accuracy = acc
    return TrainResult(acc, time.perf_counter() - start, epochs, None)


def _random_shift(x: torch.Tensor, shift: int, gen: torch.Generator) -> torch.Tensor:
    """Translate each image by an integer offset in [-shift, shift]^2 with zero fill."""
    if shift <= 0:
        return x
    n, _, h, w = x.shape
    padded = F.pad(x, (shift, shift, shift, shift))
    dx, dy = torch.randint(0, 2 * shift + 1, (2, n), generator=gen)
    rows = (dy[:, None] + torch.arange(h)[None])[:, :, None].expand(n, h, w)
    cols = (dx[:, None] + torch.arange(w)[None])[:, None, :].expand(n, h, w)
    return padded[torch.arange(n)[:, None, None], 0, rows, cols][:, None]


def save_classifier(model: DigitClassifier, path: str | Path, **extra) -> Path:
    """Atomic save (temp file + ``os.replace``) of weights and the metadata needed to rebuild the net."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "version": FORMAT_VERSION,
        "name": model.name,
        "num_classes": model.num_classes,
        "resolution": model.resolution,
        "test_accuracy": model.test_accuracy,
        "state_dict": model.state_dict(),
        **extra,
    }
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)
    return path


def load_classifier(
    name_or_path: str | Path, cache_dir: str | Path | None = None, map_location: str | torch.device = "cpu"
) -> DigitClassifier:
    """Load a saved classifier by name (from the cache) or by file path; eval mode, no grad."""
    p = Path(name_or_path)
    path = p if p.suffix == ".pt" else classifier_path(str(name_or_path), cache_dir)
    if not path.is_file():
        raise DataError(
            f"{path}: no trained classifier; run `gan-zoo-train-classifier dataset={p.stem}`"
            f"{'' if cache_dir is None else f' cache_dir={cache_dir}'}"
        )
    try:
        state = torch.load(path, map_location=map_location, weights_only=False)
        model = DigitClassifier(state["num_classes"], state["resolution"], state["name"])
        model.load_state_dict(state["state_dict"])
    except (KeyError, RuntimeError, EOFError, OSError) as e:
        raise DataError(
            f"{path}: not a gan_zoo classifier ({type(e).__name__}); retrain it with "
            f"`gan-zoo-train-classifier dataset={p.stem}`"
        ) from e
    model.test_accuracy = state.get("test_accuracy")
    return model.to(memory_format=torch.channels_last).eval().requires_grad_(False)
