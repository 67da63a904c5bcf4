"""load_run: a run directory or any of its .ckpt files -> G_ema (eval, on the device asked) and the run's
config; a truncated or foreign file is a one-line error naming it."""

from __future__ import annotations

import pytest
import torch

from gan_zoo.checkpoint import load_run
from gan_zoo.errors import GanZooError
from tests.helpers import TINY, train_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """6 iterations, with a copy of the checkpoint after 2 (as a snapshot or best.ckpt would be)."""
    run = tmp_path_factory.mktemp("load_run") / "run"
    train_run([*TINY, "total_kimg=0.016"], run)
    early = run / "checkpoints" / "early.ckpt"
    early.write_bytes((run / "checkpoints" / "last.ckpt").read_bytes())
    train_run([f"resume={run}", "total_kimg=0.048"], run)
    return run


def test_run_directory_and_checkpoint_file(run):
    latest, early = load_run(run), load_run(run / "checkpoints" / "early.ckpt")
    assert (latest.kimg, early.kimg) == (pytest.approx(0.048), pytest.approx(0.016))
    assert latest.ckpt_path == run / "checkpoints" / "last.ckpt" and early.ckpt_path.name == "early.ckpt"
    assert latest.run_dir == early.run_dir == run
    assert early.cfg.total_kimg == pytest.approx(0.016) and latest.cfg.model.name == "r3gan_tiny"
    state = torch.load(run / "checkpoints" / "early.ckpt", weights_only=False)["state_dict"]
    assert all(torch.equal(v, state[f"G_ema.{k}"]) for k, v in early.G_ema.state_dict().items())
    assert any(not torch.equal(v, state[f"G_ema.{k}"]) for k, v in latest.G_ema.state_dict().items())
    assert not early.G_ema.training and not any(p.requires_grad for p in early.G_ema.parameters())


def test_device(run):
    handle = load_run(run, device="meta")
    assert {p.device.type for p in handle.G_ema.parameters()} == {"meta"}
    assert handle.G_ema(torch.randn(2, 64, device="meta")).device.type == "meta"


@pytest.mark.parametrize("kind", ["truncated", "text", "foreign"])
def test_unreadable_or_foreign_checkpoint_is_one_line_error(run, tmp_path, kind):
    bad = tmp_path / "checkpoints" / "last.ckpt"
    bad.parent.mkdir()
    good = (run / "checkpoints" / "last.ckpt").read_bytes()
    if kind == "truncated":
        bad.write_bytes(good[: len(good) // 2])
    elif kind == "text":
        bad.write_text("not a checkpoint\n")
    else:
        torch.save({"state_dict": {"w": torch.zeros(1)}, "epoch": 3}, bad)  # a plain Lightning/torch file
    with pytest.raises(GanZooError) as err:
        load_run(tmp_path)
    message = str(err.value)
    assert "\n" not in message and str(bad) in message
    expected = "has no gan_zoo config" if kind == "foreign" else "is not a readable gan_zoo checkpoint"
    assert expected in message
