"""InfoGAN's categorical code controls the class on digits (issue 12): the measurement of
gan_zoo.report.infogan_control on generators whose answer is known, and a short run against its control."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from gan_zoo.data.digits import load_digit_images
from gan_zoo.report.infogan_control import best_assignment_accuracy, code_latents, confusion_matrix, main, measure
from gan_zoo.tricks.infogan import CodedGenerator, codes_of
from tests.helpers import train_run


def test_code_latents_carry_the_code():
    z, code = code_latents(50, 16, 10, seed=3)
    assert z.shape == (500, 16) and torch.equal(codes_of(z, 10, 0)[0], code)
    assert torch.equal(torch.bincount(code), torch.full((10,), 50))
    assert abs(float(z[:, 1:].std()) - 1.0) < 0.05  # the rest is N(0, 1) noise


def test_best_assignment_accuracy_by_hand():
    # code 0 -> class 1 (8 of 10), code 1 -> class 0 (6 of 10), code 2 -> class 2 (5 of 10): 19 / 30; the
    # greedy column-wise choice would take class 1 for code 0 and for code 2 (not one-to-one)
    m = np.array([[2, 8, 0], [6, 3, 1], [0, 5, 5]])
    acc, mapping = best_assignment_accuracy(m)
    assert mapping == [1, 0, 2] and acc == pytest.approx(19 / 30)
    assert confusion_matrix(np.array([0, 0, 2]), np.array([1, 1, 0]), 3, 2).tolist() == [[0, 2], [0, 0], [1, 0]]


class _ClassPerCode(nn.Module):
    """A generator whose sample of code k is a real digit of class perm[k] (``follow=False``: of a class
    drawn from the noise, independent of the code)."""

    def __init__(self, perm: list[int], follow: bool = True, z_dim: int = 16) -> None:
        super().__init__()
        images, labels = load_digit_images()
        self.bank = [torch.as_tensor(images[labels == c][:40]).float() / 127.5 - 1.0 for c in range(10)]
        self.perm, self.follow, self.z_dim, self.c_dim = perm, follow, z_dim, 0
        self.anchor = nn.Parameter(torch.zeros(()))  # G.parameters() must not be empty

    def forward(self, z, c=None):
        k = z[:, :10].argmax(1) if self.follow else (z[:, 12] > 0).long() * 5 + (z[:, 13] > 0).long()
        pick = (z[:, 11].abs() * 1000).long() % 40
        out = torch.stack([self.bank[self.perm[int(ki)]][int(p)] for ki, p in zip(k, pick)])
        return out[:, None].expand(-1, 3, -1, -1)


@pytest.fixture(scope="module")
def digit_classifier(tmp_path_factory):
    from gan_zoo.metrics.extractors import ClassifierExtractor

    return ClassifierExtractor("digits")


def test_measure_recovers_a_known_code_to_class_map(digit_classifier):
    perm = [3, 7, 0, 9, 1, 4, 8, 2, 6, 5]
    G = CodedGenerator(_ClassPerCode(perm), categories=10, continuous=0)
    r = measure(G, 10, digit_classifier, n=40)
    assert r["mapping"] == perm and r["accuracy"] > 0.9, r  # the classifier's own error only
    assert r["shuffled_accuracy"] < 0.25, r
    blind = measure(CodedGenerator(_ClassPerCode(perm, follow=False), 10, 0), 10, digit_classifier, n=40)
    assert blind["accuracy"] < 0.3, blind  # the class does not depend on the code: about chance


def _run(tmp_path, name: str, weight: float, kimg: float):
    run = tmp_path / name
    train_run(["dataset=digits", "model=dcgan/tiny", "loss=ns", "regularizer=none", "trick=[infogan]",
               "trick.infogan.continuous=0", f"trick.infogan.weight={weight}", "batch_size=64",
               f"total_kimg={kimg}", "schedule.lr.start=1e-3", "schedule.lr.end=1e-3",
               "optimizer.optim.betas=[0.5,0.999]", "callbacks.samples.every_kimg=1000",
               "callbacks.checkpoint.every_kimg=1000", "seed=0"], run)
    return run


@pytest.mark.slow
def test_categorical_code_controls_the_class_on_digits(tmp_path, capsys):
    """Same model, same seed, with and without the MI term: only the InfoGAN run's code picks the digit."""
    info, control = _run(tmp_path, "info", 2.0, 30), _run(tmp_path, "control", 0.0, 30)
    out = tmp_path / "control.json"
    assert main([str(info), "--control", str(control), "--n", "100", "--json", str(out)]) == 0
    import json

    r = json.loads(out.read_text())
    acc, ctl = r["infogan"]["accuracy"], r["control"]["accuracy"]
    assert acc > 0.35 and acc > ctl + 0.15 and acc > r["infogan"]["shuffled_accuracy"] + 0.15, (acc, ctl)
    assert "code -> class accuracy" in capsys.readouterr().out
