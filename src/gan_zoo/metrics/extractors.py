"""Feature extractors by name, and the loops that feed them generated or real images.

- ``inception`` (default): torch-fidelity's TF-Inception port (:mod:`gan_zoo.metrics.fidelity`), uint8 input,
  TF1 bilinear resize to 299 inside the net, outputs ``pool`` (2048-d pool3) and ``logits`` (1008 unbiased).
  Grey images are repeated to RGB.
- ``classifier:<name>``: the project's CNN (:mod:`gan_zoo.metrics.classifier`) from
  ``<cache_dir>/classifiers/<name>.pt``. Each channel is classified separately (StackedMNIST puts one digit
  per channel): ``pool`` is the channels' 128-d penultimate features concatenated, ``logits`` is
  ``[N, C, classes]``.
  Inputs an integer multiple of the classifier's size are bilinearly downsampled (which undoes a nearest
  enlargement exactly: digits at 16/32 px); others larger by an even margin are centre-cropped (undoing the
  datasets' zero padding 28 -> 32); other sizes are bilinearly resized.

Real references: :func:`save_reference` / :func:`load_reference` keep the statistics (mu, sigma in float64,
optionally the features: KID and PR need them) of real images at ``<cache_dir>/real_stats/<ref_hash>.pt``,
where ``ref_hash`` hashes :func:`reference_key`: the dataset's identity (``info`` name, num_images, shape,
source; mirroring), resolution, extractor tag and weights digest, resize and N.

Every extractor has a ``tag`` (its spec: "inception", "classifier:fmnist") that goes into metric names, a
``resize`` description and a ``weights_id`` (hash of the weights file) for provenance and cache keys.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from gan_zoo.data.base import to_uint8
from gan_zoo.errors import ConfigError
from gan_zoo.sampling import fixed_latents, generate_batches, one_hot

INCEPTION_RESIZE = "tf1-bilinear-299"
REFERENCE_SUBSET_SEED = 0  # which real images when num_real < len(dataset); fixed so references are shared


def file_digest(path: str | Path | None, length: int = 12) -> str:
    if path is None:
        return "none"
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:length]


class InceptionExtractor:
    kind = "inception"

    def __init__(
        self,
        weights_path: str | Path | None = None,
        device: torch.device | str = "cpu",
        dtype: str = "float32",
    ) -> None:
        from gan_zoo.metrics.fidelity import build_inception, hub_weights_path, resolve_inception_weights

        self.net = build_inception(weights_path, dtype=dtype, device=device)
        resolved = resolve_inception_weights(weights_path) or hub_weights_path()  # downloaded by now
        self.weights_id = file_digest(resolved)
        self.device, self.tag, self.dtype = torch.device(device), "inception", dtype

    def resize(self, resolution: int | None) -> str:
        return INCEPTION_RESIZE

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        from gan_zoo.metrics.fidelity import rgb_uint8

        pool, logits = self.net(rgb_uint8(images).to(self.device))
        return {"pool": pool.float(), "logits": logits.float()}


class ClassifierExtractor:
    kind = "classifier"

    def __init__(
        self, name: str, cache_dir: str | Path | None = None, device: torch.device | str = "cpu"
    ) -> None:
        from gan_zoo.metrics.classifier import classifier_path, load_classifier

        self.path = classifier_path(name, cache_dir)
        if name == "digits" and not self.path.is_file():
            # scikit-learn's digits ship with the package and the CNN trains in seconds: do it on first use
            from gan_zoo.metrics.train_classifier import parse_args, run

            with torch.enable_grad():  # extractors are built inside no-grad evaluation
                run(parse_args(["dataset=digits", *([f"cache_dir={cache_dir}"] if cache_dir else [])]))
        self.net = load_classifier(name, cache_dir).to(device)
        self.weights_id = file_digest(self.path)
        self.device, self.tag = torch.device(device), f"classifier:{name}"

    def resize(self, resolution: int | None) -> str:
        r = self.net.resolution
        if resolution is None:
            raise ConfigError(
                f"extractor {self.tag} needs images; this dataset has points (use the toy2d metric)"
            )
        if resolution == r:
            return "none"
        if resolution % r == 0:  # an integer enlargement (e.g. digits at 16/32 px): 2x2/4x4 blocks -> exact
            return f"bilinear-{r}"
        if resolution > r and (resolution - r) % 2 == 0:
            return f"center-crop-{r}"
        return f"bilinear-{r}"

    def _fit(self, x: torch.Tensor) -> torch.Tensor:
        r, size = self.net.resolution, x.shape[-1]
        mode = self.resize(size)
        if mode == "none":
            return x
        if mode.startswith("center-crop"):
            m = (size - r) // 2
            return x[..., m : m + r, m : m + r]
        y = F.interpolate(x.float(), size=(r, r), mode="bilinear", align_corners=False, antialias=False)
        return y.round().clamp(0, 255).to(torch.uint8)

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise ConfigError(
                f"{self.tag} input must be uint8 [N, C, H, W], got {images.dtype} {tuple(images.shape)}"
            )
        n, c = images.shape[:2]
        x = self._fit(images.to(self.device))
        feats = self.net.features(x.reshape(n * c, 1, *x.shape[-2:]))
        logits = self.net.head(feats)
        return {"pool": feats.reshape(n, -1).float(), "logits": logits.reshape(n, c, -1).float()}


EXTRACTORS = {"inception": InceptionExtractor, "classifier": ClassifierExtractor}


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``"inception"`` -> ("inception", None); ``"classifier:fmnist"`` -> ("classifier", "fmnist")."""
    kind, _, arg = str(spec).partition(":")
    valid_arg = bool(arg) and all(ch.isalnum() or ch in "_-." for ch in arg)
    if kind not in EXTRACTORS or (kind == "classifier") != valid_arg:
        raise ConfigError(
            f"metrics.extractor={spec}: use 'inception' or 'classifier:<name>' (e.g. classifier:fmnist)"
        )
    return kind, arg or None


