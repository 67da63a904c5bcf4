"""WGAN-GP and DRAGAN against their definitions per sample on a tiny D, their weight gradients against finite
differences; lazy application (weight x k) for every penalty; weight clipping after each D step; spectral
norm's sigma_max = 1 and its u/v surviving kill-and-resume bit-exactly."""

import copy
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from gan_zoo.models.dcgan import Discriminator as DCGAND
from gan_zoo.models.dcgan import Generator as DCGANG
from gan_zoo.models.mlp import MLPDiscriminator, MLPGenerator
from gan_zoo.regularizers import DRAGAN, R1, R2, WGANGP, OrthogonalRegularizer, SpectralNorm, WeightClip
from gan_zoo.regularizers.base import DStepInputs
from gan_zoo.regularizers.constraints import sn_layers
from tests.helpers import TINY, bare_module, straight_and_resumed


def tiny_d(seed: int = 0, in_dim: int = 3) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(in_dim, 4), nn.Tanh(), nn.Linear(4, 1)).double()


def inputs_for(D, real, fake, seed):
    def discriminate(x, c):
        return D(x).squeeze(-1), None

    ctx = SimpleNamespace(gen=torch.Generator().manual_seed(seed))
    return DStepInputs(D, real, fake, None, D(real).squeeze(-1), D(fake).squeeze(-1), lambda x: x, 1.0,
                       discriminate=discriminate, ctx=ctx)


def grad_norm_one(D, x):
    """||grad_x D(x)|| for one sample, on its own (no batch involved)."""
    x = x[None].clone().requires_grad_(True)
    (g,) = torch.autograd.grad(D(x).sum(), x)
    return g.norm().item()


def expected_points(kind, real, fake, seed, scale=0.5):
    gen = torch.Generator().manual_seed(seed)
    shape = (real.shape[0],) + (1,) * (real.ndim - 1)
    if kind == "gp":
        eps = torch.rand(shape, generator=gen, dtype=real.dtype)
        return eps * real + (1 - eps) * fake
    perturbed = real + scale * real.std() * torch.rand(real.shape, generator=gen, dtype=real.dtype)
    alpha = torch.rand(shape, generator=gen, dtype=real.dtype)
    return real + alpha * (perturbed - real)


@pytest.mark.parametrize("cls,kind", [(WGANGP, "gp"), (DRAGAN, "dragan")])
def test_penalty_is_the_per_sample_definition(cls, kind):
    D = tiny_d()
    torch.manual_seed(1)
    real, fake = 2 * torch.randn(6, 3, dtype=torch.float64), torch.randn(6, 3, dtype=torch.float64)
    value = cls(weight=10.0)(inputs_for(D, real, fake, seed=5))[kind]
    points = expected_points(kind, real, fake, seed=5)
    norms = [grad_norm_one(D, x) for x in points]
    expected = 10.0 * sum((n - 1) ** 2 for n in norms) / len(norms)
    assert value.item() == pytest.approx(expected, rel=1e-10)
    # a batch-wide norm (torchgan's) gives another number: this test tells them apart
    batch_wide = 10.0 * (sum(n ** 2 for n in norms) ** 0.5 - 1) ** 2
    assert abs(batch_wide - expected) > 0.1 * expected


def test_wgan_gp_per_sample_on_images():
    torch.manual_seed(0)
    D = DCGAND(8, ndf=4, batchnorm=False).double()
    real, fake = torch.rand(4, 3, 8, 8, dtype=torch.float64) * 2 - 1, torch.rand(4, 3, 8, 8, dtype=torch.float64)
    value = WGANGP(weight=10.0)(inputs_for(D, real, fake, seed=2))["gp"]
    norms = [grad_norm_one(D, x) for x in expected_points("gp", real, fake, seed=2)]
    assert value.item() == pytest.approx(10.0 * sum((n - 1) ** 2 for n in norms) / 4, rel=1e-10)


@pytest.mark.parametrize("cls,kind", [(WGANGP, "gp"), (DRAGAN, "dragan")])
def test_weight_gradient_equals_finite_differences(cls, kind):
    D = tiny_d(3)
    torch.manual_seed(4)
    real, fake = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 3, dtype=torch.float64)
    pen = cls(weight=10.0)

    def value():
        return pen(inputs_for(D, real, fake, seed=9))[kind]

    grads = torch.autograd.grad(value(), list(D.parameters()), allow_unused=True)  # D's last bias: no effect
    grads = [torch.zeros_like(p) if g is None else g for p, g in zip(D.parameters(), grads)]
    h = 1e-6
    for p, g in zip(D.parameters(), grads):
        fd = torch.zeros_like(p)
        for i in range(p.numel()):
            with torch.no_grad():
                p.view(-1)[i] += h
            up = value().item()
            with torch.no_grad():
                p.view(-1)[i] -= 2 * h
            down = value().item()
            with torch.no_grad():
                p.view(-1)[i] += h
            fd.view(-1)[i] = (up - down) / (2 * h)
        torch.testing.assert_close(g, fd, rtol=1e-5, atol=1e-8)
    assert any(g.abs().max() > 1e-3 for g in grads)


def _two_modules(make, seed=0):
    mods = []
    for interval in (1, 3):
        torch.manual_seed(seed)
        mods.append(bare_module(MLPGenerator(z_dim=3, out_dim=2, width=8, depth=2), {"p": make(interval)}))
    return mods


