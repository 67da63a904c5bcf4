"""The WGAN, WGAN-GP and TTUR recipes reach the optimizers and the step as the papers state them."""

import pytest
import pytorch_lightning as pl
import torch

from tests.helpers import TINY, train_run


class OptProbe(pl.Callback):
    seen: list[dict] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        opt_g, opt_d = pl_module.optimizers()
        OptProbe.seen.append({
            "types": (type(opt_g.optimizer).__name__, type(opt_d.optimizer).__name__),
            "lr": (opt_g.optimizer.param_groups[0]["lr"], opt_d.optimizer.param_groups[0]["lr"]),
            "betas": opt_d.optimizer.param_groups[0].get("betas"),
            "n_dis": pl_module.n_dis, "loss": type(pl_module.loss).__name__,
            "regs": {n: type(r).__name__ for n, r in pl_module.regularizers.items()},
            "d_max": max(p.abs().max().item() for p in pl_module.D.parameters()),
            "d_bn": any(isinstance(m, torch.nn.BatchNorm2d) for m in pl_module.D.modules()),
            "sn_d": any(k.endswith("_u") for k in pl_module.D.state_dict()),
        })


PROBE = "+callbacks.probe._target_=tests.objectives.test_experiments.OptProbe"


@pytest.mark.parametrize("exp,expected", [
    ("wgan/digits", {"types": ("RMSprop", "RMSprop"), "lr": (5e-5, 5e-5), "n_dis": 5, "loss": "Wasserstein",
                     "regs": {"clip": "WeightClip"}}),
    ("wgan_gp/digits", {"types": ("Adam", "Adam"), "lr": (1e-4, 1e-4), "betas": (0.5, 0.9), "n_dis": 5,
                        "loss": "Wasserstein", "regs": {"wgan_gp": "WGANGP"}, "d_bn": False}),
    ("ttur/digits", {"types": ("Adam", "Adam"), "lr": (1e-4, 4e-4), "n_dis": 1, "loss": "Hinge",
                     "regs": {"sn": "SpectralNorm"}, "sn_d": True}),
])
def test_recipe_reaches_the_step(tmp_path, exp, expected):
    OptProbe.seen.clear()
    train_run([f"experiment={exp}", *TINY, PROBE], tmp_path)
    seen = OptProbe.seen[-1]
    for key, value in expected.items():
        got = seen[key]
        assert (pytest.approx(value) == got) if key in ("lr", "betas") else got == value, key
    if exp == "wgan/digits":
        assert seen["d_max"] <= 0.01 and seen["d_bn"]
