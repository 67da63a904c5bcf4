"""Small MLP generator and discriminator for 2-D mixtures (the VEEGAN/PacGAN toy benchmark).

Four layers of 128 units with leaky ReLU, as the 2-D experiments of Metz et al. (unrolled GAN) and
Srivastava et al. (VEEGAN) use; G's output is linear (the points are not bounded to [-1, 1]).
"""

from __future__ import annotations

import torch
from torch import nn


def _mlp(d_in: int, d_out: int, width: int, depth: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(depth - 1):
        layers += [nn.Linear(d_in if i == 0 else width, width), nn.LeakyReLU(0.2)]
    layers.append(nn.Linear(width if depth > 1 else d_in, d_out))
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    def __init__(self, z_dim: int = 16, out_dim: int = 2, c_dim: int = 0, width: int = 128, depth: int = 4):
        super().__init__()
        self.z_dim, self.c_dim, self.out_dim = z_dim, c_dim, out_dim
        self.resolution = None
        self.img_channels = 0
        self.net = _mlp(z_dim + c_dim, out_dim, width, depth)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z if c is None else torch.cat([z, c], dim=1))


class MLPDiscriminator(nn.Module):
    def __init__(self, in_dim: int = 2, c_dim: int = 0, width: int = 128, depth: int = 4):
        super().__init__()
        self.c_dim, self.in_dim = c_dim, in_dim
        self.resolution = None
        self.net = _mlp(in_dim + c_dim, 1, width, depth)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(x if c is None else torch.cat([x, c], dim=1)).squeeze(1)
