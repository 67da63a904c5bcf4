"""A test-only Lightning callback that every rank of a run executes: what each rank saw and what it ended with.

tests/test_ddp.py adds it to a ``gan-zoo-train`` command line as ``+callbacks.probe._target_=tests.ddp_probe.RankProbe``
(with the repository root on PYTHONPATH, so Lightning's re-executed DDP child processes import it too). Rank 0
alone writes run outputs, so the probe is how a test sees rank 1: each rank saves
``<run_dir>/probe/rank<r>.pt`` with its first loader batch (images, labels), world size, iterations and the
G, D and G_ema weights at the start and at the end of training.
"""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
import torch


class RankProbe(pl.Callback):
    def __init__(self) -> None:
        self.first_batch: tuple[torch.Tensor, torch.Tensor] | None = None
        self.initial: dict | None = None

    @staticmethod
    def _weights(pl_module) -> dict[str, dict[str, torch.Tensor]]:
        return {
            name: {k: v.detach().cpu().clone() for k, v in getattr(pl_module, name).state_dict().items()}
            for name in ("G", "D", "G_ema")
        }

    def on_train_start(self, trainer, pl_module) -> None:
        self.initial = self._weights(pl_module)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self.first_batch is None:
            images, labels = batch
            self.first_batch = (images.detach().cpu().clone(), labels.detach().cpu().clone())

    def on_train_end(self, trainer, pl_module) -> None:
        out = Path(pl_module.run_dir) / "probe"
        out.mkdir(parents=True, exist_ok=True)
        torch.save(
            {
                "rank": trainer.global_rank,
                "world_size": trainer.world_size,
                "iterations": pl_module.iteration,
                "first_batch": self.first_batch,
                "initial": self.initial,
                "weights": self._weights(pl_module),
            },
            out / f"rank{trainer.global_rank}.pt",
        )
