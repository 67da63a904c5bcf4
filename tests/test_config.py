"""Every group composes; bad values and incompatible compositions fail before training with one line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra.utils import instantiate

from gan_zoo.errors import ConfigError
from gan_zoo.paths import CONF_DIR
from tests.conftest import compose_run
from tests.helpers import train_run

GROUPS = ["dataset", "model", "loss", "regularizer", "augment", "optimizer", "schedule", "trainer", "logger",
          "callbacks", "metrics", "budget", "paths"]


def test_train_yaml_composes_every_group_and_prints_with_cfg_job(tmp_path):
    cfg = compose_run([], tmp_path)
    for group in GROUPS:
        assert group in cfg, group
    assert cfg.model.generator._target_ == "gan_zoo.models.r3gan.Generator"
    assert cfg.model.resolution == cfg.dataset.resolution == 8
    assert cfg.experiment is None if "experiment" in cfg else True


@pytest.mark.parametrize("loss", ["rpgan", "ns", "hinge"])
@pytest.mark.parametrize("regularizer", ["r1_r2", "r1", "none"])
def test_any_loss_and_regularizer_compose_and_build(tmp_path, loss, regularizer):
    cfg = compose_run([f"loss={loss}", f"regularizer={regularizer}"], tmp_path)
    assert hasattr(instantiate(cfg.loss), "d")
    regs = {k: instantiate(v) for k, v in cfg.regularizer.items()}
    assert set(regs) == {"r1_r2": {"r1", "r2"}, "r1": {"r1"}, "none": set()}[regularizer]


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["regularizer.r1.gamma=-1"], "regularizer.r1: r1.gamma must be >= 0"),
        (["schedule.gamma.start=-0.5"], "schedule.gamma.start = -0.5 is outside"),
        (["schedule.lr.end=0"], "schedule.lr.end = 0.0 is outside"),
        (["batch_size=63", "trainer.devices=2"], "batch_size=63 is not divisible by trainer.devices=2"),
        (["batch_size=0"], "batch_size must be a positive integer"),
        (["total_kimg=-1"], "total_kimg must be > 0"),
        (["optimizer.optim.betas=[0,0.99]"], "optimizer.optim.betas must be two floats"),
        (["dataset.labels=false", "model.c_dim=1000"], "model.c_dim=1000 (conditional) but the dataset is unlabelled"),
        (["model.c_dim=10"], "model.c_dim=10 but the dataset has 1000 classes"),
        (["model.resolution=16"], "model.resolution=16 but dataset.resolution=8"),
        (["dataset=toy2d_ring"], "model.resolution=None is not a power of two"),
        (["dataset=toy2d_ring", "model=r3gan/cifar10"], "does not fit dataset of 2-D points"),
        (["augment=ada", "+augment.blur=1"], "augment.blur is not an augmentation"),
        (["on_divergence=ignore"], "on_divergence must be 'raise' or 'record'"),
        (["logger=wandb", "logger.wandb.mode=offlne"], "logger.wandb.mode must be online, offline or disabled"),
    ],
)
def test_bad_inputs_are_one_line_config_errors(tmp_path, overrides, message):
    with pytest.raises(ConfigError) as err:
        train_run(overrides, tmp_path)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "GAN_ZOO_RUNS": str(cwd / "runs"), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "gan_zoo.train", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_cli_prints_one_line_errors_without_traceback(tmp_path):
    bad = _cli("regularizer.r1.gamma=-2", "metrics=none", cwd=tmp_path)
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert bad.stderr.strip().splitlines()[-1].startswith("error: regularizer.r1: r1.gamma must be >= 0")
    unknown = _cli("model=r3gan/huge", cwd=tmp_path)
    assert unknown.returncode != 0 and "Traceback" not in unknown.stderr
    assert "Could not find 'model/r3gan/huge'" in unknown.stderr
    typo = _cli("loss.gama=1", cwd=tmp_path)
    assert typo.returncode != 0 and "Traceback" not in typo.stderr and "gama" in typo.stderr


def test_cfg_job_prints_the_composed_config(tmp_path):
    out = _cli("--cfg", "job", "loss=ns", cwd=tmp_path)
    assert out.returncode == 0 and "_target_: gan_zoo.losses.NonSaturating" in out.stdout
    assert str(CONF_DIR)  # configs are found from any working directory
