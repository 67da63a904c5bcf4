"""Paper-comparable Inception metrics through torch-fidelity, with its 0.4.0 defects worked around.

Papers' FID/KID/IS use the TensorFlow Inception graph of 2015-12-05 (pool3, 2048-d; IS from the 1008 logits)
with TF1 bilinear resizing to 299x299. torch-fidelity's ``inception-v3-compat`` is a port stated to match it
(FID/KID to 1e-6, IS to 1e-3), so every Inception number here goes through it -- not torchmetrics' default
FID, which antialiases the resize and is not comparable (see /work/shared/reference/evaluation.md).

Work-arounds for torch-fidelity 0.4.0 (each pinned by a test that fails once torch-fidelity fixes the defect,
so the work-around can then be dropped):

1. ``num_classes > 0`` generators crash (``np.int`` was removed from numpy): :func:`calculate_metrics` wraps
   them so torch-fidelity sees ``num_classes = 0`` and the wrapper draws labels in the fixed order
   ``i % num_classes`` (class-balanced, as gan_zoo samples; torch-fidelity would draw them at random).
2. ``feature_extractor_internal_dtype="float64"`` silently runs in float32 (``text_to_dtype`` maps it to
   float32): :class:`InceptionV3Compat` casts the net to float64 when float64 is asked for.
3. ``cuda=True`` by default, which fails on CPU-only machines: :func:`calculate_metrics` defaults ``cuda`` to
   ``torch.cuda.is_available()``.

Weights: torch-fidelity's normal download into ``$TORCH_HOME/hub/checkpoints/`` (cached), or a local file
(``metrics.inception_weights=<path>``) on offline clusters.
"""

from __future__ import annotations

import urllib.error
from pathlib import Path
from unittest import mock

import torch
import torch_fidelity
from torch import nn
from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3, FeatureExtractorInceptionV3
from torch_fidelity.generative_model_base import GenerativeModelBase
from torch_fidelity.metric_isc import isc_features_to_metric
from torch_fidelity.metric_kid import kid_features_to_metric
from torch_fidelity.metric_prc import prc_features_to_metric
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY, register_feature_extractor

from gan_zoo.errors import ConfigError, GanZooError

INCEPTION_WEIGHTS_FILE = URL_INCEPTION_V3.rsplit("/", 1)[-1]  # weights-inception-2015-12-05-6726825d.pth
FIDELITY_INCEPTION = "inception-v3-compat"
FIDELITY_INCEPTION_F64 = "gan-zoo-inception-v3-compat-float64"
POOL, LOGITS = "2048", "logits_unbiased"  # torch-fidelity's layers for FID/KID/PR and for IS


