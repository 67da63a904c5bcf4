"""Experience replay: the fake batch holds past fakes at the configured ratio, the pool keeps past fakes, and a
killed-and-resumed run (pool in the checkpoint) matches an uninterrupted one bit-exactly."""

from __future__ import annotations

import torch

from gan_zoo.checkpoint import load_checkpoint, load_run
from gan_zoo.hooks import StepContext
from gan_zoo.tricks import Replay
from tests.helpers import read_losses, train_run


def _ctx(step):
    return StepContext(torch.Generator().manual_seed(step), 0.0, step, "D", step)


def test_replay_mixes_past_fakes_at_the_ratio():
    replay = Replay(capacity=50, ratio=0.25, push_prob=0.5)
    n = 16
    for t in range(1, 40):
        fake = torch.full((n, 2), float(t))  # every fake of step t carries the value t
        c = torch.full((n, 3), float(t))
        out, out_c = replay.d_fakes(fake, c, _ctx(t))
        past = out[:, 0] < t
        assert out.shape == fake.shape and torch.equal(out[:, 0], out_c[:, 0])  # labels travel with their fakes
        assert ((out[:, 0] == t) | past).all() and (out[:, 0] >= 1).all()
        expected = 0 if t == 1 else min(4, (t - 1) * n)  # round(0.25 * 16), once the pool has that many
        assert int(past.sum()) == expected, t
        assert torch.equal(out[:, 1], out[:, 0])  # whole samples, not mixed coordinates
    assert int(replay.count) == 50
    stored = replay.pool[:, 0]
    assert (stored < 40).all() and len(stored.unique()) > 5  # the pool holds fakes of many past steps
    assert (stored > 3).any()  # and keeps being refreshed once full (push_prob 0.5)


def test_replay_pool_is_in_the_checkpoint_and_resume_is_bit_exact(tmp_path):
    base = ["dataset=toy2d_ring", "model=mlp", "model.z_dim=8", "model.generator.width=16",
            "model.discriminator.width=16", "loss=ns", "regularizer=none", "batch_size=16", "trick=[replay]",
            "trick.replay.capacity=48", "trainer.log_every_n_steps=1", "callbacks.samples.every_kimg=100",
            "callbacks.checkpoint.every_kimg=0.064", "metrics=none"]
    straight, cut, emptied = tmp_path / "straight", tmp_path / "cut", tmp_path / "emptied"
    train_run([*base, "total_kimg=0.128"], straight)
    train_run([*base, "total_kimg=0.064"], cut)  # "killed" after 4 iterations: the pool (48) is full by then
    train_run([*base, "total_kimg=0.064"], emptied)
    ckpt = torch.load(emptied / "checkpoints" / "last.ckpt", weights_only=False)
    assert ckpt["state_dict"]["tricks.replay.pool"].shape == (48, 2)
    assert int(ckpt["state_dict"]["tricks.replay.count"]) == 48
    # the control: the same cut with the pool emptied (what ImagePool / tensor_pool resume with)
    ckpt["state_dict"]["tricks.replay.count"].zero_()
    torch.save(ckpt, emptied / "checkpoints" / "last.ckpt")
    train_run([f"resume={cut}", "total_kimg=0.128"], cut)
    train_run([f"resume={emptied}", "total_kimg=0.128"], emptied)

    sa, sb, se = (load_checkpoint(d / "checkpoints" / "last.ckpt")["state_dict"] for d in (straight, cut, emptied))
    assert load_run(cut).kimg == load_run(straight).kimg == 0.128
    assert sa.keys() == sb.keys() and [k for k in sa if not torch.equal(sa[k], sb[k])] == []
    la = {r["kimg"]: r["loss/d"] for r in read_losses(straight) if "loss/d" in r}
    lb = {r["kimg"]: r["loss/d"] for r in read_losses(cut) if "loss/d" in r}
    assert len(la) == 8 and all(la[k] == lb[k] for k in lb) and len(lb) >= 4
    assert not torch.equal(sa["G.net.0.weight"], se["G.net.0.weight"])  # without the pool the runs part