def make_extractor(
    spec: str,
    *,
    device: torch.device | str = "cpu",
    inception_weights: str | None = None,
    inception_dtype: str = "float32",
    cache_dir: str | Path | None = None,
):
    kind, arg = parse_spec(spec)
    if kind == "inception":
        return InceptionExtractor(inception_weights, device=device, dtype=inception_dtype)
    return ClassifierExtractor(arg, cache_dir=cache_dir, device=device)


# ---- feeding extractors -------------------------------------------------------------------------------


def generated_batches(
    G: torch.nn.Module,
    n: int,
    batch_size: int,
    seed: int,
    start: int = 0,
    stop: int | None = None,
    device: torch.device | str | None = None,
) -> Iterator[torch.Tensor]:
    """G's float outputs for fixed latents ``start..stop`` of the ``n`` of
    :func:`gan_zoo.sampling.fixed_latents` (the whole range goes through
    :func:`gan_zoo.sampling.generate_batches`; a slice is one DDP rank's share)."""
    stop = n if stop is None else stop
    if start == 0 and stop == n:
        for x, _ in generate_batches(G, n, batch_size, seed, device):
            yield x
        return
    device = device or next(G.parameters()).device
    z_all, labels_all = fixed_latents(n, G.z_dim, G.c_dim, seed)
    with torch.no_grad():
        for i in range(start, stop, batch_size):
            j = min(i + batch_size, stop)
            yield G(z_all[i:j].to(device), one_hot(labels_all[i:j].to(device), G.c_dim))


