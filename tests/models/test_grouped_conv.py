"""The grouped convolution with a grouped backward (gan_zoo.models.grouped_conv): first- and second-order
gradients against autograd's finite differences in float64, and the R3GAN networks' losses (RpGAN + R1 + R2,
the G loss) and gradients unchanged by switching it on, on a fixed batch in fp32."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gan_zoo.errors import ConfigError
from gan_zoo.losses import RpGAN
from gan_zoo.models import grouped_conv
from gan_zoo.models.grouped_conv import GroupedConv2d, grouped_conv2d
from gan_zoo.models.layers import GroupedConv2d as GroupedConvLayer
from gan_zoo.models.r3gan import Discriminator, Generator
from gan_zoo.regularizers.gradient_penalty import squared_grad_norm

SHAPES = [  # (in_ch, out_ch, groups, kernel, stride, padding, size)
    (4, 6, 2, 3, 1, 1, 4),
    (4, 4, 4, 4, 2, 1, 6),   # depthwise, strided (the FIR downsampler's shape)
    (4, 4, 2, 3, 2, 1, 5),   # odd size: output_padding
    (2, 4, 2, 1, 1, 0, 3),
]


@pytest.mark.parametrize("cin,cout,groups,k,stride,pad,size", SHAPES)
def test_gradcheck_and_gradgradcheck_float64(cin, cout, groups, k, stride, pad, size):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, cin, size, size, dtype=torch.float64, generator=gen, requires_grad=True)
    w = torch.randn(cout, cin // groups, k, k, dtype=torch.float64, generator=gen, requires_grad=True)

    def f(x, w):
        return GroupedConv2d.apply(x, w, stride, pad, groups)

    assert torch.allclose(f(x, w), F.conv2d(x, w, None, stride, pad, 1, groups))
    assert torch.autograd.gradcheck(f, (x, w))
    assert torch.autograd.gradgradcheck(f, (x, w))


def test_penalty_graph_matches_autograd_float64():
    """R1's quantity through two grouped layers and a nonlinearity: value and d/dw equal to plain conv2d."""
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(3, 8, 6, 6, dtype=torch.float64, generator=gen)
    w1 = torch.randn(8, 4, 3, 3, dtype=torch.float64, generator=gen, requires_grad=True)
    w2 = torch.randn(4, 4, 3, 3, dtype=torch.float64, generator=gen, requires_grad=True)

    def penalty(conv):
        xi = x.clone().requires_grad_(True)
        h = F.leaky_relu(conv(xi, w1, 2), 0.2)
        logits = conv(h, w2, 2).square().sum(dim=(1, 2, 3))
        p = squared_grad_norm(logits, xi)
        return p, torch.autograd.grad(p, (w1, w2))

    ours = penalty(lambda x, w, g: GroupedConv2d.apply(x, w, 1, 1, g))
    ref = penalty(lambda x, w, g: F.conv2d(x, w, None, 1, 1, 1, g))
    torch.testing.assert_close(ours[0], ref[0], rtol=1e-10, atol=0)
    for a, b in zip(ours[1], ref[1]):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def _losses(G, D, z, c, real, gamma=1.0):
    """RpGAN D loss + (gamma/2)(R1 + R2) and the G loss, with every gradient, as the training step does."""
    fake = G(z, c).detach().requires_grad_(True)
    real = real.clone().requires_grad_(True)
    rl, fl = D(real, c), D(fake, c)
    d_total = RpGAN().d(rl, fl) + gamma / 2 * (squared_grad_norm(rl, real) + squared_grad_norm(fl, fake))
    d_grads = torch.autograd.grad(d_total, list(D.parameters()))
    fake = G(z, c)
    g_total = RpGAN().g(D(fake, c), D(real.detach(), c).detach())
    g_grads = torch.autograd.grad(g_total, list(G.parameters()))
    return d_total.detach(), g_total.detach(), d_grads, g_grads


def test_r3gan_losses_identical_with_and_without(monkeypatch):
    torch.manual_seed(0)
    G = Generator(8, 32, z_dim=8, c_dim=3, expansion=2.0, channels_per_group=16)
    D = Discriminator(8, 32, c_dim=3, expansion=2.0, channels_per_group=16)
    with torch.no_grad():  # fix-up init zeroes the last conv of each block: wake them so the test sees them
        for net in (G, D):
            for m in net.modules():
                if hasattr(m, "project"):
                    m.project.weight.normal_(0, 0.05)
    assert any(isinstance(m, GroupedConvLayer) for m in D.modules())
    gen = torch.Generator().manual_seed(0)
    z, real = torch.randn(4, 8, generator=gen), torch.rand(4, 3, 8, 8, generator=gen) * 2 - 1
    c = F.one_hot(torch.arange(4) % 3, 3).float()
    monkeypatch.setenv("GAN_ZOO_GROUPED_CONV", "all")
    ours = _losses(G, D, z, c, real)
    monkeypatch.setenv("GAN_ZOO_GROUPED_CONV", "off")
    ref = _losses(G, D, z, c, real)
    torch.testing.assert_close(ours[0], ref[0], rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(ours[1], ref[1], rtol=1e-6, atol=1e-6)
    for a, b in zip(ours[2] + ours[3], ref[2] + ref[3]):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_mode_switch(monkeypatch):
    x = torch.zeros(1, 4, 3, 3)
    monkeypatch.setenv("GAN_ZOO_GROUPED_CONV", "off")
    assert not grouped_conv.enabled(x)
    monkeypatch.delenv("GAN_ZOO_GROUPED_CONV")
    assert grouped_conv.enabled(x)  # default: on for CPU tensors
    w = torch.randn(4, 2, 3, 3, requires_grad=True)
    assert type(grouped_conv2d(x, w, 1, 1, 2).grad_fn).__name__ == "GroupedConv2dBackward"
    monkeypatch.setenv("GAN_ZOO_GROUPED_CONV", "sometimes")
    with pytest.raises(ConfigError, match="GAN_ZOO_GROUPED_CONV"):
        grouped_conv.enabled(x)
