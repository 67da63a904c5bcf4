"""Fixtures for the metrics tests: random-weight Inception (offline) and an untrained classifier in a
temporary cache. Tiny generators and datasets live in metrics_helpers.py.

numpy's OpenBLAS is limited to one thread, for the same reason tests/conftest.py limits torch: on a shared
2-core machine its spinning threads made a 400 x 400 eigendecomposition ~100x slower."""

from __future__ import annotations

import pytest
import torch
from threadpoolctl import threadpool_limits

from gan_zoo.metrics.classifier import DigitClassifier, classifier_path, save_classifier
from gan_zoo.metrics.fidelity import random_inception_weights

threadpool_limits(1, user_api="blas")


@pytest.fixture(scope="session")
def inception_weights(tmp_path_factory) -> str:
    """Random Inception state dict with torch-fidelity's keys (the real weights are not downloadable here)."""
    return str(
        random_inception_weights(tmp_path_factory.mktemp("inception") / "random-inception.pth", seed=0)
    )


@pytest.fixture
def untrained_classifier(tmp_path) -> tuple[str, str]:
    """(cache_dir, name) of a randomly initialised 8 px classifier saved in a temporary cache."""
    torch.manual_seed(0)
    model = DigitClassifier(10, 8, "rand8").eval()
    save_classifier(model, classifier_path("rand8", tmp_path / "cache"))
    return str(tmp_path / "cache"), "rand8"
