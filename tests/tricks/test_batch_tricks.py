"""Tricks that let D see the whole batch (minibatch discrimination, minibatch stddev, PacGAN packing) change D's
output on a sample when the batch around it collapses to one point; a plain D does not. Packing's shapes,
Salimans' equation by hand, and a mixture of generators choosing uniformly from z."""

from __future__ import annotations

import pytest
import torch

from gan_zoo.errors import ConfigError
from gan_zoo.models.mlp import MLPDiscriminator, MLPGenerator
from gan_zoo.models.pacgan import PacGANDiscriminator
from gan_zoo.tricks import MinibatchDiscrimination, MinibatchStd, Mixture, Pack
from gan_zoo.tricks.mixture import uniform_index


def _batches(n=8):
    torch.manual_seed(0)
    x0 = torch.tensor([[0.3, -0.2]])
    collapsed = x0.repeat(n, 1)
    diverse = torch.cat([x0, torch.randn(n - 1, 2)])
    return collapsed, diverse


@pytest.mark.parametrize("trick", [MinibatchDiscrimination(kernels=8, kernel_dim=3), MinibatchStd(group=0)])
def test_batch_features_change_the_logit_of_a_sample_when_the_batch_collapses(trick):
    torch.manual_seed(1)
    plain = MLPDiscriminator(in_dim=2, width=16, depth=3)
    collapsed, diverse = _batches()
    assert torch.allclose(plain(collapsed)[0], plain(diverse)[0])  # per-sample D: blind to the batch
    D = trick.transform_discriminator(plain)
    assert torch.equal(D(collapsed), D.head(D.features(collapsed)))
    assert abs(float(D(collapsed)[0] - D(diverse)[0])) > 1e-3
    # the same sample in two diverse batches: the batch term moves little, the collapsed one moves it most
    assert torch.allclose(D(collapsed)[0], D(collapsed)[-1])


def test_minibatch_discrimination_is_salimans_equation():
    torch.manual_seed(2)
    D = MinibatchDiscrimination(kernels=4, kernel_dim=3).transform_discriminator(MLPDiscriminator(2, width=5, depth=2))
    h = torch.randn(6, 5)
    M = (h @ D.T).view(6, 4, 3)
    by_hand = torch.zeros(6, 4)
    for i in range(6):
        for b in range(4):
            by_hand[i, b] = sum(torch.exp(-(M[i, b] - M[j, b]).abs().sum()) for j in range(6))
    assert torch.allclose(D.stat(h), by_hand, atol=1e-6)
    collapsed = D.stat(h[:1].repeat(6, 1))
    assert torch.allclose(collapsed, torch.full((6, 4), 6.0))  # every c_b = 1: o_b = N


def test_minibatch_std_is_the_group_std():
    D = MinibatchStd(group=2).transform_discriminator(MLPDiscriminator(2, width=5, depth=2))
    h = torch.tensor([[0.0, 2.0], [1.0, 4.0], [2.0, 2.0], [5.0, 8.0]])  # groups {0, 2}, {1, 3}
    s = D.stat(h)[:, 0]
    g0 = (torch.tensor([1.0, 0.0]) + 1e-8).sqrt().mean()  # stds 1 and 0
    g1 = (torch.tensor([4.0, 4.0]) + 1e-8).sqrt().mean()  # stds 2 and 2
    assert torch.allclose(s, torch.stack([g0, g1, g0, g1]))


@pytest.mark.parametrize("make", [lambda: MLPDiscriminator(in_dim=2, width=16, depth=3), PacGANDiscriminator])
def test_packing_judges_m_samples_and_sees_a_collapsed_pack(make):
    torch.manual_seed(3)
    D = Pack(m=4).transform_discriminator(make())
    collapsed, diverse = _batches(8)
    out = D(collapsed)
    assert out.shape == (2,)  # one logit per pack of 4
    a, b = float(D(collapsed)[0]), float(D(diverse)[0])
    assert abs(a - b) > 0.01 * abs(a)  # x0's pack: its partners change D's output
    first = next(m for m in D.modules() if isinstance(m, torch.nn.Linear))
    assert first.in_features == 8  # PacGAN: input_dim = num_xdim * num_packing
    with pytest.raises(ConfigError, match="trick.pack.m=4 does not divide a D batch of 6"):
        D(torch.zeros(6, 2))


def test_packing_an_image_discriminator_concatenates_channels():
    from hydra.utils import instantiate

    from tests.conftest import compose_run

    D = Pack(m=2).transform_discriminator(instantiate(compose_run(["model=r3gan/tiny"]).model.discriminator))
    assert D.from_rgb.in_channels == 6 and D(torch.randn(4, 3, 8, 8)).shape == (2,)


def test_mixture_chooses_each_generator_uniformly_and_deterministically():
    torch.manual_seed(4)
    G = Mixture(k=4).transform_generator(MLPGenerator(z_dim=3, width=8, depth=2))
    z = torch.randn(40_000, 3)
    idx = uniform_index(z[:, 0], 4)
    assert torch.allclose(torch.bincount(idx).float() / len(z), torch.full((4,), 0.25), atol=0.01)
    out = G(z[:8])
    for i in range(8):
        assert torch.allclose(out[i], G.generators()[int(idx[i])](z[i : i + 1])[0], atol=1e-6)
    assert not torch.equal(G.inner.net[0].weight, G.others[0].net[0].weight)  # independently initialised
    assert G.z_dim == 3 and torch.equal(G(z[:8]), out)
