"""Small MLP generator and discriminator for 2-D mixtures (the VEEGAN/PacGAN toy benchmark).

Layer sizes follow the 2-D experiments of Metz et al. (unrolled GAN, App. A) and Srivastava et al. (VEEGAN,
Sec. 5.1): a few fully connected layers of 128 units; G's output is linear (points are not bounded to
[-1, 1]).

The activation is a choice per network, and the defaults differ on purpose. The mixtures have modes far apart
relative to their width (ring: radius 1, std 0.01), and G is a continuous map of a connected latent space,
so the mass it puts *between* modes shrinks only as G's transitions between modes get steep. A
tanh generator saturates into plateaus: as its weights grow, each unit tends to a step and G to a piecewise
constant map whose regions are the modes, so it tears the latent space apart quickly. A leaky-ReLU generator
is piecewise linear and needs cancellations to make plateaus; measured on the ring (RpGAN + R1 + R2, 150
kimg; experiments/toy2d/ring.yaml) it leaves about 20-30 % of samples between modes where tanh leaves
about 2-3 %. D keeps leaky ReLU (0.2), which gives unsaturated gradients to G wherever a fake lands.
"""

from __future__ import annotations

import torch
from torch import nn

from gan_zoo.errors import ConfigError

ACTIVATIONS = {
    "lrelu": lambda: nn.LeakyReLU(0.2),
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
}


def _mlp(d_in: int, d_out: int, width: int, depth: int, activation: str, key: str) -> nn.Sequential:
    """``depth`` linear layers (``depth - 1`` hidden layers of ``width`` units, each followed by the activation)."""
    if activation not in ACTIVATIONS:
        raise ConfigError(f"{key}.activation = {activation!r} is unknown; use one of {', '.join(ACTIVATIONS)}")
    if int(depth) < 1 or int(width) < 1:
        raise ConfigError(f"{key}: depth and width must be >= 1 (got depth={depth}, width={width})")
    layers: list[nn.Module] = []
    for i in range(depth - 1):
        layers += [nn.Linear(d_in if i == 0 else width, width), ACTIVATIONS[activation]()]
    layers.append(nn.Linear(width if depth > 1 else d_in, d_out))
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """``G(z, c) -> [N, out_dim]``: an MLP on ``cat(z, c)`` with a linear output layer."""

    def __init__(self, z_dim: int = 64, out_dim: int = 2, c_dim: int = 0, width: int = 128, depth: int = 5,
                 activation: str = "tanh"):
        super().__init__()
        if int(z_dim) < 1:
            raise ConfigError(f"model.z_dim must be >= 1 (got {z_dim})")
        self.z_dim, self.c_dim, self.out_dim = int(z_dim), int(c_dim), int(out_dim)
        self.resolution = None
        self.img_channels = 0
        self.net = _mlp(self.z_dim + self.c_dim, self.out_dim, width, depth, activation, "model.generator")

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z if c is None else torch.cat([z, c], dim=1))


class MLPDiscriminator(nn.Module):
    """``D(x, c) -> logits [N]``: an MLP on ``cat(x, c)``."""

    def __init__(self, in_dim: int = 2, c_dim: int = 0, width: int = 128, depth: int = 4,
                 activation: str = "lrelu"):
        super().__init__()
        self.c_dim, self.in_dim = int(c_dim), int(in_dim)
        self.resolution = None
        self.net = _mlp(self.in_dim + self.c_dim, 1, width, depth, activation, "model.discriminator")

    def features(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """Every layer but the last linear one: ``[N, width]``."""
        return self.net[:-1](x if c is None else torch.cat([x, c], dim=1))

    def head(self, h: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.net[-1](h).squeeze(1)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x, c), c)
