"""Lazy regularisation as StyleGAN2 applies it (stylegan2-ada training_loop.py: phases Dmain/Dreg, Gmain/Greg):
with ``lazy_reg_steps`` a penalty of interval k takes its own optimizer step on k x its terms, and that side's
Adam runs with lr x k/(k+1) and betas ** (k/(k+1)). Values below are computed by hand."""

from __future__ import annotations

from functools import partial
from types import SimpleNamespace

import pytest
import torch

from gan_zoo.augment import Augment
from gan_zoo.errors import ConfigError
from gan_zoo.losses import RpGAN
from gan_zoo.models.mlp import MLPDiscriminator, MLPGenerator
from gan_zoo.module import AdversarialModule
from gan_zoo.regularizers import R1, R2, Regularizer
from gan_zoo.schedules import Schedules
from tests.conftest import compose_run

LR, BETAS = 1e-2, (0.5, 0.99)


class GSquare(Regularizer):
    """A G-side penalty of interval 4: mean ||G(z)||^2 (stands in for path length)."""

    side = "G"

    def forward(self, inputs):
        return {"g_square": inputs.fake.square().sum(1).mean()}


def _module(regularizers: dict, lazy: bool = True) -> AdversarialModule:
    torch.manual_seed(0)
    G = MLPGenerator(z_dim=4, out_dim=2, width=8, depth=2)
    D = MLPDiscriminator(in_dim=2, width=8, depth=2)
    schedules = Schedules(burnin_kimg=0, lr={"start": LR, "end": LR}, gamma=1.0, beta2=0.99,
                          ema_halflife_kimg=1.0, aug_p=0.0)
    module = AdversarialModule(G, D, RpGAN(), regularizers, Augment(), partial(torch.optim.Adam, betas=BETAS),
                               schedules, batch_size=4, total_kimg=1.0, lazy_reg_steps=lazy)
    opts = module.configure_optimizers()
    steps, weights = {"G": [], "D": []}, {"G": [], "D": []}

    def wrap(opt, side, net):
        def step():
            steps[side].append([torch.zeros_like(p) if p.grad is None else p.grad.clone() for p in net.parameters()])
            weights[side].append({k: v.clone() for k, v in net.state_dict().items()})
            opt.step()
        return SimpleNamespace(optimizer=opt, zero_grad=opt.zero_grad, step=step)

    wrapped = [wrap(opts[0], "G", module.G), wrap(opts[1], "D", module.D)]
    module.optimizers = lambda: wrapped
    module.manual_backward = lambda loss: loss.backward()
    module._z_gen = torch.Generator().manual_seed(0)
    module.steps, module.weights = steps, weights
    return module


def test_lr_and_betas_are_rescaled_by_k_over_k_plus_1():
    module = _module({"r1": R1(gamma=1.0, interval=16), "g": GSquare(interval=4)})
    for _ in range(3):  # applied every iteration: never compounded
        module._apply_schedules(module.schedules.values(0.0))
        (g_group,), (d_group,) = (o.optimizer.param_groups for o in module.optimizers())
        assert d_group["lr"] == pytest.approx(LR * 16 / 17, rel=1e-12)
        assert d_group["betas"] == pytest.approx((0.5 ** (16 / 17), 0.99 ** (16 / 17)), rel=1e-12)
        assert g_group["lr"] == pytest.approx(LR * 4 / 5, rel=1e-12)
        assert g_group["betas"] == pytest.approx((0.5**0.8, 0.99**0.8), rel=1e-12)
    # off: the same regularizers leave the optimizers as configured
    plain = _module({"r1": R1(gamma=1.0, interval=16)}, lazy=False)
    plain._apply_schedules(plain.schedules.values(0.0))
    (d_group,) = plain.optimizers()[1].optimizer.param_groups
    assert d_group["lr"] == LR and d_group["betas"] == BETAS


def _grads(loss, net):
    grads = torch.autograd.grad(loss, list(net.parameters()), allow_unused=True)
    return [torch.zeros_like(p) if g is None else g for p, g in zip(net.parameters(), grads)]


def test_dreg_is_its_own_step_on_k_times_the_penalty():
    module = _module({"r1": R1(gamma=1.0, interval=16)})
    real = torch.randn(4, 2)
    d0 = {k: v.clone() for k, v in module.D.state_dict().items()}
    module._d_step(real, None, torch.Generator().manual_seed(1), 1.0, step=0)
    main, reg = module.steps["D"]
    # by hand, at D's weights before the step: Dmain = the RpGAN loss alone
    ref = MLPDiscriminator(in_dim=2, width=8, depth=2)
    ref.load_state_dict(d0)
    with torch.no_grad():
        fake = module.G(torch.randn(4, 4, generator=torch.Generator().manual_seed(0)), None)
    expected_main = _grads(RpGAN().d(ref(real), ref(fake)), ref)
    for got, want in zip(main, expected_main):
        torch.testing.assert_close(got, want)
    # Dreg, at the weights Dmain's update left: 16 * (gamma/2) * ||grad_x D(x)||^2 on the reals, nothing else
    after_main = module.weights["D"][1]
    assert not torch.equal(after_main["net.0.weight"], d0["net.0.weight"])
    ref.load_state_dict(after_main)
    x = real.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(ref(x).sum(), x, create_graph=True)
    expected_reg = _grads(16 * 0.5 * g.square().sum(1).mean(), ref)
    for got, want in zip(reg, expected_reg):
        torch.testing.assert_close(got, want)


def test_reg_steps_only_when_due_and_greg_for_g():
    module = _module({"r1": R1(gamma=1.0, interval=16), "g": GSquare(interval=4)})
    gen = torch.Generator().manual_seed(1)
    module._d_step(torch.randn(4, 2), None, gen, 1.0, step=1)  # not due
    assert len(module.steps["D"]) == 1
    module.iteration = 1
    module._g_step(torch.randn(4, 2), None, gen)                  # not due
    module.iteration = 4
    module._g_step(torch.randn(4, 2), None, gen)                  # due: Gmain + Greg
    assert len(module.steps["G"]) == 3
    # without the option a due penalty is part of the one step, as before
    plain = _module({"r1": R1(gamma=1.0, interval=16)}, lazy=False)
    plain._d_step(torch.randn(4, 2), None, gen, 1.0, step=0)
    assert len(plain.steps["D"]) == 1


def test_one_interval_per_side():
    module = _module({"r1": R1(gamma=1.0, interval=16), "r2": R2(gamma=1.0, interval=8)})
    with pytest.raises(ConfigError, match="one interval"):
        module._apply_schedules(module.schedules.values(0.0))


@pytest.mark.parametrize("scale", ["cpu_mini", "ffhq256"])
def test_roadmap_row_a_uses_it_and_b_does_not(scale):
    assert compose_run([f"experiment=roadmap/{scale}/A"]).lazy_reg_steps is True
    assert compose_run([f"experiment=roadmap/{scale}/B"]).lazy_reg_steps is False
    assert compose_run([]).lazy_reg_steps is False
