"""The embedded offline datasets (toy2d, digits, stacked_digits) and the infinite seeded sampler."""

import itertools

import numpy as np
import pytest
import torch

from gan_zoo.data.datamodule import InfiniteSampler
from gan_zoo.data.digits import digits, load_digit_images, stacked_digits
from gan_zoo.data.toy2d import Toy2D
from gan_zoo.errors import ConfigError


def test_toy2d_ring_and_grid_parameters():
    ring = Toy2D("ring", num_points=5000, seed=1)
    assert ring.centers.shape == (8, 2) and ring.std == 0.01
    np.testing.assert_allclose(np.linalg.norm(ring.centers, axis=1), 1.0, atol=1e-6)
    dist = np.linalg.norm(ring.points.numpy() - ring.centers[ring.labels.numpy()], axis=1)
    assert dist.max() < 6 * 0.01  # every point near its own mode
    grid = Toy2D("grid", num_points=100)
    assert grid.centers.shape == (25, 2) and grid.std == 0.05
    assert sorted(set(grid.centers[:, 0].tolist())) == [-4, -2, 0, 2, 4]
    with pytest.raises(ConfigError, match="ring"):
        Toy2D("spiral")


def test_stacked_digits_has_1000_modes_and_channel_labels():
    ds = stacked_digits(num_images=20000, seed=3)
    images, targets = load_digit_images()
    assert ds.images.shape == (20000, 3, 8, 8) and ds.images.dtype == np.uint8
    assert len(np.unique(ds.labels)) == 1000
    # each channel is a real digit whose label is the corresponding decimal digit of the label
    lookup = {images[i].tobytes(): targets[i] for i in range(len(images))}
    for idx in [0, 1, 17, 19999]:
        digits_of_label = [ds.labels[idx] // 100, ds.labels[idx] // 10 % 10, ds.labels[idx] % 10]
        assert [lookup[ds.images[idx, k].tobytes()] for k in range(3)] == digits_of_label
    again = stacked_digits(num_images=20000, seed=3)
    np.testing.assert_array_equal(again.images, ds.images)
    assert not np.array_equal(stacked_digits(num_images=20000, seed=4).labels, ds.labels)


def test_digits_item_and_flip():
    ds = digits(xflip=True)
    assert len(ds) == 2 * 1797 and ds.info.num_classes == 10
    x, y = ds[0]
    xf, yf = ds[1797]
    assert x.dtype == torch.uint8 and x.shape == (3, 8, 8) and ds.images.max() == 255
    assert torch.equal(xf, x.flip(-1)) and y == yf
    with pytest.raises(ConfigError, match="dataset.resolution"):
        digits(resolution=12)


def test_enlarged_stacked_digits_downsample_back_to_the_8px_digits():
    small, big = stacked_digits(num_images=50, seed=1), stacked_digits(num_images=50, seed=1, resolution=16)
    assert big.images.shape == (50, 3, 16, 16) and np.array_equal(big.labels, small.labels)
    down = torch.nn.functional.interpolate(torch.from_numpy(big.images).float(), size=(8, 8), mode="bilinear",
                                           align_corners=False)
    assert torch.equal(down.round().to(torch.uint8), torch.from_numpy(small.images))


def test_infinite_sampler_is_seeded_shards_and_resumes():
    take = lambda s, n: list(itertools.islice(iter(s), n))  # noqa: E731
    a = take(InfiniteSampler(10, seed=5), 25)
    assert a == take(InfiniteSampler(10, seed=5), 25)
    assert sorted(a[:10]) == list(range(10)) and sorted(a[10:20]) == list(range(10))  # one permutation per pass
    assert a[:10] != a[10:20]
    # two ranks interleave the global stream
    r0 = take(InfiniteSampler(10, seed=5, rank=0, world_size=2), 6)
    r1 = take(InfiniteSampler(10, seed=5, rank=1, world_size=2), 6)
    assert r0 == a[0:12:2] and r1 == a[1:12:2]
    # resuming at a position continues the same stream
    assert take(InfiniteSampler(10, seed=5, start=13), 5) == a[13:18]
