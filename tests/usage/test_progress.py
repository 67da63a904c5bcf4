"""The training bar knows its total and has img/s and an ETA from the first step; evaluation passes get their
own task in its display."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
from rich.console import Console
from rich.progress import Progress

from gan_zoo.callbacks import progress as progress_mod
from gan_zoo.callbacks.progress import KimgProgressBar, iterations_total, track


def module(**kw):
    return SimpleNamespace(**{"batch_size": 64, "n_dis": 1, "total_kimg": 10.0, "kimg": 0.0, "iteration": 0, **kw})


def test_total_iterations():
    assert iterations_total(module()) == 157  # ceil(10000 / 64)
    assert iterations_total(module(batch_size=256, total_kimg=150)) == 586  # experiments/toy2d/ring.yaml
    assert iterations_total(module(batch_size=8, n_dis=2, total_kimg=0.016)) == 1
    bar = KimgProgressBar()
    bar._module = module(total_kimg=1.0, batch_size=100)
    assert bar.total_train_batches == 10


def test_rate_and_eta_from_the_first_step(monkeypatch):
    clock = iter([100.0, 100.5])  # the first step takes 0.5 s
    monkeypatch.setattr(progress_mod.time, "perf_counter", lambda: next(clock))
    RichBase = progress_mod.RichProgressBar
    monkeypatch.setattr(RichBase, "on_train_batch_start", lambda *a: None)
    bar, m = KimgProgressBar(), module()
    bar._update = bar._update_metrics = bar.refresh = lambda *a, **k: None
    bar.on_train_batch_start(None, m, None, 0)
    m.kimg, m.iteration = 0.064, 1
    monkeypatch.setattr(RichBase, "is_disabled", property(lambda self: True))
    bar.on_train_batch_end(None, m, None, None, 0)
    stats = bar.stats(m)
    assert stats["img/s"] == "128"  # 64 images in 0.5 s
    assert stats["eta"] == "1:17" and stats["kimg"] == "0.1/10"  # (10000 - 64) / 128 = 77.6 s


def test_evaluation_passes_join_the_training_display():
    shown = Progress(console=Console(file=io.StringIO()))
    bar = SimpleNamespace(progress=shown, is_enabled=True, refresh=lambda: None)
    progress_mod._ACTIVE.append(bar)
    try:
        seen = []
        for i in track(range(5), 5, "eval: fd features"):
            (task,) = shown.tasks
            seen.append((task.description, task.total, task.completed, i))
    finally:
        progress_mod._ACTIVE.remove(bar)
    assert seen == [("eval: fd features", 5, i, i) for i in range(5)]
    assert not shown.tasks  # removed when the pass ends


def test_track_passes_through_without_a_terminal():
    assert list(track(iter([1, 2, 3]), 3, "x")) == [1, 2, 3]


@pytest.mark.parametrize("seconds, text", [(float("nan"), "?"), (59, "0:59"), (3725, "1:02:05")])
def test_format(seconds, text):
    assert progress_mod._fmt(seconds) == text
