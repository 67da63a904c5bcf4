"""Kill-and-resume equivalence: a run stopped at kimg k and resumed logs the same losses afterwards as a run
that never stopped (CPU, fixed seed). Also: resuming a missing path is a one-line error."""

import pytest
import torch

from gan_zoo.checkpoint import load_run
from gan_zoo.errors import GanZooError
from tests.helpers import read_losses, train_run

BASE = ["model=r3gan/tiny", "batch_size=16", "trainer.log_every_n_steps=1", "callbacks.checkpoint.every_kimg=0.48",
        "callbacks.samples.every_kimg=100", "augment=ada", "schedule.aug_p.start=0.5", "schedule.aug_p.end=0.5",
        "schedule.burnin_kimg=1", "schedule.ema_halflife_kimg.end=0.5", "dataset.num_images=2000"]


def by_kimg(rows):
    return {round(r["kimg"], 3): r for r in rows if "loss/d" in r}


def test_resume_reproduces_the_uninterrupted_run(tmp_path):
    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    train_run([*BASE, "total_kimg=0.96"], straight)
    train_run([*BASE, "total_kimg=0.48"], interrupted)  # "killed" after 30 iterations
    assert load_run(interrupted).kimg == pytest.approx(0.48)
    train_run([f"resume={interrupted}", "total_kimg=0.96"], interrupted)

    a, b = by_kimg(read_losses(straight)), by_kimg(read_losses(interrupted))
    after = [k for k in a if k > 0.48]
    assert len(after) == 30 and all(k in b for k in after)
    for k in after:
        for key in ("loss/d", "loss/g", "reg/r1", "reg/r2", "schedule/gamma"):
            assert b[k][key] == pytest.approx(a[k][key], rel=1e-5, abs=1e-7), (k, key)
    ga, gb = load_run(straight).G_ema.state_dict(), load_run(interrupted).G_ema.state_dict()
    assert all(torch.allclose(ga[n], gb[n], atol=1e-6) for n in ga)


def test_resume_missing_path_is_one_line_error(tmp_path):
    with pytest.raises(GanZooError, match="no checkpoint at .*nowhere") as err:
        train_run([f"resume={tmp_path / 'nowhere'}"], tmp_path / "nowhere")
    assert "\n" not in str(err.value)
