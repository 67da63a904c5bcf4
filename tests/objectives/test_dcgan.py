"""DCGAN (Radford et al. 2016): the architecture guidelines, parameter counts against pytorch/examples
dcgan, conditioning, and BatchNorm handled right by EMA, standing statistics and sampling."""

import copy
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from omegaconf import OmegaConf
from torch import nn

from gan_zoo.callbacks.samples import SampleGrid
from gan_zoo.ema import update_ema
from gan_zoo.errors import ConfigError
from gan_zoo.models.dcgan import Discriminator, Generator, layout


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def expected_counts(res: int, nz: int = 100, ngf: int = 64, ndf: int = 64, nc: int = 3, c_dim: int = 0):
    """Per-layer sums as pytorch/examples dcgan/main.py writes the nets (4x4 kernels, no conv biases)."""
    s0, k = {64: (4, 4), 32: (4, 3), 28: (7, 2), 16: (4, 2), 8: (4, 1)}[res]
    g_ch = [ngf * 2 ** (k - 1 - i) for i in range(k)]
    g = (nz + c_dim) * g_ch[0] * s0 * s0 + sum(a * b * 16 for a, b in zip(g_ch[:-1], g_ch[1:]))
    g += g_ch[-1] * nc * 16 + 2 * sum(g_ch)
    d_ch = [ndf * 2 ** i for i in range(k)]
    d = nc * d_ch[0] * 16 + sum(a * b * 16 for a, b in zip(d_ch[:-1], d_ch[1:])) + 2 * sum(d_ch[1:])
    d += d_ch[-1] * s0 * s0 * (1 + c_dim)  # the final s0 x s0 conv (+ projection embedding)
    return g, d


def test_64px_counts_are_pytorch_examples_dcgan():
    # pytorch/examples dcgan/main.py, nz=100, ngf=ndf=64, nc=3: netG 3,576,704 and netD 2,765,568 parameters
    assert n_params(Generator(64)) == 3_576_704 == expected_counts(64)[0]
    assert n_params(Discriminator(64)) == 2_765_568 == expected_counts(64)[1]


@pytest.mark.parametrize("res,c_dim", [(32, 0), (28, 0), (16, 0), (8, 0), (32, 10)])
def test_preset_counts_follow_the_per_layer_formula(res, c_dim):
    g, d = expected_counts(res, c_dim=c_dim)
    assert (n_params(Generator(res, c_dim=c_dim)), n_params(Discriminator(res, c_dim=c_dim))) == (g, d)


@pytest.mark.parametrize("preset,res,g,d", [("64", 64, 3_576_704, 2_765_568), ("32", 32, 1_068_928, 663_296),
                                            ("28", 28, 761_728, 140_672)])
def test_preset_yaml_builds_the_stated_counts(compose_cfg, preset, res, g, d):
    from hydra.utils import instantiate

    cfg = compose_cfg([f"model=dcgan/{preset}", "dataset=fmnist"])
    assert cfg.model.resolution == res
    G, D = instantiate(cfg.model.generator), instantiate(cfg.model.discriminator)
    assert (n_params(G), n_params(D)) == (g, d)
    assert f"{g:,}" in Path(f"conf/model/dcgan/{preset}.yaml").read_text().splitlines()[0]


@pytest.mark.parametrize("res", [8, 16, 28, 32, 64])
@pytest.mark.parametrize("upsample", ["deconv", "pixelshuffle"])
def test_guidelines_bn_placement_and_activations(res, upsample):
    G, D = Generator(res, z_dim=16, ngf=8, upsample=upsample), Discriminator(res, ndf=8, dropout=0.25)
    g_layers, d_layers = list(G.net), list(D.trunk)
    assert isinstance(g_layers[-1], nn.Tanh) and isinstance(g_layers[-2], (nn.ConvTranspose2d, nn.PixelShuffle))
    assert not any(isinstance(m, nn.LeakyReLU) for m in G.modules())
    assert sum(isinstance(m, nn.BatchNorm2d) for m in G.modules()) == layout(res)[1]  # every layer but the output
    assert sum(isinstance(m, nn.ReLU) for m in G.modules()) == layout(res)[1]
    # D: conv, LeakyReLU(0.2) first, no BN before the second conv; BN after every later conv
    assert isinstance(d_layers[0], nn.Conv2d) and isinstance(d_layers[1], nn.LeakyReLU)
    convs = [i for i, m in enumerate(d_layers) if isinstance(m, nn.Conv2d)]
    bns = [i for i, m in enumerate(d_layers) if isinstance(m, nn.BatchNorm2d)]
    assert bns == [i + 1 for i in convs[1:]]
    assert all(m.negative_slope == 0.2 for m in D.modules() if isinstance(m, nn.LeakyReLU))
    assert sum(isinstance(m, nn.Dropout) for m in D.modules()) == layout(res)[1]
    assert not any(isinstance(m, nn.ReLU) for m in D.modules())
    x = G(torch.randn(4, 16))
    assert x.shape == (4, 3, res, res) and x.abs().max() <= 1
    D.eval()
    torch.testing.assert_close(D(x), D.head(D.features(x)))
    assert D.features(x).shape == (4, D.num_features)


