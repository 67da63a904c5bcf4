from pathlib import Path

import numpy as np
import pytest

from gan_zoo.data.idx import read_idx_split
from gan_zoo.data.stacked_mnist import StackedMNIST
from gan_zoo.errors import ConfigError

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
needs_fmnist = pytest.mark.skipif(
    not FASHION_MNIST.is_dir(),
    reason=f"Debian package dataset-fashion-mnist not installed ({FASHION_MNIST}); apt-get install it",
)


@pytest.fixture(scope="module")
def fmnist_source():
    return read_idx_split(FASHION_MNIST, "train+test")


@pytest.fixture(scope="module")
def stacked_128k(tmp_path_factory, fx):
    """The 128k set (its build time is measured by benchmarks/bench_budgets.py, not asserted here)."""
    return fx.make_dataset("stacked_fmnist", tmp_path_factory.mktemp("data"))


@needs_fmnist
def test_128k_set_covers_1000_modes(stacked_128k):
    ds = stacked_128k
    assert isinstance(ds, StackedMNIST)
    assert ds.images.shape == (128_000, 3, 32, 32) and ds.images.dtype == np.uint8
    assert ds.num_classes == 1000 and len(np.unique(ds.labels)) == 1000
    assert ds.info.summary().startswith("dataset stacked_fmnist: 128000 images, 32x32x3, 1000 classes")


@needs_fmnist
def test_each_channel_is_the_source_digit(stacked_128k, fmnist_source):
    ds = stacked_128k
    src_images, src_labels = fmnist_source
    assert len(src_images) == 70_000 and ds.digit_indices.max() >= 60_000  # test images are drawn too
    for k in range(3):
        assert np.array_equal(ds.digit_labels[:, k], src_labels[ds.digit_indices[:, k]])
    d0, d1, d2 = ds.digit_labels.T
    assert np.array_equal(ds.labels, 100 * d0 + 10 * d1 + d2)
    rows = np.arange(0, 128_000, 997)
    for k in range(3):  # pixels: channel k is the zero-padded source digit
        assert np.array_equal(ds.images[rows, k, 2:30, 2:30], src_images[ds.digit_indices[rows, k]])
    assert ds.images[:, :, :2].max() == 0 and ds.images[:, :, 30:].max() == 0
    x, y = ds[12345]
    assert int(y) == int(ds.labels[12345]) and y.dtype.is_floating_point is False


@needs_fmnist
def test_seed_determines_the_set(fx, tmp_path):
    a = fx.make_dataset("stacked_fmnist", tmp_path, num_images=3000, seed=7, resolution=28)
    b = fx.make_dataset("stacked_fmnist", tmp_path, num_images=3000, seed=7, resolution=28)
    c = fx.make_dataset("stacked_fmnist", tmp_path, num_images=3000, seed=8, resolution=28)
    assert a.images.shape == (3000, 3, 28, 28)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.digit_indices, c.digit_indices) and not np.array_equal(a.labels, c.labels)


def test_fixture_source_pixels_and_labels(tmp_path, fx):
    written = fx.write_idx_dir(tmp_path / "mnist", n_train=20, n_test=10)
    src = np.concatenate([written["train"][0], written["t10k"][0]])
    src_labels = np.concatenate([written["train"][1], written["t10k"][1]])
    ds = fx.make_dataset("stacked_mnist", tmp_path, num_images=50, seed=3)  # source ${paths.data_dir}/mnist
    assert ds.images.shape == (50, 3, 32, 32) and ds.info.name == "stacked_mnist"
    i = 17
    d = ds.digit_indices[i]
    assert np.array_equal(ds.images[i, :, 2:30, 2:30], src[d])
    assert int(ds.labels[i]) == 100 * src_labels[d[0]] + 10 * src_labels[d[1]] + src_labels[d[2]]


def test_train_only_split_and_unlabelled(tmp_path, fx):
    fx.write_idx_dir(tmp_path / "mnist", n_train=20, n_test=10)
    ds = fx.make_dataset("stacked_mnist", tmp_path, num_images=400, split="train", labels=False)
    assert ds.digit_indices.max() < 20 and ds.num_classes == 0 and int(ds[0][1]) == 0


def test_bad_num_images_and_resolution(tmp_path, fx):
    fx.write_idx_dir(tmp_path / "mnist")
    with pytest.raises(ConfigError) as e:
        fx.make_dataset("stacked_mnist", tmp_path, num_images=0)
    assert "dataset.num_images" in fx.one_line(e)
    with pytest.raises(ConfigError) as e:
        fx.make_dataset("stacked_mnist", tmp_path, resolution=64)
    assert "dataset.resolution" in fx.one_line(e)


