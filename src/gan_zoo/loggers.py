"""Dashboards that read like the experiment: wandb and TensorBoard with kimg as the x-axis.

``conf/logger/{wandb,tensorboard}.yaml`` build these subclasses of Lightning's loggers. What they add:

wandb (:class:`WandbLogger`)
    - ``group``: the sweep's name (the folder of ``runs/sweeps/<name>`` in a ``-m`` sweep; ``name`` for a single
      run), so every run of a sweep is in one group; ``job_type``: the table row (``table.row``, e.g. "B" of
      the roadmap; else ``name``); tags ``dataset:…``, ``model:…``, ``loss:…``, ``regularizer:…``, ``trick:…``,
      ``seed:…`` (:func:`dashboard_defaults`, filled into the run config before config.yaml is written, so a
      resumed run keeps them; a value set on the command line wins);
    - ``config``: the resolved run config flattened to dotted keys (``schedule.lr.start``: filterable columns);
    - every curve against ``kimg`` (``define_metric("*", step_metric="kimg")``; lines that lack kimg, such as
      metric evaluations and sample grids, get the latest kimg added);
    - ``best/<primary metric>`` and ``best/kimg`` in the run summary: the value that decides best.ckpt.
TensorBoard (:class:`TensorBoardLogger`)
    - every scalar and sample grid at step = images shown to D (``round(kimg * 1000)``), so its x-axis is kimg x
      1000 whichever logger line it comes from.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict
from pytorch_lightning.loggers import TensorBoardLogger as _TensorBoardLogger
from pytorch_lightning.loggers import WandbLogger as _WandbLogger
from pytorch_lightning.utilities import rank_zero_only


def _entries(node) -> str:
    """The entry names of a group that holds named entries (regularizer, trick): "r1+r2", or "none"."""
    names = [str(k) for k in (node or {}) if isinstance(node[k], Mapping | DictConfig)]
    return "+".join(names) or "none"


def _target_name(node) -> str:
    target = str((node or {}).get("_target_", "none"))
    return target.rsplit(".", 1)[-1].lower()


def sweep_name(cfg: DictConfig) -> str:
    """The sweep a run belongs to: ``runs/sweeps/<this>`` in a Hydra multirun, ``cfg.name`` otherwise."""
    try:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
            return Path(str(HydraConfig.get().sweep.dir)).name
    except Exception:  # noqa: BLE001 - an unresolvable sweep dir (compose API): fall back to the run's name
        pass
    return str(cfg.get("name") or "run")


def dashboard_defaults(cfg: DictConfig) -> None:
    """Fill ``group``, ``job_type`` and ``tags`` of every gan_zoo wandb logger entry that leaves them null."""
    for node in (cfg.get("logger") or {}).values():
        if str(node.get("_target_", "")) != f"{__name__}.WandbLogger":
            continue
        table = cfg.get("table") or {}
        dataset = OmegaConf.select(cfg, "dataset.name") or _target_name(cfg.get("dataset"))
        tags = [f"dataset:{dataset}", f"model:{OmegaConf.select(cfg, 'model.name')}",
                f"loss:{_target_name(cfg.get('loss'))}", f"regularizer:{_entries(cfg.get('regularizer'))}",
                f"trick:{_entries(cfg.get('trick'))}", f"seed:{cfg.get('seed')}"]
        with open_dict(node):
            node.group = node.get("group") or sweep_name(cfg)
            node.job_type = node.get("job_type") or str(table.get("row") or cfg.get("name") or "run")
            node.tags = list(node.get("tags") or tags)


def flatten(tree: Mapping, prefix: str = "") -> dict[str, Any]:
    """Nested mappings -> one level of dotted keys; lists stay values (``{"a": {"b": 1}}`` -> ``{"a.b": 1}``)."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


