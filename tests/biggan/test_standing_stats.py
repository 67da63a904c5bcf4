"""True standing statistics: a cumulative average over N passes, per truncation, with no side effects."""

import copy
from pathlib import Path
from types import SimpleNamespace

import torch
from omegaconf import OmegaConf

from gan_zoo.callbacks.samples import SampleGrid
from gan_zoo.models.biggan import Generator
from gan_zoo.sampling import one_hot
from gan_zoo.standing_stats import accumulate_standing_stats, batchnorm_layers


def tiny_g(seed=0):
    torch.manual_seed(seed)
    return Generator(16, z_dim=24, c_dim=10, ch=4, shared_dim=8, attention=[8])


def test_standing_stats_are_the_average_over_passes_of_the_batch_statistics():
    G = tiny_g()
    ref = copy.deepcopy(G).eval()
    layers = batchnorm_layers(ref)
    for m in layers:  # torch's own cumulative average (momentum None) over the same batches, BN alone in train
        m.reset_running_stats()
        m.momentum = None
        m.train()
    gen = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for _ in range(6):
            z = torch.randn(32, 24, generator=gen)
            ref(z, one_hot(torch.randint(0, 10, (32,), generator=gen), 10))
    assert accumulate_standing_stats(G, passes=6, batch_size=32, seed=5) == len(layers) > 0
    for m, r in zip(batchnorm_layers(G), layers):
        assert torch.allclose(m.running_mean, r.running_mean, atol=1e-6)
        assert torch.allclose(m.running_var, r.running_var, atol=1e-5)
        assert int(m.num_batches_tracked) == 6
    assert G.training  # left in the mode it was found in (train, as constructed)


def test_standing_stats_depend_on_the_truncation():
    G = tiny_g()
    accumulate_standing_stats(G, passes=8, batch_size=64, truncation=0.5)
    low = [m.running_var.clone() for m in batchnorm_layers(G)]
    accumulate_standing_stats(G, passes=8, batch_size=64, truncation=2.0)
    high = [m.running_var.clone() for m in batchnorm_layers(G)]
    first = 1  # the first cBN after the z-driven linear layer: its input variance scales with z's
    assert float((high[first] / low[first]).mean()) > 1.5
    assert all(not torch.allclose(a, b) for a, b in zip(low, high))


def test_sampling_changes_only_g_emas_batchnorm_statistics(tmp_path: Path):
    G = tiny_g()
    G_ema = copy.deepcopy(G).eval()
    G.train()
    for _ in range(3):  # G's running stats and SN vectors move in training
        G(torch.randn(8, 24), one_hot(torch.randint(0, 10, (8,)), 10))
    G_ema.load_state_dict(G.state_dict())  # as update_ema copies G's buffers
    before_g, before_ema = copy.deepcopy(G.state_dict()), copy.deepcopy(G_ema.state_dict())
    module = SimpleNamespace(G=G, G_ema=G_ema, device="cpu", kimg=1.0, run_dir=tmp_path,
                             cfg=OmegaConf.create({"standing_stats": {"passes": 4, "batch_size": 16}}))
    SampleGrid(num_samples=10)._write(SimpleNamespace(is_global_zero=True, loggers=[], global_step=0), module)
    assert (tmp_path / "samples" / "grid-000001000.png").is_file()
    assert all(torch.equal(before_g[k], v) for k, v in G.state_dict().items())  # the training G: untouched
    after = G_ema.state_dict()
    bn = {k for k in after if k.endswith(("running_mean", "running_var", "num_batches_tracked"))}
    assert bn and all(torch.equal(before_ema[k], after[k]) for k in after if k not in bn)  # weights, SN u/v
    assert all(int(after[k]) == 4 for k in bn if k.endswith("num_batches_tracked"))
    assert not G_ema.training and G.training


def test_a_generator_without_batchnorm_is_left_alone():
    G = torch.nn.Linear(3, 3)
    G.z_dim, G.c_dim = 3, 0
    assert accumulate_standing_stats(G) == 0
