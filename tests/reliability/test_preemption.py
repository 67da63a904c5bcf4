"""Preemption: SIGTERM (SLURM, scancel, a killed sweep) and SIGINT (Ctrl-C) mid-run checkpoint the end of the
current step, mark the run interrupted with its kimg, exit 143 / 130, and the next launch continues exactly."""

from __future__ import annotations

import shlex
import signal
import time

import pytest

from gan_zoo.checkpoint import load_run
from gan_zoo.resume import hydra_value
from tests.helpers import run_module, train_run
from tests.reliability.common import CLI, FAST, kimgs, loss_rows, only_run, status, train_cli

KILL = "+callbacks.kill._target_=tests.reliability.faults.SignalAt"


def test_sigterm_mid_run_checkpoints_marks_interrupted_and_resume_matches_uninterrupted(tmp_path):
    runs = tmp_path / "runs"
    done = train_cli("total_kimg=0.4", KILL, "+callbacks.kill.iteration=5", cwd=tmp_path, runs=runs)
    assert done.returncode == 143, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    line = [x for x in done.stderr.splitlines() if "interrupted by SIGTERM" in x]
    assert len(line) == 1 and "resume=" in line[0], done.stderr[-2000:]
    run = only_run(runs)
    state = status(run)
    # the signal came during iteration 5 (the 6th step): that step completed, then the checkpoint
    assert state["state"] == "interrupted" and state["kimg"] == pytest.approx(0.048)
    assert load_run(run).kimg == pytest.approx(0.048)
    assert not list(run.rglob("*.tmp"))
    assert sorted(loss_rows(run)) == kimgs(6), "the interrupted step's row is logged too"

    # the next launch continues; its losses are those of a run that was never interrupted
    straight = tmp_path / "straight"
    train_run([*FAST, "total_kimg=0.096"], straight)
    train_run([f"resume={run}", "total_kimg=0.096"], run)
    a, b = loss_rows(straight), loss_rows(run)
    assert sorted(b) == kimgs(12), "history of both sessions"
    for k in kimgs(12, start=7):
        for key in ("loss/d", "loss/g", "reg/r1", "reg/r2"):
            assert b[k][key] == pytest.approx(a[k][key], rel=1e-6, abs=1e-8), (k, key)
    assert status(run)["state"] == "finished"


def test_the_printed_continue_command_works_pasted_for_a_sweep_runs_directory(tmp_path):
    """A sweep's run directory is named by its overrides (``budget=cpu_long,seed=0``); Hydra reads ``=`` and ``,``
    in an override as syntax, so the command a stopped run prints must quote the path for Hydra and the shell."""
    runs = tmp_path / "roadmap" / "budget=cpu_long,seed=0"
    done = run_module("gan_zoo.train", *CLI, f"paths.runs_dir={hydra_value(str(runs))}", "total_kimg=0.096", KILL,
                      "+callbacks.kill.iteration=5", cwd=tmp_path)
    assert done.returncode == 143, done.stderr[-3000:]
    (line,) = [x for x in done.stderr.splitlines() if "continue with: " in x]
    argv = shlex.split(line.split("continue with: ", 1)[1])
    assert argv[0] == "gan-zoo-train"
    resumed = run_module("gan_zoo.train", *argv[1:], cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert status(only_run(runs))["state"] == "finished"
    assert sorted(loss_rows(only_run(runs))) == kimgs(12)


def test_ctrl_c_from_outside_checkpoints_and_exits_130(tmp_path):
    runs = tmp_path / "runs"
    proc = train_cli("total_kimg=100", "trainer.max_steps=-1", cwd=tmp_path, runs=runs, popen=True)
    try:
        deadline = time.time() + 240
        while time.time() < deadline and not list(runs.glob("run/*/metrics.csv")) and proc.poll() is None:
            time.sleep(0.2)  # metrics.csv exists once training runs (Lightning writes it at the first flush)
        if proc.poll() is None and not list(runs.glob("run/*/status.json")):
            time.sleep(1)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out[-3000:]
    assert "Traceback" not in out
    run = only_run(runs)
    state = status(run)
    assert state["state"] == "interrupted" and 0 < state["kimg"] < 100 and "SIGINT" in state["message"]
    assert load_run(run).kimg == pytest.approx(state["kimg"])


def test_second_ctrl_c_stops_at_once_and_says_so(tmp_path):
    """Two SIGINTs inside one step: no waiting for the step; the status says the checkpoint is older."""
    runs = tmp_path / "runs"
    done = train_cli("total_kimg=0.4", KILL, "+callbacks.kill.iteration=3", "+callbacks.kill.signum=2",
                     "+callbacks.kill.times=2", cwd=tmp_path, runs=runs)
    assert done.returncode != 0
    state = status(only_run(runs))
    assert state["state"] == "interrupted" and "last.ckpt is older" in state["message"]
