"""Zero-centred gradient penalties on D: R1 on real data, R2 on generated data.

R1 (Mescheder et al. 2018, Eq. 9) and R2 (ibid.; R3GAN, Huang et al. 2024, Eq. 4/5): for a batch,
``R = mean_i ||grad_x D(x_i)||^2`` with the squared norm summed over C, H, W, computed by double backprop
(``create_graph=True``) so the penalty's own gradient reaches D's weights. D's objective adds
``(gamma / 2) * R``. As in R3GAN, the gradient is taken with respect to the image *before* augmentation (the
augmentation sits inside the graph), and the fakes are detached from G, so the penalty never updates G.
"""

from __future__ import annotations

import torch

from gan_zoo.errors import ConfigError
from gan_zoo.regularizers.base import DStepInputs, Regularizer


def squared_grad_norm(logits: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """Batch mean of ``||d logits_i / d inputs_i||^2``; differentiable (double backprop)."""
    (grad,) = torch.autograd.grad(logits.sum(), inputs, create_graph=True)
    return grad.square().reshape(grad.shape[0], -1).sum(dim=1).mean()


class _ZeroCentredPenalty(Regularizer):
    side = "D"
    term = ""

    def __init__(self, gamma: float | None = None, interval: int = 1) -> None:
        super().__init__(interval)
        if gamma is not None and gamma < 0:
            raise ConfigError(f"{self.term}.gamma must be >= 0 (got {gamma}); null uses schedule.gamma")
        self.gamma = gamma  # None: the scheduled gamma of the run

    def weight(self, inputs: DStepInputs) -> float:
        return (self.gamma if self.gamma is not None else inputs.gamma) / 2


class R1(_ZeroCentredPenalty):
    """(gamma/2) E_x ||grad D(x)||^2 on real images."""

    term = "r1"
    needs_real_grad = True

    def forward(self, inputs: DStepInputs) -> dict[str, torch.Tensor]:
        penalty = squared_grad_norm(inputs.real_logits, inputs.real)
        return {"r1": self.weight(inputs) * penalty}


class R2(_ZeroCentredPenalty):
    """(gamma/2) E_z ||grad D(G(z))||^2 on generated images (detached from G)."""

    term = "r2"
    needs_fake_grad = True

    def forward(self, inputs: DStepInputs) -> dict[str, torch.Tensor]:
        penalty = squared_grad_norm(inputs.fake_logits, inputs.fake)
        return {"r2": self.weight(inputs) * penalty}
