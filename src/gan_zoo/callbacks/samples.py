"""Sample grids from G_ema with fixed latents every N kimg: PNG files plus an image in every logger.

Images go to ``<run_dir>/samples/grid-<images>.png``, named by the number of real images shown to D so far
(``round(kimg * 1000)``, 9 digits: unique at any interval, e.g. ``grid-000000512.png`` at 0.512 kimg, and
sorted by name in training order); torchvision's ``make_grid``/``write_png``. 2-D
generators get a matplotlib scatter of samples over the data instead. Conditional grids have one class per
column (latents from :func:`gan_zoo.sampling.fixed_latents`).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytorch_lightning as pl
import torch

from gan_zoo.data.base import to_uint8
from gan_zoo.sampling import fixed_latents, one_hot
from gan_zoo.standing_stats import refresh_for_eval


class SampleGrid(pl.Callback):
    def __init__(self, every_kimg: float = 10.0, num_samples: int = 64, seed: int = 123) -> None:
        self.every_kimg, self.num_samples, self.seed = float(every_kimg), int(num_samples), int(seed)

    def on_train_start(self, trainer, pl_module) -> None:
        self._write(trainer, pl_module)  # the grid at the starting kimg (0, or where a resume begins)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        before = (pl_module.iteration - 1) * pl_module.batch_size * pl_module.n_dis / 1000.0
        if crossed(before, pl_module.kimg, self.every_kimg) and not trainer.should_stop:
            self._write(trainer, pl_module)

    def on_train_end(self, trainer, pl_module) -> None:
        self._write(trainer, pl_module)

    @torch.no_grad()
    def _write(self, trainer, pl_module) -> None:
        if not trainer.is_global_zero:
            return
        G = pl_module.G_ema
        refresh_for_eval(pl_module, G)  # BatchNorm G: standing statistics, not G's running averages
        z, labels = fixed_latents(self.num_samples, G.z_dim, G.c_dim, self.seed)
        out = G(z.to(pl_module.device), one_hot(labels.to(pl_module.device), G.c_dim)).float().cpu()
        prefix = "scatter" if G.resolution is None else "grid"
        path = Path(pl_module.run_dir) / "samples" / grid_name(pl_module.kimg, prefix)
        path.parent.mkdir(parents=True, exist_ok=True)
        image = save_points(out, trainer, path) if G.resolution is None else save_grid(out, G.c_dim, path)
        for logger in trainer.loggers:
            log_image = getattr(logger, "log_image", None)
            if callable(log_image):  # wandb
                log_image(key="samples", images=[str(path)], step=trainer.global_step)
            elif hasattr(getattr(logger, "experiment", None), "add_image"):  # tensorboard
                logger.experiment.add_image("samples", image, global_step=trainer.global_step)


def crossed(before: float, after: float, every: float) -> bool:
    """Whether ``(before, after]`` holds a multiple of ``every`` (kimg). The tolerance keeps float division from
    missing an exact multiple (``2.304 // 0.256 == 8.0``); ``every <= 0`` means never."""
    if every <= 0:
        return False
    return math.floor(after / every + 1e-9) > math.floor(before / every + 1e-9)


def grid_name(kimg: float, prefix: str = "grid") -> str:
    """``<prefix>-<images shown>.png``: kimg counts whole images, so names never collide (floor(kimg) did)."""
    return f"{prefix}-{int(round(kimg * 1000)):09d}.png"


def save_grid(images: torch.Tensor, c_dim: int, path: Path) -> torch.Tensor:
    from torchvision.io import write_png
    from torchvision.utils import make_grid

    nrow = min(c_dim, 16) if c_dim else int(len(images) ** 0.5)
    scale = max(1, 32 // images.shape[-1])  # small images (8-16 px) are enlarged, nearest, to be seen
    pixels = to_uint8(images).repeat_interleave(scale, dim=-1).repeat_interleave(scale, dim=-2)
    grid = make_grid(pixels, nrow=max(nrow, 1), padding=1)
    write_png(grid, str(path))
    return grid


def save_points(points: torch.Tensor, trainer, path: Path) -> torch.Tensor:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(4, 4), dpi=80)
    if points.shape[1] == 1:  # 1-D samples (the Dirac-GAN): on the x axis
        points = torch.cat([points, torch.zeros_like(points)], dim=1)
    data = getattr(trainer, "datamodule", None)
    centers = getattr(getattr(data, "dataset", None), "centers", None)
    if centers is not None:
        ax.scatter(centers[:, 0], centers[:, 1], c="tab:red", s=30, marker="x", label="modes")
    ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.5, label="samples")
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7)
    fig.savefig(path)
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return torch.from_numpy(image).permute(2, 0, 1)