def _concat(parts: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    if not parts:
        return {}
    return {k: torch.cat([p[k].cpu() for p in parts]) for k in parts[0]}


def extract_generated(
    G, extractor, n: int, batch_size: int, seed: int, start: int = 0, stop: int | None = None, device=None
) -> dict[str, torch.Tensor]:
    """Features of generated samples ``start..stop``: G's output -> uint8 (as saved images) -> extractor."""
    from gan_zoo.callbacks.progress import track

    stop = n if stop is None else stop
    what = f"eval: {getattr(extractor, 'tag', '')} features of {stop - start} samples"
    batches = track(generated_batches(G, n, batch_size, seed, start, stop, device),
                    math.ceil((stop - start) / batch_size), what)
    return _concat([extractor(to_uint8(x)) for x in batches])


def dataset_images(dataset, indices: np.ndarray) -> torch.Tensor:
    """uint8 images of ``dataset`` at ``indices`` (mirror indices >= N flipped); fast for ImageDataset."""
    images = getattr(dataset, "images", None)
    if isinstance(images, np.ndarray):
        base = np.asarray(indices) % len(images)
        x = torch.from_numpy(np.ascontiguousarray(images[base]))
        flip = torch.from_numpy(np.asarray(indices) >= len(images))
        if flip.any():
            x[flip] = x[flip].flip(-1)
        return x
    return torch.stack([dataset[int(i)][0] for i in indices])


def extract_dataset(dataset, extractor, indices: np.ndarray, batch_size: int) -> dict[str, torch.Tensor]:
    from gan_zoo.callbacks.progress import track

    starts = track(range(0, len(indices), batch_size), math.ceil(len(indices) / batch_size),
                   f"reference: {getattr(extractor, 'tag', '')} features of {len(indices)} real images")
    return _concat([extractor(dataset_images(dataset, indices[i : i + batch_size])) for i in starts])


# ---- real references on disk ----------------------------------------------------------------------------


@dataclass
class Reference:
    mu: np.ndarray
    sigma: np.ndarray
    features: torch.Tensor | None
    ref_hash: str
    meta: dict


def reference_key(extractor, dataset, num_real: int | None, inception_dtype: str = "float32") -> dict:
    """Everything a real reference depends on; its hash names the cache file (and goes into metrics.jsonl)."""
    info = dataset.info
    return {
        "dataset": {
            "name": info.name,
            "num_images": info.num_images,
            "shape": list(info.shape),
            "source": info.source,
        },
        "xflip": bool(getattr(dataset, "xflip", False)),
        "resolution": info.resolution,
        "extractor": extractor.tag,
        "weights": extractor.weights_id,
        "resize": extractor.resize(info.resolution),
        "n": min(int(num_real or len(dataset)), len(dataset)),
        "num_real": num_real,
        "dtype": inception_dtype if extractor.tag == "inception" else "float32",
        "subset_seed": REFERENCE_SUBSET_SEED,
    }


def reference_hash(key: dict) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def reference_indices(n: int, size: int) -> np.ndarray:
    """All indices, or a fixed-seed subset of n of them (sorted, for sequential reads)."""
    if n >= size:
        return np.arange(size)
    return np.sort(np.random.default_rng(REFERENCE_SUBSET_SEED).permutation(size)[:n])


def reference_path(cache_dir: str | Path, ref_hash: str) -> Path:
    return Path(cache_dir) / "real_stats" / f"{ref_hash}.pt"


def load_reference(
    cache_dir, ref_hash: str, kind: str, weights_id: str, num_real: int | None
) -> Reference | None:
    """The cached reference, or None if absent, without features when ``kind == "features"``, or made with
    other weights or another ``num_real``."""
    path = reference_path(cache_dir, ref_hash)
    if not path.is_file():
        return None
    data = torch.load(path, map_location="cpu", weights_only=False)
    meta = data["meta"]
    if kind == "features" and data.get("features") is None:
        return None
    if meta["weights"] != weights_id or meta["num_real"] != num_real:
        return None
    return Reference(data["mu"], data["sigma"], data.get("features"), ref_hash, meta)


def save_reference(cache_dir, features: torch.Tensor, keep_features: bool, key: dict) -> Reference:
    """Statistics of ``features`` (float64), written atomically under :func:`reference_hash` of ``key``."""
    from gan_zoo.metrics.frechet import feature_stats

    mu, sigma = feature_stats(features)
    ref = Reference(mu, sigma, features if keep_features else None, reference_hash(key), key)
    path = reference_path(cache_dir, ref.ref_hash)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save({"mu": mu, "sigma": sigma, "features": ref.features, "meta": key}, tmp)
    os.replace(tmp, path)
    return ref
