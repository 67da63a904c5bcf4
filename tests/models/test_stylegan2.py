"""StyleGAN2 rows A and B of R3GAN's roadmap: parameter counts against Table 2 (Huang et al. 2024), flags,
shapes, demodulation, style mixing, equalised lr, minibatch stddev and the path-length regulariser."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

from gan_zoo.errors import ConfigError
from gan_zoo.models.layers import Downsample2x, Upsample2x
from gan_zoo.models.stylegan2 import Discriminator, Generator
from gan_zoo.models.stylegan2_layers import (
    Conv2dLayer,
    FullyConnected,
    MinibatchStd,
    modulated_conv2d,
    modulated_weight,
)
from gan_zoo.regularizers.base import GStepInputs
from gan_zoo.regularizers.path_length import PathLength

CONF = Path(__file__).resolve().parents[2] / "conf"
TABLE2 = {"a_ffhq256": (24.767, 24.001), "b_ffhq256": (18.890, 23.996)}  # millions (G, D)
# Row B's removals (R3GAN Sec. 3) -> the model-config flag each one turns off; plus z 512 -> 64.
B_REMOVALS = {
    "z normalisation": "normalize_z",
    "minibatch stddev": "mbstd_num_channels",
    "equalised learning rate": "equalized_lr",
    "mapping network": "mapping_layers",
    "style injection": "style_injection",
    "weight modulation/demodulation": "demodulate",
    "noise injection": "noise_injection",
    "mixing regularisation": "style_mixing_prob",
    "z becomes 64-d": "z_dim",
}


def model_cfg(name: str, resolution: int = 16, **overrides):
    """The ``model`` group as Hydra composes it (model=stylegan2/<name>, model.<key>=<value>), resolved."""
    extra = [f"model.{key}={value}" for key, value in overrides.items()]
    with initialize_config_dir(str(CONF), version_base=None):
        cfg = compose(overrides=[f"+model=stylegan2/{name}", f"+dataset.resolution={resolution}", *extra])
    OmegaConf.resolve(cfg)
    return cfg.model


def build(name: str, resolution: int = 16, **overrides):
    cfg = model_cfg(name, resolution, **overrides)
    return instantiate(cfg.generator), instantiate(cfg.discriminator)


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(scope="module")
def paper_nets():
    """Both FFHQ-256 presets, built once on the meta device (no memory, no init cost)."""
    with torch.device("meta"):
        return {name: build(name) for name in TABLE2}


@pytest.mark.parametrize("name", sorted(TABLE2))
def test_table2_parameter_counts(paper_nets, name):
    G, D = paper_nets[name]
    for net, paper in zip((G, D), TABLE2[name]):
        assert count(net) / 1e6 == pytest.approx(paper, rel=0.005)


def test_row_b_input_is_a_bias_free_linear_of_z(paper_nets):
    G, _ = paper_nets["b_ffhq256"]
    assert G.num_ws == 1 and G.synthesis.input_scale.bias is None
    assert tuple(G.synthesis.input_scale.weight.shape) == (512, 64)
    assert paper_nets["a_ffhq256"][0].num_ws == 14  # 13 convs + the last to-RGB (StyleGAN2 at 256 px)


def _flat(cfg, prefix: str = "") -> dict:
    out = {}
    for key, value in cfg.items():
        if OmegaConf.is_dict(value):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


@pytest.mark.parametrize("a, b", [("a_ffhq256", "b_ffhq256"), ("tiny_a", "tiny_b")])
def test_rows_a_and_b_differ_exactly_by_the_b_list(a, b):
    fa, fb = _flat(model_cfg(a)), _flat(model_cfg(b))
    assert fa.keys() == fb.keys()
    differing = {k.rsplit(".", 1)[-1] for k in fa if fa[k] != fb[k]} - {"name"}
    assert differing == set(B_REMOVALS.values())
    assert all(not fb[k] for k in fa if k.rsplit(".", 1)[-1] in set(B_REMOVALS.values()) - {"z_dim"})
    assert fb["z_dim"] == 64


@pytest.mark.parametrize("name", ["tiny_a", "tiny_b"])
@pytest.mark.parametrize("resolution", [8, 16])
def test_tiny_output_shapes(name, resolution):
    torch.manual_seed(0)
    G, D = build(name, resolution)
    assert (G.resolution, G.img_channels, G.c_dim, D.resolution, D.c_dim) == (resolution, 3, 0, resolution, 0)
    img = G(torch.randn(6, G.z_dim), None)
    assert img.shape == (6, 3, resolution, resolution) and torch.isfinite(img).all()
    logits = D(img, None)
    assert logits.shape == (6,) and torch.isfinite(logits).all()


@pytest.mark.parametrize("name", ["tiny_a", "tiny_b"])
def test_conditional_generator_and_projection_discriminator_use_the_label(name):
    torch.manual_seed(0)
    G, D = build(name, 8, c_dim=3)
    G.eval()
    G.synthesis.noise_mode = "const"
    z = torch.randn(1, G.z_dim).repeat(2, 1)
    c = F.one_hot(torch.tensor([0, 2]), 3).float()
    img = G(z, c)
    assert img.shape == (2, 3, 8, 8) and not torch.allclose(img[0], img[1])
    logits = D(img[:1].repeat(2, 1, 1, 1), c)
    assert logits.shape == (2,) and not torch.allclose(logits[0], logits[1])


@pytest.mark.parametrize("resolution", [24, 2, 0])
def test_bad_resolution_is_a_one_line_config_error(resolution):
    for net in (Generator, Discriminator):
        with pytest.raises(ConfigError, match=r"model\.resolution") as err:
            net(resolution)
        assert "\n" not in str(err.value)


def test_demodulation_without_style_injection_is_a_config_error():
    with pytest.raises(ConfigError, match=r"model\.generator\.demodulate"):
        Generator(8, style_injection=False, demodulate=True, style_mixing_prob=0.0)


def test_demodulation_gives_each_output_feature_map_a_unit_norm_weight():
    torch.manual_seed(0)
    weight, styles = torch.randn(5, 4, 3, 3), torch.randn(2, 4) * 3
    w = modulated_weight(weight, styles, demodulate=True)
    norms = w.square().sum(dim=(2, 3, 4)).sqrt()
    torch.testing.assert_close(norms, torch.ones(2, 5))
    raw = modulated_weight(weight, styles, demodulate=False).square().sum(dim=(2, 3, 4)).sqrt()
    assert (raw - 1).abs().max() > 0.5  # not already unit: demodulation did it
    # conv(x * s, w) * d is the grouped convolution with one demodulated weight per sample, also after x2 up
    x = torch.randn(2, 4, 6, 6)
    for up in (None, Upsample2x(4)):
        y = modulated_conv2d(x, weight, styles, demodulate=True, upsample=up)
        xu = up(x) if up is not None else x
        grouped = F.conv2d(xu.reshape(1, 8, *xu.shape[2:]), w.reshape(10, 4, 3, 3), padding=1, groups=2)
        torch.testing.assert_close(y, grouped.reshape(2, 5, *xu.shape[2:]), rtol=1e-4, atol=1e-5)


def test_style_mixing_only_in_training_mode():
    torch.manual_seed(0)
    G, _ = build("tiny_a", 16)
    assert G.style_mixing_prob == 0.9 and G.num_ws == 6
    z = torch.randn(4, G.z_dim)
    G.eval()
    w = G.mapping(z, None)
    for _ in range(20):
        ws = G.map_latents(z)
        torch.testing.assert_close(ws, w.unsqueeze(1).expand(-1, G.num_ws, -1))
    G.train()
    cutoffs = []
    for _ in range(40):
        ws = G.map_latents(z)
        torch.testing.assert_close(ws[:, 0], w)  # the cutoff is >= 1: the first layer always keeps z's w
        same = (ws == w.unsqueeze(1)).all(dim=2).all(dim=0)  # per layer
        cutoffs.append(int(same.sum()))
        assert same[: cutoffs[-1]].all() and not same[cutoffs[-1] :].any()  # one cutoff for the batch
    mixed = sum(c < G.num_ws for c in cutoffs)
    assert 28 <= mixed <= 40 and len(set(cutoffs) - {G.num_ws}) >= 3  # about 90 % mixed, random cutoffs


def test_equalized_lr_stores_unit_normal_weights_and_scales_at_runtime():
    torch.manual_seed(0)
    x = torch.randn(2, 256, 5, 5)
    eq, plain = Conv2dLayer(256, 128, 3, equalized=True), Conv2dLayer(256, 128, 3, equalized=False)
    fan_in = 256 * 9
    assert eq.weight.mean().abs() < 0.01 and eq.weight.std().item() == pytest.approx(1.0, abs=0.01)
    assert plain.weight.std().item() == pytest.approx(1 / math.sqrt(fan_in), rel=0.01)
    for layer, effective in ((eq, eq.weight / math.sqrt(fan_in)), (plain, plain.weight)):
        with torch.no_grad():
            layer.bias.normal_()
            expected = F.leaky_relu(F.conv2d(x, effective, layer.bias, padding=1), 0.2) * math.sqrt(2)
            torch.testing.assert_close(layer(x), expected, rtol=1e-4, atol=1e-5)
    # the mapping network's lr multiplier 0.01: stored N(0, 100^2), effective N(0, 1 / fan_in)
    fc = FullyConnected(512, 512, lr_multiplier=0.01)
    assert fc.weight.std().item() == pytest.approx(100.0, rel=0.01)
    assert fc.weight_gain == pytest.approx(0.01 / math.sqrt(512))
    # the presets: row A's G stores N(0, 1) conv weights, row B's the He-initialised effective weights
    (GA, _), (GB, _) = build("tiny_a", 16), build("tiny_b", 16)
    wa, wb = GA.synthesis.blocks[1].conv1.weight, GB.synthesis.blocks[1].conv1.weight
    assert wa.std().item() == pytest.approx(1.0, abs=0.05)
    assert wb.std().item() == pytest.approx(1 / math.sqrt(wb[0].numel()), rel=0.05)


def test_down_conv_blurs_then_strides_like_conv_then_fir_downsampling():
    torch.manual_seed(0)
    layer, x = Conv2dLayer(3, 4, 3, bias=False, activation="linear", down=True), torch.randn(2, 3, 12, 12)
    ref = Downsample2x(4)(F.conv2d(x, layer.weight * layer.weight_gain, padding=1))
    torch.testing.assert_close(layer(x)[..., 1:-1, 1:-1], ref[..., 1:-1, 1:-1], rtol=1e-4, atol=1e-5)


def test_minibatch_stddev_appends_the_group_std():
    torch.manual_seed(0)
    x = torch.randn(8, 6, 3, 3)
    y = MinibatchStd(group_size=4)(x)
    assert y.shape == (8, 7, 3, 3)
    torch.testing.assert_close(y[:, :6], x)
    for first in range(2):  # groups are strided: {0, 2, 4, 6} and {1, 3, 5, 7}
        members = list(range(first, 8, 2))
        g = x[members]
        std = ((g - g.mean(dim=0)).square().mean(dim=0) + 1e-8).sqrt().mean()
        for i in members:
            torch.testing.assert_close(y[i, 6], torch.full((3, 3), std.item()))
    # a batch of 6 with group size 4 uses groups of 3 (the largest divisor), not an error
    assert MinibatchStd(group_size=4)(torch.randn(6, 6, 2, 2)).shape == (6, 7, 2, 2)
    assert build("tiny_a")[1].mbstd.group_size == 4 and build("tiny_b")[1].mbstd is None


def test_channels_last_matches_contiguous():
    torch.manual_seed(0)
    G, D = build("tiny_a", 16)
    G.eval()
    G.synthesis.noise_mode = "const"
    z = torch.randn(4, G.z_dim)
    with torch.no_grad():
        img, logits = G(z), D(G(z))
        G.to(memory_format=torch.channels_last)
        D.to(memory_format=torch.channels_last)
        img_cl = G(z)
        logits_cl = D(img_cl.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(img_cl, img, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(logits_cl, logits, rtol=1e-4, atol=1e-5)


def _tiny_double_generator() -> Generator:
    torch.manual_seed(0)
    G = Generator(8, z_dim=6, w_dim=5, channel_base=32, channel_max=4, mapping_layers=2).double().eval()
    G.synthesis.noise_mode = "const"
    with torch.no_grad():
        for p in G.parameters():
            if p.ndim == 0:  # noise strengths start at 0; make the noise inputs matter
                p.fill_(0.3)
    return G


def test_path_length_equals_finite_difference_jacobian_vector_product():
    G = _tiny_double_generator()
    z = torch.randn(3, 6, dtype=torch.float64)
    noise = torch.randn(3, 3, 8, 8, dtype=torch.float64)
    y = noise / 8.0  # / sqrt(H W)
    with torch.no_grad():
        ws = G.map_latents(z)
        grad = torch.zeros_like(ws)
        eps = 1e-6
        for idx in range(ws.numel()):
            step = torch.zeros(ws.numel(), dtype=torch.float64)
            step[idx] = eps
            step = step.view_as(ws)
            grad.view(-1)[idx] = ((G.synthesis(ws + step) - G.synthesis(ws - step)) * y).sum() / (2 * eps)
    lengths = grad.square().sum(dim=2).mean(dim=1).sqrt()  # per sample, mean over the num_ws layers
    assert G.num_ws == 4 and (lengths > 0).all()

    reg = PathLength().double()
    assert (reg.side, reg.interval, reg.weight, reg.decay) == ("G", 4, 2.0, 0.01)
    reg.pl_mean.fill_(0.5)
    value = reg.penalty(G, z, None, noise=noise)
    mean = 0.5 + 0.01 * (lengths.mean() - 0.5)
    torch.testing.assert_close(value, 2.0 * (lengths - mean).square().mean(), rtol=1e-6, atol=1e-9)
    torch.testing.assert_close(reg.pl_mean, mean)
    # a second call moves the running mean 1 % further towards the batch mean
    reg.penalty(G, z, None, noise=noise)
    torch.testing.assert_close(reg.pl_mean, mean + 0.01 * (lengths.mean() - mean))
    assert "pl_mean" in reg.state_dict()


def test_path_length_forward_uses_half_the_batch_and_reaches_the_mapping_network():
    torch.manual_seed(0)
    G, D = build("tiny_a", 8)
    z = torch.randn(8, G.z_dim)
    seen = []
    original = G.map_latents
    G.map_latents = lambda z, c=None: seen.append(z.shape[0]) or original(z, c)
    inputs = GStepInputs(G=G, D=D, z=z, c=None, fake=torch.zeros(8, 3, 8, 8), fake_logits=torch.zeros(8))
    reg = PathLength()
    terms = reg(inputs)
    assert set(terms) == {"pl"} and terms["pl"].ndim == 0 and seen == [4]
    terms["pl"].backward()
    first_mapping_layer = G.mapping.layers[0].weight
    assert first_mapping_layer.grad is not None and first_mapping_layer.grad.abs().sum() > 0
    assert reg.pl_mean.item() > 0


def test_path_length_needs_a_style_generator():
    from gan_zoo.models.r3gan import Generator as R3GANGenerator

    with pytest.raises(ConfigError, match="path_length"):
        PathLength().penalty(R3GANGenerator(8, 16), torch.randn(2, 64))


def test_stylegan2_a_regularizer_config_is_lazy_r1_and_path_length():
    with initialize_config_dir(str(CONF), version_base=None):
        cfg = compose(overrides=["+regularizer=stylegan2_a"]).regularizer
    assert cfg.r1._target_ == "gan_zoo.regularizers.gradient_penalty.R1"
    assert (cfg.r1.interval, cfg.r1.gamma) == (16, None)
    pl = instantiate(cfg.path_length)
    assert isinstance(pl, PathLength) and (pl.interval, pl.weight, pl.decay, pl.batch_shrink) == (
        4,
        2.0,
        0.01,
        2,
    )
    r1 = instantiate(cfg.r1)
    assert (r1.side, r1.interval) == ("D", 16)
