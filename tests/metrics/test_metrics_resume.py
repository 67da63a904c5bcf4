"""MetricsCallback across a resume and on bad values: the best value, its kimg and the next evaluation kimg
come back from the checkpoint (best.ckpt is not overwritten by a worse value after a resume), a changed
primary metric starts a fresh best, and a non-finite value is never the best. Also the real-reference cache:
a reference is reused only for the same data, extractor weights and N."""

from __future__ import annotations

import math

import pytest
import torch
from metrics_helpers import TinyImageG, image_dataset
from test_metrics_callback import FakeTrainer, make_module

import gan_zoo.metrics.callback as callback_module
from gan_zoo.metrics import MetricValue
from gan_zoo.metrics.callback import MetricEvaluator, MetricsCallback
from gan_zoo.metrics.classifier import DigitClassifier, classifier_path, save_classifier
from gan_zoo.metrics.extractors import load_reference, make_extractor, reference_hash, reference_key


def scripted(values: list[float]):
    """An evaluate() that returns the next of ``values`` as the toy2d metric's primary ("modes", higher better)."""
    queue = list(values)

    def evaluate(G, dataset, **kwargs):
        v = queue.pop(0)
        return [MetricValue("modes", v, True, 10, "none", "none"), MetricValue("hq", 0.0, True, 10, "none", "none")]

    return evaluate


def callback(values, primary="modes") -> MetricsCallback:
    cb = MetricsCallback(metrics=["toy2d"], every_kimg=1.0, primary=primary)
    cb.evaluator.evaluate = scripted(values)
    return cb


@pytest.fixture
def fit(tmp_path):
    module = make_module(tmp_path, TinyImageG(resolution=8), "G")
    return FakeTrainer(image_dataset(4, resolution=8), module), module


def step(cb, trainer, module, kimg):
    module.kimg = kimg
    trainer.global_step += 1
    cb.on_train_batch_end(trainer, module, None, None, 0)


def test_best_and_next_kimg_survive_a_resume(fit):
    trainer, module = fit
    first = callback([5.0, 7.0])
    first.on_train_start(trainer, module)
    for kimg in (0.6, 1.2, 1.8, 2.4):
        step(first, trainer, module, kimg)
    assert (first.best, first.best_kimg, first.next_kimg, first.last_kimg) == (7.0, 2.4, 3.0, 2.4)
    saved = len(trainer.saved)
    state = first.state_dict()

    second = callback([6.0, 8.0])  # a new process: a fresh callback, then Lightning restores its state
    second.load_state_dict(state)
    module.kimg = 2.4
    second.on_train_start(trainer, module)
    assert (second.best, second.best_kimg, second.next_kimg) == (7.0, 2.4, 3.0)
    step(second, trainer, module, 2.7)  # not due yet
    assert len(trainer.saved) == saved
    step(second, trainer, module, 3.0)  # 6 < best 7: best.ckpt stays the one from kimg 2.4
    assert len(trainer.saved) == saved and second.best == 7.0
    step(second, trainer, module, 4.2)
    assert len(trainer.saved) == saved + 1 and (second.best, second.best_kimg) == (8.0, 4.2)


def test_a_changed_primary_starts_a_fresh_best(fit):
    trainer, module = fit
    first = callback([5.0])
    first.on_train_start(trainer, module)
    step(first, trainer, module, 1.0)
    second = callback([], primary="hq")
    second.load_state_dict(first.state_dict())
    assert second.best is None and second.next_kimg == 2.0


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_a_non_finite_value_is_never_the_best(fit, bad):
    trainer, module = fit
    cb = callback([bad, 3.0, bad, 2.0])
    cb.on_train_start(trainer, module)
    step(cb, trainer, module, 1.0)
    assert cb.best is None and not trainer.saved
    step(cb, trainer, module, 2.0)
    assert (cb.best, cb.best_kimg, len(trainer.saved)) == (3.0, 2.0, 1)
    step(cb, trainer, module, 3.0)
    step(cb, trainer, module, 4.0)
    assert (cb.best, cb.best_kimg, len(trainer.saved)) == (3.0, 2.0, 1)


@pytest.fixture
def cache(tmp_path):
    torch.manual_seed(0)
    save_classifier(DigitClassifier(10, 8, "rand8").eval(), classifier_path("rand8", tmp_path / "cache"))
    return tmp_path / "cache"


def count_extractions(monkeypatch) -> list:
    calls = []
    original = callback_module.extract_dataset

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(callback_module, "extract_dataset", counting)
    return calls


def evaluate_fd(cache, dataset, num_real=None) -> MetricValue:
    evaluator = MetricEvaluator(["fd"], num_samples=6, extractor="classifier:rand8", cache_dir=str(cache),
                                batch_size=6, num_real=num_real)
    return evaluator.evaluate(TinyImageG(resolution=8, channels=1).eval(), dataset)[0]


def test_reference_cache_is_invalidated_by_data_weights_and_n(cache, monkeypatch):
    """A reference of N = 8 real images: the same data hits the cache; other, more, mirrored or renamed data
    (N still 8), another N or retrained extractor weights each make a new one."""
    calls = count_extractions(monkeypatch)
    data = image_dataset(12, channels=1, resolution=8)
    first = evaluate_fd(cache, data, num_real=8)
    assert len(calls) == 1
    assert evaluate_fd(cache, image_dataset(12, channels=1, resolution=8), num_real=8).ref_hash == first.ref_hash
    assert len(calls) == 1, "the same data, weights and N must reuse the cached reference"
    variants = {
        "other images": (image_dataset(12, channels=1, resolution=8, seed=2), 8),
        "more images": (image_dataset(14, channels=1, resolution=8), 8),
        "mirrored": (image_dataset(12, channels=1, resolution=8, xflip=True), 8),
        "renamed": (image_dataset(12, channels=1, resolution=8, name="other"), 8),
        "all images": (data, None),
    }
    hashes = {first.ref_hash}
    for label, (variant, num_real) in variants.items():
        before = len(calls)
        hashes.add(evaluate_fd(cache, variant, num_real=num_real).ref_hash)
        assert len(calls) == before + 1, f"{label}: reused a reference of other data"
    assert len(hashes) == 6
    # new classifier weights under the same name: the old reference must not be used
    torch.manual_seed(1)
    save_classifier(DigitClassifier(10, 8, "rand8").eval(), classifier_path("rand8", cache))
    before = len(calls)
    retrained = evaluate_fd(cache, data, num_real=8)
    assert len(calls) == before + 1 and retrained.ref_hash != first.ref_hash


def test_a_reference_made_with_other_weights_or_n_is_not_loaded(cache):
    """load_reference itself checks the metadata (a hint from metrics.jsonl names a hash directly)."""
    data = image_dataset(12, channels=1, resolution=8)
    ext = make_extractor("classifier:rand8", device="cpu", cache_dir=str(cache))
    ref = evaluate_fd(cache, data).ref_hash
    assert ref == reference_hash(reference_key(ext, data, None))
    assert load_reference(cache, ref, "stats", ext.weights_id, None) is not None
    assert load_reference(cache, ref, "stats", "other-weights", None) is None
    assert load_reference(cache, ref, "stats", ext.weights_id, 8) is None
    assert load_reference(cache, ref, "features", ext.weights_id, None) is None  # FD kept no features
