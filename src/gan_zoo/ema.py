"""Exponential moving average of G's weights by half-life (Karras et al. 2018, ProGAN Sec. 4.1; R3GAN App. B).

After each G step, ``G_ema <- beta * G_ema + (1 - beta) * G`` with ``beta = 0.5 ** (batch / half_life)``,
both in images: the EMA forgets half of its memory every ``half_life`` images whatever the batch size.
A half-life of 0 makes G_ema a copy of G (R3GAN ramps the half-life up from 0 over the burn-in). Buffers
(e.g. BatchNorm statistics) are copied, not averaged, as stylegan2-ada does.
"""

from __future__ import annotations

import torch
from torch import nn


def ema_beta(batch_size: int, half_life_kimg: float) -> float:
    if half_life_kimg <= 0:
        return 0.0
    return 0.5 ** (batch_size / (half_life_kimg * 1000.0))


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, beta: float) -> None:
    for p_ema, p in zip(ema.parameters(), model.parameters()):
        p_ema.lerp_(p.detach(), 1.0 - beta)
    for b_ema, b in zip(ema.buffers(), model.buffers()):
        b_ema.copy_(b)
