"""What one training iteration does, observed from outside through test spies (tests/spies.py) in real
in-process runs of the tiny R3GAN: the loader batch is sliced into n_dis D batches and one G batch (images and
labels alike), kimg counts D's images, lazy regularizers run on their own step index with the interval as
weight, the schedules reach the optimizers and the augmentation, G_ema follows the half-life, and
channels_last / compiled runs train as the plain one."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from gan_zoo.checkpoint import load_run
from gan_zoo.data.base import to_float
from gan_zoo.ema import ema_beta
from gan_zoo.errors import DivergenceError
from gan_zoo.models.mlp import MLPGenerator
from tests.helpers import TINY, bare_module, train_run

REC = "+callbacks.rec._target_=tests.spies.Recorder"


def spy(name: str, side: str = "D", interval: int = 1) -> list[str]:
    key = f"+regularizer.{name}"
    return [f"{key}._target_=tests.spies.StepSpy", f"{key}.name={name}", f"{key}.side={side}",
            f"{key}.interval={interval}"]


def half_cosine(start: float, end: float, burnin: float, kimg: float) -> float:
    """R3GAN's schedule (App. B), written out here: end + (start - end) (1 + cos(pi min(t / T, 1))) / 2."""
    return end + (start - end) * (1 + math.cos(math.pi * min(kimg / burnin, 1.0))) / 2


