"""Resume keeps a run's history and its directory: metrics.csv rows of every session, the overrides a resume
was given, a copied run directory that resumes into itself, and run directories that never collide."""

from __future__ import annotations

import shutil

import pytest
from omegaconf import OmegaConf

from gan_zoo.checkpoint import load_run
from tests.helpers import train_run
from tests.reliability.common import FAST, kimgs, loss_rows, status, train_cli


def test_two_resumes_keep_every_metrics_row_and_record_their_overrides(tmp_path):
    run = tmp_path / "run"
    train_run([*FAST, "total_kimg=0.032"], run)
    train_run([f"resume={run}", "total_kimg=0.064"], run)
    assert OmegaConf.load(run / "config.yaml").total_kimg == 0.064, "the resume's override is saved"
    assert OmegaConf.load(run / "config.yaml").resume is None
    train_run([f"resume={run}", "total_kimg=0.096"], run)
    assert sorted(loss_rows(run)) == kimgs(12)
    assert status(run)["kimg"] == pytest.approx(0.096)


def test_resume_from_an_earlier_checkpoint_drops_the_rows_it_replays(tmp_path):
    run = tmp_path / "run"
    train_run([*FAST, "total_kimg=0.032"], run)
    early = run / "checkpoints" / "early.ckpt"
    shutil.copy(run / "checkpoints" / "last.ckpt", early)  # 4 iterations
    train_run([f"resume={run}", "total_kimg=0.064"], run)
    train_run([f"resume={early}", "total_kimg=0.048"], run)  # replays 0.040 and 0.048
    assert sorted(loss_rows(run)) == kimgs(6)


def test_a_copied_run_directory_resumes_into_itself_and_leaves_the_original_untouched(tmp_path):
    original, copy = tmp_path / "original", tmp_path / "elsewhere" / "copy"
    train_run([*FAST, "total_kimg=0.032"], original)
    shutil.copytree(original, copy)
    before = {p: p.read_bytes() for p in original.rglob("*") if p.is_file()}
    train_run([f"resume={copy}", "total_kimg=0.064"], copy)
    assert load_run(copy).kimg == pytest.approx(0.064) and status(copy)["state"] == "finished"
    assert sorted(loss_rows(copy)) == kimgs(8)
    after = {p: p.read_bytes() for p in original.rglob("*") if p.is_file()}
    assert after == before, "nothing of the original changed or appeared"
    saved = OmegaConf.to_yaml(OmegaConf.load(copy / "config.yaml"))
    assert str(original) not in saved and str(copy / "checkpoints") in saved


def test_three_runs_started_in_the_same_second_get_three_directories(tmp_path):
    """The name of a fresh run directory is its start second; three jobs of a SLURM array share it. Here all three
    get the very same name (the default of the resolver, fixed), as runs of one second do."""
    runs = tmp_path / "runs"
    same = f"hydra.run.dir='${{gan_zoo_run_dir:${{resume}},{runs}/run/2026-01-01_00-00-00}}'"
    procs = [train_cli("total_kimg=0.008", same, cwd=tmp_path, runs=runs, popen=True) for _ in range(3)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs[0][-2000:]
    dirs = sorted(p.name for p in (runs / "run").iterdir())
    assert dirs == ["2026-01-01_00-00-00", "2026-01-01_00-00-00_1", "2026-01-01_00-00-00_2"]
    for d in dirs:
        assert status(runs / "run" / d)["state"] == "finished"
        assert len(loss_rows(runs / "run" / d)) == 1
