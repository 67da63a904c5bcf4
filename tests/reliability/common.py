"""The fastest real runs (8-Gaussian ring, MLPs, 8 points a step) as in-process and child-process commands."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import read_losses, run_module

# one iteration = 0.008 kimg; every iteration logged; no grid or periodic checkpoint unless a test asks
FAST = ["dataset=toy2d_ring", "model=mlp", "batch_size=8", "trainer.log_every_n_steps=1",
        "callbacks.samples.every_kimg=1000", "callbacks.checkpoint.every_kimg=1000", "trainer.max_steps=400"]
CLI = [*FAST, "trainer.enable_progress_bar=false", "metrics=none"]


def train_cli(*overrides: str, cwd: Path, runs: Path, popen: bool = False, env: dict | None = None, timeout=300):
    """gan-zoo-train in a child process of this checkout, runs under ``runs``."""
    return run_module("gan_zoo.train", *CLI, f"paths.runs_dir={runs}", *overrides, cwd=cwd, popen=popen,
                      env=env, timeout=timeout)


def status(run_dir: Path) -> dict:
    return json.loads((run_dir / "status.json").read_text())


def only_run(runs: Path, name: str = "run") -> Path:
    (run_dir,) = [p for p in (runs / name).iterdir() if p.is_dir()]
    return run_dir


def loss_rows(run_dir: Path) -> dict[float, dict]:
    """kimg -> the training row (loss/d present); a kimg logged twice is an error (history duplicated)."""
    rows = [r for r in read_losses(run_dir) if "loss/d" in r]
    kimgs = [round(r["kimg"], 3) for r in rows]
    assert len(kimgs) == len(set(kimgs)), f"rows logged twice: {kimgs}"
    return {k: r for k, r in zip(kimgs, rows)}


def kimgs(n: int, start: int = 1) -> list[float]:
    return [round(0.008 * i, 3) for i in range(start, n + 1)]
