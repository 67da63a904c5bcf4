from pathlib import Path

import numpy as np
import pytest
import torchvision.datasets

from gan_zoo.data.base import ImageDataset
from gan_zoo.errors import ConfigError, DataError

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture
def idx_dir(tmp_path, fx):
    written = fx.write_idx_dir(tmp_path / "fm", n_train=12, n_test=8)
    return tmp_path / "fm", written


def test_fmnist_config_padded_rgb(idx_dir, fx, tmp_path):
    root, written = idx_dir
    ds = fx.make_dataset("fmnist", tmp_path, root=str(root))  # yaml defaults: 32 px, 3 channels, train
    assert isinstance(ds, ImageDataset)
    assert ds.images.shape == (12, 3, 32, 32) and ds.images.dtype == np.uint8
    assert ds.resolution == 32 and ds.num_classes == 10 and len(ds) == 12
    src = written["train"][0]
    # 2-pixel zero border, the digit's pixels unchanged in the middle, grey repeated in R, G, B
    assert np.array_equal(ds.images[:, 1, 2:30, 2:30], src)
    assert ds.images[:, :, :2].max() == 0 and ds.images[:, :, :, 30:].max() == 0
    assert np.array_equal(ds.images[:, 0], ds.images[:, 2])
    x, y = ds[3]
    assert x.dtype.is_floating_point is False and tuple(x.shape) == (3, 32, 32) and int(y) == 3
    assert ds.info.summary().startswith("dataset fmnist: 12 images, 32x32x3, 10 classes, from ")


def test_native_28_grey_train_plus_test(idx_dir, fx, tmp_path):
    root, written = idx_dir
    ds = fx.make_dataset("fmnist", tmp_path, root=str(root), resolution=28, channels=1, split="train+test")
    assert ds.images.shape == (20, 1, 28, 28)
    assert np.array_equal(ds.images[12:, 0], written["t10k"][0])
    assert ds.labels.tolist() == written["train"][1].tolist() + written["t10k"][1].tolist()


def test_xflip_doubles_and_mirrors(idx_dir, fx, tmp_path):
    root, _ = idx_dir
    ds = fx.make_dataset("fmnist", tmp_path, root=str(root), xflip=True)
    assert len(ds) == 24
    assert np.array_equal(ds[12 + 5][0].numpy(), ds.images[5][..., ::-1]) and int(ds[17][1]) == 5


def test_labels_false_is_unlabelled(idx_dir, fx, tmp_path):
    root, _ = idx_dir
    ds = fx.make_dataset("fmnist", tmp_path, root=str(root), labels=False)
    assert ds.num_classes == 0 and int(ds[7][1]) == 0 and "unlabelled" in ds.info.summary()


def test_mnist_config_finds_torchvision_layout(tmp_path, fx):
    written = fx.write_idx_dir(tmp_path / "mnist" / "MNIST" / "raw", n_train=5, n_test=3, gz=False)
    ds = fx.make_dataset("mnist", tmp_path)  # root = ${paths.data_dir}/mnist
    assert ds.images.shape == (5, 3, 32, 32) and ds.info.name == "mnist"
    assert np.array_equal(ds.images[:, 0, 2:30, 2:30], written["train"][0])


def test_resolution_mismatch_names_key(idx_dir, fx, tmp_path):
    root, _ = idx_dir
    with pytest.raises(ConfigError) as e:
        fx.make_dataset("fmnist", tmp_path, root=str(root), resolution=64)
    assert "dataset.resolution" in fx.one_line(e)


def test_bad_channels_names_key(idx_dir, fx, tmp_path):
    with pytest.raises(ConfigError) as e:
        fx.make_dataset("fmnist", tmp_path, root=str(idx_dir[0]), channels=2)
    assert "dataset.channels" in fx.one_line(e)


def test_missing_directory_names_it(tmp_path, fx):
    with pytest.raises(DataError) as e:
        fx.make_dataset("mnist", tmp_path)
    message = fx.one_line(e)
    assert str(tmp_path / "mnist") in message and "directory not found" in message and "download" in message


def test_download_failure_is_one_line(tmp_path, fx, monkeypatch):
    def offline(*args, **kwargs):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried https://x, got:\n<urlopen>")

    monkeypatch.setattr(torchvision.datasets, "MNIST", offline)
    with pytest.raises(DataError) as e:
        fx.make_dataset("mnist", tmp_path, download=True)
    message = fx.one_line(e)
    assert str(tmp_path / "mnist" / "MNIST" / "raw") in message and "Error downloading" in message


@pytest.mark.skipif(
    not FASHION_MNIST.is_dir(), reason=f"Debian package dataset-fashion-mnist not installed ({FASHION_MNIST})"
)
def test_real_fashion_mnist_package(fx, tmp_path):
    ds = fx.make_dataset("fmnist", tmp_path, channels=1, resolution=28)  # default root: the Debian package
    assert ds.images.shape == (60000, 1, 28, 28)
    assert np.bincount(ds.labels).tolist() == [6000] * 10  # Fashion-MNIST's train split is balanced
