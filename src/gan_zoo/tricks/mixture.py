"""A mixture of K generators (seed article 002, "multiple generators"): the uniform-mixing baseline of
Hoang et al., "MGAN: Training Generative Adversarial Nets with Multiple Generators", ICLR 2018, Sec. 3, and,
with ``classifier_weight`` beta > 0, MGAN itself (its classifier head and diversity term, below).

G becomes ``K`` independently initialised copies of the configured generator; each sample is made by one of
them, chosen uniformly at random from its own latent:

    k(z) = floor(K * Phi(z_0)),     G_mix(z, c) = G_{k(z)}(z, c)        (Phi: the standard normal CDF)

so the choice is a deterministic function of z (G_ema, fixed sample grids and a resumed run choose the same
generator) and uniform because ``z_0 ~ N(0, 1)``. Every generator runs on the whole batch (its BatchNorm
statistics stay those of a full batch) and each sample keeps its own generator's output; the parameters are
all inside G, so the optimizer, EMA and checkpoints cover them. Acts at ``transform_generator``.

MGAN (``classifier_weight`` beta > 0; Hoang et al. Sec. 3, its minimax objective with mixing weights pi_k = 1/K):

    min_{G_1..K, C} max_D  E_data[log D(x)] + E_{x ~ P_model}[log(1 - D(x))]
                           - beta * sum_k pi_k E_{x ~ P_Gk}[log C_k(x)]

A classifier C shares D's trunk and adds one linear layer to K logits (``D.mgan_c`` on ``D.features``, as
MGAN's C shares all of D's layers but the last). Its term, ``beta * CE(C(h(fake)), k(z))``, is minimised

- by C and D's trunk in the D step (``d_terms``, on the D step's fakes and the index k(z) of the generator
  that made each): C learns which generator made a fake;
- by the generators in the G step (``g_objective``, D and C fixed): each G_k moves its samples to where C
  recognises them as its own, away from the other generators' samples, which is MGAN's diversity force
  (its Theorem 2: at the optimum the generators' distributions have disjoint supports) while D keeps the
  mixture on the data.

C's parameters live in D (``transform_discriminator``), so D's optimizer trains them and every checkpoint
holds them. ``check`` refuses tricks that change which fakes D sees (replay: the indices of replayed fakes
are gone) or pack them (one logit per pack of several generators' samples), and ``logs`` reports C's
accuracy on the D step's fakes (chance: 1/K) as ``trick/mixture/classifier_acc``.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from gan_zoo.errors import ConfigError
from gan_zoo.tricks.base import Wrapped, find_head, materialise_heads, refuse_fake_changing_tricks, require_features


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
    HEAD = "mgan_c"

    def __init__(self, k: int = 4, classifier_weight: float = 0.0) -> None:
        super().__init__()
        if int(k) < 1:
            raise ConfigError(f"trick.mixture.k must be >= 1 (got {k})")
        if not float(classifier_weight) >= 0.0:
            raise ConfigError(f"trick.mixture.classifier_weight must be >= 0 (got {classifier_weight}); 0 is "
                              "uniform mixing, > 0 MGAN's beta")
        if float(classifier_weight) > 0 and int(k) < 2:
            raise ConfigError("trick.mixture.classifier_weight > 0 needs trick.mixture.k >= 2 generators to tell "
                              "apart")
        self.k, self.beta = int(k), float(classifier_weight)
        self.last_acc: float = float("nan")

    def transform_generator(self, G: nn.Module) -> nn.Module:
        return MixtureGenerator(G, self.k)

    # ---- MGAN's classifier head (classifier_weight > 0 only) -------------------------------------------------
    def transform_discriminator(self, D: nn.Module) -> nn.Module:
        if self.beta > 0:
            require_features(D, "mixture")
            D.add_module(self.HEAD, nn.LazyLinear(self.k))
        return D

    def check(self, module) -> None:
        if self.beta > 0:
            refuse_fake_changing_tricks(module, "mixture (classifier_weight > 0)", "C needs the generator index "
                                        "of the very fakes D is shown")
            materialise_heads(module, self._head(module.D))

    def _head(self, D: nn.Module) -> nn.Module:
        head = find_head(D, self.HEAD)
        if head is None:
            raise ConfigError("trick.mixture: the discriminator has no MGAN classifier head (trick order: "
                              "mixture must come after tricks that wrap D)")
        return head

    def classifier_loss(self, D: nn.Module, h: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, float]:
        """``CE(C(h), k(z))`` (the negative of MGAN's sum_k pi_k E log C_k) and C's accuracy on the batch."""
        target = uniform_index(z[:, 0], self.k).to(h.device)
        logits = self._head(D)(h)
        return F.cross_entropy(logits, target), float((logits.argmax(1) == target).float().mean())

    def g_objective(self, inputs, terms: dict) -> dict:
        if self.beta > 0:
            loss, _ = self.classifier_loss(inputs.D, inputs.fake_features, inputs.z)
            terms["mgan"] = self.beta * loss
        return terms

    def d_terms(self, inputs) -> dict:
        z = getattr(inputs, "z", None)
        if self.beta <= 0 or z is None:
            return {}
        loss, self.last_acc = self.classifier_loss(inputs.D, inputs.fake_features, z)
        return {"mgan": self.beta * loss}

    def logs(self, kimg: float) -> dict:
        return {"classifier_acc": self.last_acc} if self.beta > 0 else {}
