"""What a regularizer sees and returns.

A regularizer is an ``nn.Module`` with ``side = "D"`` or ``"G"``. The adversarial module calls it on the
steps where it is due (every ``interval`` steps: lazy regularisation, StyleGAN2 Sec. 3.1), passes the
inputs of that step, and adds the returned terms, multiplied by ``interval`` so that the expected weight
per step is unchanged. Each returned term is logged under its name, so R1 and R2 appear separately.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn


@dataclass
class DStepInputs:
    """One D step. ``real``/``fake`` are the images *before* augmentation; ``real_logits``/``fake_logits``
    were computed as ``D(augment(real), c)``, where ``augment`` is everything D sees (the augmentation, then
    every ``d_input`` hook; :mod:`gan_zoo.hooks`). When any due regularizer sets ``needs_real_grad`` (or
    ``needs_fake_grad``), ``real`` (``fake``) was made a leaf with ``requires_grad=True`` before that forward
    pass, so a gradient penalty can differentiate the logits w.r.t. the pre-augmentation image. ``fake`` is
    detached from G: a D-side penalty never updates G.

    ``fake_c`` are the labels of the fakes D was shown (they differ from ``c`` when a ``d_fakes`` hook mixes
    in other fakes); ``real_features``/``fake_features`` are D's trunk features of the same forward passes;
    ``discriminate(x, c) -> (logits, features)`` runs D on a new input through the same D-input transform
    (e.g. interpolates for WGAN-GP); ``ctx`` says where in training the step is; ``loss`` is the run's loss."""

    D: nn.Module
    real: torch.Tensor
    fake: torch.Tensor
    c: torch.Tensor | None
    real_logits: torch.Tensor
    fake_logits: torch.Tensor
    augment: Callable[[torch.Tensor], torch.Tensor]
    gamma: float
    fake_c: torch.Tensor | None = None
    real_features: torch.Tensor | None = None
    fake_features: torch.Tensor | None = None
    discriminate: Callable | None = None
    ctx: Any = None
    loss: Any = None
    z: torch.Tensor | None = None  # the latents of G's fakes (before any d_fakes hook replaced some)


@dataclass
class GStepInputs:
    """One G step: latents, labels, G's output (attached to G's graph) and D's logits and trunk features on
    it. ``real`` is the step's real batch (before augmentation); ``real_logits``/``real_features`` are D's
    outputs on it, computed without grad when the loss or a hook needs them (else None);
    ``discriminate(x, c) -> (logits, features)`` runs D through the D-input transform."""

    G: nn.Module
    D: nn.Module
    z: torch.Tensor
    c: torch.Tensor | None
    fake: torch.Tensor
    fake_logits: torch.Tensor
    real: torch.Tensor | None = None
    real_logits: torch.Tensor | None = None
    fake_features: torch.Tensor | None = None
    real_features: torch.Tensor | None = None
    discriminate: Callable | None = None
    ctx: Any = None
    loss: Any = None


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
