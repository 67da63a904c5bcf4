"""A short run writes what the run-directory contract promises; wandb offline works with no network;
a diverging run stops with one line, records it, and keeps the last good checkpoint."""

import json
from pathlib import Path

import pytest
import torch

from gan_zoo.checkpoint import load_run
from gan_zoo.errors import DivergenceError
from tests.helpers import read_losses, train_run

SHORT = ["batch_size=16", "dataset.num_images=1000", "callbacks.samples.every_kimg=0.5",
         "callbacks.checkpoint.every_kimg=0.5", "callbacks.checkpoint.snapshot_every_kimg=0.5",
         "trainer.log_every_n_steps=5"]


def test_run_directory_contract_and_wandb_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_SILENT", "true")
    run = tmp_path / "run"
    train_run([*SHORT, "total_kimg=1", "logger=wandb"], run)
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "finished" and status["kimg"] == pytest.approx(1.008)
    assert status["g_params"] == sum(p.numel() for p in load_run(run).G_ema.parameters())
    assert (run / "config.yaml").is_file() and (run / "checkpoints" / "last.ckpt").is_file()
    assert (run / "checkpoints" / "snapshot-000000512.ckpt").is_file()
    assert not list(run.rglob(".*.tmp")), "no temporary checkpoint may be left behind"
    grids = sorted(p.name for p in (run / "samples").glob("grid-*.png"))
    assert grids == ["grid-000000000.png", "grid-000000512.png", "grid-000001008.png"]  # start, 0.5 kimg, end
    rows = read_losses(run)
    assert {"loss/d", "loss/g", "reg/r1", "reg/r2", "schedule/lr", "kimg"} <= set(rows[-1])
    # wandb offline: a local run directory with the metric history and the sample images, no network needed
    offline = list((run / "wandb").glob("offline-run-*"))
    assert len(offline) == 1 and list(offline[0].glob("*.wandb"))
    assert list(offline[0].rglob("*.png")), "sample grids are logged to wandb as images"


def test_load_run_samples_without_the_dataset(tmp_path, monkeypatch):
    run = tmp_path / "run"
    train_run([*SHORT, "total_kimg=0.5"], run)

    def unavailable(*args, **kwargs):
        raise AssertionError("load_run must not read the dataset")

    # the dataset can no longer be built: neither the run's target nor the data it is made from
    monkeypatch.setattr("gan_zoo.data.digits.stacked_digits", unavailable)
    monkeypatch.setattr("sklearn.datasets.load_digits", unavailable)
    handle = load_run(run)
    assert handle.kimg == pytest.approx(0.512) and handle.run_dir == run
    out = handle.G_ema(torch.randn(5, handle.G_ema.z_dim))
    assert out.shape == (5, 3, 8, 8) and torch.isfinite(out).all()


def test_divergence_is_one_line_and_keeps_last_good_checkpoint(tmp_path):
    run = tmp_path / "run"
    train_run([*SHORT, "total_kimg=0.5"], run)
    good = (run / "checkpoints" / "last.ckpt").read_bytes()
    bad = ["schedule.lr.start=1e6", "schedule.lr.end=1e6", "callbacks.checkpoint.every_kimg=0.016", "total_kimg=5"]
    with pytest.raises(DivergenceError) as err:
        train_run([f"resume={run}", *bad], run)
    assert "\n" not in str(err.value) and "last good checkpoint" in str(err.value)
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "diverged" and 0.5 < status["kimg"] < 5
    state = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())
    assert (run / "checkpoints" / "last.ckpt").read_bytes() != good or status["kimg"] < 0.55
    # a sweep records the divergence and goes on
    result = train_run([f"resume={run}", *bad, "on_divergence=record"], run)
    assert result["state"] == "diverged"


def test_training_logs_metrics_with_provenance_best_ckpt_and_wandb(tmp_path, monkeypatch):
    """Issue 'metrics' acceptance: a short run logs a classifier-feature FD (and modes/KL) at the configured kimg,
    keeps best.ckpt, writes provenance JSON lines, and the offline wandb run holds the curves and images."""
    monkeypatch.setenv("WANDB_SILENT", "true")
    run = tmp_path / "run"
    train_run([*SHORT, "total_kimg=1", "logger=wandb", "metrics=fd_classifier", "metrics.classifier=digits",
               "metrics.every_kimg=0.5", "metrics.num_samples=2000", "+metrics.num_real=1000",
               "metrics.metrics=[fd,modes_kl]", f"paths.cache_dir={tmp_path / 'cache'}"], run)
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert {x["metric"] for x in lines} == {"fd[classifier:digits]", "modes[classifier:digits]",
                                            "kl[classifier:digits]"}
    assert sorted({round(x["kimg"], 3) for x in lines}) == [0.512, 1.008]
    keys = {"metric", "value", "kimg", "n", "extractor", "resize", "ref_hash", "seed", "wall_clock_s", "time"}
    for x in lines:
        assert keys <= set(x) and x["extractor"] == "classifier:digits" and x["n"] == 2000
    fd = [x for x in lines if x["metric"].startswith("fd")]
    assert all(x["ref_hash"] for x in fd) and all(x["value"] > 0 for x in fd)
    assert (run / "checkpoints" / "best.ckpt").is_file()
    best = torch.load(run / "checkpoints" / "best.ckpt", weights_only=False)
    assert best["gan_zoo"]["kimg"] in {0.512, 1.008}
    history = next((run / "wandb").glob("offline-run-*/*.wandb")).read_bytes()
    assert b"metrics/fd[classifier:digits]" in history and b"samples" in history


@pytest.mark.skipif(not Path("/usr/share/datasets/fashion-mnist").is_dir(),
                    reason="needs Debian's dataset-fashion-mnist (.ci/run installs it)")
def test_stacked_fmnist_trains_with_the_tiny_preset(tmp_path):
    run = tmp_path / "run"
    train_run(["dataset=stacked_fmnist", "dataset.num_images=2000", "model=r3gan/tiny", "batch_size=8",
               "total_kimg=0.016", "callbacks.samples.every_kimg=1"], run)
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "finished" and status["iterations"] == 2
    assert load_run(run).G_ema(torch.randn(2, 64)).shape == (2, 3, 32, 32)
