"""InfoGAN: the codes are a deterministic function of z written into G's latent, Q sits on D's trunk (so D's
optimizer trains it), and the mutual-information term falls in a short run."""

from __future__ import annotations

import math

import torch

from gan_zoo.checkpoint import load_checkpoint
from gan_zoo.models.mlp import MLPGenerator
from gan_zoo.tricks import InfoGAN
from gan_zoo.tricks.infogan import codes_of
from tests.helpers import read_losses, train_run


def test_codes_are_written_into_the_latent():
    G = InfoGAN(categories=4, continuous=2).transform_generator(MLPGenerator(z_dim=8, width=8, depth=2))
    z = torch.randn(1000, 8)
    zc = G.with_codes(z)
    k, u = codes_of(z, 4, 2)
    assert torch.equal(zc[:, :4], torch.nn.functional.one_hot(k, 4).float())
    assert torch.allclose(zc[:, 4:6], u) and (u.abs() < 1).all() and torch.equal(zc[:, 6:], z[:, 6:])
    assert abs(float(u.mean())) < 0.1 and abs(float(u.var()) - 1 / 3) < 0.05  # U(-1, 1)


def test_mutual_information_term_falls_in_a_short_run(tmp_path):
    train_run(["dataset=toy2d_ring", "model=mlp", "model.z_dim=16", "model.generator.width=64",
               "model.discriminator.width=64", "loss=ns", "regularizer=none", "batch_size=64", "total_kimg=3.2",
               "trick=[infogan]", "trick.infogan.categories=8", "trick.infogan.continuous=1",
               "schedule.lr.start=2e-3", "schedule.lr.end=2e-3", "trainer.log_every_n_steps=1",
               "callbacks.samples.every_kimg=100", "callbacks.checkpoint.every_kimg=100", "metrics=none"], tmp_path)
    info = [r["trick/info"] for r in read_losses(tmp_path) if "trick/info" in r]
    assert len(info) == 50
    first, last = sum(info[:5]) / 5, sum(info[-5:]) / 5
    # at the start: CE ~ log 8 = 2.08 plus 1/2 E u^2 = 1/6; the lower bound tightens as G and Q learn
    assert first > 0.8 * math.log(8) and last < 0.75 * first, (first, last)  # measured: 2.25 -> 1.56
    state = load_checkpoint(tmp_path / "checkpoints" / "last.ckpt")["state_dict"]
    assert any(k.startswith("D.info_q.") for k in state)  # Q is part of D: trained by D's optimizer, saved
