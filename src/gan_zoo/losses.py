"""Adversarial objectives as pure functions of D's logits.

Each loss exposes ``d(real_logits, fake_logits)`` (minimised by D) and ``g(fake_logits, real_logits)``
(minimised by G). ``g_needs_real`` tells the training step whether G's objective needs D's logits on a real
batch (RpGAN does; the non-saturating loss does not, so that forward pass is skipped). ``gen`` is the step's
seeded generator, for losses that draw (e.g. label flipping), so a resumed run draws what an uninterrupted one
would.

With f(t) = softplus(-t) = -log sigmoid(t):
- Non-saturating GAN (Goodfellow et al. 2014, Sec. 3): D: f(D(x)) + f(-D(G(z))); G: f(D(G(z))).
- RpGAN, relativistic pairing (Jolicoeur-Martineau 2019, Eq. 8; R3GAN, Huang et al. 2024, Eq. 2):
  D: f(D(x_i) - D(G(z_i))); G: f(D(G(z_i)) - D(x_i)), real i paired with fake i elementwise.
- Hinge (Lim & Ye 2017; Miyato et al. 2018): D: relu(1 - D(x)) + relu(1 + D(G(z))); G: -D(G(z)).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _flat(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(t.shape[0])


class NonSaturating:
    """The standard GAN loss with the non-saturating G objective."""

    name = "ns"
    g_needs_real = False

    def d(self, real_logits: torch.Tensor, fake_logits: torch.Tensor,
          gen: torch.Generator | None = None) -> torch.Tensor:
        return (F.softplus(-_flat(real_logits)) + F.softplus(_flat(fake_logits))).mean()

    def g(self, fake_logits: torch.Tensor, real_logits: torch.Tensor | None = None,
          gen: torch.Generator | None = None) -> torch.Tensor:
        return F.softplus(-_flat(fake_logits)).mean()


class RpGAN:
    """Relativistic pairing GAN: each real is compared with the fake at the same batch index."""

    name = "rpgan"
    g_needs_real = True

    def d(self, real_logits: torch.Tensor, fake_logits: torch.Tensor,
          gen: torch.Generator | None = None) -> torch.Tensor:
        return F.softplus(-(_flat(real_logits) - _flat(fake_logits))).mean()

    def g(self, fake_logits: torch.Tensor, real_logits: torch.Tensor | None = None,
          gen: torch.Generator | None = None) -> torch.Tensor:
        if real_logits is None:
            raise ValueError("RpGAN's G loss pairs each fake with a real: pass real_logits")
        return F.softplus(-(_flat(fake_logits) - _flat(real_logits).detach())).mean()


class Hinge:
    """Hinge loss (SN-GAN, BigGAN)."""

    name = "hinge"
    g_needs_real = False

    def d(self, real_logits: torch.Tensor, fake_logits: torch.Tensor,
          gen: torch.Generator | None = None) -> torch.Tensor:
        return (F.relu(1 - _flat(real_logits)) + F.relu(1 + _flat(fake_logits))).mean()

    def g(self, fake_logits: torch.Tensor, real_logits: torch.Tensor | None = None,
          gen: torch.Generator | None = None) -> torch.Tensor:
        return -_flat(fake_logits).mean()
