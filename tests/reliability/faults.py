"""Faults to inject into a run from its command line (``+callbacks.<name>._target_=tests.reliability.faults.X``)."""

from __future__ import annotations

import os

import pytorch_lightning as pl


class SignalAt(pl.Callback):
    """Send ``signum`` to this process at the start of iteration ``iteration``, i.e. in the middle of a step, as
    SLURM's preemption or a Ctrl-C would (the OS delivers it; nothing in gan_zoo is told)."""

    def __init__(self, iteration: int, signum: int = 15, times: int = 1) -> None:
        self.iteration, self.signum, self.times = int(iteration), int(signum), int(times)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if pl_module.iteration == self.iteration:
            for _ in range(self.times):
                os.kill(os.getpid(), self.signum)


class FailingMetric(pl.Callback):
    """A metric that fails at the end of training (e.g. its feature extractor cannot be loaded)."""

    def on_train_end(self, trainer, pl_module) -> None:
        raise RuntimeError("metric exploded: feature extractor unavailable")