@pytest.mark.parametrize("make,term", [
    (lambda k: R1(gamma=1.0, interval=k), "r1"), (lambda k: R2(gamma=1.0, interval=k), "r2"),
    (lambda k: WGANGP(interval=k), "gp"), (lambda k: DRAGAN(interval=k), "dragan")])
def test_lazy_d_penalty_runs_every_k_steps_weighted_k(make, term):
    eager, lazy = _two_modules(make)
    real = torch.randn(4, 2)
    logs = {}
    for name, m in (("eager", eager), ("lazy", lazy)):
        for step in (0, 1, 3):
            m._z_gen = torch.Generator().manual_seed(0)
            _, out = m._d_loss(real, None, torch.Generator().manual_seed(1), 1.0, step)
            logs[name, step] = out.get(f"reg/{term}")
    assert logs["eager", 0] > 0
    assert logs["lazy", 0].item() == pytest.approx(3 * logs["eager", 0].item(), rel=1e-6)
    assert logs["lazy", 1] is None and logs["eager", 1] is not None and logs["lazy", 3] is not None


def test_lazy_ortho_runs_every_k_g_steps_weighted_k():
    eager, lazy = _two_modules(lambda k: OrthogonalRegularizer(beta=1.0, interval=k))
    logs = {}
    for name, m in (("eager", eager), ("lazy", lazy)):
        for it in (0, 1):
            m.iteration, m._z_gen = it, torch.Generator().manual_seed(0)
            _, out = m._g_loss(torch.randn(4, 2), None, torch.Generator().manual_seed(1))
            logs[name, it] = out.get("reg/ortho")
    assert logs["lazy", 0].item() == pytest.approx(3 * logs["eager", 0].item(), rel=1e-6)
    assert logs["lazy", 1] is None and logs["eager", 1] is not None


def test_weight_clipping_holds_after_every_d_step_and_leaves_g_alone():
    torch.manual_seed(0)
    module = bare_module(MLPGenerator(z_dim=3, out_dim=2, width=8, depth=2), {"clip": WeightClip(0.01)})
    g_before = [p.detach().clone() for p in module.G.parameters()]
    assert max(p.abs().max() for p in module.D.parameters()) > 0.1
    for step in range(4):
        module._z_gen = torch.Generator().manual_seed(step)
        module._d_step(torch.randn(4, 2), None, torch.Generator().manual_seed(step), 1.0, step)
        params = torch.cat([p.detach().flatten() for p in module.D.parameters()])
        assert params.abs().max() <= 0.01
        assert (params.abs() == 0.01).float().mean() > 0.5  # clipping happened, not a tiny optimizer step
    assert all(torch.equal(a, p) for a, p in zip(g_before, module.G.parameters()))


def _sigma(module):
    p = module.parametrizations.weight[0]
    W = module.weight.detach()
    return torch.linalg.matrix_norm(W.movedim(p.dim, 0).reshape(W.shape[p.dim], -1), ord=2).item()


@pytest.mark.parametrize("make,nets,n_layers", [
    (lambda: DCGAND(16, ndf=8), ["D"], 3), (lambda: MLPDiscriminator(width=16, depth=3), ["D"], 3),
    (lambda: DCGANG(16, z_dim=8, ngf=8), ["G"], 3)])
def test_spectral_norm_gives_sigma_one_on_every_wrapped_layer(make, nets, n_layers):
    torch.manual_seed(0)
    net = make()
    sn = SpectralNorm(nets=nets)
    net = sn.transform_discriminator(net) if nets == ["D"] else sn.transform_generator(net)
    layers = sn_layers(net)
    assert len(layers) == n_layers
    x = torch.randn(4, 3, 16, 16) if isinstance(net, DCGAND) else (
        torch.randn(4, 2) if isinstance(net, MLPDiscriminator) else torch.randn(4, 8))
    net.train()
    with torch.no_grad():
        for _ in range(100):  # warm-up: one power iteration per training-mode forward pass
            net(x)
    net.eval()
    for m in layers:
        assert _sigma(m) == pytest.approx(1.0, abs=1e-3)


def test_spectral_norm_u_v_survive_kill_and_resume_bit_exactly(tmp_path):
    base = [*TINY, "dataset=digits", "dataset.labels=false", "model=dcgan/tiny", "loss=hinge", "regularizer=sn_gd",
            "batch_size=16", "trainer.log_every_n_steps=1", "callbacks.checkpoint.every_kimg=0.032"]
    straight, cut = straight_and_resumed(tmp_path, base, 0.032, 0.064)
    a = torch.load(straight / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    b = torch.load(cut / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    uv = [k for k in a if k.endswith(("_u", "_v"))]
    assert any(k.startswith("D.") for k in uv) and any(k.startswith("G.") for k in uv)
    assert any(k.startswith("G_ema.") for k in uv)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_spectral_norm_respects_existing_parametrizations():
    from torch.nn.utils.parametrizations import spectral_norm

    D = MLPDiscriminator(width=8, depth=2)
    spectral_norm(D.net[0])
    before = copy.deepcopy(D.net[0].parametrizations.weight)
    SpectralNorm(nets=["D"]).transform_discriminator(D)
    assert len(D.net[0].parametrizations.weight) == len(before) == 1
