"""Trained conditional runs whose dataset is gone: the base of the usage tests (gan_zoo.load, gan-zoo-sample,
gan-zoo-export). Tiny R3GAN (8 px) or BigGAN (16 px), 4 classes, RGB, 3 iterations on a 32-image PNG archive
that is deleted after
training, so anything that tried to read the data would fail."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tests.data.conftest import write_png_archive
from tests.helpers import TINY, train_run

C_DIM = 4


def train_without_data(root, resolution: int, overrides: list[str]):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(32, 3, resolution, resolution), dtype=np.uint8)
    archive = write_png_archive(root / "data" / "set.zip", images, [i % C_DIM for i in range(32)])
    run = root / "run"
    train_run([*TINY, "total_kimg=0.024", "dataset=folder", f"dataset.root={archive}",
               f"dataset.resolution={resolution}", "dataset.labels=true", f"model.c_dim={C_DIM}", *overrides], run)
    shutil.rmtree(root / "data")
    return run


@pytest.fixture(scope="session")
def run_without_data(tmp_path_factory):
    return train_without_data(tmp_path_factory.mktemp("usage"), 8, [])


@pytest.fixture(scope="session")
def biggan_run_without_data(tmp_path_factory):
    """BigGAN: spectral norm on G (a transform load_run re-applies) and conditional BatchNorm, sampled with
    standing statistics."""
    return train_without_data(tmp_path_factory.mktemp("usage_biggan"), 16, ["model=biggan/tiny"])