def hub_weights_path() -> Path:
    """Where torch-fidelity's download caches the weights: ``$TORCH_HOME/hub/checkpoints/<file>``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_WEIGHTS_FILE


def missing_weights_message(reason: str) -> str:
    return (
        f"Inception weights unavailable ({reason}): put {INCEPTION_WEIGHTS_FILE} in "
        f"{hub_weights_path().parent}/ or set metrics.inception_weights=<path>"
    )


def resolve_inception_weights(path: str | Path | None) -> Path | None:
    """A given weights file (must exist), else the hub-cached file if present, else None (= download)."""
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise ConfigError(
                f"metrics.inception_weights={path}: file not found; point it at {INCEPTION_WEIGHTS_FILE}"
            )
        return p
    cached = hub_weights_path()
    return cached if cached.is_file() else None


class InceptionV3Compat(FeatureExtractorInceptionV3):
    """torch-fidelity's TF-Inception port, with ``feature_extractor_internal_dtype="float64"`` honoured
    (work-around 2). Identical to the parent in float32."""

    def __init__(
        self,
        name,
        features_list,
        feature_extractor_weights_path=None,
        feature_extractor_internal_dtype=None,
        **kwargs,
    ):
        super().__init__(
            name,
            features_list,
            feature_extractor_weights_path=feature_extractor_weights_path,
            feature_extractor_internal_dtype=feature_extractor_internal_dtype,
            **kwargs,
        )
        if (
            feature_extractor_internal_dtype == "float64"
            and self.feature_extractor_internal_dtype != torch.float64
        ):
            self.feature_extractor_internal_dtype = torch.float64
            self.to(torch.float64)


if FIDELITY_INCEPTION_F64 not in FEATURE_EXTRACTORS_REGISTRY:
    register_feature_extractor(FIDELITY_INCEPTION_F64, InceptionV3Compat)


def build_inception(
    weights_path: str | Path | None = None,
    features: tuple[str, ...] = (POOL, LOGITS),
    dtype: str = "float32",
    device: torch.device | str = "cpu",
) -> InceptionV3Compat:
    """torch-fidelity's Inception (eval, no grad) on ``device``; downloads/caches the weights unless given.
    Offline without weights -> one-line :class:`GanZooError` saying where to put the file."""
    if dtype not in ("float32", "float64"):
        raise ConfigError(f"metrics.inception_dtype={dtype}: use float32 (papers) or float64")
    resolved = resolve_inception_weights(weights_path)
    try:
        net = InceptionV3Compat(
            FIDELITY_INCEPTION,
            list(features),
            feature_extractor_weights_path=None if resolved is None else str(resolved),
            feature_extractor_internal_dtype=dtype,
            verbose=False,
        )
    except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
        raise GanZooError(missing_weights_message(f"download failed: {getattr(e, 'reason', e)}")) from e
    except RuntimeError as e:  # wrong keys / corrupt file / hash mismatch of a partial download
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise GanZooError(missing_weights_message(f"{resolved or 'download'}: {first[:200]}")) from e
    return net.to(device).eval().requires_grad_(False)


def random_inception_weights(path: str | Path, seed: int = 0) -> Path:
    """Write a random Inception state dict with the real keys and shapes (offline tests and speed benchmarks;
    the numbers it yields are meaningless). Convs are He-initialised so activations keep their scale through
    the ~95 layers (PyTorch's default init shrinks pool3 features to ~1e-8)."""
    with (
        mock.patch(
            "torch_fidelity.feature_extractor_inceptionv3.load_state_dict_from_url", lambda *a, **k: {}
        ),
        mock.patch.object(FeatureExtractorInceptionV3, "load_state_dict", lambda self, sd, *a, **k: None),
    ):
        net = FeatureExtractorInceptionV3(FIDELITY_INCEPTION, [POOL])
    gen = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            fan_in = m.weight[0].numel()
            m.weight.data = torch.randn(m.weight.shape, generator=gen) * (2.0 / fan_in) ** 0.5
        elif isinstance(m, nn.Linear):
            m.weight.data = (
                torch.randn(m.weight.shape, generator=gen) * 10 / m.in_features**0.5
            )  # IS away from 1
            m.bias.data.zero_()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), path)
    return path


def rgb_uint8(x: torch.Tensor) -> torch.Tensor:
    """uint8 ``[N, 1|3, H, W]`` -> ``[N, 3, H, W]`` (grey repeated), as the Inception input needs."""
    if x.dtype != torch.uint8 or x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ConfigError(f"Inception input must be uint8 [N, 1|3, H, W], got {x.dtype} {tuple(x.shape)}")
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x


