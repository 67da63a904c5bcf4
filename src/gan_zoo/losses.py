"""Adversarial objectives as functions of D's logits.

Each loss exposes ``d(real_logits, fake_logits)`` (minimised by D) and ``g(fake_logits, real_logits)``
(minimised by G). ``g_needs_real`` tells the training step whether G's objective needs D's logits on a real
batch (RpGAN, RaGAN do; the non-saturating loss does not, so that forward pass is skipped; the training step
computes them without grad, so real logits are constants in G's objective). ``gen`` is the step's seeded
generator, for losses that draw (label flipping), so a resumed run draws what an uninterrupted one would.
All terms are batch means. With f(t) = softplus(-t) = -log sigmoid(t), r = D(x), q = D(G(z)):

- Minimax GAN (Goodfellow et al. 2014, Eq. 1): D: f(r) + f(-q); G *maximises* D's loss on fakes, i.e.
  minimises log(1 - sigmoid(q)) = -softplus(q) (saturating: its gradient -sigmoid(q) vanishes where D
  rejects the fakes, q -> -inf).
- Non-saturating GAN (ibid., Sec. 3): D as minimax; G: f(q).
- Wasserstein (Arjovsky et al. 2017, Eq. 3 / Alg. 1): D (critic): mean q - mean r; G: -mean q.
- Hinge (Lim & Ye 2017; Miyato et al. 2018, Eq. 17): D: relu(1 - r) + relu(1 + q); G: -q.
- Least squares (Mao et al. 2017, Eq. 2): D: 1/2 (r - b)^2 + 1/2 (q - a)^2; G: 1/2 (q - c)^2; a=0, b=c=1
  (Eq. 9 is a=-1, b=1, c=0).
- RpGAN, relativistic pairing (Jolicoeur-Martineau 2019, Eq. 8; R3GAN, Huang et al. 2024, Eq. 2):
  D: f(r_i - q_i); G: f(q_i - r_i), real i paired with fake i elementwise.
- RaGAN, relativistic average (Jolicoeur-Martineau 2019, Eq. 11-12 with f(t) = -log sigmoid(t)):
  D: f(r - mean q) + f(-(q - mean r)); G: f(q - mean r) + f(-(r - mean q)).
- RaLSGAN (ibid., Eq. 20-21 / App. A): D: (r - mean q - 1)^2 + (q - mean r + 1)^2;
  G: (q - mean r - 1)^2 + (r - mean q + 1)^2.

Label options (Salimans et al. 2016, Sec. 3.4, one-sided smoothing; label flipping, as in seed 002's list of
tricks) for the losses with labels (minimax, ns, lsgan): D's per-sample target is ``real_label`` (e.g. 0.9)
for reals and 0 for fakes (``a``/``b`` for LSGAN), and with probability ``flip`` each real and each fake
independently gets the other side's target. D's loss becomes the cross-entropy with that target,
``t f(r) + (1 - t) f(-r)``; G's objective is unchanged. Flips are drawn from ``gen`` (uniform per sample,
reals first, then fakes), only when ``flip > 0``, so a run without flipping draws nothing. The fraction
flipped in the last D step and both options are logged (``trick/loss/...``) through :meth:`logs`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gan_zoo.errors import ConfigError


def _flat(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(t.shape[0])


def _check_real(real_logits, name: str) -> None:
    if real_logits is None:
        raise ValueError(f"{name}'s G loss compares fakes with reals: pass real_logits")


class _Labelled:
    """Per-sample D targets with one-sided smoothing and flipping (module docstring)."""

    g_needs_real = False

    def __init__(self, real_label: float = 1.0, flip: float = 0.0) -> None:
        if not 0.0 < real_label <= 1.0:
            raise ConfigError(f"loss.real_label must be in (0, 1] (got {real_label}); 0.9 is one-sided smoothing")
        if not 0.0 <= flip < 0.5:
            raise ConfigError(f"loss.flip must be in [0, 0.5) (got {flip}): the probability of flipping a label")
        self.real_label, self.flip = float(real_label), float(flip)
        self.last_flipped = 0.0

    def _targets(self, real: torch.Tensor, fake: torch.Tensor, gen, t_real: float, t_fake: float):
        n_r, n_f = real.shape[0], fake.shape[0]
        tr = torch.full((n_r,), t_real, dtype=real.dtype, device=real.device)
        tf = torch.full((n_f,), t_fake, dtype=fake.dtype, device=fake.device)
        if self.flip > 0:
            u = torch.rand(n_r + n_f, generator=gen)
            flip_r, flip_f = (u[:n_r] < self.flip).to(real.device), (u[n_r:] < self.flip).to(fake.device)
            tr = torch.where(flip_r, torch.full_like(tr, t_fake), tr)
            tf = torch.where(flip_f, torch.full_like(tf, t_real), tf)
            self.last_flipped = float((flip_r.sum() + flip_f.sum()).item()) / (n_r + n_f)
        return tr, tf

    def logs(self, kimg: float) -> dict[str, float]:
        return {"real_label": self.real_label, "flip": self.flip, "flipped": self.last_flipped}


def _bce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample cross-entropy of sigmoid(logits) against ``target``: t f(l) + (1 - t) f(-l)."""
    return target * F.softplus(-logits) + (1 - target) * F.softplus(logits)


