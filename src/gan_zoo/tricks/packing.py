"""PacGAN packing (Lin, Khetan, Fanti, Oh, "PacGAN: The power of two samples in generative adversarial
networks", NeurIPS 2018, Sec. 3): D judges ``m`` samples at once.

The batch of ``N`` samples (real or fake, never mixed) is cut into ``N / m`` packs of ``m`` consecutive
samples, concatenated along the feature (vectors) or channel (images) axis, and D outputs one logit per pack:

    D_pack(x_1, ..., x_m) = D([x_1 ; ... ; x_m])        (PacGAN Sec. 3, "packed discriminator")

Only D's input layer changes (its inputs times ``m``, as in PacGAN's own code); the loss sees ``N / m`` real
and ``N / m`` fake logits. A collapsed G shows up in a pack as ``m`` near-identical samples, which a real pack
never is, so D can penalise the lack of diversity (PacGAN Thm. 3, mode-collapse region).
Acts at ``transform_discriminator``; ``check`` refuses a batch (per micro-batch) that ``m`` does not divide.
"""

from __future__ import annotations

import torch
from torch import nn

from gan_zoo.errors import ConfigError
from gan_zoo.tricks.base import Wrapped, require_features, widen_input_layer


class PackedDiscriminator(Wrapped):
    def __init__(self, inner: nn.Module, m: int) -> None:
        super().__init__(inner)
        self.m = int(m)

    def pack(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        if n % self.m:
            raise ConfigError(f"trick.pack.m={self.m} does not divide a D batch of {n}; use a batch_size that is "
                              f"a multiple of {self.m}")
        rest = x.shape[1:]
        return x.reshape(n // self.m, self.m * rest[0], *rest[1:])

    def features(self, x: torch.Tensor, c=None) -> torch.Tensor:
        return self.inner.features(self.pack(x), None)

    def head(self, h: torch.Tensor, c=None) -> torch.Tensor:
        return self.inner.head(h, None)


class Pack(nn.Module):
    def __init__(self, m: int = 2) -> None:
        super().__init__()
        if int(m) < 1:
            raise ConfigError(f"trick.pack.m must be >= 1 (got {m}); PacGAN uses 2, 3 or 4")
        self.m = int(m)

    def transform_discriminator(self, D: nn.Module) -> nn.Module:
        require_features(D, "pack")
        if int(getattr(D, "c_dim", 0) or 0) > 0:
            raise ConfigError("trick.pack with a conditional D (model.c_dim > 0): a pack mixes classes; use "
                              "model.c_dim=0 or drop trick pack")
        widen_input_layer(D, self.m, "pack")
        return PackedDiscriminator(D, self.m)

    def check(self, module) -> None:
        per_step = module.batch_size // max(module.accumulate, 1)
        if per_step % self.m:
            raise ConfigError(f"trick.pack.m={self.m} does not divide batch_size={module.batch_size} (per "
                              f"accumulate step {per_step}); use a batch_size that is a multiple of {self.m}")
