"""What a regularizer sees and returns.

A regularizer is an ``nn.Module`` with ``side = "D"`` or ``"G"``. The adversarial module calls it on the
steps where it is due (every ``interval`` steps: lazy regularisation, StyleGAN2 Sec. 3.1), passes the
inputs of that step, and adds the returned terms, multiplied by ``interval`` so that the expected weight
per step is unchanged. Each returned term is logged under its name, so R1 and R2 appear separately.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class DStepInputs:
    """One D step. ``real``/``fake`` are the images *before* augmentation; ``real_logits``/``fake_logits``
    were computed as ``D(augment(real), c)``. When any due regularizer sets ``needs_real_grad`` (or
    ``needs_fake_grad``), ``real`` (``fake``) was made a leaf with ``requires_grad=True`` before that forward
    pass, so a gradient penalty can differentiate the logits w.r.t. the pre-augmentation image. ``fake`` is
    detached from G: a D-side penalty never updates G."""

    D: nn.Module
    real: torch.Tensor
    fake: torch.Tensor
    c: torch.Tensor | None
    real_logits: torch.Tensor
    fake_logits: torch.Tensor
    augment: Callable[[torch.Tensor], torch.Tensor]
    gamma: float


@dataclass
class GStepInputs:
    """One G step: latents, labels, G's output (attached to G's graph) and D's logits on it."""

    G: nn.Module
    D: nn.Module
    z: torch.Tensor
    c: torch.Tensor | None
    fake: torch.Tensor
    fake_logits: torch.Tensor


class Regularizer(nn.Module):
    side: str = "D"
    needs_real_grad: bool = False
    needs_fake_grad: bool = False

    def __init__(self, interval: int = 1) -> None:
        super().__init__()
        if int(interval) < 1:
            from gan_zoo.errors import ConfigError

            raise ConfigError(f"regularizer interval must be >= 1 (got {interval}); 1 applies it every step")
        self.interval = int(interval)

    def forward(self, inputs) -> dict[str, torch.Tensor]:  # pragma: no cover - interface
        raise NotImplementedError