class _KimgAxis:
    """kimg for every logged line, read from the module (Lightning hands it to ``log_graph`` at fit start):
    metric evaluations and sample grids are logged between training lines, which Lightning thins out
    (``log_every_n_steps``)."""

    def _init_axis(self, callbacks=()) -> None:
        self._module = None
        self._metrics_cb = next((c for c in callbacks if hasattr(c, "primary") and hasattr(c, "best")), None)

    def log_graph(self, model, input_array=None) -> None:
        self._module = model
        super().log_graph(model, input_array)

    def _with_kimg(self, metrics: Mapping[str, Any]) -> dict[str, Any]:
        metrics = dict(metrics)
        kimg = getattr(self._module, "kimg", None)
        if kimg is not None:
            metrics["kimg"] = float(kimg)
        return metrics

    @staticmethod
    def _images_shown(metrics: Mapping[str, Any], step: int | None) -> int | None:
        return step if metrics.get("kimg") is None else int(round(float(metrics["kimg"]) * 1000))


class WandbLogger(_KimgAxis, _WandbLogger):
    """Lightning's WandbLogger with the sweep grouping, flattened config, kimg axis and best-metric summary of
    the module docstring. ``run_config``/``callbacks`` come from :func:`build_loggers`."""

    def __init__(self, *args, run_config: DictConfig | None = None, callbacks=(), **kwargs) -> None:
        if run_config is not None and kwargs.get("config") is None:
            kwargs["config"] = flatten(OmegaConf.to_container(run_config, resolve=False))
        super().__init__(*args, **kwargs)
        self._init_axis(callbacks)
        self._axis_defined = False

    def _define_axis(self) -> None:
        if self._axis_defined:
            return
        run = self.experiment  # Lightning's first access defines "*" against trainer/global_step ...
        if callable(getattr(run, "define_metric", None)):
            run.define_metric("kimg")
            run.define_metric("*", step_metric="kimg", step_sync=True)  # ... which this redefinition replaces
        self._axis_defined = True

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        self._define_axis()
        metrics = self._with_kimg(metrics)
        super().log_metrics(metrics, step)
        self._update_best(metrics)

    def _update_best(self, metrics: Mapping[str, Any]) -> None:
        cb = self._metrics_cb
        value = None if cb is None else metrics.get(f"metrics/{cb.primary}")
        if value is None or not math.isfinite(float(value)):
            return
        summary, key = self.experiment.summary, f"best/{cb.primary}"
        recorded = summary.get(key)
        best = cb.best if recorded is None else recorded  # cb.best: restored from the checkpoint on resume
        if best is None or (value > best if cb.higher_is_better else value < best):
            summary[key], summary["best/kimg"] = float(value), metrics.get("kimg")
        elif recorded is None:
            summary[key], summary["best/kimg"] = float(best), cb.best_kimg


class TensorBoardLogger(_KimgAxis, _TensorBoardLogger):
    """Lightning's TensorBoardLogger whose step is the number of images shown (kimg x 1000), for scalars and
    for the sample grids (:meth:`log_image`, which gan_zoo's sample callback calls)."""

    def __init__(self, *args, run_config: DictConfig | None = None, callbacks=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_axis(callbacks)

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        metrics = self._with_kimg(metrics)
        super().log_metrics(metrics, self._images_shown(metrics, step))

    @rank_zero_only
    def log_image(self, key: str, images: list, step: int | None = None) -> None:
        from torchvision.io import read_image

        for i, image in enumerate(images):
            pixels = read_image(str(image)) if isinstance(image, str | Path) else image
            shown = self._images_shown(self._with_kimg({}), step)
            self.experiment.add_image(key if len(images) == 1 else f"{key}/{i}", pixels, shown)


def build_loggers(cfg: DictConfig, callbacks) -> list:
    """The run's loggers (``cfg.logger``); gan_zoo's own get the run config and the callbacks."""
    from gan_zoo.config import build

    loggers = []
    for name, node in (cfg.get("logger") or {}).items():
        if str(node.get("_target_", "")).startswith(f"{__name__}."):  # partial: hydra must not walk cfg's targets
            loggers.append(build(node, f"logger.{name}", _partial_=True)(run_config=cfg, callbacks=callbacks))
        else:
            loggers.append(build(node, f"logger.{name}"))
    return loggers
