"""A plain sbatch job warned with SIGUSR1 (``--signal=USR1@90``, Lightning's SLURM requeue signal) checkpoints the
end of the step, marks itself interrupted, calls ``scontrol requeue``; the requeued job (same command, restart
count 1) finds its run directory and resumes there."""

from __future__ import annotations

import os
import stat

import pytest

from gan_zoo.checkpoint import load_run
from tests.reliability.common import kimgs, loss_rows, only_run, status, train_cli


def slurm_env(tmp_path, restart: int) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    scontrol = bin_dir / "scontrol"  # records what it was asked
    scontrol.write_text(f"#!/bin/sh\necho \"$@\" >> {tmp_path / 'scontrol.log'}\n")
    scontrol.chmod(scontrol.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "SLURM_JOB_ID": "4242", "SLURM_NTASKS": "1",
            "SLURM_NTASKS_PER_NODE": "1", "SLURM_JOB_NAME": "gz", "SLURM_NODEID": "0", "SLURM_PROCID": "0",
            "SLURM_LOCALID": "0", "SLURM_NODELIST": "localhost", "SLURM_RESTART_COUNT": str(restart)}


def test_requeue_signal_checkpoints_requeues_and_the_requeued_job_resumes(tmp_path):
    runs = tmp_path / "runs"
    command = ("total_kimg=0.08",)
    first = train_cli(*command, "+callbacks.kill._target_=tests.reliability.faults.SignalAt",
                      "+callbacks.kill.iteration=3", "+callbacks.kill.signum=10", cwd=tmp_path, runs=runs,
                      env=slurm_env(tmp_path, 0))
    assert first.returncode == 128 + 10, first.stderr[-3000:]
    assert "SLURM job 4242 requeued" in first.stderr
    assert (tmp_path / "scontrol.log").read_text().split() == ["requeue", "4242"]
    run = only_run(runs)
    assert status(run)["state"] == "interrupted" and load_run(run).kimg == pytest.approx(0.032)

    again = train_cli(*command, cwd=tmp_path, runs=runs, env=slurm_env(tmp_path, 1))
    assert again.returncode == 0, again.stderr[-3000:]
    assert only_run(runs) == run, "the requeued job writes into its own earlier run directory"
    assert status(run)["state"] == "finished" and sorted(loss_rows(run)) == kimgs(10)
