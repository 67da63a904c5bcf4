"""The metric registry: name -> :class:`Metric` (extractor, sample count, direction of each value, compute).

=========  ==========================  ===================================================  ==========
metric     extractor                   values (higher is better?)                           default N
=========  ==========================  ===================================================  ==========
fid        inception                   fid (no)                                             50,000
kid        inception                   kid (no), with std and subset size                   50,000
is         inception                   is (yes), with std over 10 splits                    50,000
pr         inception                   precision[inception], recall[inception] (yes, k=3)   50,000
fd         ``extractor`` option        fd[<extractor>] (no), e.g. fd[classifier:fmnist]     50,000
modes_kl   classifier:<classifier>     modes[<extractor>] (yes), kl[<extractor>] (no)       26,000
toy2d      none (2-D points)           modes (yes), hq (yes, %), kl (no)                    2,500
=========  ==========================  ===================================================  ==========

fid/kid/is are the papers' numbers (TF-Inception via torch-fidelity, see :mod:`gan_zoo.metrics.fidelity`);
their names carry no bracket because the name already says Inception. Every other value names its extractor
in brackets, ``<base>[<extractor>]`` (the report compares by the part before the bracket). Precision/recall in
the papers (Kynkäänniemi et al. 2019; StyleGAN2-ADA ``pr50k3``) use VGG16 features; here they use Inception
pool3 features, hence ``precision[inception]``: not comparable to VGG16 tables.

A metric's ``compute(ctx, opts, n)`` reads generated features/points and real references from the evaluation
context (:class:`gan_zoo.metrics.callback.MetricEvaluator`) and returns :class:`MetricValue` s.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gan_zoo.errors import ConfigError


@dataclass(frozen=True)
class MetricValue:
    """One number with its provenance."""

    name: str
    value: float
    higher_is_better: bool
    n: int
    extractor: str  # e.g. "inception", "classifier:fmnist", "none"
    resize: str
    ref_hash: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def provenance(value: MetricValue, kimg: float, seed: int, wall_clock_s: float | None) -> dict:
    """One metrics.jsonl line: the architecture's provenance keys, then the metric's extras (std, ...)."""
    record = {
        "metric": value.name,
        "value": value.value,
        "kimg": round(float(kimg), 3),
        "n": value.n,
        "extractor": value.extractor,
        "resize": value.resize,
        "ref_hash": value.ref_hash,
        "seed": seed,
        "wall_clock_s": None if wall_clock_s is None else round(float(wall_clock_s), 1),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    record.update({k: v for k, v in value.extra.items() if k not in record})
    return record


@dataclass(frozen=True)
class MetricOptions:
    extractor: str = "inception"  # for fd
    classifier: str | None = None  # for modes_kl
    kid_subsets: int = 100
    kid_subset_size: int = 1000
    is_splits: int = 10
    pr_k: int = 3


@dataclass(frozen=True)
class Metric:
    name: str
    default_n: int
    extractor: Callable[[MetricOptions], str | None]  # extractor spec, None for points
    reference: str | None  # what of the real data it needs: None, "stats" or "features"
    values: Callable[[str], dict[str, bool]]  # extractor tag -> {value name: higher is better}
    primary: Callable[[str], str]  # extractor tag -> the value that decides best.ckpt
    compute: Callable[[Any, MetricOptions, int], list[MetricValue]]

    def spec(self, opts: MetricOptions) -> str | None:
        return self.extractor(opts)

    def tag(self, opts: MetricOptions) -> str:
        return self.spec(opts) or "none"

    def value_names(self, opts: MetricOptions) -> dict[str, bool]:
        return self.values(self.tag(opts))


def _value(
    ctx, name: str, value: float, higher: bool, n: int, spec: str | None, ref: Any = None, **extra
) -> MetricValue:
    tag, resize = ctx.describe(spec)
    return MetricValue(
        name, float(value), higher, int(n), tag, resize, None if ref is None else ref.ref_hash, extra
    )


def _fid(ctx, opts, n):
    from gan_zoo.metrics.frechet import frechet_distance_stats_features

    ref = ctx.reference("inception", "stats")
    gen = ctx.generated("inception", n)["pool"]
    return [
        _value(
            ctx, "fid", frechet_distance_stats_features(ref.mu, ref.sigma, gen), False, n, "inception", ref
        )
    ]


def _fd(ctx, opts, n):
    from gan_zoo.metrics.frechet import frechet_distance_stats_features

    spec = opts.extractor
    ref = ctx.reference(spec, "stats")
    gen = ctx.generated(spec, n)["pool"]
    name = f"fd[{spec}]"
    return [_value(ctx, name, frechet_distance_stats_features(ref.mu, ref.sigma, gen), False, n, spec, ref)]


def _kid(ctx, opts, n):
    from gan_zoo.metrics.fidelity import kernel_inception_distance

    ref = ctx.reference("inception", "features")
    gen = ctx.generated("inception", n)["pool"]
    mean, std, size = kernel_inception_distance(gen, ref.features, opts.kid_subsets, opts.kid_subset_size)
    return [
        _value(
            ctx, "kid", mean, False, n, "inception", ref, std=std, subset_size=size, subsets=opts.kid_subsets
        )
    ]


def _is(ctx, opts, n):
    from gan_zoo.metrics.fidelity import inception_score

    mean, std = inception_score(ctx.generated("inception", n)["logits"], opts.is_splits)
    return [_value(ctx, "is", mean, True, n, "inception", std=std, splits=opts.is_splits)]


def _pr(ctx, opts, n):
    from gan_zoo.metrics.fidelity import precision_recall

    ref = ctx.reference("inception", "features")
    precision, recall = precision_recall(ctx.generated("inception", n)["pool"], ref.features, opts.pr_k)
    return [
        _value(ctx, "precision[inception]", precision, True, n, "inception", ref, k=opts.pr_k),
        _value(ctx, "recall[inception]", recall, True, n, "inception", ref, k=opts.pr_k),
    ]


def _classifier_spec(opts: MetricOptions) -> str:
    if not opts.classifier:
        raise ConfigError(
            "metric modes_kl needs metrics.classifier=<name> (e.g. mnist; see gan-zoo-train-classifier)"
        )
    return f"classifier:{opts.classifier}"


def _modes_kl(ctx, opts, n):
    from gan_zoo.metrics.modes import mode_metrics

    spec = _classifier_spec(opts)
    out = mode_metrics(ctx.generated(spec, n)["logits"])
    return [
        _value(ctx, f"modes[{spec}]", out["modes"], True, n, spec),
        _value(ctx, f"kl[{spec}]", out["kl"], False, n, spec),
    ]


def _toy2d(ctx, opts, n):
    from gan_zoo.metrics.toy2d import dataset_modes, toy2d_metrics

    centers, std = dataset_modes(ctx.dataset())
    points = ctx.points(n)
    out = toy2d_metrics(points, centers, std)
    return [
        _value(ctx, "modes", out["modes"], True, n, None, std=std),
        _value(ctx, "hq", out["hq"], True, n, None, std=std),
        _value(ctx, "kl", out["kl"], False, n, None, std=std),
    ]


def _const(spec):
    return lambda opts: spec


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("fid", 50_000, _const("inception"), "stats", lambda t: {"fid": False}, lambda t: "fid", _fid),
        Metric(
            "kid", 50_000, _const("inception"), "features", lambda t: {"kid": False}, lambda t: "kid", _kid
        ),
        Metric("is", 50_000, _const("inception"), None, lambda t: {"is": True}, lambda t: "is", _is),
        Metric(
            "pr",
            50_000,
            _const("inception"),
            "features",
            lambda t: {"precision[inception]": True, "recall[inception]": True},
            lambda t: "recall[inception]",
            _pr,
        ),
        Metric(
            "fd",
            50_000,
            lambda o: o.extractor,
            "stats",
            lambda t: {f"fd[{t}]": False},
            lambda t: f"fd[{t}]",
            _fd,
        ),
        Metric(
            "modes_kl",
            26_000,
            _classifier_spec,
            None,
            lambda t: {f"modes[{t}]": True, f"kl[{t}]": False},
            lambda t: f"kl[{t}]",
            _modes_kl,
        ),
        Metric(
            "toy2d",
            2_500,
            _const(None),
            None,
            lambda t: {"modes": True, "hq": True, "kl": False},
            lambda t: "modes",
            _toy2d,
        ),
    )
}


def get_metric(name: str) -> Metric:
    if name not in METRICS:
        raise ConfigError(f"metrics.metrics: unknown metric {name!r}; choose from {sorted(METRICS)}")
    return METRICS[name]


__all__ = ["METRICS", "Metric", "MetricOptions", "MetricValue", "get_metric", "provenance"]
