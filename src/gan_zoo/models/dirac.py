"""The Dirac-GAN's networks (Mescheder et al., ICML 2018, Sec. 2.2): G(z) = theta, D(x) = psi * x.

Both have one parameter. G ignores its latent (``z_dim`` = 1 only so the training step can draw one), D is
linear with no bias. With data at x0 = 0 the unique equilibrium is (theta, psi) = (0, 0), and every loss and
penalty of gan_zoo acts on the two scalars exactly as the paper's analysis assumes. Note that for this linear
D, grad_x D(x) = psi everywhere, so R1 (on reals) and R2 (on fakes) are the same penalty psi^2 here: the
Dirac-GAN cannot tell them apart (they differ only for a nonlinear D).
"""

from __future__ import annotations

import torch
from torch import nn


class DiracGenerator(nn.Module):
    """``G(z) = theta`` for every z: ``[N, 1]``."""

    def __init__(self, theta0: float = 1.0, z_dim: int = 1, c_dim: int = 0):
        super().__init__()
        self.z_dim, self.c_dim, self.resolution, self.img_channels, self.out_dim = int(z_dim), 0, None, 0, 1
        self.theta = nn.Parameter(torch.tensor([float(theta0)]))

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.theta.expand(z.shape[0], 1)


class DiracDiscriminator(nn.Module):
    """``D(x) = psi * x``: the trunk is the identity, the head the one weight psi."""

    def __init__(self, psi0: float = 1.0, c_dim: int = 0):
        super().__init__()
        self.c_dim, self.resolution = 0, None
        self.psi = nn.Parameter(torch.tensor([float(psi0)]))

    def features(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return x.reshape(x.shape[0], 1)

    def head(self, h: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return h[:, 0] * self.psi

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x, c), c)
