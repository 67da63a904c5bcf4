"""Feature matching is Salimans' objective on D's trunk features (alone or added), and DiffAugment's three
operations do what Zhao et al. describe, differentiably and from the step's seeded generator."""

from __future__ import annotations

import pytest
import torch

from gan_zoo.hooks import StepContext
from gan_zoo.regularizers.base import GStepInputs
from gan_zoo.tricks import DiffAugment, FeatureMatching
from gan_zoo.tricks.diffaugment import cutout, translation


@pytest.mark.parametrize("mode", ["replace", "add"])
def test_feature_matching_is_the_squared_distance_of_the_feature_means(mode):
    real = torch.tensor([[1.0, 2.0], [3.0, 0.0]])  # mean (2, 1)
    fake = torch.tensor([[0.0, 0.0], [1.0, 1.0]], requires_grad=True)  # mean (0.5, 0.5)
    inputs = GStepInputs(None, None, None, None, None, None, real_features=real, fake_features=fake)
    terms = FeatureMatching(weight=2.0, mode=mode).g_objective(inputs, {"adv": torch.tensor(5.0)})
    assert float(terms["feature_matching"]) == pytest.approx(2.0 * (1.5**2 + 0.5**2))
    assert ("adv" in terms) == (mode == "add")
    terms["feature_matching"].backward()
    # d/d fake_i of w ||m_r - m_f||^2 = -2 w (m_r - m_f) / N
    assert torch.allclose(fake.grad, torch.tensor([[-3.0, -1.0], [-3.0, -1.0]]))


def _ctx(seed=0):
    return StepContext(torch.Generator().manual_seed(seed), 0.0, 0, "D", 0)


def test_translation_shifts_whole_pixels_with_zero_padding():
    x = torch.arange(64.0).view(1, 1, 8, 8).repeat(16, 1, 1, 1)
    out = translation(x, _ctx().gen, ratio=0.125)  # shifts of -1, 0, 1 pixels
    for img in out:
        ys, xs = torch.nonzero(img[0] == 27.0, as_tuple=True)  # the pixel (3, 3) of the input
        assert len(ys) == 1 and abs(int(ys) - 3) <= 1 and abs(int(xs) - 3) <= 1
        dy, dx = 3 - int(ys), 3 - int(xs)
        assert torch.equal(img[0], torch.roll(x[0, 0], (-dy, -dx), (0, 1)) * _valid(dy, dx))


def _valid(dy, dx):
    m = torch.ones(8, 8)
    if dy > 0:
        m[-dy:] = 0
    if dy < 0:
        m[:-dy] = 0
    if dx > 0:
        m[:, -dx:] = 0
    if dx < 0:
        m[:, :-dx] = 0
    return m


def test_cutout_zeroes_a_square_of_half_the_size():
    x = torch.ones(64, 3, 8, 8)
    out = cutout(x, _ctx().gen, ratio=0.5)
    zeros = (out[:, 0] == 0).sum((1, 2))
    # 4x4 at a centre uniform on 0..8, clipped at the border: whole in (5/9)^2 = 31 % of the images
    assert (zeros <= 16).all() and 0.2 < (zeros == 16).float().mean() < 0.45 and (zeros > 0).all()
    assert torch.equal(out[:, 0], out[:, 2])  # the same square on every channel


def test_diffaugment_is_differentiable_and_seeded():
    x = torch.randn(4, 3, 8, 8, requires_grad=True)
    aug = DiffAugment()
    a, b = aug.d_input(x, _ctx(3)), aug.d_input(x, _ctx(3))
    assert torch.equal(a, b) and not torch.equal(a, aug.d_input(x, _ctx(4)))
    a.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
