"""A short run writes what the run-directory contract promises; wandb offline works with no network;
a diverging run stops with one line, records it, and keeps the last good checkpoint."""

import json

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
    assert (run / "checkpoints" / "snapshot-000001.ckpt").is_file()
    assert not list(run.rglob(".*.tmp")), "no temporary checkpoint may be left behind"
    grids = sorted(p.name for p in (run / "samples").glob("grid-*.png"))
    assert grids[0] == "grid-000000.png" and len(grids) >= 2
    rows = read_losses(run)
    assert {"loss/d", "loss/g", "reg/r1", "reg/r2", "schedule/lr", "kimg"} <= set(rows[-1])
    # wandb offline: a local run directory with the metric history and the sample images, no network needed
    offline = list((run / "wandb").glob("offline-run-*"))
    assert len(offline) == 1 and list(offline[0].glob("*.wandb"))
    assert list(offline[0].rglob("*.png")), "sample grids are logged to wandb as images"


def test_load_run_samples_without_the_dataset(tmp_path):
    run = tmp_path / "run"
    train_run([*SHORT, "total_kimg=0.5"], run)
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
