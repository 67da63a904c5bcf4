"""Sample grids: one file per grid named by the images shown (unique at any interval), written at every
multiple of every_kimg (exact multiples too), one class per column when conditional, and logged to
TensorBoard as an image."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torchvision.io import decode_png, read_file

from gan_zoo.callbacks.samples import SampleGrid
from gan_zoo.data.base import to_uint8
from tests.helpers import TINY, train_run


class ClassG(torch.nn.Module):
    """Each sample a flat image whose grey level encodes its class (unconditional: encodes kimg via ``level``)."""

    def __init__(self, c_dim: int = 0, resolution: int = 8):
        super().__init__()
        self.z_dim, self.c_dim, self.resolution, self.level = 4, c_dim, resolution, 0.0
        self.w = torch.nn.Parameter(torch.zeros(1))

    def forward(self, z, c=None):
        value = (c.argmax(1).float() * 0.2 - 0.9) if c is not None else torch.full((len(z),), self.level)
        return value.view(-1, 1, 1, 1).expand(-1, 3, self.resolution, self.resolution) + 0 * self.w


def fake_run(tmp_path, G, batch):
    trainer = SimpleNamespace(is_global_zero=True, loggers=[], global_step=0, should_stop=False, datamodule=None)
    module = SimpleNamespace(G_ema=G, kimg=0.0, iteration=0, batch_size=batch, n_dis=1, run_dir=tmp_path,
                             device=torch.device("cpu"))
    return trainer, module


def train(callback, trainer, module, iterations: int) -> None:
    """The callback's hooks in Lightning's order for ``iterations`` iterations; G's level follows kimg."""
    callback.on_train_start(trainer, module)
    for i in range(1, iterations + 1):
        module.iteration, module.kimg = i, i * module.batch_size / 1000
        module.G_ema.level = module.kimg / 10
        callback.on_train_batch_end(trainer, module, None, None, i - 1)
    callback.on_train_end(trainer, module)


def read_png(path: Path) -> torch.Tensor:
    return decode_png(read_file(str(path)))


@pytest.mark.parametrize(("batch", "every", "grids"), [
    (64, 0.256, [0, 256, 512, 768, 1024, 1280]),  # sub-kimg interval: floor(kimg) named them all grid-000000
    (256, 0.256, [256 * i for i in range(13)]),  # every iteration, incl. 2.304 (2.304 // 0.256 == 8.0 in floats)
])
def test_one_grid_per_multiple_each_in_its_own_file(tmp_path, batch, every, grids):
    trainer, module = fake_run(tmp_path, ClassG(), batch)
    iterations = grids[-1] // batch
    train(SampleGrid(every_kimg=every, num_samples=4), trainer, module, iterations)
    names = sorted(p.name for p in (tmp_path / "samples").iterdir())
    assert names == [f"grid-{n:09d}.png" for n in grids]
    for n in grids:  # each file holds the grid of its own kimg, not a later one written over it
        level = read_png(tmp_path / "samples" / f"grid-{n:09d}.png")[0, 1, 1]
        assert int(level) == int(to_uint8(torch.tensor(n / 1000 / 10)))


def test_conditional_grid_has_one_class_per_column(tmp_path):
    """Samples cycle through the classes (sample i has class i % c_dim) and the grid has c_dim columns."""
    trainer, module = fake_run(tmp_path, ClassG(c_dim=10), 64)
    SampleGrid(num_samples=30)._write(trainer, module)
    grid = read_png(tmp_path / "samples" / "grid-000000000.png")
    tile = 8 * 4 + 1  # 8 px enlarged 4x, 1 px padding
    assert grid.shape == (3, 3 * tile + 1, 10 * tile + 1)
    for row in range(3):
        for col in range(10):
            y, x = row * tile + 1, col * tile + 1
            cell = grid[:, y: y + tile - 1, x: x + tile - 1]
            assert torch.all(cell == to_uint8(torch.tensor(col * 0.2 - 0.9))), (row, col)


def test_tensorboard_logs_the_sample_grids_as_images(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tmp_path / "run"
    train_run([*TINY, "logger=tensorboard", "total_kimg=0.016"], run)
    (events,) = (run / "tensorboard").rglob("events.out.tfevents.*")
    acc = EventAccumulator(str(events.parent), size_guidance={"images": 0})
    acc.Reload()
    assert "samples" in acc.Tags()["images"]
    images = acc.Images("samples")
    assert [im.step for im in images] == [0, 16]  # at images shown to D (kimg x 1000): start, 2 iterations of 8
    png = read_png(next((run / "samples").glob("grid-000000016.png")))
    assert (images[-1].height, images[-1].width) == tuple(png.shape[1:])
    logged = decode_png(torch.frombuffer(bytearray(images[-1].encoded_image_string), dtype=torch.uint8))
    assert torch.equal(logged, png)
