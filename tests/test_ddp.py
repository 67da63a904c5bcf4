"""Data-parallel training on CPU (trainer=ddp_cpu: 2 gloo processes, Lightning re-executes the command for
rank 1) against one process with the same global batch.

With mean losses (RpGAN, R1, R2 are batch means), averaging the gradients of 2 ranks of B/2 images equals the
gradient of one rank of B images when the ranks together see the same images paired with the same z: the
sampler deals global positions r, r + 2, ... to rank r, and the module draws z for the global batch from a
stream shared by all ranks and keeps the same rows. So after a few iterations both ranks hold identical G, D
and G_ema, and these equal the single-process run's up to float summation order. The metrics (a Frechet
distance on an untrained classifier's features, all-gathered over ranks) agree as well.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import torch

from gan_zoo.metrics.classifier import DigitClassifier, classifier_path, save_classifier
from tests.helpers import run_module

pytestmark = pytest.mark.slow

RUN = [
    "dataset=stacked_digits", "model=r3gan/tiny", "loss=rpgan", "regularizer=r1_r2", "augment=none",
    "budget.batch_size=16", "total_kimg=0.064",  # 4 iterations of 16 images (8 per rank)
    "metrics=fd_classifier", "metrics.classifier=rand8", "metrics.num_samples=300", "metrics.num_real=300",
    "metrics.every_kimg=1", "metrics.batch_size=64",
    "trainer.enable_progress_bar=false", "+callbacks.probe._target_=tests.ddp_probe.RankProbe",
]


def _launch(trainer: str, run_dir: Path, cache: Path) -> subprocess.Popen:
    torch.manual_seed(0)
    save_classifier(DigitClassifier(10, 8, "rand8").eval(), classifier_path("rand8", cache))
    return run_module("gan_zoo.train", f"trainer={trainer}", *RUN, f"hydra.run.dir={run_dir}", cwd=run_dir.parent,
                      env={"GAN_ZOO_CACHE": str(cache)}, popen=True)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """One 2-process DDP run and one single-process run of the same config, side by side."""
    root = tmp_path_factory.mktemp("ddp")
    procs = {name: (_launch(trainer, root / name, root / f"cache_{name}"), root / name)
             for name, trainer in (("ddp", "ddp_cpu"), ("single", "cpu"))}
    for name, (proc, _) in procs.items():
        out, _ = proc.communicate(timeout=240)
        assert proc.returncode == 0, f"{name} run failed:\n{out[-3000:]}"
    return {name: run_dir for name, (_, run_dir) in procs.items()}


def _probe(run_dir: Path, rank: int) -> dict:
    return torch.load(run_dir / "probe" / f"rank{rank}.pt", weights_only=False)


def test_ddp_run_finishes_with_two_ranks(runs):
    status = json.loads((runs["ddp"] / "status.json").read_text())
    assert status["state"] == "finished" and status["iterations"] == 4
    assert status["kimg"] == pytest.approx(0.064)  # kimg counts the global batch, not one rank's
    r0, r1 = _probe(runs["ddp"], 0), _probe(runs["ddp"], 1)
    assert (r0["world_size"], r1["world_size"], r0["rank"], r1["rank"]) == (2, 2, 0, 1)
    assert r0["iterations"] == r1["iterations"] == 4


def test_ranks_see_disjoint_shares_of_the_single_process_batch(runs):
    (x0, y0), (x1, y1) = _probe(runs["ddp"], 0)["first_batch"], _probe(runs["ddp"], 1)["first_batch"]
    xs, ys = _probe(runs["single"], 0)["first_batch"]
    assert x0.shape[0] == x1.shape[0] == xs.shape[0] // 2 == 16  # 8 per step, D step + G step
    assert not torch.equal(x0, x1)
    interleaved = torch.empty_like(xs)
    interleaved[0::2], interleaved[1::2] = x0, x1
    assert torch.equal(interleaved, xs)  # rank r takes global positions r, r + 2, ...
    assert torch.equal(torch.stack([y0, y1], 1).reshape(-1), ys)


@pytest.mark.parametrize("net", ["G", "D", "G_ema"])
def test_ranks_end_identical_and_equal_to_one_process(runs, net):
    w0, w1 = _probe(runs["ddp"], 0)["weights"][net], _probe(runs["ddp"], 1)["weights"][net]
    ws = _probe(runs["single"], 0)["weights"][net]
    assert all(torch.equal(w0[k], w1[k]) for k in w0), "the gradient all-reduce left the ranks apart"
    init = _probe(runs["ddp"], 0)["initial"][net]
    assert all(torch.equal(init[k], _probe(runs["single"], 0)["initial"][net][k]) for k in init)
    moved = max((w0[k] - init[k]).abs().max().item() for k in w0)
    diff = max((w0[k] - ws[k]).abs().max().item() for k in w0)
    # 4 Adam steps of lr 2e-4 move weights by ~1e-3; float summation order alone leaves ~1e-6. Different z or
    # data per rank (e.g. z drawn per rank) leaves differences as large as the training moved the weights.
    assert moved > 1e-5  # G_ema moves ~1 % of G per step (half-life 1 kimg, 16 images a step)
    assert diff < 0.01 * moved, f"{net}: DDP and one process differ by {diff} (training moved {moved})"


def test_checkpoint_and_metrics_match_one_process(runs):
    ckpt = torch.load(runs["ddp"] / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    w0 = _probe(runs["ddp"], 0)["weights"]["G_ema"]
    assert all(torch.equal(ckpt["state_dict"][f"G_ema.{k}"], v) for k, v in w0.items())

    def fd(run_dir: Path) -> float:
        lines = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
        assert [x["metric"] for x in lines] == ["fd[classifier:rand8]"] and lines[0]["n"] == 300
        return lines[0]["value"]

    assert fd(runs["ddp"]) == pytest.approx(fd(runs["single"]), rel=1e-4)
