"""Kill-and-resume: a run stopped at kimg k and resumed logs the same losses afterwards as a run that never
stopped (CPU, fixed seed), with every schedule (lr, gamma, beta2, augment p, EMA half-life) moving across the
cut and reaching the optimizers and the augmentation at the kimg where the resumed run stands. Also the corners:
a group change is refused, ``resume=<file.ckpt>`` continues from that file, the wandb run id and the wall clock
carry over, and resuming a missing path is a one-line error."""

import json
import math
import re
import shlex

import pytest
import torch
from omegaconf import OmegaConf

from gan_zoo.checkpoint import load_run
from gan_zoo.errors import ConfigError, GanZooError
from tests.helpers import TINY, read_losses, train_run

REC = "+callbacks.rec._target_=tests.spies.Recorder"
SCHEDULE = {"lr": (4e-4, 1e-4), "gamma": (1.0, 0.1), "beta2": (0.9, 0.99), "aug_p": (0.6, 0.2),
            "ema_halflife_kimg": (0.0, 0.5)}
BURNIN = 1.0
BASE = ["model=r3gan/tiny", "batch_size=16", "trainer.log_every_n_steps=1", "callbacks.checkpoint.every_kimg=0.32",
        "callbacks.samples.every_kimg=100", "augment=ada", "augment._target_=tests.spies.SpyAugment",
        f"schedule.burnin_kimg={BURNIN}", "dataset.num_images=2000", REC,
        *[f"schedule.{k}.{e}={v}" for k, (a, b) in SCHEDULE.items() for e, v in (("start", a), ("end", b))]]


def scheduled(name: str, kimg: float) -> float:
    start, end = SCHEDULE[name]
    return end + (start - end) * (1 + math.cos(math.pi * min(kimg / BURNIN, 1.0))) / 2


def by_kimg(rows):
    return {round(r["kimg"], 3): r for r in rows if "loss/d" in r}


def test_resume_reproduces_the_uninterrupted_run(tmp_path, spies):
    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    train_run([*BASE, "total_kimg=0.64"], straight)
    train_run([*BASE, "total_kimg=0.32"], interrupted)  # "killed" after 20 iterations
    assert load_run(interrupted).kimg == pytest.approx(0.32)
    spies.augment.clear()
    train_run([f"resume={interrupted}", "total_kimg=0.64"], interrupted)

    a, b = by_kimg(read_losses(straight)), by_kimg(read_losses(interrupted))
    after = [k for k in a if k > 0.32]
    assert len(after) == 20 and all(k in b for k in after)
    keys = ("loss/d", "loss/g", "reg/r1", "reg/r2", *(f"schedule/{k}" for k in SCHEDULE))
    for k in after:
        for key in keys:
            assert b[k][key] == pytest.approx(a[k][key], rel=1e-5, abs=1e-7), (k, key)
    ga, gb = load_run(straight).G_ema.state_dict(), load_run(interrupted).G_ema.state_dict()
    assert all(torch.allclose(ga[n], gb[n], atol=1e-6) for n in ga)

    # the resumed session: schedules at the kimg where it stands, in the optimizers and the augmentation
    resumed = spies.recorders[-1]
    assert resumed.start_iteration == 20 and len(resumed.steps) == 20
    for i, step in enumerate(resumed.steps):
        kimg = 0.32 + 0.016 * i  # where iteration 20 + i starts
        assert step["g"]["lr"] == pytest.approx(scheduled("lr", kimg), rel=1e-9)
        assert step["d"]["betas"] == pytest.approx((0.0, scheduled("beta2", kimg)), rel=1e-9)
        assert step["aug_p"] == pytest.approx(scheduled("aug_p", kimg), rel=1e-9)
    assert len(spies.augment) == 4 * 20  # D: real, fake; G: fake, real (RpGAN)
    assert all(c["p"] > 0.2 for c in spies.augment)
    # augmentation is applied: the same first iteration without it gives other losses
    train_run([*BASE, "total_kimg=0.016", "schedule.aug_p.start=0", "schedule.aug_p.end=0"], tmp_path / "no_aug")
    first = by_kimg(read_losses(tmp_path / "no_aug"))[0.016]
    assert first["loss/d"] != pytest.approx(a[0.016]["loss/d"], rel=1e-4)


