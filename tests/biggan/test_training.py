"""experiment=biggan/*: the recipe's values, a short CPU run, EMA from a start step, gradient accumulation,
SyncBatchNorm conversion, and the truncation curve on the trained run."""

import json
from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate

from gan_zoo.checkpoint import load_run
from gan_zoo.errors import ConfigError
from gan_zoo.truncation_curve import main as truncation_main
from tests.conftest import compose_run
from tests.helpers import read_losses, train_run

TINY = ["experiment=biggan/stacked_digits", "metrics=none", "batch_size=16", "total_kimg=0.32",
        "dataset.num_images=500", "trainer.log_every_n_steps=1", "callbacks.checkpoint.every_kimg=100",
        "callbacks.samples.every_kimg=100", "callbacks.samples.num_samples=16", "callbacks.health.every_n_steps=5",
        "standing_stats.passes=2", "model.ch=2", "model.attention=[]", "model.d_attention=[]"]


@pytest.mark.parametrize("experiment", ["biggan/imagenet128", "biggan/cifar10", "biggan/imagenet64"])
def test_paper_recipe_values(experiment):
    cfg = compose_run([f"experiment={experiment}"])
    assert cfg.loss._target_ == "gan_zoo.losses.Hinge" and cfg.n_dis == 2
    assert cfg.schedule.lr.start == 5e-5 and cfg.optimizer.d_lr_mult == 4.0  # G 5e-5 / D 2e-4
    assert list(cfg.optimizer.optim.betas) == [0.0, 0.999] and cfg.ema.decay == 0.9999 and cfg.ema.start_kimg > 0
    assert cfg.regularizer.ortho.beta == 1e-4 and "health" in cfg.callbacks
    if experiment == "biggan/imagenet128":
        assert cfg.batch_size == 2048 and cfg.accumulate == 8 and cfg.trainer.sync_batchnorm
        assert cfg.trainer.strategy._target_ == "gan_zoo.strategies.GradSyncDDPStrategy"
    sagan = compose_run(["experiment=biggan/imagenet128_sagan_lr"])
    assert sagan.schedule.lr.start == 1e-4 and sagan.optimizer.d_lr_mult == 4.0 and sagan.n_dis == 1


@pytest.mark.slow
def test_cpu_run_trains_with_the_recipe_and_g_ema_starts_late(tmp_path: Path, monkeypatch):
    run = tmp_path / "run"
    train_run([*TINY, "ema.start_kimg=100"], run)  # the EMA never starts: G_ema stays a copy of G
    rows = [r for r in read_losses(run) if "loss/d" in r]
    assert len(rows) == 10 and all(r["reg/ortho"] > 0 for r in rows)  # 320 / (16 x 2 D steps) iterations
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    # weights only: G_ema's BN buffers hold the standing statistics computed for its last sample grid
    params = [k[2:] for k in ckpt if k.startswith("G.")
              and not k.endswith(("running_mean", "running_var", "num_batches_tracked"))]
    assert params and all(torch.equal(ckpt["G." + k], ckpt["G_ema." + k]) for k in params)
    assert (run / "samples" / "grid-000000000.png").is_file() and (run / "health" / "sigma0.png").is_file()
    run2 = tmp_path / "run2"
    train_run([*TINY, "ema.start_kimg=0.16", "ema.decay=0.9"], run2)  # starts half-way: now an average
    ckpt = torch.load(run2 / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    assert not all(torch.equal(ckpt["G." + k], ckpt["G_ema." + k]) for k in params)

    import gan_zoo.truncation_curve as tc

    seen = []
    real = tc.accumulate_standing_stats

    def spy(G, *args, truncation=None, **kwargs):
        seen.append(truncation)
        return real(G, *args, truncation=truncation, **kwargs)

    monkeypatch.setattr(tc, "accumulate_standing_stats", spy)
    out = tmp_path / "curve"
    assert truncation_main([str(run2), "--t", "0.5,2,none", "--out", str(out), "--passes", "2",
                            "metrics=[fd]", "extractor=classifier:digits", "num_samples=200", "batch_size=100"]) == 0
    table = (out / "truncation.csv").read_text().splitlines()
    assert table[0] == "t,fd[classifier:digits],is[classifier:digits]" and len(table) == 4
    assert (out / "truncation.png").is_file() and seen == [0.5, 2.0, None]  # standing statistics per t
    fd = [float(line.split(",")[1]) for line in table[1:]]
    assert len(set(fd)) == 3  # each t is its own sample (and standing statistics)


def test_gradient_accumulation_takes_the_same_step(tmp_path: Path):
    base = ["dataset=toy2d_ring", "model=mlp", "loss=hinge", "regularizer=r1", "batch_size=64", "total_kimg=0.192",
            "trainer.log_every_n_steps=1", "callbacks.samples.every_kimg=100", "schedule.ema_halflife_kimg.end=0"]
    train_run(base, tmp_path / "one")
    train_run([*base, "accumulate=4"], tmp_path / "four")
    a, b = read_losses(tmp_path / "one"), read_losses(tmp_path / "four")
    for ra, rb in zip([r for r in a if "loss/d" in r], [r for r in b if "loss/d" in r]):
        for key in ("loss/d", "loss/g", "reg/r1"):
            assert rb[key] == pytest.approx(ra[key], rel=1e-4, abs=1e-6), key
    ga, gb = load_run(tmp_path / "one").G_ema.state_dict(), load_run(tmp_path / "four").G_ema.state_dict()
    assert all(torch.allclose(ga[k], gb[k], atol=1e-5) for k in ga)


def test_bad_accumulate_and_ema_are_one_line_errors(tmp_path: Path):
    from gan_zoo.config import validate

    for override, match in (("accumulate=3", "accumulate=3"), ("accumulate=0", "accumulate must"),
                            ("ema.decay=1.5", "ema.decay")):
        with pytest.raises(ConfigError, match=match) as err:
            validate(compose_run(["batch_size=16", override]))
        assert "\n" not in str(err.value)


def test_sync_batchnorm_conversion_covers_every_bn_of_biggan():
    cfg = compose_run(["model=biggan/tiny", "dataset=stacked_digits", "dataset.resolution=16"]).model
    G = torch.nn.SyncBatchNorm.convert_sync_batchnorm(instantiate(cfg.generator))
    kinds = [type(m) for m in G.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert len(kinds) == 5 and all(k is torch.nn.SyncBatchNorm for k in kinds)
    out = G(torch.randn(4, 24), torch.nn.functional.one_hot(torch.arange(4), 1000).float())  # single process
    assert out.shape == (4, 3, 16, 16)
    assert json.dumps(compose_run(["experiment=biggan/imagenet128"]).trainer.sync_batchnorm) == "true"
