"""StyleGAN2's path-length regulariser on G (Karras et al., CVPR 2020, Sec. 3.2, Eq. 4; lazy, Sec. 3.1).

For latents w = ws(z) and a random image y ~ N(0, I) / sqrt(H W), the Jacobian-vector product
``J_w^T y = grad_w sum(g(w) * y)`` is taken by double backprop; its length per sample is
``sqrt(mean over layers of ||.||^2 over w's features)`` (as in the official code, which averages over the
num_ws per-layer latents). The penalty is ``weight * mean_i (length_i - a)^2`` where ``a`` is the running
mean of lengths, updated as ``a <- a + decay * (mean_i length_i - a)`` on every call and kept in the buffer
``pl_mean`` (saved in checkpoints). As in StyleGAN2 it runs on half the batch (``batch_shrink`` 2), every
``interval`` = 4 G steps, with weight 2 and decay 0.01; the official FFHQ-256 "paper256" setting keeps them.

The generator must expose ``map_latents(z, c) -> ws`` and ``synthesis(ws) -> image``
(:class:`gan_zoo.models.stylegan2.Generator`); the regulariser re-runs both from the step's ``z`` and ``c``
(style mixing included when G is in training mode, as the official code).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gan_zoo.errors import ConfigError
from gan_zoo.regularizers.base import GStepInputs, Regularizer


def _unwrap(G: nn.Module) -> nn.Module:
    """The generator inside DDP / torch.compile wrappers."""
    for attr in ("module", "_orig_mod"):
        while hasattr(G, attr) and isinstance(getattr(G, attr), nn.Module):
            G = getattr(G, attr)
    return G


def path_lengths(G: nn.Module, ws: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
    """Per-sample ``||J_w^T y||`` (averaged over layers) for ``img = G.synthesis(ws)``, differentiable.

    ``noise`` is the standard-normal image before the 1/sqrt(H W) scaling (drawn when None)."""
    img = G.synthesis(ws)
    if noise is None:
        noise = torch.randn_like(img)
    y = noise.to(img.dtype) / math.sqrt(img.shape[2] * img.shape[3])
    (grad,) = torch.autograd.grad((img * y).sum(), ws, create_graph=True)
    return grad.square().sum(dim=2).mean(dim=1).sqrt()


class PathLength(Regularizer):
    """``{"pl": weight * mean_i (|J_w^T y|_i - a)^2}`` on G's step (module docstring)."""

    side = "G"

    def __init__(
        self, weight: float = 2.0, decay: float = 0.01, batch_shrink: int = 2, interval: int = 4
    ) -> None:
        super().__init__(interval)
        if not weight >= 0:
            raise ConfigError(f"regularizer path_length.weight must be >= 0 (got {weight}); StyleGAN2 uses 2")
        if not 0 < decay <= 1:
            raise ConfigError(
                f"regularizer path_length.decay must be in (0, 1] (got {decay}); StyleGAN2 uses 0.01"
            )
        if int(batch_shrink) < 1:
            raise ConfigError(
                f"regularizer path_length.batch_shrink must be >= 1 (got {batch_shrink}); StyleGAN2 uses 2"
            )
        self.weight, self.decay, self.batch_shrink = float(weight), float(decay), int(batch_shrink)
        self.register_buffer("pl_mean", torch.zeros([]))

    def forward(self, inputs: GStepInputs) -> dict[str, torch.Tensor]:
        n = max(1, inputs.z.shape[0] // self.batch_shrink)
        c = inputs.c[:n] if inputs.c is not None else None
        return {"pl": self.penalty(inputs.G, inputs.z[:n], c)}

    def penalty(
        self, G: nn.Module, z: torch.Tensor, c: torch.Tensor | None = None, noise: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The weighted penalty for latents ``z`` (and labels ``c``); updates ``pl_mean``."""
        G = _unwrap(G)
        if not (hasattr(G, "map_latents") and hasattr(G, "synthesis")):
            raise ConfigError(
                "regularizer path_length needs a generator with map_latents(z, c) and synthesis(ws) "
                f"(gan_zoo.models.stylegan2.Generator), got {type(G).__name__}; "
                "remove path_length from the regularizer config"
            )
        lengths = path_lengths(G, G.map_latents(z, c), noise)
        mean = self.pl_mean.to(lengths).lerp(lengths.mean(), self.decay)
        self.pl_mean.copy_(mean.detach())
        return self.weight * (lengths - mean).square().mean()
