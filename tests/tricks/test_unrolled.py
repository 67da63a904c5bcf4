"""Unrolled GAN: G's gradient through k functional D updates equals an explicit k-step computation written out
by hand, differs from the plain (k = 0) gradient, and the real D is left untouched (weights and grads)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gan_zoo.hooks import StepContext
from gan_zoo.losses import NonSaturating, RpGAN
from gan_zoo.models.mlp import MLPDiscriminator
from gan_zoo.regularizers.base import GStepInputs
from gan_zoo.tricks import Unrolled


def _problem(seed=0):
    torch.manual_seed(seed)
    G = nn.Linear(3, 2)
    D = MLPDiscriminator(in_dim=2, width=4, depth=3).requires_grad_(False)  # as in the G step
    z, real = torch.randn(6, 3), torch.randn(6, 2) + 1.0
    return G, D, z, real


def _discriminate(D):
    def discriminate(x, c):
        h = D.features(x, c)
        return D.head(h, c), h
    return discriminate


def _trick_grad(G, D, z, real, loss, steps, lr):
    fake = G(z)
    logits, h = _discriminate(D)(fake, None)
    inputs = GStepInputs(G, D, z, None, fake, logits, real=real, fake_features=h, discriminate=_discriminate(D),
                         ctx=StepContext(torch.Generator().manual_seed(0), 0.0, 0, "G", 0), loss=loss)
    terms = Unrolled(steps=steps, lr=lr).g_objective(inputs, {})
    G.zero_grad()
    terms["adv"].backward()
    return [p.grad.clone() for p in G.parameters()]


def _by_hand(G, D, z, real, loss, steps, lr):
    """The unroll of Metz et al. Eq. 5-7 with D's MLP written out as F.linear / leaky_relu."""
    W = [p.detach().clone().requires_grad_(True) for p in D.parameters()]  # w0, b0, w1, b1, w2, b2

    def d(x, w):
        for i in range(0, len(w) - 2, 2):
            x = F.leaky_relu(F.linear(x, w[i], w[i + 1]), 0.2)
        return F.linear(x, w[-2], w[-1]).squeeze(1)

    fake = G(z)
    for _ in range(steps):
        d_loss = F.softplus(-d(real, W)).mean() + F.softplus(d(fake, W)).mean()
        grads = torch.autograd.grad(d_loss, W, create_graph=True)
        W = [w - lr * g for w, g in zip(W, grads)]
    rl = d(real, W)
    g_loss = loss.g(d(fake, W), rl)
    G.zero_grad()
    g_loss.backward()
    return [p.grad.clone() for p in G.parameters()]


def test_unrolled_gradient_equals_the_explicit_k_step_computation():
    G, D, z, real = _problem()
    before = {n: p.clone() for n, p in D.state_dict().items()}
    for steps in (1, 3):
        got = _trick_grad(G, D, z, real, NonSaturating(), steps, lr=0.5)
        want = _by_hand(G, D, z, real, NonSaturating(), steps, lr=0.5)
        for a, b in zip(got, want):
            assert torch.allclose(a, b, rtol=1e-5, atol=1e-7)
    plain = _by_hand(G, D, z, real, NonSaturating(), 0, lr=0.5)
    unrolled = _trick_grad(G, D, z, real, NonSaturating(), 3, lr=0.5)
    assert max(float((a - b).abs().max()) for a, b in zip(plain, unrolled)) > 1e-3  # the unroll matters
    # the real D is unchanged and gets no gradient
    assert all(torch.equal(before[n], p) for n, p in D.state_dict().items())
    assert all(p.grad is None for p in D.parameters())


def test_unrolled_gradient_flows_through_the_unroll():
    """d theta_D^K / d theta_G is part of G's gradient: the first-order variant (unroll detached) differs."""
    G, D, z, real = _problem(1)
    full = _trick_grad(G, D, z, real, NonSaturating(), 3, lr=0.5)
    fake = G(z)
    logits, h = _discriminate(D)(fake, None)
    inputs = GStepInputs(G, D, z, None, fake, logits, real=real, fake_features=h, discriminate=_discriminate(D),
                         ctx=StepContext(torch.Generator().manual_seed(0), 0.0, 0, "G", 0), loss=NonSaturating())
    terms = Unrolled(steps=3, lr=0.5, second_order=False).g_objective(inputs, {})
    G.zero_grad()
    terms["adv"].backward()
    first = [p.grad.clone() for p in G.parameters()]
    assert max(float((a - b).abs().max()) for a, b in zip(full, first)) > 1e-4


def test_unrolled_with_a_loss_that_needs_real_logits():
    G, D, z, real = _problem(2)
    got = _trick_grad(G, D, z, real, RpGAN(), 0 + 2, lr=0.3)
    assert all(torch.isfinite(g).all() for g in got)


def test_unroll_leaves_a_batchnorm_ds_statistics_alone():
    from gan_zoo.tricks.unrolled import unrolled_params

    class BND(nn.Module):
        def __init__(self):
            super().__init__()
            self.trunk = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.LeakyReLU(0.2))
            self.out = nn.Linear(8, 1)

        def features(self, x, c=None):
            return self.trunk(x)

        def head(self, h, c=None):
            return self.out(h).squeeze(1)

    torch.manual_seed(0)
    D, G = BND(), nn.Linear(3, 2)
    z, real = torch.randn(6, 3), torch.randn(6, 2) + 1.0
    before = {n: b.clone() for n, b in D.named_buffers()}
    unrolled_params(D, _discriminate(D), NonSaturating(), real, G(z), None, 3, 0.1)
    assert all(torch.equal(before[n], b) for n, b in D.named_buffers())
