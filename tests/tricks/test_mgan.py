"""MGAN's classifier head on the mixture trick (Hoang et al. 2018): C learns which generator made a fake, the
generators' diversity term pushes them apart (gradient sign on a hand-made problem), and C is in the
checkpoint."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from gan_zoo.checkpoint import load_checkpoint
from gan_zoo.errors import ConfigError
from gan_zoo.models.mlp import MLPDiscriminator, MLPGenerator
from gan_zoo.tricks import Mixture
from gan_zoo.tricks.mixture import uniform_index
from tests.helpers import TINY, read_losses, train_run


def _materialise(trick: Mixture, G, D):
    trick.check(SimpleNamespace(G=G, D=D, hooks=SimpleNamespace(parts={"mixture": trick})))


def test_classifier_head_learns_which_generator_made_a_fake():
    torch.manual_seed(0)
    trick = Mixture(k=3, classifier_weight=1.0)
    G = trick.transform_generator(MLPGenerator(z_dim=4, width=16, depth=2)).requires_grad_(False)
    for k, g in enumerate(G.generators()):  # three generators whose samples lie apart (centres 1.5 apart)
        last = [m for m in g.modules() if isinstance(m, nn.Linear)][-1]
        last.bias.data = torch.tensor([1.5 * k, 0.0])
    D = trick.transform_discriminator(MLPDiscriminator(in_dim=2, width=32, depth=2))
    _materialise(trick, G, D)
    opt = torch.optim.Adam(D.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(1)
    accs = []
    for _ in range(300):
        z = torch.randn(128, 4, generator=gen)
        fake = G(z)
        loss = trick.d_terms(SimpleNamespace(D=D, fake_features=D.features(fake), z=z))["mgan"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        accs.append(trick.logs(0.0)["classifier_acc"])
    assert sum(accs[:5]) / 5 < 0.6  # chance is 1/3
    z = torch.randn(2000, 4, generator=gen)
    with torch.no_grad():
        pred = D.mgan_c(D.features(G(z))).argmax(1)
    assert float((pred == uniform_index(z[:, 0], 3)).float().mean()) > 0.9


class _Point(nn.Module):
    """A generator that ignores z and puts every sample on one learnable point."""

    def __init__(self) -> None:
        super().__init__()
        self.z_dim, self.c_dim = 2, 0
        self.theta = nn.Parameter(torch.zeros(2))

    def forward(self, z, c=None):
        return self.theta.expand(len(z), 2)


class _Identity(nn.Module):
    def features(self, x, c=None):
        return x

    def head(self, h, c=None):
        return h.sum(1)


def test_diversity_term_pushes_the_generators_apart():
    """Two point generators at (+-0.1, 0) and C's logits (x, -x): the term's gradient moves G_0 to +x and
    G_1 to -x (apart), matches finite differences, and a step of it increases their distance."""
    trick = Mixture(k=2, classifier_weight=0.5)
    G = trick.transform_generator(_Point())
    D = trick.transform_discriminator(_Identity())
    _materialise(trick, G, D)
    with torch.no_grad():
        G.inner.theta.copy_(torch.tensor([0.1, 0.0]))
        G.others[0].theta.copy_(torch.tensor([-0.1, 0.0]))
        D.mgan_c.weight.copy_(torch.tensor([[1.0, 0.0], [-1.0, 0.0]]))
        D.mgan_c.bias.zero_()
    z = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))

    def term() -> torch.Tensor:
        fake = G(z)
        return trick.g_objective(SimpleNamespace(D=D, fake_features=D.features(fake), z=z), {})["mgan"]

    loss = term()
    g0, g1 = torch.autograd.grad(loss, [G.inner.theta, G.others[0].theta])
    assert g0[0] < 0 < g1[0] and g0[1] == 0 == g1[1]  # descent: G_0 to +x, G_1 to -x
    eps = 1e-3
    with torch.no_grad():
        G.inner.theta[0] += eps
        up = term()
        G.inner.theta[0] -= 2 * eps
        down = term()
        G.inner.theta[0] += eps
    assert float((up - down) / (2 * eps)) == pytest.approx(float(g0[0]), rel=1e-3)
    # by hand: d/dtheta_0x of 0.5 * n_0/N * softplus(-2 theta_0x) = -0.5 * n_0/N * 2 sigmoid(-0.2)
    n0 = int((uniform_index(z[:, 0], 2) == 0).sum())
    assert float(g0[0]) == pytest.approx(-0.5 * n0 / 64 * 2 * torch.sigmoid(torch.tensor(-0.2)).item(), rel=1e-5)
    before = (G.inner.theta - G.others[0].theta).norm()
    with torch.no_grad():
        G.inner.theta -= 0.1 * g0
        G.others[0].theta -= 0.1 * g1
    assert (G.inner.theta - G.others[0].theta).norm() > before


def test_mgan_trains_and_its_classifier_is_in_the_checkpoint(tmp_path):
    train_run(["dataset=toy2d_ring", "model=mlp", "loss=ns", "regularizer=none", "batch_size=64",
               "total_kimg=1.28", "trick=[mixture]", "trick.mixture.k=3", "trick.mixture.classifier_weight=1.0",
               "trainer.log_every_n_steps=1", "callbacks.samples.every_kimg=100",
               "callbacks.checkpoint.every_kimg=100"], tmp_path)
    rows = read_losses(tmp_path)
    acc = [r["trick/mixture/classifier_acc"] for r in rows if "trick/mixture/classifier_acc" in r]
    assert len(acc) == 20 and all("trick/mgan" in r for r in rows if "loss/g" in r)
    first, last = sum(acc[:5]) / 5, sum(acc[-5:]) / 5
    assert first < 0.45 and last > first + 0.2, acc  # chance 1/3; measured 0.30 -> 0.70 in 20 steps
    state = load_checkpoint(tmp_path / "checkpoints" / "last.ckpt")["state_dict"]
    assert {"D.mgan_c.weight", "D.mgan_c.bias"} <= set(state) and state["D.mgan_c.weight"].shape == (3, 128)


@pytest.mark.parametrize(("overrides", "needle"), [
    (["trick=[mixture,replay]", "trick.mixture.classifier_weight=1"], "trick.mixture (classifier_weight > 0) "
                                                                       "with trick.replay"),
    (["trick=[mixture]", "trick.mixture.k=1", "trick.mixture.classifier_weight=1"], "k >= 2"),
])
def test_incompatible_mgan_options_fail_in_one_line(overrides, needle, tmp_path):
    with pytest.raises(ConfigError) as err:
        train_run([*TINY, "dataset=toy2d_ring", "model=mlp", "loss=ns", "regularizer=none", *overrides], tmp_path)
    assert needle in str(err.value) and "\n" not in str(err.value)
