"""G_ema by half-life (ProGAN Sec. 4.1; R3GAN App. B): G_ema <- beta G_ema + (1 - beta) G with beta =
0.5 ** (batch / half-life images); parameters are averaged towards G, buffers copied from G."""

import pytest
import torch
from torch import nn

from gan_zoo.ema import ema_beta, update_ema


def test_beta_halves_the_memory_every_half_life():
    assert ema_beta(64, 0.064) == pytest.approx(0.5)
    assert ema_beta(32, 10.0) ** (10_000 / 32) == pytest.approx(0.5)  # 10 kimg of batches of 32
    assert ema_beta(64, 0.0) == 0.0 and ema_beta(64, -1.0) == 0.0  # half-life 0: G_ema is a copy of G


def test_update_moves_parameters_towards_g_and_copies_buffers():
    ema, model = nn.BatchNorm1d(3), nn.BatchNorm1d(3)
    with torch.no_grad():
        ema.weight.fill_(0.0), ema.bias.fill_(2.0)
        model.weight.fill_(1.0), model.bias.fill_(-2.0)
        model.running_mean.fill_(5.0), model.num_batches_tracked.fill_(7)
    update_ema(ema, model, beta=0.9)
    torch.testing.assert_close(ema.weight, torch.full((3,), 0.1))  # 0.9 * 0 + 0.1 * 1
    torch.testing.assert_close(ema.bias, torch.full((3,), 1.6))  # 0.9 * 2 + 0.1 * (-2)
    assert torch.equal(ema.running_mean, torch.full((3,), 5.0)) and int(ema.num_batches_tracked) == 7
    assert torch.equal(model.weight, torch.ones(3))  # G itself is untouched
    update_ema(ema, model, beta=0.0)
    assert torch.equal(ema.weight, model.weight) and torch.equal(ema.bias, model.bias)
