"""Atomic ``last.ckpt`` every N kimg and at the end, periodic snapshots, and ``status.json``.

Lightning's ModelCheckpoint counts steps/epochs and writes in place; gan_zoo counts kimg and needs
checkpoints that are never half-written (see :func:`gan_zoo.checkpoint.atomic_save`). ``status.json`` tells
reports and sweeps whether a run is running, finished, diverged or failed (written atomically too).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytorch_lightning as pl

from gan_zoo.checkpoint import atomic_save, write_text_atomic


class KimgCheckpoint(pl.Callback):
    def __init__(self, dirpath: str | Path, every_kimg: float = 50.0, snapshot_every_kimg: float = 0.0) -> None:
        self.dirpath = Path(dirpath)
        self.every_kimg, self.snapshot_every_kimg = float(every_kimg), float(snapshot_every_kimg)
        self._t0 = time.time()
        self.wall_clock_before = 0.0  # seconds spent in earlier sessions of a resumed run

    @staticmethod
    def _crossed(before: float, after: float, every: float) -> bool:
        return every > 0 and int(after // every) > int(before // every)

    def state_dict(self) -> dict:
        return {"wall_clock_s": self.wall_clock()}

    def load_state_dict(self, state: dict) -> None:
        self.wall_clock_before = float(state.get("wall_clock_s", 0.0))

    def wall_clock(self) -> float:
        return self.wall_clock_before + time.time() - self._t0

    def on_fit_start(self, trainer, pl_module) -> None:
        self._t0 = time.time()
        self.dirpath.mkdir(parents=True, exist_ok=True)
        self.write_status(trainer, pl_module, "running")

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        after = pl_module.kimg
        before = (pl_module.iteration - 1) * pl_module.batch_size * pl_module.n_dis / 1000.0
        if trainer.should_stop:
            return  # on_train_end writes the final checkpoint
        if self._crossed(before, after, self.snapshot_every_kimg):
            atomic_save(trainer, self.dirpath / f"snapshot-{int(round(after)):06d}.ckpt")
        if self._crossed(before, after, self.every_kimg):
            atomic_save(trainer, self.dirpath / "last.ckpt")
            self.write_status(trainer, pl_module, "running")

    def on_train_end(self, trainer, pl_module) -> None:
        atomic_save(trainer, self.dirpath / "last.ckpt")
        finished = pl_module.kimg >= pl_module.total_kimg - 1e-9
        self.write_status(trainer, pl_module, "finished" if finished else "stopped")

    def write_status(self, trainer, pl_module, state: str, message: str = "") -> None:
        if not trainer.is_global_zero:
            return
        g, d = pl_module.num_params()
        status = {"state": state, "kimg": round(pl_module.kimg, 3), "iterations": pl_module.iteration,
                  "total_kimg": pl_module.total_kimg, "wall_clock_s": round(self.wall_clock(), 2),
                  "g_params": g, "d_params": d, "message": message}
        write_text_atomic(pl_module.run_dir / "status.json", json.dumps(status, indent=1))
