"""SLURM launch through hydra-submitit-launcher composes (no cluster needed: ``--cfg hydra`` prints the config
Hydra would launch the sweep with, in a fresh process of this checkout started from a foreign working directory,
as a user runs it). Hydra 1.3 refuses ``-m`` together with ``--cfg``; the sweep files set ``hydra.mode:
MULTIRUN`` themselves, so the check runs without ``-m``."""

from __future__ import annotations

import pytest
import yaml

from tests.helpers import run_module

pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="pip install -e '.[slurm]'")


def hydra_cfg(tmp_dir, *overrides: str) -> dict:
    out = run_module("gan_zoo.train", *overrides, "--cfg", "hydra", cwd=tmp_dir, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return yaml.safe_load(out.stdout)["hydra"]


@pytest.mark.parametrize(
    ("launcher", "tasks", "gpus"), [("submitit_slurm", 1, None), ("slurm_gpu", 1, 1), ("slurm_8gpu", 8, 8)]
)
def test_roadmap_sweep_composes_with_slurm_launcher(launcher, tasks, gpus, tmp_path):
    extra = ["trainer=ddp"] if tasks == 8 else []
    cfg = hydra_cfg(tmp_path, "+sweep=roadmap", f"hydra/launcher={launcher}", "hydra.launcher.partition=gpu", *extra)
    assert cfg["launcher"]["_target_"].endswith("submitit_launcher.SlurmLauncher")
    assert (cfg["launcher"]["tasks_per_node"], cfg["launcher"]["gpus_per_node"]) == (tasks, gpus)
    assert cfg["launcher"]["partition"] == "gpu"
    assert cfg["sweeper"]["params"]["seed"] == "0,1,2" and cfg["mode"] == "MULTIRUN"
    assert cfg["sweep"]["dir"] == "${paths.runs_dir}/sweeps/${name}"
