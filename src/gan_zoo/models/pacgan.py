"""The 2-D networks of PacGAN's synthetic experiments (Lin et al., NeurIPS 2018, Sec. 5.1 and App.;
fjxmlzn/PacGAN@190853e synthetic_data_experiments/2DGrid_GAN&PacGAN/{config,pacgan_task}.py).

- G: z in R^2 ~ N(0, I) -> 4 hidden fully connected layers of 400 units, each BatchNorm then ReLU, no biases
  in the hidden layers -> a linear output layer with bias.
- D: 3 maxout layers of 200 units with 5 pieces each -> a linear output. Packing (``trick=[pack]``) widens
  its input layer, as PacGAN's ``input_dim = num_xdim * num_packing``.
- Every weight is drawn from N(0, 0.02^2), every bias starts at 0 (``weights_init_std: 0.02``).
"""

from __future__ import annotations

import torch
from torch import nn

from gan_zoo.errors import ConfigError


def _init_(module: nn.Module, std: float) -> None:
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class Maxout(nn.Module):
    """``max_k (W_k x + b_k)`` over ``pieces`` linear maps (Goodfellow et al. 2013)."""

    def __init__(self, d_in: int, d_out: int, pieces: int) -> None:
        super().__init__()
        self.d_out, self.pieces = int(d_out), int(pieces)
        self.linear = nn.Linear(d_in, d_out * pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).view(-1, self.d_out, self.pieces).amax(-1)


class PacGANGenerator(nn.Module):
    def __init__(self, z_dim: int = 2, out_dim: int = 2, width: int = 400, depth: int = 4, c_dim: int = 0,
                 init_std: float = 0.02) -> None:
        super().__init__()
        if int(c_dim):
            raise ConfigError("model.c_dim: PacGAN's 2-D generator is unconditional; use c_dim=0")
        self.z_dim, self.c_dim, self.out_dim = int(z_dim), 0, int(out_dim)
        self.resolution, self.img_channels = None, 0
        layers: list[nn.Module] = []
        d = self.z_dim
        for _ in range(int(depth)):
            layers += [nn.Linear(d, width, bias=False), nn.BatchNorm1d(width), nn.ReLU()]
            d = width
        layers.append(nn.Linear(d, self.out_dim))
        self.net = nn.Sequential(*layers)
        _init_(self, init_std)

    def forward(self, z: torch.Tensor, c=None) -> torch.Tensor:
        return self.net(z)


class PacGANDiscriminator(nn.Module):
    def __init__(self, in_dim: int = 2, width: int = 200, depth: int = 3, pieces: int = 5, c_dim: int = 0,
                 init_std: float = 0.02) -> None:
        super().__init__()
        if int(c_dim):
            raise ConfigError("model.c_dim: PacGAN's 2-D discriminator is unconditional; use c_dim=0")
        self.in_dim, self.c_dim, self.resolution = int(in_dim), 0, None
        self.trunk = nn.Sequential(*[Maxout(self.in_dim if i == 0 else width, width, pieces) for i in range(depth)])
        self.out = nn.Linear(width, 1)
        _init_(self, init_std)

    def features(self, x: torch.Tensor, c=None) -> torch.Tensor:
        return self.trunk(x)

    def head(self, h: torch.Tensor, c=None) -> torch.Tensor:
        return self.out(h).squeeze(1)

    def forward(self, x: torch.Tensor, c=None) -> torch.Tensor:
        return self.head(self.features(x, c), c)