def test_n_dis_slices_images_and_labels_and_kimg_counts_d_images(tmp_path, spies):
    """n_dis = 2, conditional: D step k sees rows [k b, (k + 1) b) of the loader batch with their labels, the G
    step the last b rows (RpGAN pairs its fakes with them); 3 iterations of b = 8 show D 48 images = 0.048 kimg."""
    status = train_run([*TINY, "dataset=digits", "model.c_dim=10", "n_dis=2", "total_kimg=0.048", REC,
                        *spy("d_spy"), *spy("g_spy", side="G")], tmp_path)
    assert status["state"] == "finished" and status["kimg"] == pytest.approx(0.048)
    rec = spies.recorders[0]
    assert len(rec.batches) == 3 and all(images.shape[0] == 24 for images, _ in rec.batches)  # b * (n_dis + 1)
    d_calls = [c for c in spies.regularizer if c["name"] == "d_spy"]
    g_calls = [c for c in spies.regularizer if c["name"] == "g_spy"]
    assert len(d_calls) == 6 and len(g_calls) == 3
    for j, call in enumerate(d_calls):
        images, labels = rec.batches[j // 2]
        rows = slice(8 * (j % 2), 8 * (j % 2 + 1))
        assert torch.equal(call["real"], to_float(images[rows])), f"D step {j} trained on other images"
        assert torch.equal(call["c"], F.one_hot(labels[rows], 10).float()), f"D step {j} got other labels"
        assert call["fake_is_leaf"]
    for i, call in enumerate(g_calls):
        images, labels = rec.batches[i]
        assert torch.equal(call["real"], to_float(images[16:]))
        assert torch.equal(call["c"], F.one_hot(labels[16:], 10).float())
    assert len({tuple(c["c"].argmax(1).tolist()) for c in d_calls}) == 6  # the labels do differ per slice
    assert [s["kimg"] for s in rec.steps] == pytest.approx([0.016, 0.032, 0.048])


def test_lazy_regularizers_run_on_their_step_with_the_interval_as_weight(tmp_path, spies):
    """StyleGAN2 Sec. 3.1: a D-side term due every 3 D steps runs on D steps 0, 3, 6 (with n_dis = 2: iteration
    0 step 0, iteration 1 step 1, iteration 3 step 0) and a G-side term due every 2 G steps on iterations 0, 2;
    each is multiplied by its interval."""
    train_run([*TINY, "n_dis=2", "total_kimg=0.064", REC, *spy("d3", interval=3), *spy("g2", side="G", interval=2)],
              tmp_path)
    rec = spies.recorders[0]
    assert len(rec.batches) == 4
    d3 = [c["real"] for c in spies.regularizer if c["name"] == "d3"]
    slices = {(i, k): to_float(images[8 * k: 8 * (k + 1)]) for i, (images, _) in enumerate(rec.batches)
              for k in range(2)}
    ran = [next(key for key, real in slices.items() if torch.equal(real, x)) for x in d3]
    assert ran == [(0, 0), (1, 1), (3, 0)]
    assert [s["values"].get("reg/d3") for s in rec.steps] == [3.0, 3.0, None, 3.0]
    assert [s["values"].get("reg/g2") for s in rec.steps] == [2.0, None, 2.0, None]


def test_lazy_r1_is_weighted_by_its_interval(tmp_path, spies):
    """The real R1 at interval 16 (roadmap row A) logs 16 times the R1 of interval 1 on the same first step
    (same weights, data and z), and nothing on the steps in between."""
    lazy, eager = tmp_path / "lazy", tmp_path / "eager"
    train_run([*TINY, "total_kimg=0.016", "regularizer=r1", "regularizer.r1.interval=16", REC], lazy)
    train_run([*TINY, "total_kimg=0.016", "regularizer=r1", REC], eager)
    (lazy_steps, eager_steps) = (r.steps for r in spies.recorders)
    assert eager_steps[0]["values"]["reg/r1"] > 0
    assert lazy_steps[0]["values"]["reg/r1"] == pytest.approx(16 * eager_steps[0]["values"]["reg/r1"], rel=1e-5)
    assert "reg/r1" not in lazy_steps[1]["values"] and "reg/r1" in eager_steps[1]["values"]


def test_schedules_and_lr_multipliers_reach_the_optimizers_and_the_augmentation(tmp_path, spies):
    """Every iteration sets lr x g_lr_mult / d_lr_mult and Adam's beta2 in both optimizers, gamma in the
    D-side regularizers and p in the augmentation applied to every image D sees, from the half-cosine at the
    kimg where the iteration starts."""
    schedule = {"lr": (1e-3, 1e-4), "beta2": (0.9, 0.99), "gamma": (1.0, 0.1), "aug_p": (0.6, 0.1)}
    burnin = 0.04
    overrides = [f"schedule.{k}.{end}={v}" for k, (a, b) in schedule.items() for end, v in (("start", a), ("end", b))]
    train_run([*TINY, "total_kimg=0.048", f"schedule.burnin_kimg={burnin}", *overrides, "optimizer.g_lr_mult=0.5",
               "optimizer.d_lr_mult=4.0", "augment=ada", "augment._target_=tests.spies.SpyAugment",
               "regularizer=none", *spy("d_spy"), REC], tmp_path)
    steps = spies.recorders[0].steps
    assert len(steps) == 6
    expected = [{k: half_cosine(a, b, burnin, 0.008 * i) for k, (a, b) in schedule.items()} for i in range(6)]
    assert len({e["lr"] for e in expected}) == 6  # the schedule moves on every iteration
    for i, (step, want) in enumerate(zip(steps, expected)):
        assert step["g"]["lr"] == pytest.approx(0.5 * want["lr"], rel=1e-9), i
        assert step["d"]["lr"] == pytest.approx(4.0 * want["lr"], rel=1e-9), i
        assert step["g"]["betas"] == pytest.approx((0.0, want["beta2"]), rel=1e-9), i
        assert step["d"]["betas"] == pytest.approx((0.0, want["beta2"]), rel=1e-9), i
        assert step["aug_p"] == pytest.approx(want["aug_p"], rel=1e-9), i
    assert [c["gamma"] for c in spies.regularizer] == pytest.approx([e["gamma"] for e in expected], rel=1e-9)
    # RpGAN: D step (real, fake), G step (fake, real) -- every image D sees passes through the augmentation at p
    calls = spies.augment
    assert len(calls) == 4 * 6
    assert [c["p"] for c in calls] == pytest.approx([e["aug_p"] for e in expected for _ in range(4)], rel=1e-9)


def test_g_ema_follows_the_half_life(tmp_path, spies):
    """After one iteration G_ema = beta G_0 + (1 - beta) G_1 with beta = 0.5 ** (batch / half-life) (ProGAN Sec.
    4.1): with a half-life of 16 images and a batch of 8, beta = sqrt(1/2) of the initial G is kept."""
    train_run([*TINY, "schedule.ema_halflife_kimg.start=0.016", "schedule.ema_halflife_kimg.end=0.016", REC],
              tmp_path)
    rec = spies.recorders[0]
    beta = ema_beta(8, 0.016)
    assert beta == pytest.approx(math.sqrt(0.5))
    G, G_ema = rec.module.G.state_dict(), rec.module.G_ema.state_dict()
    moved = max((G[k] - rec.initial_G[k]).abs().max().item() for k in G if G[k].is_floating_point())
    assert moved > 1e-6
    for k in G:
        if G[k].is_floating_point():
            torch.testing.assert_close(G_ema[k], beta * rec.initial_G[k] + (1 - beta) * G[k], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("side", ["D", "G"])
def test_a_non_finite_loss_raises_before_the_optimizer_step(side):
    """A NaN loss stops the step with DivergenceError before the optimizer uses it: the network keeps its
    weights (a NaN Adam step would make them NaN)."""
    torch.manual_seed(0)
    module = bare_module(MLPGenerator(z_dim=3, out_dim=2, width=8, depth=2), {})
    gen = torch.Generator().manual_seed(1)
    real = torch.randn(4, 2)
    if side == "D":
        real[0, 0] = float("nan")
    else:
        with torch.no_grad():
            module.D.net[-1].bias.fill_(float("nan"))  # D says NaN to every fake
    net = module.D if side == "D" else module.G
    before = [p.detach().clone() for p in net.parameters()]
    with pytest.raises(DivergenceError, match=f"{side} loss became nan"):
        module._d_step(real, None, gen, gamma=1.0, step=0) if side == "D" else module._g_step(real, None, gen)
    assert all(torch.equal(a, p) for a, p in zip(before, net.parameters()))


def _losses(rec) -> list[float]:
    return [s["values"][k] for s in rec.steps for k in ("loss/d", "loss/g")]


def test_channels_last_trains_like_the_contiguous_run(tmp_path, spies):
    """channels_last=true: the networks' 4-D weights and D's real batches are NHWC, and the losses are those of
    the NCHW run (up to float summation order)."""
    nchw, nhwc = tmp_path / "nchw", tmp_path / "nhwc"
    train_run([*TINY, "total_kimg=0.024", REC, *spy("d_spy")], nchw)
    train_run([*TINY, "total_kimg=0.024", "channels_last=true", REC, *spy("d_spy")], nhwc)
    plain, last = spies.recorders
    weights = [p for net in (last.module.G, last.module.D, last.module.G_ema) for p in net.parameters() if p.ndim == 4]
    assert weights and all(p.is_contiguous(memory_format=torch.channels_last) for p in weights)
    flags = [c["channels_last"] for c in spies.regularizer]
    assert flags == [False] * 3 + [True] * 3
    assert _losses(last) == pytest.approx(_losses(plain), rel=1e-4)
    assert load_run(nhwc).G_ema(torch.randn(2, 64)).shape == (2, 3, 8, 8)


def _compile_with(backend: str, monkeypatch) -> list:
    compiled = []
    original = torch.nn.Module.compile

    def compile_spy(self, *args, **kwargs):
        compiled.append(self)
        return original(self, *args, **{"backend": backend, **kwargs})

    monkeypatch.setattr(torch.nn.Module, "compile", compile_spy)
    return compiled


def _check_compiled_run(tmp_path, spies, compiled) -> None:
    eager, comp = tmp_path / "eager", tmp_path / "compiled"
    train_run([*TINY, "total_kimg=0.016", REC], eager)
    train_run([*TINY, "total_kimg=0.016", "compile=true", REC], comp)
    plain, rec = spies.recorders
    assert compiled == [rec.module.G]  # G alone: D needs double backprop for R1/R2
    assert _losses(rec) == pytest.approx(_losses(plain), rel=1e-4)
    keys = [set(torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"])
            for run in (eager, comp)]
    assert keys[0] == keys[1]  # compiled in place: the checkpoint keeps the eager model's keys
    assert load_run(comp).G_ema(torch.randn(2, 64)).shape == (2, 3, 8, 8)


def test_compiled_generator_trains_like_the_eager_one(tmp_path, spies, monkeypatch):
    """compile=true, traced by TorchDynamo (the ``eager`` backend keeps the test fast; the slow test below uses
    the default inductor backend)."""
    _check_compiled_run(tmp_path, spies, _compile_with("eager", monkeypatch))


@pytest.mark.slow
def test_compiled_generator_trains_like_the_eager_one_with_inductor(tmp_path, spies, monkeypatch):
    """As above with torch.compile's default backend (about 100 s of C++ compilation on one CPU core)."""
    _check_compiled_run(tmp_path, spies, _compile_with("inductor", monkeypatch))