class NonSaturating(_Labelled):
    """The standard GAN loss with the non-saturating G objective."""

    name = "ns"

    def d(self, real_logits: torch.Tensor, fake_logits: torch.Tensor,
          gen: torch.Generator | None = None) -> torch.Tensor:
        r, q = _flat(real_logits), _flat(fake_logits)
        if self.real_label == 1.0 and self.flip == 0.0:
            return (F.softplus(-r) + F.softplus(q)).mean()
        tr, tf = self._targets(r, q, gen, self.real_label, 0.0)
        return _bce(r, tr).mean() + _bce(q, tf).mean()

    def g(self, fake_logits: torch.Tensor, real_logits: torch.Tensor | None = None,
          gen: torch.Generator | None = None) -> torch.Tensor:
        return F.softplus(-_flat(fake_logits)).mean()


class Minimax(NonSaturating):
    """Goodfellow et al.'s original (saturating) G objective: minimise log(1 - D(G(z))) = -softplus(q)."""

    name = "minimax"

    def g(self, fake_logits: torch.Tensor, real_logits: torch.Tensor | None = None,
          gen: torch.Generator | None = None) -> torch.Tensor:
        return -F.softplus(_flat(fake_logits)).mean()


class LeastSquares(_Labelled):
    """LSGAN (Mao et al. 2017, Eq. 2) with labels a (fake), b (real), c (what G wants D to say)."""

    name = "lsgan"

    def __init__(self, a: float = 0.0, b: float = 1.0, c: float = 1.0, flip: float = 0.0) -> None:
        super().__init__(1.0, flip)
        self.a, self.b, self.c = float(a), float(b), float(c)

    def d(self, real_logits, fake_logits, gen=None):
        r, q = _flat(real_logits), _flat(fake_logits)
        tr, tf = self._targets(r, q, gen, self.b, self.a)
        return 0.5 * ((r - tr).square().mean() + (q - tf).square().mean())

    def g(self, fake_logits, real_logits=None, gen=None):
        return 0.5 * (_flat(fake_logits) - self.c).square().mean()

    def logs(self, kimg: float) -> dict[str, float]:
        return {"flip": self.flip, "flipped": self.last_flipped}


class Wasserstein:
    """WGAN critic loss (Arjovsky et al. 2017); needs a Lipschitz constraint (clipping, GP, SN)."""

    name = "wasserstein"
    g_needs_real = False

    def d(self, real_logits, fake_logits, gen=None):
        return _flat(fake_logits).mean() - _flat(real_logits).mean()

    def g(self, fake_logits, real_logits=None, gen=None):
        return -_flat(fake_logits).mean()


class RpGAN:
    """Relativistic pairing GAN: each real is compared with the fake at the same batch index."""

    name = "rpgan"
    g_needs_real = True

    def d(self, real_logits: torch.Tensor, fake_logits: torch.Tensor,
          gen: torch.Generator | None = None) -> torch.Tensor:
        return F.softplus(-(_flat(real_logits) - _flat(fake_logits))).mean()

    def g(self, fake_logits: torch.Tensor, real_logits: torch.Tensor | None = None,
          gen: torch.Generator | None = None) -> torch.Tensor:
        _check_real(real_logits, "RpGAN")
        return F.softplus(-(_flat(fake_logits) - _flat(real_logits).detach())).mean()


class RaGAN:
    """Relativistic average GAN: each logit is compared with the mean logit of the other batch."""

    name = "ragan"
    g_needs_real = True

    def d(self, real_logits, fake_logits, gen=None):
        r, q = _flat(real_logits), _flat(fake_logits)
        return F.softplus(-(r - q.mean())).mean() + F.softplus(q - r.mean()).mean()

    def g(self, fake_logits, real_logits=None, gen=None):
        _check_real(real_logits, "RaGAN")
        r, q = _flat(real_logits).detach(), _flat(fake_logits)
        return F.softplus(-(q - r.mean())).mean() + F.softplus(r - q.mean()).mean()


class RaLSGAN:
    """Relativistic average least squares GAN."""

    name = "ralsgan"
    g_needs_real = True

    def d(self, real_logits, fake_logits, gen=None):
        r, q = _flat(real_logits), _flat(fake_logits)
        return (r - q.mean() - 1).square().mean() + (q - r.mean() + 1).square().mean()

    def g(self, fake_logits, real_logits=None, gen=None):
        _check_real(real_logits, "RaLSGAN")
        r, q = _flat(real_logits).detach(), _flat(fake_logits)
        return (q - r.mean() - 1).square().mean() + (r - q.mean() + 1).square().mean()


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
