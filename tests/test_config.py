"""Every group composes; bad values and incompatible compositions fail before training with one line."""

import math
import subprocess
from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate

from gan_zoo.errors import ConfigError
from gan_zoo.paths import CONF_DIR
from gan_zoo.regularizers import R1, R2
from tests.conftest import compose_run
from tests.helpers import TINY, run_module, train_run

GROUPS = ["dataset", "model", "loss", "regularizer", "augment", "optimizer", "schedule", "trainer", "logger",
          "callbacks", "metrics", "budget", "paths"]


def test_train_yaml_composes_every_group_and_prints_with_cfg_job(tmp_path):
    cfg = compose_run([], tmp_path)
    for group in GROUPS:
        assert group in cfg, group
    assert cfg.model.generator._target_ == "gan_zoo.models.r3gan.Generator"
    assert cfg.model.resolution == cfg.dataset.resolution == 8
    assert cfg.experiment is None if "experiment" in cfg else True


def _sp(x: float) -> float:
    return math.log1p(math.exp(x))  # softplus, by hand


REAL, FAKE = [1.0, -0.5], [0.2, -0.1]  # D's logits on a real and a fake batch of two (no symmetry to hide a swap)
# (D loss, G loss) on these logits, from the papers' formulas (see gan_zoo.losses), computed by hand
LOSS_VALUES = {
    "ns": ((_sp(-1.0) + _sp(0.2) + _sp(0.5) + _sp(-0.1)) / 2, (_sp(-0.2) + _sp(0.1)) / 2),
    "rpgan": ((_sp(-(1.0 - 0.2)) + _sp(-(-0.5 + 0.1))) / 2, (_sp(-(0.2 - 1.0)) + _sp(-(-0.1 + 0.5))) / 2),
    "hinge": ((0.0 + 1.2 + 1.5 + 0.9) / 2, -(0.2 - 0.1) / 2),
}
REGULARIZERS = {"r1_r2": {"r1": R1, "r2": R2}, "r1": {"r1": R1}, "none": {}}


@pytest.mark.parametrize("loss", ["rpgan", "ns", "hinge"])
@pytest.mark.parametrize("regularizer", ["r1_r2", "r1", "none"])
def test_any_loss_and_regularizer_compose_and_build(tmp_path, loss, regularizer):
    """Each group builds the objective it names: the loss's values on fixed logits are the paper's formula."""
    cfg = compose_run([f"loss={loss}", f"regularizer={regularizer}"], tmp_path)
    built = instantiate(cfg.loss)
    real, fake = torch.tensor(REAL), torch.tensor(FAKE)
    d_value, g_value = LOSS_VALUES[loss]
    assert built.d(real, fake).item() == pytest.approx(d_value, rel=1e-6)
    assert built.g(fake, real).item() == pytest.approx(g_value, rel=1e-6)
    assert built.g_needs_real is (loss == "rpgan")
    regs = {k: instantiate(v) for k, v in cfg.regularizer.items()}
    assert {k: type(v) for k, v in regs.items()} == REGULARIZERS[regularizer]
    assert all(r.side == "D" and r.interval == 1 and r.gamma is None for r in regs.values())


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
        (["n_dis=0"], "n_dis must be >= 1 (got 0)"),
        (["optimizer.optim.betas=[0.0,1.0]"], "optimizer.optim.betas must lie in [0, 1) (got [0.0, 1.0])"),
        (["optimizer.optim.betas=[-0.1,0.99]"], "optimizer.optim.betas must lie in [0, 1)"),
        (["optimizer.g_lr_mult=0"], "optimizer.g_lr_mult must be > 0 (got 0)"),
        (["optimizer.d_lr_mult=-4.0"], "optimizer.d_lr_mult must be > 0 (got -4.0)"),
        (["dataset=digits", "model.c_dim=10", "model.discriminator.c_dim=4"],
         "model.generator c_dim=10 but model.discriminator c_dim=4: they must agree"),
    ],
)
def test_bad_inputs_are_one_line_config_errors(tmp_path, overrides, message):
    """TINY comes first (the case's own keys override it): were a check to regress, the run would train one
    iteration and finish, failing here at once instead of training the default budget first."""
    with pytest.raises(ConfigError) as err:
        train_run([*TINY, *overrides], tmp_path)
    assert message in str(err.value)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "checkpoints").exists() and not (tmp_path / "status.json").exists()


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return run_module("gan_zoo.train", *args, cwd=cwd, env={"GAN_ZOO_RUNS": str(cwd / "runs")})


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
