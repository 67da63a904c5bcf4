"""hparams_search: the trial value from metrics.jsonl, diverged runs as failed trials, a study that resumes
from its SQLite file (killed trials retried with their parameters), and the real sweep end to end (slow)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import optuna
import pytest
from optuna.trial import TrialState

from gan_zoo.hparams_search import objective_value, study_table
from tests.conftest import compose_run
from tests.helpers import checkout_env

optuna.logging.set_verbosity(optuna.logging.WARNING)


def fake_run(path: Path, state: str, values: list[tuple[float, float]], primary: str = "hq") -> Path:
    path.mkdir(parents=True)
    (path / "config.yaml").write_text(f"name: t\nseed: 0\nmetrics:\n  primary: {primary}\n")
    (path / "status.json").write_text(json.dumps({"state": state}))
    lines = [{"metric": m, "value": v, "kimg": k} for k, v in values for m in ("modes", "hq")]
    lines = [dict(e, value=e["value"] * (1 if e["metric"] == "hq" else 100)) for e in lines]
    (path / "metrics.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines))
    return path


def test_objective_reads_the_primary_metric(tmp_path):
    run = fake_run(tmp_path / "a", "finished", [(10, 0.3), (20, 0.9), (30, 0.5)])
    assert objective_value(run, None, "last") == 0.5  # metrics.primary = hq, at the last kimg
    assert objective_value(run, None, "best", "maximize") == 0.9
    assert objective_value(run, None, "best", "minimize") == 0.3
    assert objective_value(run, "modes", "last") == 50.0
    for state in ("diverged", "failed", "running"):
        assert objective_value(fake_run(tmp_path / state, state, [(10, 0.3)]), None) is None  # -> FAILED trial
    assert objective_value(fake_run(tmp_path / "nan", "finished", [(10, float("nan"))]), None) is None


def test_search_config_composes():
    cfg = compose_run(["experiment=toy2d/ring", "hparams_search=toy2d_ring_optuna", "schedule.lr.start=0.02"])
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_.endswith("ResumableOptunaSweeper") and sweeper.direction == "maximize"
    assert set(sweeper.params) == {"schedule.gamma.start", "schedule.lr.start"}
    assert cfg.schedule.lr.end == 0.02 and cfg.metrics.primary == "hq" and cfg.on_divergence == "record"
    assert cfg.objective.reduce == "last" and cfg.name == "hps_toy2d_ring"


def test_top_up_counts_the_stored_study_and_requeues_killed_trials(tmp_path):
    from hydra_plugins.gan_zoo_optuna.resumable_sweeper import top_up

    storage = f"sqlite:///{tmp_path / 'deep' / 'study.db'}"
    impl = SimpleNamespace(storage=storage, study_name="s", n_trials=6)
    assert top_up(impl) == 6 and (tmp_path / "deep").is_dir()  # new study: all of them; the folder is made
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    for value in (0.1, 0.4):
        trial = study.ask()
        trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        study.tell(trial, value)
    study.tell(study.ask(), state=TrialState.FAIL)  # a diverged trial counts as done
    killed = study.ask({"lr": optuna.distributions.LogUniformDistribution(1e-4, 1e-1)})  # left RUNNING
    assert top_up(impl) == 3  # 6 - 2 complete - 1 failed; the killed one is re-queued, not counted
    study = optuna.load_study(study_name="s", storage=storage)
    states = [t.state for t in study.trials]
    assert states.count(TrialState.FAIL) == 2 and states.count(TrialState.WAITING) == 1
    assert study.trials[-1].params == {} and study.trials[-1].system_attrs["fixed_params"] == killed.params
    assert "| 1 | COMPLETE | 0.4 |" in study_table(storage, "s") and "best: trial 1, value 0.4" in study_table(
        storage, "s")


def _trials(db: Path) -> list:
    return optuna.load_study(study_name="hps_toy2d_ring", storage=f"sqlite:///{db}").trials


@pytest.mark.slow
def test_search_runs_is_killed_and_resumes(tmp_path):
    """4 trials of 2 kimg through gan-zoo-train -m: killed after the first trial finished, relaunched: the
    study ends with exactly 4 finished trials, the cut-off one retried with its parameters."""
    db = tmp_path / "runs" / "sweeps" / "hps_toy2d_ring" / "optuna.db"
    args = [sys.executable, "-m", "gan_zoo.train", "-m", "experiment=toy2d/ring", "hparams_search=toy2d_ring_optuna",
            f"paths.runs_dir={tmp_path / 'runs'}", "hydra.sweeper.n_trials=4", "total_kimg=2", "batch_size=64",
            "metrics.every_kimg=1", "callbacks.checkpoint.every_kimg=0.5", "callbacks.samples.every_kimg=1000",
            "trainer.enable_progress_bar=false", "hydra.sweeper.sampler.n_startup_trials=2"]
    env = checkout_env(WANDB_MODE="disabled")
    first = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                             start_new_session=True)
    deadline = time.time() + 240
    while time.time() < deadline:
        time.sleep(0.5)
        if db.is_file():
            try:
                trials = _trials(db)
            except Exception:  # noqa: BLE001 - the study is still being created
                continue
            if sum(t.state == TrialState.COMPLETE for t in trials) >= 1 and trials[-1].state == TrialState.RUNNING:
                break
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    trials = _trials(db)
    cut = [t for t in trials if t.state == TrialState.RUNNING]
    assert len(cut) == 1, [t.state for t in trials]
    second = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    trials = _trials(db)
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.FAIL) and t.params]
    assert len(finished) - sum(t.number == cut[0].number for t in finished) == 4
    assert any(t.params == cut[0].params and t.state == TrialState.COMPLETE for t in trials[cut[0].number + 1:])
    assert "Best parameters" in second.stdout + second.stderr
