"""Every trick composes with the MLP (2-D points) and R3GAN (images) models in a real training run, and the
incompatible combinations fail before training with one line naming the keys."""

from __future__ import annotations

import math

import pytest

from gan_zoo.errors import ConfigError
from tests.helpers import TINY, read_losses, train_run

RING = ["dataset=toy2d_ring", "model=mlp", "loss=ns", "regularizer=none"]
POINT_TRICKS = ["pack", "minibatch_discrimination", "minibatch_std", "feature_matching", "unrolled", "replay",
                "mixture", "infogan", "instance_noise"]
IMAGE_TRICKS = [*POINT_TRICKS, "diffaugment"]
SMALL = ["trick.unrolled.steps=2"]


def _finite_losses(run_dir):
    rows = [r for r in read_losses(run_dir) if "loss/d" in r]
    assert rows and all(math.isfinite(r["loss/d"]) for r in rows)
    return rows


@pytest.mark.parametrize("trick", POINT_TRICKS)
def test_each_trick_trains_the_mlp(trick, tmp_path):
    extra = ["model.z_dim=16", "trick.infogan.categories=8"] if trick == "infogan" else []
    extra += ["trick.unrolled.steps=2"] if trick == "unrolled" else []
    train_run([*TINY, *RING, f"trick=[{trick}]", "trainer.log_every_n_steps=1", *extra], tmp_path)
    _finite_losses(tmp_path)


@pytest.mark.parametrize("model", ["r3gan/tiny", "dcgan/tiny"])
@pytest.mark.parametrize("trick", IMAGE_TRICKS)
def test_each_trick_trains_the_image_models(trick, model, tmp_path):
    extra = ["trick.unrolled.steps=1"] if trick == "unrolled" else []
    train_run([*TINY, f"model={model}", f"trick=[{trick}]", "trainer.log_every_n_steps=1", *extra], tmp_path)
    _finite_losses(tmp_path)


def test_tricks_stack(tmp_path):
    train_run([*TINY, *RING, "batch_size=16", "trick=[mixture,pack,minibatch_discrimination,unrolled,replay]",
               "trick.unrolled.steps=2", "trainer.log_every_n_steps=1"], tmp_path)
    _finite_losses(tmp_path)


@pytest.mark.parametrize(("overrides", "needle"), [
    (["trick=[pack]", "trick.pack.m=3", "batch_size=8"], "trick.pack.m=3 does not divide batch_size=8"),
    (["trick=[infogan]", "model.z_dim=4", "trick.infogan.categories=8"], "model.z_dim=4"),
    (["trick=[infogan,replay]", "model.z_dim=16"], "trick.infogan with trick.replay"),
    (["trick=[diffaugment]"], "trick diffaugment"),
])
def test_incompatible_combination_fails_before_training_in_one_line(overrides, needle, tmp_path):
    with pytest.raises(ConfigError) as err:
        train_run([*TINY, *RING, *overrides], tmp_path)
    assert needle in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "metrics.csv").exists() or not [r for r in read_losses(tmp_path) if "loss/d" in r]


def test_feature_matching_refuses_a_discriminator_without_features():
    from torch import nn

    from gan_zoo.tricks import FeatureMatching

    class Plain(nn.Module):
        def forward(self, x, c=None):
            return x.sum(1)

    class Module:
        D = Plain()

    with pytest.raises(ConfigError, match="trick.feature_matching needs a discriminator with features"):
        FeatureMatching().check(Module())
