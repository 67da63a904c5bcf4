"""Rich progress bar that speaks kimg: images shown to D, img/s (real images per second) and ETA.

Training length is set in kimg and the data stream is infinite, so Lightning's batch counter has no total;
this bar adds the numbers a GAN researcher watches. img/s is an exponential average over iterations
(the first iterations are slow while oneDNN warms up).
"""

from __future__ import annotations

import time

from pytorch_lightning.callbacks import RichProgressBar


class KimgProgressBar(RichProgressBar):
    def __init__(self, refresh_rate: int = 1, leave: bool = True) -> None:
        super().__init__(refresh_rate=refresh_rate, leave=leave)
        self._last_time: float | None = None
        self._img_per_s = 0.0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        now = time.perf_counter()
        if self._last_time is not None:
            rate = pl_module.batch_size * pl_module.n_dis / max(now - self._last_time, 1e-9)
            self._img_per_s = rate if self._img_per_s == 0 else 0.9 * self._img_per_s + 0.1 * rate
        self._last_time = now
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)

    def _get_train_description(self, current_epoch: int) -> str:
        return "train"  # epochs mean nothing here: the stream is infinite and length is in kimg

    def get_metrics(self, trainer, pl_module):
        items = super().get_metrics(trainer, pl_module)
        items.pop("v_num", None)
        keep = {k: v for k, v in items.items() if k in ("loss/d", "loss/g")}
        remaining = max(pl_module.total_kimg - pl_module.kimg, 0.0)
        eta = remaining * 1000 / self._img_per_s if self._img_per_s > 0 else float("nan")
        keep.update({"kimg": f"{pl_module.kimg:.1f}/{pl_module.total_kimg:g}",
                     "img/s": f"{self._img_per_s:.0f}", "eta": _fmt(eta)})
        return keep


def _fmt(seconds: float) -> str:
    if seconds != seconds:  # nan
        return "?"
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
