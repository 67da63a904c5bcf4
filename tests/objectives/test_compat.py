"""Impossible compositions fail before training with one line naming the keys; dubious ones warn."""

import warnings

import pytest
from hydra.utils import instantiate
from torch.nn.utils.parametrizations import spectral_norm

from gan_zoo.compat import CompositionWarning, check_objectives
from gan_zoo.errors import ConfigError
from tests.helpers import TINY, train_run


def composed(compose_cfg, *over):
    cfg = compose_cfg(["dataset=digits", "dataset.resolution=16", "dataset.labels=false", "model=dcgan/tiny", *over])
    return cfg, instantiate(cfg.model.discriminator)


def caught(cfg, D):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        check_objectives(cfg, D)
    return [str(x.message) for x in w if issubclass(x.category, CompositionWarning)]


def test_clipping_with_spectral_norm_on_d_fails_before_training(tmp_path):
    with pytest.raises(ConfigError) as err:
        train_run([*TINY, "dataset=digits", "dataset.labels=false", "model=dcgan/tiny", "loss=wasserstein",
                   "regularizer=[clip,sn]"], tmp_path)
    msg = str(err.value)
    assert "\n" not in msg and "regularizer.clip" in msg and "regularizer.sn" in msg
    assert not (tmp_path / "checkpoints").exists()


def test_clipping_with_a_d_that_is_spectrally_normalised_by_construction(compose_cfg):
    cfg, D = composed(compose_cfg, "loss=wasserstein", "regularizer=clip")
    spectral_norm(D.out)
    with pytest.raises(ConfigError, match="regularizer.clip .* model=dcgan_tiny"):
        check_objectives(cfg, D)


def test_spectral_norm_on_g_only_is_compatible_with_clipping(compose_cfg):
    cfg, D = composed(compose_cfg, "loss=wasserstein", "regularizer=[clip,sn]", "regularizer.sn.nets=[G]")
    assert caught(cfg, D) == []


def test_dubious_compositions_warn(compose_cfg):
    (msg,) = caught(*composed(compose_cfg, "loss=ns", "regularizer=clip"))
    assert "regularizer.clip" in msg and "loss=NonSaturating" in msg
    (msg,) = caught(*composed(compose_cfg, "loss=wasserstein", "regularizer=wgan_gp"))
    assert "BatchNorm" in msg and "regularizer.wgan_gp" in msg
    (msg,) = caught(*composed(compose_cfg, "loss=wasserstein", "regularizer=none"))
    assert "loss=wasserstein" in msg
    assert caught(*composed(compose_cfg, "loss=wasserstein", "regularizer=wgan_gp",
                            "model.d_batchnorm=false")) == []
    assert caught(*composed(compose_cfg, "loss=wasserstein", "regularizer=clip")) == []
    assert caught(*composed(compose_cfg, "loss=hinge", "regularizer=sn")) == []
