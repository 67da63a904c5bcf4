"""gan_zoo.load: a run directory, a .ckpt (and, in test_export, an exported file) -> a generator that samples
the run's own pictures without its dataset."""

from __future__ import annotations

import pytest
import torch
from torchvision.io import read_image

import gan_zoo
from gan_zoo.errors import GanZooError
from tests.usage.conftest import C_DIM


def grid_cells(path, n: int, nrow: int, res: int) -> torch.Tensor:
    """Cut the cells back out of a grid the sample callback wrote: make_grid's padding 1, images enlarged
    (nearest) to 32 px."""
    grid, scale = read_image(str(path)), max(1, 32 // res)
    size = res * scale + 1
    cells = [grid[:, 1 + (i // nrow) * size : 1 + (i // nrow) * size + res * scale : scale,
                  1 + (i % nrow) * size : 1 + (i % nrow) * size + res * scale : scale] for i in range(n)]
    return torch.stack(cells)


def test_run_dir_samples_the_run_grid_pixel_exactly_without_data(run_without_data):
    G = gan_zoo.load(run_without_data)
    assert (G.z_dim, G.c_dim, G.resolution, G.img_channels) == (64, C_DIM, 8, 3)
    assert G.kimg == pytest.approx(0.024) and G.config.dataset.name == "folder"
    assert not (run_without_data.parent / "data").exists()  # the dataset is gone
    grids = sorted((run_without_data / "samples").glob("grid-*.png"))
    assert [g.name for g in grids] == ["grid-000000000.png", "grid-000000024.png"]
    ours = G.sample(64, seed=123)  # the callback's seed and count (conf/callbacks/default.yaml)
    assert ours.dtype == torch.uint8 and ours.shape == (64, 3, 8, 8)
    assert torch.equal(ours, grid_cells(grids[-1], 64, C_DIM, 8))
    assert not torch.equal(ours, grid_cells(grids[0], 64, C_DIM, 8))  # training moved G_ema: the test can fail
    assert not torch.equal(ours, G.sample(64, seed=124))


def test_biggan_standing_stats_grid_pixel_exactly(biggan_run_without_data):
    G = gan_zoo.load(biggan_run_without_data)
    grid = sorted((biggan_run_without_data / "samples").glob("grid-*.png"))[-1]
    assert torch.equal(G.sample(64, seed=123), grid_cells(grid, 64, C_DIM, 16))
    running = [m.running_var.clone() for m in G.net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    G.sample(4, seed=0, truncation=0.5)  # standing statistics re-estimated with z truncated at 0.5
    again = [m.running_var for m in G.net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert running and not all(torch.equal(a, b) for a, b in zip(running, again))


def test_checkpoint_file_classes_float_and_batching(run_without_data):
    G = gan_zoo.load(run_without_data / "checkpoints" / "last.ckpt")
    x = G.sample(8, classes=2, seed=5, output="float")
    assert x.dtype == torch.float32 and x.shape == (8, 3, 8, 8)
    z = torch.Generator().manual_seed(5)
    expected = G.net(torch.randn(8, 64, generator=z), torch.nn.functional.one_hot(torch.full((8,), 2), C_DIM).float())
    torch.testing.assert_close(x, expected, rtol=0, atol=0)
    assert torch.equal(G.sample(8, classes=[0, 1, 2, 3] * 2, seed=5, batch_size=3), G.sample(8, seed=5))
    t = G.latents(4096, seed=0, truncation=0.5)
    assert t.abs().max() <= 0.5 and t.std() < 0.35  # BigGAN truncation: resampled, not clamped


@pytest.mark.parametrize("classes, message", [(7, "out of range"), ([0, 1], "2 entries for n=4")])
def test_bad_classes_are_one_line_errors(run_without_data, classes, message):
    G = gan_zoo.load(run_without_data)
    with pytest.raises(GanZooError, match=message):
        G.sample(4, classes=classes)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_samples_match_cpu(run_without_data):
    cpu, cuda = gan_zoo.load(run_without_data), gan_zoo.load(run_without_data, device="cuda")
    assert next(cuda.net.parameters()).is_cuda
    torch.testing.assert_close(cuda.sample(16, seed=1, output="float"), cpu.sample(16, seed=1, output="float"),
                               rtol=1e-4, atol=1e-4)
