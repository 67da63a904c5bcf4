"""R3GAN networks: parameter counts against the paper (Huang et al. 2024, Tables 2 and 9), shapes, fix-up
init, FIR resampling, projection D, channels_last, precision regions and config errors."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import OmegaConf

from gan_zoo.errors import ConfigError
from gan_zoo.models.layers import ACTIVATION_GAIN, Downsample2x, ResidualBlock, Upsample2x
from gan_zoo.models.r3gan import Discriminator, Generator

CONF = Path(__file__).resolve().parents[2] / "conf" / "model" / "r3gan"

# Table 9 (config E presets) and Table 2 (FFHQ-256 roadmap rows): millions of parameters (G, D).
TABLE9 = {
    "cifar10": (20.782, 21.281),
    "cifar10_uncond": (20.732, 20.684),
    "ffhq64": (22.430, 22.381),
    "ffhq256": (23.058, 23.010),
    "imagenet32": (82.914, 86.549),
    "imagenet64": (103.570, 107.205),
}
TABLE2 = {
    "roadmap/d_resnet": (23.400, 23.282),
    "roadmap/d_no_skips": (23.378, 23.282),
    "roadmap/e_grouped": (23.188, 23.091),
    "roadmap/e_inverted": (23.058, 23.010),
}


def compose(name: str, resolution: int = 16, **overrides):
    """The model config as the core sees it: ``model`` plus a ``dataset.resolution`` to interpolate."""
    cfg = OmegaConf.create(
        {"model": OmegaConf.load(CONF / f"{name}.yaml"), "dataset": {"resolution": resolution}}
    )
    for key, value in overrides.items():
        OmegaConf.update(cfg, f"model.{key}", value)
    return cfg


def build(name: str, resolution: int = 16, **overrides):
    cfg = compose(name, resolution, **overrides)
    return instantiate(cfg.model.generator), instantiate(cfg.model.discriminator)


def millions(module: torch.nn.Module) -> float:
    return sum(p.numel() for p in module.parameters()) / 1e6


@pytest.fixture(scope="module")
def paper_counts() -> dict[str, tuple[float, float]]:
    """Paper-scale nets built once on the meta device (no memory, no init cost)."""
    counts = {}
    with torch.device("meta"):
        for name in [*TABLE9, *TABLE2]:
            G, D = build(name)
            counts[name] = (millions(G), millions(D))
    return counts


@pytest.mark.parametrize("name", TABLE9)
def test_table9_parameter_counts(paper_counts, name):
    (g, d), (g_paper, d_paper) = paper_counts[name], TABLE9[name]
    assert g == pytest.approx(g_paper, rel=1e-3)
    assert d == pytest.approx(d_paper, rel=1e-3)


@pytest.mark.parametrize("name", TABLE2)
def test_table2_roadmap_parameter_counts(paper_counts, name):
    (g, d), (g_paper, d_paper) = paper_counts[name], TABLE2[name]
    assert g == pytest.approx(g_paper, rel=5e-3)
    assert d == pytest.approx(d_paper, rel=5e-3)


def test_output_skips_add_one_to_rgb_conv_per_lower_stage(paper_counts):
    skips, plain = paper_counts["roadmap/d_resnet"][0], paper_counts["roadmap/d_no_skips"][0]
    assert (skips - plain) * 1e6 == pytest.approx(3 * (4 * 1536 + 768 + 384), abs=1e-3)


def flags(name: str) -> dict:
    cfg = OmegaConf.to_container(OmegaConf.load(CONF / f"{name}.yaml"))
    return {k: v for k, v in cfg.items() if k not in ("name", "generator", "discriminator")}


@pytest.mark.parametrize("prefix", ["", "tiny_"])
def test_roadmap_rows_differ_only_by_their_flags(prefix):
    rows = [flags(f"roadmap/{prefix}{r}") for r in ("d_resnet", "d_no_skips", "e_grouped", "e_inverted")]

    def diff(a, b):
        return {k for k in a if a[k] != b[k]}

    assert diff(rows[0], rows[1]) == {"output_skips"}
    # Widths may change too (paper: 1536 for D and E grouped, 768 for E inverted), keeping ~equal size.
    assert diff(rows[1], rows[2]) - {"channels"} == {"expansion", "channels_per_group"}
    assert diff(rows[2], rows[3]) - {"channels"} == {"expansion"}
    assert (rows[0]["expansion"], rows[2]["expansion"], rows[3]["expansion"]) == (0.25, 0.5, 2.0)
    assert rows[1]["channels_per_group"] is None and rows[2]["channels_per_group"] == 16


@pytest.mark.parametrize("resolution", [8, 16, 32])
@pytest.mark.parametrize("c_dim", [0, 10])
def test_tiny_shapes(resolution, c_dim):
    torch.manual_seed(0)
    G, D = build("tiny", resolution, c_dim=c_dim)
    assert (G.z_dim, G.c_dim, G.resolution, G.img_channels) == (64, c_dim, resolution, 3)
    assert (D.c_dim, D.resolution) == (c_dim, resolution)
    c = F.one_hot(torch.tensor([1, 7]), c_dim).float() if c_dim else None
    with torch.no_grad():
        x = G(torch.randn(2, G.z_dim), c)
        logits = D(x, c)
    assert x.shape == (2, 3, resolution, resolution) and x.dtype == torch.float32
    assert logits.shape == (2,) and torch.isfinite(logits).all()


@pytest.mark.parametrize("name", ["tiny", "roadmap/tiny_d_resnet", "roadmap/tiny_e_grouped"])
def test_fixup_init_makes_every_block_the_identity(name):
    torch.manual_seed(0)
    G, D = build(name, 16)
    for net in (G, D):
        blocks = [m for m in net.modules() if isinstance(m, ResidualBlock)]
        assert len(blocks) == 6  # 3 stages x 2 blocks at 16 px
        for block in blocks:
            assert not block.project.weight.any()
            x = torch.randn(2, block.expand.in_channels, 8, 8)
            assert torch.equal(block(x), x)


def test_fixup_gain_of_inner_convs():
    torch.manual_seed(0)
    G, _ = build("tiny", 16)  # L = 6 blocks, width 64, expanded 128, 16 channels per group
    blocks = [m for m in G.modules() if isinstance(m, ResidualBlock)]
    gain = math.sqrt(2 / 1.04) * 6**-0.25
    assert ACTIVATION_GAIN == pytest.approx(math.sqrt(2 / 1.04))
    expand = torch.cat([b.expand.weight.flatten() for b in blocks])
    spatial = torch.cat([b.spatial.weight.flatten() for b in blocks])
    assert expand.std().item() == pytest.approx(gain / math.sqrt(64), rel=0.03)
    assert spatial.std().item() == pytest.approx(gain / math.sqrt(16 * 9), rel=0.03)
    assert blocks[0].spatial.groups == 8


def test_fir_resampling_is_bilinear_inside_and_zero_padded_at_borders():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 8, 8)
    up = Upsample2x(3)(x)
    ref_up = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    assert up.shape == (2, 3, 16, 16)
    torch.testing.assert_close(up[..., 1:-1, 1:-1], ref_up[..., 1:-1, 1:-1])
    down = Downsample2x(3)(x)
    ref_down = F.interpolate(x, scale_factor=0.5, mode="bilinear", align_corners=False, antialias=True)
    assert down.shape == (2, 3, 4, 4)
    torch.testing.assert_close(down[..., 1:-1, 1:-1], ref_down[..., 1:-1, 1:-1])
    # Ones: upsampling gives 3/4 on the border (1/4 of a zero neighbour), downsampling 7/8 ([1,3,3,1]/8 less
    # the 1/8 outside).
    ones = torch.ones(1, 1, 8, 8)
    u, d = Upsample2x(1)(ones)[0, 0], Downsample2x(1)(ones)[0, 0]
    assert u[0, 3].item() == pytest.approx(0.75) and u[0, 0].item() == pytest.approx(0.5625)
    assert u[3, 3].item() == pytest.approx(1.0) and u[15, 8].item() == pytest.approx(0.75)
    assert d[0, 1].item() == pytest.approx(7 / 8) and d[0, 0].item() == pytest.approx(49 / 64)
    assert d[3, 3].item() == pytest.approx(49 / 64) and d[1, 2].item() == pytest.approx(1.0)


def test_projection_discriminator_uses_the_class():
    torch.manual_seed(0)
    _, D = build("tiny", 8, c_dim=10)
    x = torch.randn(3, 3, 8, 8)
    c1 = F.one_hot(torch.tensor([0, 1, 2]), 10).float()
    c2 = F.one_hot(torch.tensor([5, 6, 7]), 10).float()
    with torch.no_grad():
        l1, l2, mix = D(x, c1), D(x, c2), D(x, (c1 + c2) / 2)
    assert (l1 - l2).abs().min() > 1e-4
    torch.testing.assert_close(mix, (l1 + l2) / 2)  # an inner product with Linear(c): linear in c
    with pytest.raises(ValueError, match="c_dim=10"):
        D(x, None)
    _, D0 = build("tiny", 8)
    with torch.no_grad():
        torch.testing.assert_close(D0(x, None), D0(x, c1))


def test_channels_last_matches_contiguous():
    torch.manual_seed(0)
    G, D = build("tiny", 16, c_dim=10)
    z, c = torch.randn(2, 64), F.one_hot(torch.tensor([3, 4]), 10).float()
    with torch.no_grad():
        x = G(z, c)
        ref = D(x, c)
        G.to(memory_format=torch.channels_last)
        D.to(memory_format=torch.channels_last)
        x_cl = G(z, c)
        out = D(x_cl.contiguous(memory_format=torch.channels_last), c)
    torch.testing.assert_close(x_cl, x, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)


def test_bf16_stages_are_the_highest_resolutions_and_inactive_on_cpu():
    with torch.device("meta"):
        G, D = build("cifar10")
    assert G.bf16_mask == [False, True, True, True] and D.bf16_mask == [True, True, True, False]
    outputs = []
    for bf16 in (0, 2):
        torch.manual_seed(0)
        G, D = build("tiny", 16, bf16_stages=bf16)
        with torch.no_grad():
            x = G(torch.randn(2, 64))
            outputs.append((x, D(x)))
    assert outputs[1][0].dtype == torch.float32
    assert torch.equal(outputs[0][0], outputs[1][0]) and torch.equal(outputs[0][1], outputs[1][1])


def test_output_skips_sum_upsampled_rgb_of_every_stage():
    torch.manual_seed(0)
    G, _ = build("roadmap/tiny_d_resnet", 16)
    assert len(G.to_rgb) == 3
    z = torch.randn(2, 64)
    with torch.no_grad():
        feats, x = [], z
        for stage in G.stages:
            x = stage(x)
            feats.append(x)
        up = G.upsample_rgb
        expected = up(up(G.to_rgb[0](feats[0])) + G.to_rgb[1](feats[1])) + G.to_rgb[2](feats[2])
        torch.testing.assert_close(G(z), expected)


def test_r1_double_backprop_reaches_discriminator_weights():
    torch.manual_seed(0)
    _, D = build("tiny", 8)
    x = torch.randn(4, 3, 8, 8, requires_grad=True)
    (grad,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
    grad.square().sum(dim=(1, 2, 3)).mean().backward()
    assert D.from_rgb.weight.grad is not None and D.from_rgb.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("resolution", [28, 2, 0])
def test_bad_resolution_is_a_config_error(resolution):
    for cls in (Generator, Discriminator):
        with pytest.raises(ConfigError, match=f"model.resolution={resolution} is not a power of two >= 4"):
            cls(resolution, 64)
    # Through Hydra the ConfigError arrives as the cause of its InstantiationException.
    with pytest.raises(InstantiationException) as info:
        build("tiny", resolution)
    assert isinstance(info.value.__cause__, ConfigError)


def test_bad_widths_are_config_errors():
    with pytest.raises(ConfigError, match="model.generator.channels has 4 entries but resolution 64 needs 5"):
        Generator(64, [768] * 4)
    with pytest.raises(ConfigError, match="model.discriminator.channels_per_group=16 does not divide"):
        Discriminator(16, 36, expansion=2.0)
    with pytest.raises(ConfigError, match="bf16_stages"):
        Generator(16, 64, bf16_stages=4)
