"""Paper-exact truncation: resample every |z_i| > t (BigGAN Sec. 3.1)."""

import numpy as np
import pytest
import torch
from scipy import stats

from gan_zoo.sampling import truncated_normal


@pytest.mark.parametrize("t", [0.1, 0.5, 1.0, 2.0])
def test_truncated_z_stays_inside_and_follows_the_conditional_normal(t):
    z = truncated_normal((4000, 5), t, torch.Generator().manual_seed(0))
    assert z.shape == (4000, 5) and float(z.abs().max()) <= t
    sample = z.flatten().double().numpy()
    assert stats.kstest(sample, stats.truncnorm(-t, t).cdf).pvalue > 0.01
    # the test has power: the clamped (mmgeneration) and rescaled (BigGAN-PyTorch's z_var) laws are rejected
    plain = torch.randn(20000, generator=torch.Generator().manual_seed(1))
    for wrong in (plain.clamp(-t, t), plain * (t / 3)):
        assert stats.kstest(wrong.double().numpy(), stats.truncnorm(-t, t).cdf).pvalue < 1e-6


def test_no_truncation_and_bad_thresholds():
    g = torch.Generator().manual_seed(3)
    z = truncated_normal((1000,), None, g)
    assert torch.equal(z, torch.randn(1000, generator=torch.Generator().manual_seed(3)))
    assert float(z.abs().max()) > 2  # untruncated
    with pytest.raises(ValueError, match="truncation threshold"):
        truncated_normal((3,), 0.0)
    assert np.isfinite(truncated_normal((10,), 0.01, g).numpy()).all()
