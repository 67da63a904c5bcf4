"""Run gan-zoo-train in-process on a composed config (what the CLI runs, minus process start-up)."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.conftest import QUIET, compose_run


def train_run(overrides: list[str], run_dir: Path) -> dict:
    """Group choices cannot change on resume, so a resume run only gets the plain QUIET keys."""
    from gan_zoo.train import train

    resuming = any(o.startswith("resume=") for o in overrides)
    quiet = [q for q in QUIET if not resuming or "." in q.split("=")[0]]
    return train(compose_run([*quiet, *overrides], run_dir))


def read_losses(run_dir: Path) -> list[dict[str, float]]:
    with open(run_dir / "metrics.csv") as f:
        return [{k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(f)]
