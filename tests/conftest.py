"""Shared fixtures: compose run configs from conf/ with Hydra's compose API, as lightning-hydra-template does.

Tests run torch on one thread: the suite's models are tiny, and OpenMP threads spinning against other
processes on a 2-core machine slow small ops down by an order of magnitude.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, open_dict

from gan_zoo.paths import CONF_DIR

torch.set_num_threads(1)


def compose_run(overrides: list[str], run_dir: Path | None = None, multirun: bool = False) -> DictConfig:
    """The config gan-zoo-train would run with these overrides, with its run directory set to run_dir
    (``multirun``: as one job of a ``-m`` sweep)."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="train", overrides=overrides, return_hydra_config=True)
    if run_dir is not None:
        with open_dict(cfg):
            cfg.hydra.runtime.output_dir = str(run_dir)
            cfg.hydra.job.num = 0
    if multirun:
        with open_dict(cfg):
            cfg.hydra.mode = RunMode.MULTIRUN
    HydraConfig.instance().set_config(cfg)
    return cfg


QUIET = ["trainer.enable_progress_bar=false", "metrics=none"]


@pytest.fixture
def compose_cfg():
    return compose_run


@pytest.fixture
def spies():
    """The records of tests/spies.py, empty at the start of the test."""
    from types import SimpleNamespace

    from tests.spies import Recorder, SpyAugment, StepSpy

    records = (StepSpy.calls, SpyAugment.calls, Recorder.instances)
    for r in records:
        r.clear()
    yield SimpleNamespace(regularizer=StepSpy.calls, augment=SpyAugment.calls, recorders=Recorder.instances)
    for r in records:
        r.clear()
