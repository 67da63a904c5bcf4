"""Metrics during training (every ``every_kimg`` and at the end) and for ``gan-zoo-eval``.

:class:`MetricEvaluator` samples G in batches straight into the extractors (no image files), with fixed
latents and class order (:mod:`gan_zoo.sampling`), computes the real references once and caches them on disk,
and runs the registry's metrics (:mod:`gan_zoo.metrics`). Under DDP each rank generates a contiguous share of
the samples and the features are all-gathered; rank 0 computes the numbers and broadcasts them.

:class:`MetricsCallback` calls it from Lightning when ``pl_module.kimg`` passes a multiple of ``every_kimg``
(checked after every training batch) and at train end, then logs every value to all of ``trainer.loggers``,
appends one provenance line per value to ``<run_dir>/metrics.jsonl`` and keeps
``<run_dir>/checkpoints/best.ckpt`` by the primary value (written to a temp file in the same directory with
``trainer.save_checkpoint``, then ``os.replace``: a crash never leaves a half-written best.ckpt). Only rank 0
writes files. Module contract: ``pl_module.G_ema``, ``pl_module.kimg``, ``pl_module.run_dir``; the dataset is
``trainer.datamodule.dataset``.

Real reference cache: ``<cache_dir>/real_stats/<ref_hash>.pt`` holding mu, sigma (float64), optionally the
features (KID and PR need them) and the metadata hashed into ``ref_hash``: the dataset's identity
(``info`` name, num_images, shape, source; mirroring), resolution, extractor tag and weights digest, resize
and N. ``ref_hash`` goes into every metrics.jsonl line, so a number names the exact reference it used.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytorch_lightning as pl
import torch
from pytorch_lightning.utilities import rank_zero_info

from gan_zoo.checkpoint import atomic_save
from gan_zoo.errors import ConfigError
from gan_zoo.metrics import MetricOptions, MetricValue, get_metric, provenance
from gan_zoo.metrics.classifier import default_cache_dir
from gan_zoo.metrics.extractors import (
    Reference,
    extract_dataset,
    extract_generated,
    generated_batches,
    load_reference,
    make_extractor,
    reference_hash,
    reference_indices,
    reference_key,
    save_reference,
)
from gan_zoo.standing_stats import refresh_for_eval


class SingleProcess:
    """The part of a Lightning strategy the evaluator uses, for one process (``gan-zoo-eval``, tests)."""

    world_size, global_rank = 1, 0

    def all_gather(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor[None]

    def broadcast(self, obj, src: int = 0):
        return obj

    def barrier(self, name: str | None = None) -> None:
        pass


class MetricEvaluator:
    """Evaluates registry metrics for a generator; also the context that the metrics' ``compute`` reads."""

    def __init__(
        self,
        metrics: Sequence[str] = ("fid",),
        num_samples: int | None = None,
        extractor: str = "inception",
        classifier: str | None = None,
        inception_weights: str | None = None,
        inception_dtype: str = "float32",
        num_real: int | None = None,
        batch_size: int = 64,
        seed: int = 0,
        cache_dir: str | None = None,
        kid_subsets: int = 100,
        kid_subset_size: int = 1000,
        is_splits: int = 10,
        pr_k: int = 3,
    ) -> None:
        metrics = [metrics] if isinstance(metrics, str) else list(metrics or [])
        if not metrics:
            raise ConfigError("metrics.metrics is empty: list the metrics to evaluate, e.g. [fid]")
        self.metrics = [get_metric(str(m)) for m in metrics]
        for key, value in (("num_samples", num_samples), ("num_real", num_real)):
            if value is not None and int(value) < 2:
                raise ConfigError(
                    f"metrics.{key}={value}: needs at least 2 samples (null = the metric's default)"
                )
        self.num_samples, self.num_real = num_samples, num_real
        self.opts = MetricOptions(
            str(extractor), classifier, int(kid_subsets), int(kid_subset_size), int(is_splits), int(pr_k)
        )
        self.specs = {m.name: m.spec(self.opts) for m in self.metrics}  # validates extractor/classifier names
        self.inception_weights, self.inception_dtype = inception_weights, inception_dtype
        self.batch_size, self.seed = int(batch_size), int(seed)
        self.cache_dir = default_cache_dir(cache_dir)
        self._extractors: dict[str, object] = {}
        self._gen: dict[str, dict[str, torch.Tensor]] = {}
        self._refs: dict[str, Reference] = {}

    # ---- what will be computed ---------------------------------------------------------------------------
    def n_for(self, metric) -> int:
        return int(self.num_samples or metric.default_n)

    def value_directions(self) -> dict[str, bool]:
        out: dict[str, bool] = {}
        for m in self.metrics:
            out.update(m.value_names(self.opts))
        return out

    def primary_value(self, primary: str | None) -> str:
        """The value that decides best.ckpt: ``primary`` as a value name, its part before the bracket, or a
        metric name (default: the first metric's primary value)."""
        if primary is None:
            return self.metrics[0].primary(self.metrics[0].tag(self.opts))
        directions = self.value_directions()
        if primary in directions:
            return primary
        by_base = [v for v in directions if v.split("[", 1)[0] == primary]  # "kl" -> "kl[classifier:mnist]"
        if len(by_base) == 1:
            return by_base[0]
        for m in self.metrics:
            if m.name == primary:
                return m.primary(m.tag(self.opts))
        raise ConfigError(
            f"metrics.primary={primary}: not among the evaluated values {sorted(self.value_directions())}"
        )

    # ---- context API for the metrics' compute ------------------------------------------------------------
    def extractor(self, spec: str):
        if spec not in self._extractors:
            self._extractors[spec] = make_extractor(
                spec,
                device=self._device,
                inception_weights=self.inception_weights,
                inception_dtype=self.inception_dtype,
                cache_dir=self.cache_dir,
            )
        return self._extractors[spec]

    def describe(self, spec: str | None) -> tuple[str, str]:
        """(tag, resize) of an extractor spec for this generator's resolution."""
        if spec is None:
            return "none", "none"
        ext = self.extractor(spec)
        return ext.tag, ext.resize(getattr(self._G, "resolution", None))

    def generated(self, spec: str, n: int) -> dict[str, torch.Tensor]:
        return {k: v[:n] for k, v in self._gen[spec].items()}

    def reference(self, spec: str, kind: str) -> Reference:
        return self._refs[spec]

    def points(self, n: int) -> torch.Tensor:
        return torch.cat([x.float().cpu() for x in generated_batches(self._G, n, self.batch_size, self.seed)])

    def dataset(self):
        if self._dataset is None:
            self._dataset = self._dataset_fn()
            if self._dataset is None:
                raise ConfigError("metrics need the training dataset (no cached reference found)")
        return self._dataset

    # ---- evaluation --------------------------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(
        self,
        G: torch.nn.Module,
        dataset: Callable | object,
        *,
        strategy=None,
        device=None,
        ref_hints: dict[str, str] | None = None,
    ) -> list[MetricValue]:
        """All configured metrics for ``G`` (eval mode is the caller's job). ``dataset`` is the dataset or a
        callable returning it (called only if a reference is not cached); ``ref_hints`` maps an extractor tag
        to a ``ref_hash`` to try first (``gan-zoo-eval`` reads them from metrics.jsonl: no data needed)."""
        strategy = strategy or SingleProcess()
        self._G, self._strategy = G, strategy
        self._device = torch.device(device or next(G.parameters()).device)
        self._dataset_fn = (
            dataset if callable(dataset) and not hasattr(dataset, "__getitem__") else (lambda: dataset)
        )
        self._dataset, self._hints = None, dict(ref_hints or {})
        plan: dict[str, int] = {}
        refs: dict[str, str] = {}
        for m in self.metrics:
            spec = self.specs[m.name]
            if spec is not None:
                plan[spec] = max(plan.get(spec, 0), self.n_for(m))
            if m.reference is not None:
                refs[spec] = "features" if "features" in (m.reference, refs.get(spec)) else "stats"
        try:
            for spec, n in plan.items():
                ext = self.extractor(spec)
                self._gen[spec] = self._gather(
                    n,
                    lambda a, b, ext=ext, n=n: extract_generated(
                        G, ext, n, self.batch_size, self.seed, a, b, self._device
                    ),
                )
            for spec, kind in refs.items():
                self._refs[spec] = self._reference(spec, kind)
            values: list[MetricValue] = []
            if strategy.global_rank == 0:
                for m in self.metrics:
                    values += m.compute(self, self.opts, self.n_for(m))
            return strategy.broadcast(values, src=0)
        finally:
            self._gen.clear()
            self._refs.clear()

    def _gather(self, n: int, extract: Callable[[int, int], dict]) -> dict[str, torch.Tensor]:
        """Rank r extracts rows [r*chunk, (r+1)*chunk) of n; the rows are all-gathered in order."""
        world, rank = self._strategy.world_size, self._strategy.global_rank
        if world == 1:
            return extract(0, n)
        chunk = math.ceil(n / world)
        bounds = [(min(r * chunk, n), min((r + 1) * chunk, n)) for r in range(world)]
        a, b = bounds[rank]
        part = extract(a, b) if b > a else extract(0, 1)  # an empty share still needs the tensor shapes
        out = {}
        for key, value in part.items():
            padded = torch.zeros((chunk, *value.shape[1:]), dtype=value.dtype)
            padded[: b - a] = value[: b - a]
            gathered = self._strategy.all_gather(padded.to(self._device)).cpu()
            out[key] = torch.cat([gathered[r, : hi - lo] for r, (lo, hi) in enumerate(bounds)])
        return out

    def _reference(self, spec: str, kind: str) -> Reference | None:
        """Rank 0 looks in the disk cache (hinted hash first); on a miss all ranks extract the real images."""
        strategy, ext = self._strategy, self.extractor(spec)
        found, key = None, None
        if strategy.global_rank == 0:
            hint = self._hints.get(ext.tag)
            if hint:
                found = load_reference(self.cache_dir, hint, kind, ext.weights_id, self.num_real)
            if found is None:
                key = reference_key(ext, self.dataset(), self.num_real, self.inception_dtype)
                found = load_reference(
                    self.cache_dir, reference_hash(key), kind, ext.weights_id, self.num_real
                )
        if strategy.broadcast(found is not None, src=0):
            return found
        dataset = self.dataset()
        key = key or reference_key(ext, dataset, self.num_real, self.inception_dtype)
        indices = reference_indices(key["n"], len(dataset))
        feats = self._gather(
            key["n"], lambda a, b: extract_dataset(dataset, ext, indices[a:b], self.batch_size)
        )["pool"]
        if strategy.global_rank != 0:
            return None
        return save_reference(self.cache_dir, feats, kind == "features", key)


