"""status.json tells the truth: "finished" only once everything the run was asked to do succeeded; a failing
metric or a full disk leaves "failed" (and no partial temp file); what can be checked before training is."""

from __future__ import annotations

import errno
import json
from collections import namedtuple
from pathlib import Path

import pytest

from gan_zoo.errors import DivergenceError, GanZooError
from tests.helpers import train_run
from tests.reliability.common import FAST, status

BOOM = "+callbacks.boom._target_=tests.reliability.faults.FailingMetric"


def test_a_failing_metric_leaves_status_failed_not_finished(tmp_path):
    run = tmp_path / "run"
    with pytest.raises(RuntimeError, match="metric exploded"):
        train_run([*FAST, "total_kimg=0.016", BOOM], run)
    state = status(run)
    assert state["state"] == "failed" and "metric exploded" in state["message"]
    assert (run / "checkpoints" / "last.ckpt").is_file(), "the trained state is kept"


def test_finished_is_written_after_the_end_of_training_callbacks(tmp_path, monkeypatch):
    """While the end-of-training metrics run, the status is still "running"."""
    seen = []
    from tests.reliability import faults

    def record(self, trainer, pl_module):
        seen.append(json.loads((Path(pl_module.run_dir) / "status.json").read_text())["state"])

    monkeypatch.setattr(faults.FailingMetric, "on_train_end", record)
    run = tmp_path / "run"
    train_run([*FAST, "total_kimg=0.016", BOOM], run)
    assert seen == ["running"] and status(run)["state"] == "finished"


def test_disk_full_during_a_checkpoint_is_one_line_and_leaves_no_temp_file(tmp_path, monkeypatch):
    import pytorch_lightning as pl

    original = pl.Trainer.save_checkpoint

    def full_disk(self, filepath, weights_only=False, storage_options=None):
        Path(filepath).write_bytes(b"half a checkpoint")  # what was written before the disk filled up
        raise OSError(errno.ENOSPC, "No space left on device", str(filepath))

    monkeypatch.setattr(pl.Trainer, "save_checkpoint", full_disk)
    run = tmp_path / "run"
    with pytest.raises(GanZooError) as err:
        train_run([*FAST, "total_kimg=0.016"], run)
    message = str(err.value)
    assert "\n" not in message and "last.ckpt: No space left on device; free space" in message
    assert not list(run.rglob("*.tmp")) and not (run / "checkpoints" / "last.ckpt").exists()
    assert status(run)["state"] == "failed"
    monkeypatch.setattr(pl.Trainer, "save_checkpoint", original)


def test_preflight_refuses_a_disk_without_room_for_a_checkpoint(tmp_path, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr("gan_zoo.preflight.shutil.disk_usage", lambda path: usage(10**6, 10**6 - 4096, 4096))
    run = tmp_path / "run"
    with pytest.raises(GanZooError, match=r"0 MiB free but a checkpoint needs \d+ MiB; free space"):
        train_run([*FAST, "total_kimg=0.016"], run)
    assert not (run / "checkpoints").exists() and not (run / "status.json").exists()


def test_missing_inception_weights_fail_before_training(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # no cached weights
    monkeypatch.setattr("gan_zoo.preflight.reachable", lambda url, timeout=None: False)  # offline cluster
    run = tmp_path / "run"
    with pytest.raises(GanZooError, match="Inception weights unavailable .*metrics.inception_weights=<path>"):
        train_run(["batch_size=8", "total_kimg=0.008", "dataset.num_images=1000", "metrics=fid",
                   f"paths.cache_dir={tmp_path / 'cache'}"], run)
    assert not (run / "checkpoints").exists() and not (run / "status.json").exists()


def test_divergence_before_the_first_checkpoint_names_no_checkpoint(tmp_path):
    run = tmp_path / "run"
    with pytest.raises(DivergenceError) as err:
        train_run(["batch_size=16", "dataset.num_images=1000", "schedule.lr.start=1e6", "schedule.lr.end=1e6",
                   "total_kimg=5", "callbacks.checkpoint.every_kimg=1000", "callbacks.samples.every_kimg=1000"], run)
    message = str(err.value)
    assert "last good checkpoint" not in message and "no checkpoint was written" in message
    assert not (run / "checkpoints" / "last.ckpt").exists()
    assert status(run)["state"] == "diverged"
