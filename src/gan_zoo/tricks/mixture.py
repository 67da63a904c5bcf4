"""A mixture of K generators (seed article 002, "multiple generators"; the uniform-mixing baseline of
Hoang et al., "MGAN: Training Generative Adversarial Nets with Multiple Generators", ICLR 2018, Sec. 3,
without MGAN's classifier head).

G becomes ``K`` independently initialised copies of the configured generator; each sample is made by one of
them, chosen uniformly at random from its own latent:

    k(z) = floor(K * Phi(z_0)),     G_mix(z, c) = G_{k(z)}(z, c)        (Phi: the standard normal CDF)

so the choice is a deterministic function of z (G_ema, fixed sample grids and a resumed run choose the same
generator) and uniform because ``z_0 ~ N(0, 1)``. Every generator runs on the whole batch (its BatchNorm
statistics stay those of a full batch) and each sample keeps its own generator's output; the parameters are
all inside G, so the optimizer, EMA and checkpoints cover them. Acts at ``transform_generator``.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from gan_zoo.errors import ConfigError
from gan_zoo.tricks.base import Wrapped


def uniform_index(z0: torch.Tensor, k: int) -> torch.Tensor:
    """``floor(k * Phi(z0))`` in 0..k-1."""
    u = 0.5 * (1.0 + torch.erf(z0 / 2**0.5))
    return (u * k).long().clamp_(0, k - 1)


def _reinit(net: nn.Module) -> None:
    for m in net.modules():
        if m is not net and callable(getattr(m, "reset_parameters", None)):
            m.reset_parameters()


class MixtureGenerator(Wrapped):
    def __init__(self, inner: nn.Module, k: int) -> None:
        super().__init__(inner)
        self.k = int(k)
        copies = [copy.deepcopy(inner) for _ in range(self.k - 1)]
        for net in copies:
            _reinit(net)
        self.others = nn.ModuleList(copies)

    def generators(self) -> list[nn.Module]:
        return [self.inner, *self.others]

    def forward(self, z: torch.Tensor, c=None) -> torch.Tensor:
        idx = uniform_index(z[:, 0], self.k)
        outs = torch.stack([g(z, c) for g in self.generators()])  # [K, N, ...]
        pick = idx.view(1, -1, *([1] * (outs.ndim - 2))).expand(1, *outs.shape[1:])
        return outs.gather(0, pick).squeeze(0)


class Mixture(nn.Module):
    def __init__(self, k: int = 4) -> None:
        super().__init__()
        if int(k) < 1:
            raise ConfigError(f"trick.mixture.k must be >= 1 (got {k})")
        self.k = int(k)

    def transform_generator(self, G: nn.Module) -> nn.Module:
        return MixtureGenerator(G, self.k)
