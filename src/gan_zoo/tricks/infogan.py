"""InfoGAN (Chen et al., "InfoGAN: Interpretable Representation Learning by Information Maximizing GANs",
NeurIPS 2016, Sec. 4-5): structured latent codes and the variational mutual-information bound.

The first dimensions of G's latent carry the codes: a categorical code of ``categories`` values (one-hot) and
``continuous`` codes uniform on (-1, 1), each a deterministic function of the z drawn by the step

    k = floor(K * Phi(z_0)),   u_j = 2 Phi(z_{1+j}) - 1,   z' = [onehot(k) ; u ; z_{K+n:}]

so fixed sample grids, G_ema and resumed runs see the same codes. A Q head (a small MLP) on D's trunk features
predicts them; the mutual information term is the negative of the lower bound L_I of Eq. 4:

    L_info = CE(Q_cat(h), k) + 1/2 || u - mu(h) ||^2        (Gaussian Q of fixed unit std, Sec. 5; a learned
                                                            std let the bound run away in short runs here)

added with weight ``lambda`` (Sec. 6: 1 for discrete codes) to G's objective (on G's fakes, D's trunk fixed)
and to D's (on the D step's fakes: trains Q and the shared trunk). The Q head is attached to D
(``transform_discriminator``), so D's optimizer, EMA-free checkpoints and DDP cover it; G is wrapped to write
the codes into z (``transform_generator``). ``check`` refuses a G whose latent is too short to hold the codes
and tricks that change which fakes D sees (replay: the codes of replayed fakes are gone) or pack them.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gan_zoo.errors import ConfigError
from gan_zoo.tricks.base import Wrapped, find_head, materialise_heads, refuse_fake_changing_tricks, require_features
from gan_zoo.tricks.mixture import uniform_index


def codes_of(z: torch.Tensor, categories: int, continuous: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(k [N] long, u [N, continuous])`` from the first ``1 + continuous`` coordinates of z."""
    k = uniform_index(z[:, 0], categories) if categories > 0 else torch.zeros(len(z), dtype=torch.long)
    u = torch.erf(z[:, 1 : 1 + continuous] / math.sqrt(2.0))  # 2 Phi(z) - 1
    return k, u


class CodedGenerator(Wrapped):
    def __init__(self, inner: nn.Module, categories: int, continuous: int) -> None:
        super().__init__(inner)
        self.categories, self.continuous = int(categories), int(continuous)

    def with_codes(self, z: torch.Tensor) -> torch.Tensor:
        k, u = codes_of(z, self.categories, self.continuous)
        onehot = F.one_hot(k, self.categories).to(z.dtype) if self.categories > 0 else z[:, :0]
        return torch.cat([onehot, u, z[:, self.categories + self.continuous :]], dim=1)

    def forward(self, z: torch.Tensor, c=None) -> torch.Tensor:
        return self.inner(self.with_codes(z), c)


class InfoGAN(nn.Module):
    def __init__(self, categories: int = 10, continuous: int = 2, weight: float = 1.0, hidden: int = 128) -> None:
        super().__init__()
        if int(categories) < 0 or int(continuous) < 0 or int(categories) + int(continuous) == 0:
            raise ConfigError(f"trick.infogan needs categories >= 0 and continuous >= 0, not both 0 (got "
                              f"{categories}, {continuous})")
        self.categories, self.continuous = int(categories), int(continuous)
        self.weight, self.hidden = float(weight), int(hidden)
        self.last_g: float = float("nan")

    @property
    def code_dims(self) -> int:
        return self.categories + self.continuous

    def transform_generator(self, G: nn.Module) -> nn.Module:
        z_dim = int(getattr(G, "z_dim", 0) or 0)
        if z_dim <= self.code_dims:
            raise ConfigError(f"trick.infogan: G's latent (model.z_dim={z_dim}) has no room for the codes "
                              f"({self.categories} categories + {self.continuous} continuous); use model.z_dim > "
                              f"{self.code_dims} or fewer codes")
        return CodedGenerator(G, self.categories, self.continuous)

    def transform_discriminator(self, D: nn.Module) -> nn.Module:
        require_features(D, "infogan")
        out = self.categories + self.continuous
        D.add_module("info_q", nn.Sequential(nn.LazyLinear(self.hidden), nn.LeakyReLU(0.2),
                                             nn.Linear(self.hidden, out)))
        return D

    def check(self, module) -> None:
        refuse_fake_changing_tricks(module, "infogan", "Q needs the codes of the very fakes D is shown")
        q = self._q(module.D)
        if q is None:
            raise ConfigError("trick.infogan: the discriminator has no Q head (trick order: infogan must come "
                              "after tricks that wrap D)")
        materialise_heads(module, q)  # before the optimizers exist

    @staticmethod
    def _q(D: nn.Module):
        return find_head(D, "info_q")

    def info_loss(self, D: nn.Module, h: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """-L_I (Eq. 4) up to constants: CE of the categorical code + unit-Gaussian NLL of the continuous ones."""
        k, u = codes_of(z, self.categories, self.continuous)
        out = self._q(D)(h)
        loss = h.new_zeros(())
        if self.categories:
            loss = loss + F.cross_entropy(out[:, : self.categories], k.to(h.device))
        if self.continuous:
            mu = out[:, self.categories :]
            loss = loss + 0.5 * (u.to(h.device) - mu).pow(2).sum(1).mean()
        return loss

    def g_objective(self, inputs, terms: dict) -> dict:
        loss = self.info_loss(inputs.D, inputs.fake_features, inputs.z)
        self.last_g = float(loss.detach())
        terms["info"] = self.weight * loss
        return terms

    def d_terms(self, inputs) -> dict:
        z = getattr(inputs, "z", None)
        if z is None:
            return {}
        return {"info": self.weight * self.info_loss(inputs.D, inputs.fake_features, z)}
