"""Atomic ``last.ckpt`` every N kimg and at the end, periodic snapshots, ``status.json``, and preemption.

Lightning's ModelCheckpoint counts steps/epochs and writes in place; gan_zoo counts kimg and needs
checkpoints that are never half-written (see :func:`gan_zoo.checkpoint.atomic_save`). ``status.json`` tells
reports and sweeps whether a run is running, finished, stopped (early, e.g. by the health monitor),
interrupted (a signal), diverged or failed (written atomically too).

Preemption: while a run trains, SIGTERM (SLURM preemption, ``scancel``, a killed sweep) and SIGINT (Ctrl-C) are
recorded by :data:`SIGNALS` and acted on at the end of the current step, after every other callback of that
step: ``last.ckpt`` is written atomically, status becomes ``interrupted`` with the kimg, and
:class:`Interrupted` ends ``trainer.fit``; gan-zoo-train then exits 128 + the signal (143 for SIGTERM, 130 for
SIGINT). A second Ctrl-C stops at once, without a checkpoint. The next launch (``resume=<run dir>``, a
re-launched sweep, or a requeued SLURM job) continues from that checkpoint.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytorch_lightning as pl
from pytorch_lightning.utilities.exceptions import SIGTERMException

from gan_zoo.callbacks.samples import crossed
from gan_zoo.checkpoint import atomic_save, write_text_atomic


class Interrupted(BaseException):
    """A signal stopped training at the end of a step; the checkpoint and status are written. A BaseException,
    like KeyboardInterrupt, so that no ``except Exception`` on the way swallows it."""

    def __init__(self, signum: int, kimg: float, checkpoint: Path | None) -> None:
        self.signum, self.kimg, self.checkpoint = int(signum), float(kimg), checkpoint
        name = signal.Signals(self.signum).name
        where = f"; checkpoint {checkpoint}" if checkpoint else ""
        super().__init__(f"interrupted by {name} at kimg {kimg:.3f}{where}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum  # the shell's convention: 143 for SIGTERM, 130 for SIGINT


class SignalFlag:
    """The signal that asked training to stop, set by the handlers :meth:`catching` installs."""

    HANDLED = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self.signum: int | None = None

    def _handle(self, signum, frame) -> None:
        if self.signum == signal.SIGINT and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now
        self.signum = signum

    @contextmanager
    def catching(self, extra: tuple[int, ...] = ()):
        """Record SIGTERM, SIGINT (and ``extra``, e.g. SLURM's requeue signal) instead of dying mid-step; the
        previous handlers come back on exit. Outside the main thread (where Python allows no handlers) a no-op."""
        self.signum = None
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {}
        try:
            for s in dict.fromkeys((*self.HANDLED, *extra)):
                previous[s] = signal.signal(s, self._handle)
            yield self
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler if handler is not None else signal.SIG_DFL)


SIGNALS = SignalFlag()


def snapshot_name(kimg: float) -> str:
    """``snapshot-<images shown>.ckpt`` (9 digits), as sample grids are named: unique at any interval (names
    from ``round(kimg)`` collided, e.g. 1.5 and 2.0 kimg both gave ``snapshot-000002``) and sorted in order."""
    return f"snapshot-{int(round(kimg * 1000)):09d}.ckpt"


class KimgCheckpoint(pl.Callback):
    def __init__(self, dirpath: str | Path, every_kimg: float = 50.0, snapshot_every_kimg: float = 0.0) -> None:
        self.dirpath = Path(dirpath)
        self.every_kimg, self.snapshot_every_kimg = float(every_kimg), float(snapshot_every_kimg)
        self._t0 = time.time()
        self.wall_clock_before = 0.0  # seconds spent in earlier sessions of a resumed run
        self.signals = SIGNALS
        self._interrupted = False

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
        if self.signals.signum is not None and not trainer.should_stop and not self._interrupted:
            self.interrupt(trainer, pl_module, self.signals.signum)
        if trainer.should_stop:
            # the trained state is safe before the end-of-training work (metrics) that may fail; on_train_end
            # writes it again with what that work recorded
            if not self._interrupted:
                atomic_save(trainer, self.dirpath / "last.ckpt")
            return
        if crossed(before, after, self.snapshot_every_kimg):
            atomic_save(trainer, self.dirpath / snapshot_name(after))
        if crossed(before, after, self.every_kimg):
            atomic_save(trainer, self.dirpath / "last.ckpt")
            self.write_status(trainer, pl_module, "running")

    def interrupt(self, trainer, pl_module, signum: int) -> None:
        """Checkpoint the state after this step, mark the run interrupted, and end ``fit`` once this step's
        metrics are logged (Lightning's own SIGTERM exit, raised after its logging), else at once."""
        path = self.dirpath / "last.ckpt"
        atomic_save(trainer, path)
        name = signal.Signals(signum).name
        self.write_status(trainer, pl_module, "interrupted", f"{name} at kimg {pl_module.kimg:.3f}; resume continues")
        self._interrupted = True
        connector = getattr(trainer, "_signal_connector", None)
        if connector is None or not hasattr(connector, "received_sigterm"):
            raise Interrupted(signum, pl_module.kimg, path)
        connector.received_sigterm = True  # the loop raises SIGTERMException at the end of this step

    def on_exception(self, trainer, pl_module, exception) -> None:
        """A signal that came after this step's check: Lightning stops between steps, so the state is whole."""
        if isinstance(exception, SIGTERMException) and self.signals.signum is not None and not self._interrupted:
            self.interrupt(trainer, pl_module, self.signals.signum)

    def on_train_end(self, trainer, pl_module) -> None:
        atomic_save(trainer, self.dirpath / "last.ckpt")
        finished = pl_module.kimg >= pl_module.total_kimg - 1e-9
        # "finished" is written by gan-zoo-train once everything (metrics too) succeeded; until then "running"
        self.write_status(trainer, pl_module, "running" if finished else "stopped")

    def write_status(self, trainer, pl_module, state: str, message: str = "") -> None:
        if not trainer.is_global_zero:
            return
        g, d = pl_module.num_params()
        status = {"state": state, "kimg": round(pl_module.kimg, 3), "iterations": pl_module.iteration,
                  "total_kimg": pl_module.total_kimg, "wall_clock_s": round(self.wall_clock(), 2),
                  "g_params": g, "d_params": d, "message": message}
        write_text_atomic(pl_module.run_dir / "status.json", json.dumps(status, indent=1))
