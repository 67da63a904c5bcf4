"""One-centred gradient penalties at constructed points: WGAN-GP and DRAGAN.

WGAN-GP (Gulrajani et al., "Improved Training of Wasserstein GANs", NeurIPS 2017, Eq. 3 and Alg. 1):

    x_hat_i = eps_i x_i + (1 - eps_i) x~_i,   eps_i ~ U[0, 1] (one per sample)
    term    = lambda * mean_i (||grad_x D(x_hat_i)||_2 - 1)^2,   lambda = 10

DRAGAN (Kodali et al., "On Convergence and Stability of GANs", 2017, Eq. 1; the perturbation of the authors'
code, kodalinaveen3/DRAGAN, as StudioGAN also uses it): points near the reals,

    x_p     = x + scale * std(x) * u,   u ~ U[0, 1)^shape  (std over the whole real batch, scale 0.5)
    x_hat_i = x_i + alpha_i (x_p,i - x_i),   alpha_i ~ U[0, 1]
    term    = lambda * mean_i (||grad_x D(x_hat_i)||_2 - k)^2,   lambda = 10, k = 1

The norm is per sample: ``||.||_2`` over C, H, W of sample i's own gradient, then the batch mean of the squared
deviations (torchgan takes one norm over the whole batch, which is not the penalty; a test here fails on it).
The gradient is taken by double backprop (``create_graph=True``) through ``inputs.discriminate`` (D after the
augmentation and every ``d_input`` hook, as D saw the reals and fakes), so the penalty's gradient reaches D's
weights. Random numbers come from the step's seeded generator (resume-exact). With BatchNorm in D the
per-sample gradient is not defined (samples are coupled by the batch statistics): gan_zoo.compat warns.
"""

from __future__ import annotations

import torch

from gan_zoo.errors import ConfigError
from gan_zoo.regularizers.base import DStepInputs, Regularizer


def per_sample_grad_norm(logits: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """``[N]``: ``||d logits_i / d inputs_i||_2`` for each sample; differentiable (double backprop)."""
    (grad,) = torch.autograd.grad(logits.sum(), inputs, create_graph=True)
    return grad.reshape(grad.shape[0], -1).norm(2, dim=1)


def _uniform(shape, like: torch.Tensor, gen: torch.Generator | None) -> torch.Tensor:
    return torch.rand(shape, generator=gen, dtype=like.dtype).to(like.device)


class _OneCentred(Regularizer):
    side = "D"
    term = ""

    def __init__(self, weight: float = 10.0, center: float = 1.0, interval: int = 1) -> None:
        super().__init__(interval)
        if not weight >= 0:
            raise ConfigError(f"regularizer {self.term}.weight must be >= 0 (got {weight}); the papers use 10")
        self.weight, self.center = float(weight), float(center)

    def points(self, inputs: DStepInputs) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError

    def penalty(self, inputs: DStepInputs) -> torch.Tensor:
        x_hat = self.points(inputs).detach().requires_grad_(True)
        logits, _ = inputs.discriminate(x_hat, inputs.c)
        return self.weight * (per_sample_grad_norm(logits, x_hat) - self.center).square().mean()

    def forward(self, inputs: DStepInputs) -> dict[str, torch.Tensor]:
        return {self.term: self.penalty(inputs)}


class WGANGP(_OneCentred):
    """``{"gp": lambda mean_i (||grad D(eps_i x_i + (1 - eps_i) x~_i)|| - 1)^2}`` (module docstring)."""

    term = "gp"

    def points(self, inputs: DStepInputs) -> torch.Tensor:
        real, fake = inputs.real.detach(), inputs.fake.detach()
        gen = inputs.ctx.gen if inputs.ctx is not None else None
        eps = _uniform((real.shape[0],) + (1,) * (real.ndim - 1), real, gen)
        return eps * real + (1 - eps) * fake


class DRAGAN(_OneCentred):
    """``{"dragan": lambda mean_i (||grad D(x_i + alpha_i (x_p,i - x_i))|| - k)^2}`` (module docstring)."""

    term = "dragan"

    def __init__(self, weight: float = 10.0, center: float = 1.0, scale: float = 0.5, interval: int = 1) -> None:
        super().__init__(weight, center, interval)
        if not scale > 0:
            raise ConfigError(f"regularizer dragan.scale must be > 0 (got {scale}); DRAGAN's code uses 0.5")
        self.scale = float(scale)

    def points(self, inputs: DStepInputs) -> torch.Tensor:
        real = inputs.real.detach()
        gen = inputs.ctx.gen if inputs.ctx is not None else None
        perturbed = real + self.scale * real.std() * _uniform(real.shape, real, gen)
        alpha = _uniform((real.shape[0],) + (1,) * (real.ndim - 1), real, gen)
        return real + alpha * (perturbed - real)
