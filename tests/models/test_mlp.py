"""MLP generator/discriminator for 2-D mixtures: parameter counts, activations, the G/D contract, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch import nn

from gan_zoo.errors import ConfigError
from gan_zoo.models.mlp import MLPDiscriminator, MLPGenerator

CONF = Path(__file__).resolve().parents[2] / "conf" / "model" / "mlp.yaml"


def count(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def test_default_config_builds_tanh_g_and_lrelu_d_with_hand_counted_params():
    cfg = OmegaConf.create({"model": OmegaConf.load(CONF)}).model  # resolves ${model.z_dim}
    G, D = instantiate(cfg.generator), instantiate(cfg.discriminator)
    # G: 64->128, three 128->128, 128->2 (weights + biases)
    assert count(G) == (64 * 128 + 128) + 3 * (128 * 128 + 128) + (128 * 2 + 2) == 58114
    # D: 2->128, two 128->128, 128->1
    assert count(D) == (2 * 128 + 128) + 2 * (128 * 128 + 128) + (128 + 1) == 33537
    assert sum(isinstance(m, nn.Tanh) for m in G.modules()) == 4
    assert sum(isinstance(m, nn.LeakyReLU) and m.negative_slope == 0.2 for m in D.modules()) == 3
    assert G.z_dim == 64 and G.c_dim == 0 and G.resolution is None and D.resolution is None
    x = G(torch.randn(5, 64))
    assert x.shape == (5, 2) and D(x).shape == (5,)


def test_conditional_inputs_are_concatenated():
    G = MLPGenerator(z_dim=3, c_dim=4, width=8, depth=2, activation="relu")
    D = MLPDiscriminator(c_dim=4, width=8, depth=1)
    assert G.net[0].in_features == 7 and D.net[0].in_features == 6
    c = torch.eye(4)[[0, 1, 2]]
    assert G(torch.randn(3, 3), c).shape == (3, 2) and D(torch.randn(3, 2), c).shape == (3,)
    assert count(D) == 6 + 1  # depth 1: a single linear layer


def test_bad_settings_are_one_line_config_errors():
    with pytest.raises(ConfigError, match=r"model.generator.activation = 'gelu' is unknown; use one of lrelu"):
        MLPGenerator(activation="gelu")
    with pytest.raises(ConfigError, match=r"model.discriminator: depth and width must be >= 1"):
        MLPDiscriminator(depth=0)
    with pytest.raises(ConfigError, match=r"model.z_dim must be >= 1"):
        MLPGenerator(z_dim=0)