@pytest.fixture
def short_run(tmp_path):
    run = tmp_path / "run"
    train_run([*TINY, "total_kimg=0.048", REC], run)
    return run


def test_resume_refuses_a_group_change(short_run):
    with pytest.raises(ConfigError, match="cannot change the group loss when resuming") as err:
        train_run([f"resume={short_run}", "loss=ns"], short_run)
    assert "\n" not in str(err.value)


def test_resume_from_a_checkpoint_file_continues_from_that_file(short_run, spies):
    early = short_run / "checkpoints" / "early.ckpt"
    early.write_bytes((short_run / "checkpoints" / "last.ckpt").read_bytes())  # 6 iterations
    train_run([f"resume={short_run}", "total_kimg=0.096"], short_run)  # last.ckpt moves on to 12
    status = train_run([f"resume={early}", "total_kimg=0.064"], short_run)
    assert spies.recorders[-1].start_iteration == 6
    assert status["state"] == "finished" and status["kimg"] == pytest.approx(0.064)
    assert load_run(short_run).kimg == pytest.approx(0.064)  # written into the run directory of the file


def test_resume_carries_the_wall_clock(short_run):
    """Seconds of earlier sessions are saved in the checkpoint and added to this session's."""
    path = short_run / "checkpoints" / "last.ckpt"
    ckpt = torch.load(path, weights_only=False)
    (key,) = [k for k in ckpt["callbacks"] if k.startswith("KimgCheckpoint")]
    ckpt["callbacks"][key]["wall_clock_s"] = 1000.0
    torch.save(ckpt, path)
    train_run([f"resume={short_run}", "total_kimg=0.064"], short_run)
    status = json.loads((short_run / "status.json").read_text())
    assert status["state"] == "finished" and 1000.0 < status["wall_clock_s"] < 1000.0 + 600


def test_resume_keeps_the_wandb_run_id(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_SILENT", "true")
    run = tmp_path / "run"
    train_run([*TINY, "logger=wandb"], run)
    wandb_id = OmegaConf.load(run / "config.yaml").logger.wandb.id
    assert wandb_id and len(wandb_id) == 12
    first = {p.name for p in (run / "wandb").glob("offline-run-*")}
    train_run([f"resume={run}", "total_kimg=0.016"], run)
    runs = {p.name for p in (run / "wandb").glob("offline-run-*")}
    # wandb names an offline run offline-run-<start second>-<id>, plus "-1" when a run of that id already
    # started within the same second (a fast resume): the id is what must be kept
    assert first and len(runs) == 2 and all(re.fullmatch(rf"offline-run-\d{{8}}_\d{{6}}-{wandb_id}(-\d+)?", name)
                                            for name in runs), runs
    assert OmegaConf.load(run / "config.yaml").logger.wandb.id == wandb_id


def test_resume_missing_path_is_one_line_error(tmp_path):
    with pytest.raises(GanZooError, match="no checkpoint at .*nowhere") as err:
        train_run([f"resume={tmp_path / 'nowhere'}"], tmp_path / "nowhere")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("run_dir", ["runs/demo/2026-11-22_10-00-00", "/r/roadmap/B/budget=cpu_long,seed=0",
                                     "/r/it's a run", "C:\\runs\\x=1", "ends in\\", "quote\\'d [1]", 'x$HOME,"q"'])
def test_the_printed_resume_command_parses_back_to_the_run_directory(run_dir):
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from gan_zoo.resume import resume_command

    program, *args = shlex.split(resume_command(run_dir))
    assert program == "gan-zoo-train" and len(args) == 1
    override = OverridesParser.create().parse_override(args[0])
    assert override.key_or_group == "resume" and override.value() == run_dir