def test_init_is_n0_002_and_bn_gain_n1_002():
    G = Generator(64)
    w = torch.cat([m.weight.flatten() for m in G.modules() if isinstance(m, nn.ConvTranspose2d)])
    gains = torch.cat([m.weight for m in G.modules() if isinstance(m, nn.BatchNorm2d)])
    assert abs(w.std().item() - 0.02) < 1e-3 and abs(w.mean().item()) < 1e-3
    assert abs(gains.mean().item() - 1) < 5e-3 and abs(gains.std().item() - 0.02) < 5e-3


def test_conditional_g_and_projection_d_use_the_label():
    torch.manual_seed(0)
    G, D = Generator(16, z_dim=8, c_dim=10, ngf=8).eval(), Discriminator(16, c_dim=10, ndf=8).eval()
    nn.init.normal_(D.embed.weight)
    z = torch.randn(1, 8).repeat(4, 1)
    c = torch.eye(10)[[0, 0, 3, 3]]
    x = G(z, c)
    assert torch.equal(x[0], x[1]) and (x[0] - x[2]).abs().max() > 1e-3 * x[0].abs().max()
    h = D.features(x[:1].repeat(2, 1, 1, 1))
    logits = D.head(h, torch.eye(10)[[0, 3]])
    assert logits[0] != logits[1]
    torch.testing.assert_close(logits - D.out(h).squeeze(1), (D.embed(torch.eye(10)[[0, 3]]) * h).sum(1))
    with pytest.raises(ValueError, match="c_dim=10"):
        G(z, None)


def test_bad_resolution_names_the_key():
    with pytest.raises(ConfigError, match="model.resolution=24"):
        Generator(24)


def test_ema_averages_params_copies_bn_buffers_and_sampling_touches_no_training_weight(tmp_path):
    torch.manual_seed(0)
    G, D = Generator(8, z_dim=8, ngf=8), Discriminator(8, ndf=8)
    G_ema = copy.deepcopy(G).eval()
    opt = torch.optim.Adam([*G.parameters(), *D.parameters()], lr=1e-2)
    for _ in range(3):  # train-mode steps move params and BN statistics
        opt.zero_grad()
        D(G(torch.randn(16, 8))).mean().backward()
        opt.step()
    before_ema = copy.deepcopy(G_ema.state_dict())
    update_ema(G_ema, G, beta=0.75)
    for (k, p_ema), p in zip(G_ema.named_parameters(), G.parameters()):
        torch.testing.assert_close(p_ema, 0.75 * before_ema[k] + 0.25 * p)
    for b_ema, b in zip(G_ema.buffers(), G.buffers()):
        assert torch.equal(b_ema, b)
    G.train(), D.train()
    snap = {n: copy.deepcopy(m.state_dict()) for n, m in (("G", G), ("D", D))}
    module = SimpleNamespace(G=G, D=D, G_ema=G_ema, device="cpu", kimg=1.0, run_dir=tmp_path,
                             cfg=OmegaConf.create({"standing_stats": {"passes": 4, "batch_size": 16}}))
    ema_weights = {k: v.clone() for k, v in G_ema.named_parameters()}
    SampleGrid(num_samples=9)._write(SimpleNamespace(is_global_zero=True, loggers=[], global_step=0), module)
    assert (tmp_path / "samples" / "grid-000001000.png").is_file()
    for name, net in (("G", G), ("D", D)):
        assert all(torch.equal(snap[name][k], v) for k, v in net.state_dict().items()), name
        assert net.training
    assert all(torch.equal(ema_weights[k], v) for k, v in G_ema.named_parameters())
    assert not G_ema.training
    # G_ema samples with BN in eval mode: a batch of one is what it is in a batch of nine
    z = torch.randn(9, 8)
    with torch.no_grad():
        torch.testing.assert_close(G_ema(z)[:1], G_ema(z[:1]))


def test_tiny_dcgan_trains_on_digits(tmp_path):
    from tests.helpers import TINY, read_losses, train_run

    out = train_run([*TINY, "dataset=digits", "dataset.labels=false", "model=dcgan/tiny", "loss=ns",
                     "regularizer=none", "total_kimg=0.16", "batch_size=16",
                     "callbacks.samples.every_kimg=0.08"], tmp_path)
    assert out["state"] == "finished"
    rows = read_losses(tmp_path)
    assert rows and all(torch.isfinite(torch.tensor(r["loss/d"])) for r in rows if "loss/d" in r)
    assert len(list((tmp_path / "samples").glob("grid-*.png"))) >= 2
