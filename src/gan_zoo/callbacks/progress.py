"""Rich progress bar that speaks kimg: iterations of a known total, kimg shown/total, img/s and ETA.

Training length is set in kimg and the data stream is infinite, so Lightning's batch counter has no total;
this bar's total is the run's iterations (``ceil(total_kimg * 1000 / (batch_size * n_dis))``) and its count
the module's iteration, so a resumed run starts part-way. img/s (real images shown to D per second) is an
exponential average over iterations, measured from the first step (its start to its end), so the ETA
(remaining kimg / img/s) is there from the first step on.

Evaluation passes (generated features, real reference statistics) show their own bars through
:func:`track`: a task in the training bar's display while training, a bar of their own on a terminal
otherwise (gan-zoo-eval), nothing when output is not a terminal.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterable, Iterator

from pytorch_lightning.callbacks import RichProgressBar

_ACTIVE: list[KimgProgressBar] = []  # the training bar whose display evaluation passes join


def iterations_total(pl_module) -> int:
    """Iterations of the whole run: each shows ``batch_size * n_dis`` real images to D."""
    per_iteration = pl_module.batch_size * pl_module.n_dis
    return max(math.ceil(pl_module.total_kimg * 1000 / per_iteration - 1e-9), 1)


class KimgProgressBar(RichProgressBar):
    def __init__(self, refresh_rate: int = 1, leave: bool = True) -> None:
        super().__init__(refresh_rate=refresh_rate, leave=leave)
        self._step_start: float | None = None
        self._img_per_s = 0.0
        self._module = None

    # -- the numbers ---------------------------------------------------------------------------------------
    @property
    def total_train_batches(self) -> int | float:
        return iterations_total(self._module) if self._module is not None else super().total_train_batches

    def stats(self, pl_module) -> dict[str, str]:
        remaining = max(pl_module.total_kimg - pl_module.kimg, 0.0)
        eta = remaining * 1000 / self._img_per_s if self._img_per_s > 0 else float("nan")
        return {"kimg": f"{pl_module.kimg:.1f}/{pl_module.total_kimg:g}",
                "img/s": f"{self._img_per_s:.0f}", "eta": _fmt(eta)}

    # -- Lightning hooks ---------------------------------------------------------------------------------
    def on_train_start(self, trainer, pl_module) -> None:
        self._module = pl_module
        _ACTIVE.append(self)
        super().on_train_start(trainer, pl_module)

    def on_train_end(self, trainer, pl_module) -> None:
        if self in _ACTIVE:
            _ACTIVE.remove(self)
        super().on_train_end(trainer, pl_module)

    def teardown(self, trainer, pl_module, stage: str) -> None:
        if self in _ACTIVE:  # a run that stopped with an exception
            _ACTIVE.remove(self)
        super().teardown(trainer, pl_module, stage)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self._step_start is None:
            self._step_start = time.perf_counter()
        super().on_train_batch_start(trainer, pl_module, batch, batch_idx)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        now = time.perf_counter()
        if self._step_start is not None:
            rate = pl_module.batch_size * pl_module.n_dis / max(now - self._step_start, 1e-9)
            self._img_per_s = rate if self._img_per_s == 0 else 0.9 * self._img_per_s + 0.1 * rate
        self._step_start = now  # the next step runs from here (callbacks included)
        if not self.is_disabled and self.train_progress_bar_id is None:
            self._initialize_train_progress_bar_id()
        self._update(self.train_progress_bar_id, pl_module.iteration)  # of iterations_total, across resumes
        self._update_metrics(trainer, pl_module)
        self.refresh()

    def _get_train_description(self, current_epoch: int) -> str:
        return "train"  # epochs mean nothing here: the stream is infinite and length is in kimg

    def get_metrics(self, trainer, pl_module):
        items = super().get_metrics(trainer, pl_module)
        keep = {k: v for k, v in items.items() if k in ("loss/d", "loss/g")}
        keep.update(self.stats(pl_module))
        return keep


def track(iterable: Iterable, total: int, description: str) -> Iterator:
    """``iterable`` with a progress bar of ``total`` steps named ``description`` (module docstring)."""
    bar = _ACTIVE[-1] if _ACTIVE else None
    progress = getattr(bar, "progress", None)
    if progress is not None and bar.is_enabled:
        task = progress.add_task(description, total=total)
        try:
            for item in iterable:
                yield item
                progress.advance(task)
                bar.refresh()
        finally:
            progress.remove_task(task)
        return
    if not sys.stderr.isatty():
        yield from iterable
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as own:
        task = own.add_task(description, total=total)
        for item in iterable:
            yield item
            own.advance(task)


def _fmt(seconds: float) -> str:
    if seconds != seconds:  # nan
        return "?"
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