CALLBACK_KEYS = ("every_kimg", "primary", "eval_at_start")  # MetricsCallback's own keys; the rest: evaluator


class MetricsCallback(pl.Callback):
    """Config ``conf/metrics/*.yaml``: ``every_kimg``, ``metrics`` (list), ``primary`` (value or metric that
    picks best.ckpt), ``eval_at_start``, and :class:`MetricEvaluator`'s options."""

    def __init__(
        self,
        metrics: Sequence[str] = ("fid",),
        every_kimg: float = 50.0,
        primary: str | None = None,
        eval_at_start: bool = False,
        **evaluator_options,
    ) -> None:
        super().__init__()
        if not float(every_kimg) > 0:
            raise ConfigError(f"metrics.every_kimg={every_kimg}: must be > 0")
        metrics = [metrics] if isinstance(metrics, str) else list(metrics)  # Hydra gives a ListConfig
        try:
            self.evaluator = MetricEvaluator(metrics, **evaluator_options)
        except TypeError as e:  # a misspelt key in conf/metrics/*.yaml
            raise ConfigError(f"metrics: {e} (see gan_zoo.metrics.callback.MetricEvaluator for the keys)") from None
        self.every_kimg, self.eval_at_start = float(every_kimg), bool(eval_at_start)
        self.primary = self.evaluator.primary_value(primary)
        self.higher_is_better = self.evaluator.value_directions()[self.primary]
        self.best: float | None = None
        self.best_kimg: float | None = None
        self.next_kimg: float | None = None
        self.last_kimg: float | None = None
        self._clock_offset, self._t0 = 0.0, None
        self.history: list[MetricValue] = []

    def state_dict(self) -> dict:
        return {
            "best": self.best,
            "best_kimg": self.best_kimg,
            "next_kimg": self.next_kimg,
            "last_kimg": self.last_kimg,
            "primary": self.primary,
            "wall_clock_s": self._wall_clock(None),
        }

    def load_state_dict(self, state: dict) -> None:
        if state.get("primary") == self.primary:  # a different primary metric starts a fresh best
            self.best, self.best_kimg = state.get("best"), state.get("best_kimg")
        self.next_kimg, self.last_kimg = state.get("next_kimg"), state.get("last_kimg")
        self._clock_offset = float(state.get("wall_clock_s") or 0.0)

    def _wall_clock(self, pl_module) -> float | None:
        own = getattr(pl_module, "wall_clock_s", None)
        if own is not None:
            return float(own)
        return None if self._t0 is None else self._clock_offset + time.perf_counter() - self._t0

    def on_train_start(self, trainer, pl_module) -> None:
        self._t0 = time.perf_counter()
        kimg = float(pl_module.kimg)
        if self.next_kimg is None or self.next_kimg <= kimg:
            self.next_kimg = (math.floor(kimg / self.every_kimg + 1e-9) + 1) * self.every_kimg
        if self.eval_at_start and self.last_kimg is None:
            self.run(trainer, pl_module)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        kimg = float(pl_module.kimg)
        if self.next_kimg is not None and kimg + 1e-9 >= self.next_kimg:
            self.next_kimg = (math.floor(kimg / self.every_kimg + 1e-9) + 1) * self.every_kimg
            self.run(trainer, pl_module)

    def on_train_end(self, trainer, pl_module) -> None:
        if self.last_kimg is None or float(pl_module.kimg) > self.last_kimg + 1e-9:
            self.run(trainer, pl_module)

    def run(self, trainer, pl_module) -> list[MetricValue]:
        """Evaluate G_ema now; log, record and update best.ckpt. Called on every rank."""
        kimg, start = float(pl_module.kimg), time.perf_counter()
        datamodule = getattr(trainer, "datamodule", None)
        if datamodule is None or getattr(datamodule, "dataset", None) is None:
            raise ConfigError("MetricsCallback needs trainer.datamodule.dataset (fit with a GanDataModule)")
        G = pl_module.G_ema
        was_training = G.training
        G.eval()
        refresh_for_eval(pl_module, G)  # BatchNorm G: standing statistics (gan_zoo.standing_stats)
        try:
            values = self.evaluator.evaluate(
                G, datamodule.dataset, strategy=trainer.strategy, device=pl_module.device
            )
        finally:
            G.train(was_training)
        self.last_kimg = kimg
        self.history.extend(values)
        for v in values:
            trainer.callback_metrics[v.name] = torch.tensor(v.value)
        if trainer.global_rank == 0:
            self._record(trainer, pl_module, values, kimg, time.perf_counter() - start)
        self._update_best(trainer, pl_module, values, kimg)
        return values

    def _record(self, trainer, pl_module, values: list[MetricValue], kimg: float, seconds: float) -> None:
        for logger in trainer.loggers:
            logger.log_metrics({f"metrics/{v.name}": v.value for v in values}, step=trainer.global_step)
            logger.save()
        run_dir = Path(pl_module.run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        clock = self._wall_clock(pl_module)
        with open(run_dir / "metrics.jsonl", "a") as f:
            for v in values:
                f.write(json.dumps(provenance(v, kimg, self.evaluator.seed, clock)) + "\n")
        summary = ", ".join(f"{v.name} {v.value:.4g}" for v in values)
        rank_zero_info(f"metrics at kimg {kimg:.1f} ({seconds:.0f} s): {summary}")

    def _update_best(self, trainer, pl_module, values: list[MetricValue], kimg: float) -> None:
        value = next((v.value for v in values if v.name == self.primary), None)
        if value is None or not math.isfinite(value):
            return
        if self.best is not None and not (value > self.best if self.higher_is_better else value < self.best):
            return
        self.best, self.best_kimg = value, kimg
        ckpt_dir = Path(pl_module.run_dir) / "checkpoints"
        if trainer.global_rank == 0:
            ckpt_dir.mkdir(parents=True, exist_ok=True)
        trainer.strategy.barrier("gan_zoo_best_ckpt_dir")
        atomic_save(trainer, ckpt_dir / "best.ckpt")  # temp file in the same directory, then os.replace
