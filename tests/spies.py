"""Test-only parts that a composed run picks up by ``_target_`` and that record what the training step does.

- :class:`StepSpy`: a regularizer (D or G side, any ``interval``) that returns one constant term and records
  what the step handed it (the real/fake images, labels, latents). It changes nothing in training: its term
  is a constant, so it adds no gradient; the module logs it as ``reg/<name>`` multiplied by the interval.
- :class:`SpyAugment`: the real augmentation, recording ``p`` and the input of every call.
- :class:`Recorder`: a callback that records, per iteration, the loader batch, the module's logged values and
  what reached the optimizers and the augmentation (lr, betas, p), and keeps the module for inspection.

Add them on the command line of an in-process run (``tests.helpers.train_run``)::

    +regularizer.spy._target_=tests.spies.StepSpy +regularizer.spy.name=spy +callbacks.rec._target_=tests.spies.Recorder

What they record goes to the class-level lists (cleared by the ``spies`` fixture in tests/conftest.py).
"""

from __future__ import annotations

import pytorch_lightning as pl
import torch

from gan_zoo.augment import Augment
from gan_zoo.regularizers.base import Regularizer


class StepSpy(Regularizer):
    calls: list[dict] = []

    def __init__(self, name: str = "spy", side: str = "D", interval: int = 1, value: float = 1.0) -> None:
        super().__init__(interval)
        self.name, self.side, self.value = name, side, float(value)

    def forward(self, inputs) -> dict[str, torch.Tensor]:
        record = {"name": self.name, "side": self.side, "c": None if inputs.c is None else inputs.c.detach().clone(),
                  "fake": inputs.fake.detach().clone()}
        if self.side == "D":
            channels_last = inputs.real.ndim == 4 and inputs.real.is_contiguous(memory_format=torch.channels_last)
            record.update(real=inputs.real.detach().clone(), fake_is_leaf=inputs.fake.grad_fn is None,
                          gamma=inputs.gamma, channels_last=channels_last)
        else:
            record.update(z=inputs.z.detach().clone(),
                          real=None if inputs.real is None else inputs.real.detach().clone())
        StepSpy.calls.append(record)
        return {self.name: torch.tensor(self.value, device=inputs.fake.device)}


class SpyAugment(Augment):
    """The real augmentation, recording the probability and the batch of every call."""

    calls: list[dict] = []

    def forward(self, x, generator=None):
        SpyAugment.calls.append({"p": self.p, "x": x.detach().clone()})
        return super().forward(x, generator)


def _optimizer_state(opt) -> dict:
    group = opt.optimizer.param_groups[0] if hasattr(opt, "optimizer") else opt.param_groups[0]
    return {"lr": group["lr"], "betas": tuple(group["betas"])}


class Recorder(pl.Callback):
    instances: list[Recorder] = []

    def __init__(self) -> None:
        self.batches: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.steps: list[dict] = []
        self.start_iteration: int | None = None
        self.module = None
        Recorder.instances.append(self)

    def on_train_start(self, trainer, pl_module) -> None:
        self.module, self.start_iteration = pl_module, pl_module.iteration
        self.initial_G = {k: v.detach().clone() for k, v in pl_module.G.state_dict().items()}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        images, labels = batch
        self.batches.append((images.detach().cpu().clone(), labels.detach().cpu().clone()))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        opt_g, opt_d = pl_module.optimizers()
        self.steps.append({"iteration": pl_module.iteration, "kimg": pl_module.kimg,
                           "values": dict(pl_module.last_values), "g": _optimizer_state(opt_g),
                           "d": _optimizer_state(opt_d), "aug_p": float(pl_module.augment.p)})
