"""StackedMNIST mode counting and reverse KL on label histograms with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gan_zoo.errors import ConfigError
from gan_zoo.metrics.modes import mode_metrics, modes_covered, reverse_kl, stacked_labels


def test_stacked_labels_are_base_10_triples():
    digits = np.array([[1, 2, 3], [0, 0, 0], [9, 9, 9], [0, 4, 0]])
    np.testing.assert_array_equal(stacked_labels(digits), [123, 0, 999, 40])
    with pytest.raises(ConfigError, match="outside 0..9"):
        stacked_labels(np.array([[1, 10, 0]]))


def test_uniform_over_all_modes_has_zero_kl():
    labels = np.repeat(np.arange(1000), 26)  # 26,000 samples, 26 per mode
    assert modes_covered(labels) == 1000
    assert abs(reverse_kl(labels)) < 1e-12


def test_single_mode_has_kl_log_1000():
    labels = np.full(26_000, 417)
    assert modes_covered(labels) == 1
    assert reverse_kl(labels) == pytest.approx(math.log(1000), rel=1e-12)


def test_two_modes_with_a_1_to_3_split():
    labels = np.array([5] * 250 + [7] * 750)
    q = np.array([0.25, 0.75])
    assert modes_covered(labels) == 2
    assert reverse_kl(labels) == pytest.approx(math.log(1000) + float((q * np.log(q)).sum()), rel=1e-12)


def test_half_of_the_modes_uniformly():
    labels = np.repeat(np.arange(0, 1000, 2), 3)  # 500 modes, equally often
    assert modes_covered(labels) == 500
    assert reverse_kl(labels) == pytest.approx(math.log(2), rel=1e-12)


def test_mode_metrics_from_per_channel_logits():
    digits = torch.tensor([[1, 2, 3], [1, 2, 3], [4, 5, 6], [0, 0, 9]])
    logits = torch.nn.functional.one_hot(digits, 10).float() * 5  # [N, 3, 10]
    out = mode_metrics(logits)
    q = np.array([0.5, 0.25, 0.25])
    assert out["modes"] == 3
    assert out["kl"] == pytest.approx(math.log(1000) + float((q * np.log(q)).sum()))
    with pytest.raises(ConfigError, match="3-channel stacked images"):
        mode_metrics(torch.zeros(4, 1, 10))


def test_out_of_range_labels_are_rejected():
    with pytest.raises(ConfigError, match="outside 0..999"):
        modes_covered(np.array([0, 1000]))
    with pytest.raises(ConfigError, match="at least one sample"):
        reverse_kl(np.array([], dtype=np.int64))
