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
    """At p = 1 each image is flipped with probability 1/2 (ADA's xflip): exactly itself or exactly its mirror,
    and of 64 images both kinds occur, about half each."""
    x = torch.arange(64 * 3 * 4 * 4, dtype=torch.float32).view(64, 3, 4, 4)
    aug = Augment(xflip=1)
    aug.p = 1.0
    out = aug(x, torch.Generator().manual_seed(1))
    same = torch.isclose(out, x, atol=1e-3).flatten(1).all(1)
    mirrored = torch.isclose(out, x.flip(-1), atol=1e-3).flatten(1).all(1)
    assert torch.all(same ^ mirrored), "every image is itself or its mirror, reproduced exactly by grid_sample"
    assert 16 <= int(mirrored.sum()) <= 48, f"{int(mirrored.sum())} of 64 flipped; expected about half"


def test_probability_gates_each_op_per_sample():
    """ADA applies each op to each image with probability p * multiplier: at p = 0.5, xflip (then a fair coin)
    mirrors about a quarter of 400 images and cutout (multiplier 1) holes about half of them."""
    x = torch.arange(400 * 4 * 4, dtype=torch.float32).view(400, 1, 4, 4) + 1
    aug = Augment(xflip=1)
    aug.p = 0.5
    mirrored = torch.isclose(aug(x, torch.Generator().manual_seed(2)), x.flip(-1), atol=1e-3).flatten(1).all(1)
    assert 0.17 < mirrored.float().mean() < 0.33  # binomial(400, 1/4): sd 0.022
    aug = Augment(cutout=1)
    aug.p = 0.5
    holed = (aug(x, torch.Generator().manual_seed(3)) == 0).flatten(1).any(1)
    assert 0.4 < holed.float().mean() < 0.6  # binomial(400, 1/2): sd 0.025


def cutout_boxes(out: torch.Tensor) -> list[tuple[int, int, bool, bool]]:
    """(rows, cols, clipped in y, clipped in x) of each image's zeroed region, which must be one rectangle."""
    boxes = []
    for img in out:
        zero = (img == 0).all(0)
        rows, cols = zero.any(1).nonzero().flatten(), zero.any(0).nonzero().flatten()
        h, w = len(rows), len(cols)
        assert zero.sum() == h * w and (rows.max() - rows.min() + 1) == h and (cols.max() - cols.min() + 1) == w
        side = zero.shape[0]
        boxes.append((h, w, rows.min() == 0 or rows.max() == side - 1, cols.min() == 0 or cols.max() == side - 1))
    return boxes


def test_cutout_zeroes_a_square_of_half_the_image_side():
    """ADA's cutout: a zeroed square of half the image size (8 px of 16) at a uniform random centre, clipped at
    the borders; so a quarter of the image when it lies inside."""
    x = torch.ones(64, 3, 16, 16)
    aug = Augment(cutout=1)
    aug.p = 1.0
    boxes = cutout_boxes(aug(x, torch.Generator().manual_seed(0)))
    for h, w, clipped_y, clipped_x in boxes:
        assert (h == 8 or clipped_y and 0 < h < 8) and (w == 8 or clipped_x and 0 < w < 8), (h, w)
    inside = [b for b in boxes if b[:2] == (8, 8)]
    assert len(inside) >= 8  # P(centre within [1/4, 3/4]^2) = 1/4: about 16 of 64 are a full 8 x 8 hole


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