def test_halve_images_is_the_rounded_2x2_mean():
    """Hand-computed: blocks (0+1+2+3 + 2)//4 = 2, (255*3+254 + 2)//4 = 255, (1+1+1+2 + 2)//4 = 1, 7 -> 7."""
    from gan_zoo.data.mnist import halve_images

    img = np.array([[0, 1, 255, 255], [2, 3, 255, 254], [1, 1, 7, 7], [1, 2, 7, 7]], dtype=np.uint8)
    out = halve_images(img[None, None])
    assert out.dtype == np.uint8 and out.shape == (1, 1, 2, 2)
    assert out[0, 0].tolist() == [[2, 255], [1, 7]]
    with pytest.raises(ConfigError):
        halve_images(np.zeros((3, 3), np.uint8))


def test_16px_set_is_the_32px_set_area_downsampled(tmp_path, fx):
    """Same seed, same draws: each 16 px pixel is the rounded mean of its 2x2 block of the zero-padded 32 px
    image (the garment keeps its place; no border offset)."""
    fx.write_idx_dir(tmp_path / "mnist", n_train=20, n_test=10)
    big = fx.make_dataset("stacked_mnist", tmp_path, num_images=40, seed=5, resolution=32)
    small = fx.make_dataset("stacked_mnist", tmp_path, num_images=40, seed=5, resolution=16)
    assert small.images.shape == (40, 3, 16, 16) and np.array_equal(small.digit_indices, big.digit_indices)
    i, k, y, x = 7, 1, 5, 9
    block = big.images[i, k, 2 * y:2 * y + 2, 2 * x:2 * x + 2].astype(int)
    assert int(small.images[i, k, y, x]) == (block.sum() + 2) // 4
    assert small.images[:, :, 0].max() == 0 and small.images[:, :, 15].max() == 0  # the 2 px padding -> 1 px
    with pytest.raises(ConfigError) as e:
        fx.make_dataset("stacked_mnist", tmp_path, resolution=24)
    assert "16 / 8 (zero-padded to 32, then 2x2 / 4x4 area-downsampled)" in fx.one_line(e)


def test_8px_set_is_the_32px_set_4x4_area_downsampled(tmp_path, fx):
    """Each 8 px pixel is the rounded mean of its 4x4 block of the zero-padded 32 px image, rounded once:
    a block of fifteen zeros and one 6 gives (6 + 8) // 16 = 0, where two rounded halvings would give
    (6 + 2) // 4 = 2, then (2 + 2) // 4 = 1."""
    from gan_zoo.data.mnist import area_downsample

    block = np.zeros((4, 4), np.uint8)
    block[0, 0] = 6
    block2 = np.full((4, 4), 200, np.uint8)
    block2[3, 3] = 207  # (15*200 + 207 + 8) // 16 = 200
    out = area_downsample(np.concatenate([block, block2], axis=1)[None], 4)
    assert out.tolist() == [[[0, 200]]]
    fx.write_idx_dir(tmp_path / "mnist", n_train=20, n_test=10)
    big = fx.make_dataset("stacked_mnist", tmp_path, num_images=40, seed=5, resolution=32)
    tiny = fx.make_dataset("stacked_mnist", tmp_path, num_images=40, seed=5, resolution=8)
    assert tiny.images.shape == (40, 3, 8, 8) and np.array_equal(tiny.digit_indices, big.digit_indices)
    blocks = big.images.reshape(40, 3, 8, 4, 8, 4).astype(int).sum(axis=(3, 5))
    assert np.array_equal(tiny.images, ((blocks + 8) // 16).astype(np.uint8))


@needs_fmnist
def test_stacked_fmnist8_preset(tmp_path, fx):
    ds = fx.make_dataset("stacked_fmnist8", tmp_path, num_images=2000)
    assert ds.images.shape == (2000, 3, 8, 8) and ds.info.name == "stacked_fmnist"
    assert ds.num_classes == 1000 and ds.images.max() > 150  # garments survive the 4x4 average


@needs_fmnist
def test_stacked_fmnist16_preset(tmp_path, fx):
    ds = fx.make_dataset("stacked_fmnist16", tmp_path, num_images=2000)
    assert ds.images.shape == (2000, 3, 16, 16) and ds.info.name == "stacked_fmnist"
    assert ds.num_classes == 1000 and ds.images.max() > 200  # real garments, not blank