def calculate_metrics(**kwargs) -> dict:
    """``torch_fidelity.calculate_metrics`` with the three work-arounds applied (see the module docstring)."""
    kwargs.setdefault("cuda", torch.cuda.is_available())  # work-around 3
    kwargs.setdefault("verbose", False)
    if kwargs.get("feature_extractor_internal_dtype") == "float64":  # work-around 2
        if kwargs.get("feature_extractor") not in (None, FIDELITY_INCEPTION, FIDELITY_INCEPTION_F64):
            raise ConfigError(
                "feature_extractor_internal_dtype=float64 is only fixed for inception-v3-compat"
            )
        if kwargs.get("prc") and kwargs.get("feature_extractor") is None:
            raise ConfigError("float64 with prc would also apply to VGG16; pass feature_extractor explicitly")
        kwargs["feature_extractor"] = FIDELITY_INCEPTION_F64
    for slot in ("input1", "input2"):  # work-around 1
        model = kwargs.get(slot)
        if isinstance(model, GenerativeModelBase) and model.num_classes > 0:
            inner = getattr(model, "module", model)
            kwargs[slot] = _ClassCyclingWrapper(inner, model.z_size, model.z_type, model.num_classes)
    return torch_fidelity.calculate_metrics(**kwargs)


class _ClassCyclingWrapper(GenerativeModelBase):
    """A torch-fidelity conditional model ``module(z, labels)`` presented as unconditional (work-around 1);
    labels cycle ``i % num_classes``."""

    def __init__(self, module: nn.Module, z_size: int, z_type: str, classes: int):
        super().__init__()
        self.module, self._z_size, self._z_type, self.classes, self._count = (
            module,
            z_size,
            z_type,
            classes,
            0,
        )

    z_size = property(lambda self: self._z_size)
    z_type = property(lambda self: self._z_type)
    num_classes = property(lambda self: 0)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        labels = (torch.arange(len(z), device=z.device) + self._count) % self.classes
        self._count += len(z)
        return self.module(z, labels)


# ---- metrics on features: torch-fidelity's own formulas, so the numbers are the papers' -------------------


def kernel_inception_distance(
    gen: torch.Tensor, real: torch.Tensor, subsets: int = 100, subset_size: int = 1000, seed: int = 2020
) -> tuple[float, float, int]:
    """KID (Bińkowski et al. 2018): unbiased MMD^2, cubic kernel, mean/std over ``subsets`` random subsets.
    ``subset_size`` is capped at the smaller set (returned, to record with the number)."""
    size = int(min(subset_size, len(gen), len(real)))
    if size < 2:
        raise ConfigError(f"KID needs at least 2 samples per side, got {len(gen)} and {len(real)}")
    out = kid_features_to_metric(
        gen.float().cpu(),
        real.float().cpu(),
        kid_subsets=int(subsets),
        kid_subset_size=size,
        rng_seed=int(seed),
        verbose=False,
    )
    return out[torch_fidelity.KEY_METRIC_KID_MEAN], out[torch_fidelity.KEY_METRIC_KID_STD], size


def inception_score(logits: torch.Tensor, splits: int = 10, seed: int = 2020) -> tuple[float, float]:
    """IS (Salimans et al. 2016) from the unbiased 1008-way logits, mean/std over ``splits``."""
    if len(logits) < splits:
        raise ConfigError(
            f"inception score with {splits} splits needs >= {splits} samples, got {len(logits)}"
        )
    out = isc_features_to_metric(logits.float().cpu(), splits=int(splits), shuffle=True, rng_seed=int(seed))
    return out[torch_fidelity.KEY_METRIC_ISC_MEAN], out[torch_fidelity.KEY_METRIC_ISC_STD]


def precision_recall(gen: torch.Tensor, real: torch.Tensor, k: int = 3) -> tuple[float, float]:
    """Improved precision/recall (Kynkäänniemi et al. 2019), k-NN balls with ``k`` neighbours."""
    if min(len(gen), len(real)) <= k:
        raise ConfigError(f"precision/recall with k={k} needs more than {k} samples per side")
    big = max(len(gen), len(real)) > 10_000  # the full distance matrix would not fit in memory
    out = prc_features_to_metric(
        gen.float().cpu(),
        real.float().cpu(),
        prc_neighborhood=int(k),
        prc_batch_size=10_000,
        save_cpu_ram=big,
        verbose=False,
    )
    return float(out[torch_fidelity.KEY_METRIC_PRECISION]), float(out[torch_fidelity.KEY_METRIC_RECALL])
