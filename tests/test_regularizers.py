"""R1/R2 equal a finite-difference estimate of ||grad D||^2; gamma/2 scaling; the module's D step gives G no
gradient."""

import pytest
import torch
from torch import nn

from gan_zoo.errors import ConfigError
from gan_zoo.models.mlp import MLPGenerator
from gan_zoo.regularizers import R1, R2, DStepInputs
from tests.helpers import bare_module


class TinyD(nn.Module):
    """A smooth nonlinear D on 1x2x2 images, so the gradient depends on x."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.lin1 = nn.Linear(4, 5)
        self.lin2 = nn.Linear(5, 1)

    def forward(self, x, c=None):
        return self.lin2(torch.tanh(self.lin1(x.flatten(1)))).squeeze(1)


def finite_difference_sq_norm(D, x, eps=1e-4):
    """mean_i sum_j (dD(x_i)/dx_ij)^2 by central differences, in float64."""
    D = D.double()
    x = x.double()
    total = 0.0
    for i in range(x.shape[0]):
        grad = torch.zeros(x[i].numel(), dtype=torch.float64)
        for j in range(x[i].numel()):
            e = torch.zeros(x[i].numel(), dtype=torch.float64)
            e[j] = eps
            xp, xm = x[i].flatten() + e, x[i].flatten() - e
            grad[j] = (D(xp.view(1, *x.shape[1:])) - D(xm.view(1, *x.shape[1:]))).item() / (2 * eps)
        total += grad.square().sum().item()
    return total / x.shape[0]


def make_inputs(D, real, fake, gamma):
    real = real.clone().requires_grad_(True)
    fake = fake.clone().requires_grad_(True)
    return DStepInputs(D, real, fake, None, D(real), D(fake), lambda x: x, gamma)


def test_r1_r2_match_finite_differences_with_gamma_half():
    D = TinyD()
    torch.manual_seed(1)
    real, fake = torch.randn(3, 1, 2, 2), torch.randn(3, 1, 2, 2)
    gamma = 0.7
    inputs = make_inputs(D, real, fake, gamma)
    r1 = R1()(inputs)["r1"].item()
    r2 = R2()(inputs)["r2"].item()
    assert r1 == pytest.approx(gamma / 2 * finite_difference_sq_norm(TinyD(), real), rel=1e-4)
    assert r2 == pytest.approx(gamma / 2 * finite_difference_sq_norm(TinyD(), fake), rel=1e-4)


def test_fixed_gamma_overrides_the_schedule():
    D = TinyD()
    inputs = make_inputs(D, torch.randn(2, 1, 2, 2), torch.randn(2, 1, 2, 2), gamma=5.0)
    scheduled = R1()(inputs)["r1"].item()
    inputs = make_inputs(D, inputs.real.detach(), inputs.fake.detach(), gamma=5.0)
    fixed = R1(gamma=1.0)(inputs)["r1"].item()
    assert fixed == pytest.approx(scheduled / 5.0, rel=1e-5)


def test_penalty_gradient_reaches_d_by_double_backprop():
    D = TinyD()
    inputs = make_inputs(D, torch.randn(2, 1, 2, 2), torch.randn(2, 1, 2, 2), gamma=1.0)
    R1()(inputs)["r1"].backward()
    assert D.lin1.weight.grad is not None and D.lin1.weight.grad.abs().sum() > 0


class StaysTrainable(MLPGenerator):
    """A G whose parameters stay trainable whatever the training step asks (``requires_grad_`` is a no-op): the
    detached fakes alone must then keep G out of D's graph (freezing G in the D step is an optimisation)."""

    def requires_grad_(self, requires_grad: bool = True):
        return self


@pytest.mark.parametrize("generator", [MLPGenerator, StaysTrainable])
def test_r2_gives_generator_no_gradient(generator):
    """The module's D step with R2 (a penalty on D's gradient at the fakes) updates D and leaves G untouched:
    no gradient reaches G's parameters and G's weights do not move."""
    torch.manual_seed(0)
    module = bare_module(generator(z_dim=3, out_dim=2, width=8, depth=2), {"r2": R2()})
    G, D = module.G, module.D
    g_before = [p.detach().clone() for p in G.parameters()]
    d_before = [p.detach().clone() for p in D.parameters()]
    logs = module._d_step(torch.randn(4, 2), None, torch.Generator().manual_seed(1), gamma=1.0, step=0)
    assert logs["reg/r2"] > 0
    assert all(p.grad is None for p in G.parameters()), "the D step's losses reached G"
    assert all(torch.equal(a, p) for a, p in zip(g_before, G.parameters()))
    assert any(not torch.equal(a, p) for a, p in zip(d_before, D.parameters()))


def test_negative_gamma_and_bad_interval_are_config_errors():
    with pytest.raises(ConfigError, match="gamma must be >= 0"):
        R1(gamma=-1.0)
    with pytest.raises(ConfigError, match="interval must be >= 1"):
        R2(interval=0)
