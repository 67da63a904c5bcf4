"""The adversarial losses against values computed by hand on small tensors."""

import math

import pytest
import torch

from gan_zoo.losses import Hinge, NonSaturating, RpGAN


def softplus(t: float) -> float:
    return math.log1p(math.exp(t))


REAL = torch.tensor([1.0, -0.5, 2.0])
FAKE = torch.tensor([0.0, 0.5, -1.0])


def test_rpgan_pairs_real_i_with_fake_i():
    # D: mean_i softplus(-(r_i - f_i)); differences 1, -1, 3
    expected_d = (softplus(-1.0) + softplus(1.0) + softplus(-3.0)) / 3
    expected_g = (softplus(1.0) + softplus(-1.0) + softplus(3.0)) / 3  # softplus(-(f_i - r_i))
    assert RpGAN().d(REAL, FAKE).item() == pytest.approx(expected_d, rel=1e-6)
    assert RpGAN().g(FAKE, REAL).item() == pytest.approx(expected_g, rel=1e-6)
    # pairing is elementwise: permuting the fakes changes the loss
    assert RpGAN().d(REAL, FAKE.flip(0)).item() != pytest.approx(expected_d, rel=1e-3)


def test_rpgan_g_treats_real_logits_as_constants():
    real = REAL.clone().requires_grad_(True)
    fake = FAKE.clone().requires_grad_(True)
    RpGAN().g(fake, real).backward()
    assert real.grad is None and fake.grad is not None
    with pytest.raises(ValueError, match="real_logits"):
        RpGAN().g(fake, None)


def test_non_saturating():
    expected_d = sum(softplus(-r) + softplus(f) for r, f in zip(REAL.tolist(), FAKE.tolist())) / 3
    expected_g = sum(softplus(-f) for f in FAKE.tolist()) / 3
    assert NonSaturating().d(REAL, FAKE).item() == pytest.approx(expected_d, rel=1e-6)
    assert NonSaturating().g(FAKE).item() == pytest.approx(expected_g, rel=1e-6)
    assert not NonSaturating.g_needs_real and RpGAN.g_needs_real


def test_hinge():
    expected_d = (max(0, 1 - 1.0) + max(0, 1 + 0.5) + max(0, 1 - 2.0) + max(0, 1 + 0.0) + max(0, 1 + 0.5)
                  + max(0, 1 - 1.0)) / 3
    assert Hinge().d(REAL, FAKE).item() == pytest.approx(expected_d, rel=1e-6)
    assert Hinge().g(FAKE).item() == pytest.approx(-(0.0 + 0.5 - 1.0) / 3, rel=1e-6)


def test_logits_of_shape_n1_are_accepted():
    assert RpGAN().d(REAL[:, None], FAKE[:, None]).item() == pytest.approx(RpGAN().d(REAL, FAKE).item())
