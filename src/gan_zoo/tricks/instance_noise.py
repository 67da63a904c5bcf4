"""Instance noise annealed to zero (Sønderby et al., "Amortised MAP Inference for Image Super-resolution",
ICLR 2017, Sec. 3.2 and App. C; Arjovsky & Bottou, ICLR 2017, Sec. 3.1).

Gaussian noise of standard deviation ``sigma(kimg)`` is added to every input D sees, real and fake alike, so
the two distributions overlap and D's optimum has useful gradients everywhere; the noise is annealed to zero so
that the equilibrium is the unperturbed one:

    x  ->  x + sigma(kimg) * eps,   eps ~ N(0, I)
    sigma(kimg) = sigma0 * max(0, 1 - kimg / anneal_kimg)               (linear, Sønderby et al.)
    sigma(kimg) = sigma0 * (1 + cos(pi * min(kimg / anneal_kimg, 1))) / 2  (half-cosine)

It acts at one extension point, ``d_input`` (what D sees), after the augmentation and inside the graph, so
R1/R2 still differentiate D's output w.r.t. the clean image. ``eps`` is drawn from the step's seeded
generator, so a resumed run draws the same noise. The noise level is logged every iteration.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gan_zoo.errors import ConfigError
from gan_zoo.hooks import StepContext


class InstanceNoise(nn.Module):
    SCHEDULES = ("linear", "cosine")

    def __init__(self, sigma: float = 0.1, anneal_kimg: float = 100.0, schedule: str = "linear") -> None:
        super().__init__()
        if not sigma >= 0:
            raise ConfigError(f"trick.instance_noise.sigma must be >= 0 (got {sigma})")
        if not anneal_kimg > 0:
            raise ConfigError(f"trick.instance_noise.anneal_kimg must be > 0 (got {anneal_kimg}); the kimg at which "
                              "the noise reaches zero")
        if schedule not in self.SCHEDULES:
            raise ConfigError(f"trick.instance_noise.schedule={schedule!r}: use one of {', '.join(self.SCHEDULES)}")
        self.sigma0, self.anneal_kimg, self.schedule = float(sigma), float(anneal_kimg), schedule

    def sigma(self, kimg: float) -> float:
        t = min(max(kimg / self.anneal_kimg, 0.0), 1.0)
        if self.schedule == "linear":
            return self.sigma0 * (1.0 - t)
        return self.sigma0 * 0.5 * (1.0 + math.cos(math.pi * t))

    def d_input(self, x: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        sigma = self.sigma(ctx.kimg)
        if sigma <= 0:
            return x
        eps = torch.randn(x.shape, generator=ctx.gen, dtype=x.dtype).to(x.device)
        return x + sigma * eps

    def logs(self, kimg: float) -> dict[str, float]:
        return {"sigma": self.sigma(kimg)}
