"""A sweep job (``gan-zoo-train -m``) as gan_zoo.train.run runs it: a job that fails on a user error records
``failed`` and lets the sweep go on, a re-launch retries it, skips finished and diverged jobs, and resumes an
unfinished one from its last checkpoint."""

from __future__ import annotations

import json

import pytest

from gan_zoo.train import run
from tests.conftest import QUIET, compose_run
from tests.helpers import TINY

REC = "+callbacks.rec._target_=tests.spies.Recorder"


def sweep_job(overrides: list[str], run_dir):
    run_dir.mkdir(parents=True, exist_ok=True)  # Hydra creates each job's directory before the task runs
    return run(compose_run([*QUIET, *TINY, REC, *overrides], run_dir, multirun=True))


def status(run_dir) -> dict:
    return json.loads((run_dir / "status.json").read_text())


def test_failed_job_is_recorded_then_retried_then_skipped(tmp_path, spies, capsys):
    job = tmp_path / "job"
    failed = sweep_job(["regularizer.r1.gamma=-1"], job)
    assert failed["state"] == "failed" and "regularizer.r1: r1.gamma must be >= 0" in failed["message"]
    assert status(job)["state"] == "failed" and "r1.gamma must be >= 0" in status(job)["message"]
    assert "error: regularizer.r1" in capsys.readouterr().err

    retried = sweep_job([], job)  # the re-launched sweep tries the failed job again
    assert retried["state"] == "finished" and status(job)["state"] == "finished"
    assert len(spies.recorders) == 1 and len(spies.recorders[0].steps) == 1
    ckpt = (job / "checkpoints" / "last.ckpt").read_bytes()

    skipped = sweep_job([], job)
    assert skipped["state"] == "finished" and "already finished at 0.008 kimg, skipping" in capsys.readouterr().out
    assert len(spies.recorders) == 1, "a finished job must not be built and trained again"
    assert (job / "checkpoints" / "last.ckpt").read_bytes() == ckpt


def test_diverged_job_is_skipped(tmp_path, spies):
    job = tmp_path / "job"
    sweep_job([], job)
    (job / "status.json").write_text(json.dumps({**status(job), "state": "diverged"}))
    assert sweep_job([], job)["state"] == "diverged"
    assert len(spies.recorders) == 1


def test_unfinished_job_resumes_from_its_last_checkpoint(tmp_path, spies, capsys):
    job = tmp_path / "job"
    sweep_job(["total_kimg=0.048"], job)
    (job / "status.json").write_text(json.dumps({**status(job), "state": "running"}))  # as a killed job leaves it
    done = sweep_job(["total_kimg=0.096"], job)
    assert "resuming the unfinished run" in capsys.readouterr().out
    assert spies.recorders[-1].start_iteration == 6 and len(spies.recorders[-1].steps) == 6
    assert done["state"] == "finished" and done["kimg"] == pytest.approx(0.096)
    assert status(job)["iterations"] == 12
