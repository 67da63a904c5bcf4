"""The README's gan-zoo-train examples compose, and the StackedMNIST-on-Fashion-MNIST one trains (it failed with
``dataset.resolution=16``, which the MNIST-format loader refuses)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tests.helpers import REPO
from tests.reliability.test_one_line_errors import probe

FMNIST = Path("/usr/share/datasets/fashion-mnist")


def readme_train_lines() -> list[list[str]]:
    lines = []
    for line in (REPO / "README.md").read_text().splitlines():
        if line.startswith("gan-zoo-train ") and "=" in line:
            args = shlex.split(line.split("#", 1)[0])[1:]
            if args and not any(a.startswith(("-m", "resume=", "--")) for a in args):
                lines.append(args)
    return lines


def test_readme_examples_compose_and_the_fmnist_one_trains(tmp_path):
    lines = readme_train_lines()
    assert any("dataset=stacked_fmnist" in a for a in lines)
    cases = [{"argv": ["train", *args, "--cfg", "job"]} for args in lines]
    fmnist = next(a for a in lines if "dataset=stacked_fmnist" in a)
    if FMNIST.is_dir():
        cases.append({"argv": ["train", *fmnist, "total_kimg=0.008", "batch_size=8", "dataset.num_images=1000",
                               "trainer.enable_progress_bar=false", f"paths.runs_dir={tmp_path / 'runs'}",
                               "callbacks.samples.every_kimg=1000"]})
    results = probe(tmp_path, cases)
    for case, result in zip(cases, results):
        assert result["rc"] == 0, (case["argv"], result["stderr"][-2000:])
    if not FMNIST.is_dir():
        pytest.skip("the training part needs Debian's dataset-fashion-mnist")
