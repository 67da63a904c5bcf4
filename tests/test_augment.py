"""Differentiable augmentation: identity at p=0, seeded, double-backprop safe, ops do what they say."""

import pytest
import torch
from torch import nn

from gan_zoo.augment import Augment
from gan_zoo.errors import ConfigError


def test_p_zero_is_identity_and_ops_are_seeded():
    x = torch.randn(4, 3, 8, 8)
    aug = Augment(xflip=1, rotate=1, brightness=0.5, cutout=1)
    assert aug(x) is x
    aug.p = 1.0
    a = aug(x, torch.Generator().manual_seed(0))
    b = aug(x, torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and not torch.allclose(a, x)


def test_xflip_only_flips_exactly():
    x = torch.arange(2 * 3 * 4 * 4, dtype=torch.float32).view(2, 3, 4, 4)
    aug = Augment(xflip=1)
    aug.p = 1.0
    out = aug(x, torch.Generator().manual_seed(1))
    for i in range(2):  # each image is either itself or its mirror, reproduced exactly by grid_sample
        assert torch.allclose(out[i], x[i], atol=1e-4) or torch.allclose(out[i], x[i].flip(-1), atol=1e-4)


def test_cutout_zeroes_a_quarter_of_the_image():
    x = torch.ones(3, 3, 16, 16)
    aug = Augment(cutout=1)
    aug.p = 1.0
    out = aug(x, torch.Generator().manual_seed(0))
    zero_fraction = (out == 0).float().mean(dim=(1, 2, 3))
    assert torch.all(zero_fraction <= 0.25 + 1e-6) and torch.all(zero_fraction > 0)


def test_double_backprop_through_the_pipeline():
    conv = nn.Conv2d(3, 1, 3)
    aug = Augment(xflip=1, rot90=1, int_translate=1, scale=1, rotate=1, aniso=1, frac_translate=1,
                  brightness=1, contrast=1, saturation=1, cutout=1)
    aug.p = 0.9
    x = torch.randn(4, 3, 8, 8, requires_grad=True)
    (grad,) = torch.autograd.grad(conv(aug(x, torch.Generator().manual_seed(0))).sum(), x, create_graph=True)
    grad.square().sum().backward()
    assert conv.weight.grad is not None and conv.weight.grad.abs().sum() > 0


def test_unknown_op_and_bad_multiplier():
    with pytest.raises(ConfigError, match="augment.blur"):
        Augment(blur=1)
    with pytest.raises(ConfigError, match="augment.xflip"):
        Augment(xflip=2)
