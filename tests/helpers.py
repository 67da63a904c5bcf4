"""Run gan-zoo-train in-process on a composed config (what the CLI runs, minus process start-up), and start
child processes that run *this* checkout.

A child process must import the gan_zoo of the tree under test, not whatever is installed: ``checkout_env``
puts this checkout's ``src`` (the package, src layout) and its root (``tests.*`` for probes) first on an
absolute ``PYTHONPATH`` derived from this file's location, and ``run_module`` starts ``sys.executable -m
<module>`` with it. ``tests/test_checkout.py`` asserts that a child's ``gan_zoo.__file__`` is this checkout's.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import QUIET, compose_run

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"

# A run that trains one iteration of the tiny R3GAN in well under a second: the base of tests that need a run
# but not its quality. A test that expects an error passes it too, so a regressed check shows up as a
# finished run, i.e. a failed assertion, not as minutes of training at the default 100 kimg; trainer.max_steps
# (optimizer steps, all sessions of a run) stops even a run whose kimg never grows (n_dis=0).
TINY = ["batch_size=8", "total_kimg=0.008", "callbacks.samples.every_kimg=1000",
        "callbacks.checkpoint.every_kimg=1000", "trainer.max_steps=200"]


def train_run(overrides: list[str], run_dir: Path) -> dict:
    """Group choices cannot change on resume, so a resume run only gets the plain QUIET keys."""
    from gan_zoo.train import train

    resuming = any(o.startswith("resume=") for o in overrides)
    quiet = [q for q in QUIET if not resuming or "." in q.split("=")[0]]
    return train(compose_run([*quiet, *overrides], run_dir))


def straight_and_resumed(tmp_path: Path, overrides: list[str], cut_kimg: float, total_kimg: float):
    """An uninterrupted run and one stopped at ``cut_kimg`` then resumed to ``total_kimg`` (run dirs
    ``straight`` and ``cut``), for tests that a resume continues exactly."""
    straight, cut = tmp_path / "straight", tmp_path / "cut"
    train_run([*overrides, f"total_kimg={total_kimg}"], straight)
    train_run([*overrides, f"total_kimg={cut_kimg}"], cut)
    train_run([f"resume={cut}", f"total_kimg={total_kimg}"], cut)
    return straight, cut


def read_losses(run_dir: Path) -> list[dict[str, float]]:
    with open(run_dir / "metrics.csv") as f:
        return [{k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(f)]


def bare_module(G, regularizers: dict):
    """An AdversarialModule on 2-D points (MLP D, RpGAN, Adam) without a Trainer: its optimizers and backward
    wired by hand, so a test can call one D or G step and look at the networks."""
    from functools import partial

    import torch

    from gan_zoo.augment import Augment
    from gan_zoo.losses import RpGAN
    from gan_zoo.models.mlp import MLPDiscriminator
    from gan_zoo.module import AdversarialModule
    from gan_zoo.schedules import Schedules

    D = MLPDiscriminator(in_dim=2, width=8, depth=2)
    lr = {"start": 1e-2, "end": 1e-2}
    schedules = Schedules(burnin_kimg=0, lr=lr, gamma=1.0, beta2=0.99, ema_halflife_kimg=1.0, aug_p=0.0)
    module = AdversarialModule(G, D, RpGAN(), regularizers, Augment(), partial(torch.optim.Adam, betas=(0.0, 0.99)),
                               schedules, batch_size=4, total_kimg=1.0)
    optimizers = module.configure_optimizers()
    module.optimizers = lambda: optimizers
    module.manual_backward = lambda loss: loss.backward()
    module._z_gen = torch.Generator().manual_seed(0)
    return module


def checkout_env(**extra: str) -> dict[str, str]:
    """os.environ with this checkout's src and root first on PYTHONPATH and torch on one thread."""
    parts = [str(SRC), str(REPO)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(parts), "OMP_NUM_THREADS": "1", **extra}


def run_module(module: str, *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300,
               popen: bool = False):
    """``python -m <module> <args>`` in ``cwd`` on this checkout (``popen=True``: started, not waited for,
    stdout and stderr merged)."""
    return run_python("-m", module, *args, cwd=cwd, env=env, timeout=timeout, popen=popen)


def run_python(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300, popen: bool = False):
    """``python <args>`` (this interpreter) in ``cwd`` with :func:`checkout_env` plus ``env``."""
    cmd = [sys.executable, *args]
    env = checkout_env(**(env or {}))
    if popen:
        return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
