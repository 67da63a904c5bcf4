"""Training-health monitor for any GAN: weight spectra, loss signs and metric jumps, with a configured action.

What it watches (BigGAN, Brock et al., ICLR 2019, Sec. 4 and App. F; the "detect failure early" signs of the
trick catalogue, seed 002 "尽早发现失败"):

- **spectra**: every ``every_n_steps`` iterations, the top singular values sigma_0..2 of every weight of G
  and D (:class:`gan_zoo.callbacks.spectra.SpectrumTracker`: warm-started block power iteration;
  ``verify_svd`` also runs ``torch.linalg.svdvals`` and logs the worst relative error). Logged per layer
  (``<run_dir>/health/spectra.csv``, plotted to ``health/sigma0.png`` at the end) and as summaries
  ``health/<net>/sigma0_max`` and ``health/<net>/sigma0_over_sigma1_max`` in every logger. Sign
  ``sigma_jump``: some layer's sigma_0 grew by more than that factor since the previous check.
- **losses** (the mean over the iterations since the previous check): ``d_loss_floor`` fires when D's loss
  is pinned below it (D has won: "D 的 loss 一直接近于 0"); ``loss_jump`` when D's or G's loss moved by more
  than that amount between two checks (BigGAN: D's loss jumps at collapse).
- **metrics**: when a metric ran since the previous check, ``metric_jump`` fires when the primary value of
  the run's :class:`~gan_zoo.metrics.callback.MetricsCallback` (FD, modes, ...) got worse by more than that
  fraction of its previous value.

A sign must hold on ``patience`` consecutive checks. Then ``action``:

- ``warn``: one line on stderr;
- ``stop``: stop training (BigGAN's own remedy: early stopping; best.ckpt keeps the best evaluated G);
- ``rollback``: restore the newest ``checkpoints/snapshot-*.ckpt`` that existed at the last healthy check
  (the atomic snapshots of :class:`~gan_zoo.callbacks.checkpoint.KimgCheckpoint`; set
  ``callbacks.checkpoint.snapshot_every_kimg``), i.e. weights, EMA, optimizer states and the iteration, and
  continue with ``change`` applied (``lr_mult``, ``g_lr_mult``, ``d_lr_mult``, ``gamma_mult``); after
  ``max_rollbacks`` it stops instead. Applied changes are in the callback's checkpoint state and are applied
  again on resume.

Every action writes its one-line message and a line ``{"metric": "health/<sign>", "value", "kimg", "action",
...}`` to ``<run_dir>/metrics.jsonl``. Rank 0 decides; the decision is broadcast, so all ranks act alike.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import pytorch_lightning as pl
import torch

from gan_zoo.callbacks.spectra import SpectrumTracker, append_rows, exact_top, plot_spectra, weight_matrices
from gan_zoo.errors import ConfigError

ACTIONS = ("warn", "stop", "rollback")
CHANGES = ("lr_mult", "g_lr_mult", "d_lr_mult", "gamma_mult")


class ScaledSchedules:
    """A run's :class:`~gan_zoo.schedules.Schedules` with some values multiplied (a rollback's change)."""

    def __init__(self, base, factors: dict[str, float]) -> None:
        self.base, self.factors = base, dict(factors)

    def __call__(self, name: str, kimg: float) -> float:
        return self.base(name, kimg) * self.factors.get(name, 1.0)

    def values(self, kimg: float) -> dict[str, float]:
        return {k: v * self.factors.get(k, 1.0) for k, v in self.base.values(kimg).items()}


def apply_change(pl_module, change: dict[str, float]) -> None:
    """Multiply the module's lr multipliers and/or every gamma (the schedule's and the penalties' own)."""
    for key, factor in change.items():
        if key in ("lr_mult", "g_lr_mult"):
            pl_module.g_lr_mult *= factor
        if key in ("lr_mult", "d_lr_mult"):
            pl_module.d_lr_mult *= factor
        if key == "gamma_mult":
            pl_module.schedules = ScaledSchedules(pl_module.schedules, {"gamma": factor})
            for reg in pl_module.regularizers.values():
                if getattr(reg, "gamma", None) is not None:
                    reg.gamma = reg.gamma * factor


class HealthMonitor(pl.Callback):
    def __init__(
        self,
        every_n_steps: int = 50,
        num_vectors: int = 3,
        power_iters: int = 2,
        warmup_iters: int = 30,
        oversample: int = 8,
        tol: float = 1e-4,
        max_iters: int = 200,
        verify_svd: bool = False,
        sigma_jump: float | None = 3.0,
        d_loss_floor: float | None = None,
        loss_jump: float | None = None,
        metric_jump: float | None = None,
        patience: int = 1,
        action: str = "warn",
        change: dict | None = None,
        max_rollbacks: int = 2,
        plot: bool = True,
    ) -> None:
        if int(every_n_steps) < 1:
            raise ConfigError(f"callbacks.health.every_n_steps={every_n_steps}: must be >= 1 (iterations)")
        if action not in ACTIONS:
            raise ConfigError(f"callbacks.health.action={action!r}: use one of {', '.join(ACTIONS)}")
        change = dict(change or {})
        unknown = sorted(set(change) - set(CHANGES))
        if unknown:
            raise ConfigError(f"callbacks.health.change.{unknown[0]} is unknown; use {', '.join(CHANGES)}")
        if sigma_jump is not None and not sigma_jump > 1:
            raise ConfigError(f"callbacks.health.sigma_jump={sigma_jump}: a growth factor > 1, or null (off)")
        self.every, self.verify, self.plot = int(every_n_steps), bool(verify_svd), bool(plot)
        self.tracker = SpectrumTracker(num_vectors, power_iters, warmup_iters, oversample, tol, max_iters)
        self.thresholds = {"sigma_jump": sigma_jump, "d_loss_floor": d_loss_floor, "loss_jump": loss_jump,
                           "metric_jump": metric_jump}
        self.patience, self.action, self.change = max(1, int(patience)), action, change
        self.max_rollbacks = int(max_rollbacks)
        self.applied: list[dict] = []  # changes of past rollbacks (re-applied on resume)
        self.last_errors: dict[str, float] = {}  # verify_svd: relative error of sigma_0 per layer
        self.events: list[dict] = []
        self._reset()

    def _reset(self) -> None:
        self.prev_sigma: dict[str, float] | None = None
        self.prev_loss: dict[str, float] | None = None
        self.window: dict[str, list[float]] = {"loss/d": [], "loss/g": []}
        self.strikes: dict[str, int] = {}
        self.good_snapshot: str | None = None
        self.seen_metrics = None

    # ---- state -------------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"applied": self.applied, "tracker": self.tracker.state_dict(), "good_snapshot": self.good_snapshot,
                "prev_sigma": self.prev_sigma}

    def load_state_dict(self, state: dict) -> None:
        self.applied = list(state.get("applied", []))
        self.tracker.load_state_dict(state.get("tracker", {}))
        self.good_snapshot, self.prev_sigma = state.get("good_snapshot"), state.get("prev_sigma")

    def on_train_start(self, trainer, pl_module) -> None:
        for change in self.applied:
            apply_change(pl_module, change)

    # ---- checks ------------------------------------------------------------------------------------------
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        for key in self.window:
            if key in pl_module.last_values:
                self.window[key].append(pl_module.last_values[key])
        if pl_module.iteration % self.every == 0:
            self.check(trainer, pl_module)

    def spectra(self, pl_module) -> dict[str, torch.Tensor]:
        return {**self.tracker.spectra(pl_module.G, "G"), **self.tracker.spectra(pl_module.D, "D")}

    def check(self, trainer, pl_module) -> dict[str, str]:
        """Measure, log, evaluate the signs; act on those that held ``patience`` times. Returns fired signs."""
        spectra = self.spectra(pl_module)
        sigma = {k: float(s[0]) for k, s in spectra.items()}
        logs = {}
        for net in ("G", "D"):
            s = [v for k, v in spectra.items() if k.startswith(net + "/")]
            ratios = [float(x[0] / x[1]) for x in s if len(x) > 1 and x[1] > 0]
            if s:
                logs[f"health/{net}/sigma0_max"] = max(float(x[0]) for x in s)
                logs[f"health/{net}/sigma0_over_sigma1_max"] = max(ratios) if ratios else 1.0
        if self.verify:
            self.last_errors = self._verify(pl_module, sigma)
            logs["health/svd_rel_err_max"] = max(self.last_errors.values(), default=0.0)
        signs = self._signs(trainer, pl_module, sigma)
        self.prev_sigma = sigma
        if trainer.is_global_zero:
            append_rows(Path(pl_module.run_dir) / "health" / "spectra.csv", pl_module.iteration, pl_module.kimg,
                        spectra)
            for logger in trainer.loggers:
                logger.log_metrics(logs, step=trainer.global_step)
        fired = {}
        for name, detail in signs.items():
            self.strikes[name] = self.strikes.get(name, 0) + 1
            if self.strikes[name] >= self.patience:
                fired[name] = detail
        for name in set(self.strikes) - set(signs):
            self.strikes.pop(name)
        fired = trainer.strategy.broadcast(fired, src=0)
        if fired:
            self._act(trainer, pl_module, fired)
        elif not signs:
            self.good_snapshot = self._newest_snapshot(pl_module)
        return fired

    def _verify(self, pl_module, sigma: dict[str, float]) -> dict[str, float]:
        errors = {}
        for prefix, net in (("G", pl_module.G), ("D", pl_module.D)):
            for name, w in weight_matrices(net).items():
                true = float(exact_top(w, 1)[0])
                errors[f"{prefix}/{name}"] = abs(sigma[f"{prefix}/{name}"] - true) / max(true, 1e-12)
        return errors

    def _window_means(self) -> dict[str, float]:
        means = {k: sum(v) / len(v) for k, v in self.window.items() if v}
        self.window = {k: [] for k in self.window}
        return means

    def _signs(self, trainer, pl_module, sigma: dict[str, float]) -> dict[str, str]:
        t, signs = self.thresholds, {}
        if t["sigma_jump"] is not None and self.prev_sigma:
            ratios = {k: v / self.prev_sigma[k] for k, v in sigma.items() if self.prev_sigma.get(k, 0) > 0}
            worst = max(ratios, key=ratios.get, default=None)
            if worst is not None and ratios[worst] > t["sigma_jump"]:
                signs["sigma_jump"] = (f"sigma_0 of {worst} grew x{ratios[worst]:.3g} "
                                       f"({self.prev_sigma[worst]:.4g} -> {sigma[worst]:.4g})", ratios[worst])
        means = self._window_means()
        if t["d_loss_floor"] is not None and "loss/d" in means and means["loss/d"] < t["d_loss_floor"]:
            signs["d_loss_floor"] = (f"D loss {means['loss/d']:.4g} pinned below {t['d_loss_floor']}", means["loss/d"])
        if t["loss_jump"] is not None and self.prev_loss:
            for key in ("loss/d", "loss/g"):
                if key in means and key in self.prev_loss and abs(means[key] - self.prev_loss[key]) > t["loss_jump"]:
                    signs.setdefault("loss_jump", (f"{key} jumped {self.prev_loss[key]:.4g} -> {means[key]:.4g}",
                                                   means[key] - self.prev_loss[key]))
        self.prev_loss = means or self.prev_loss
        if t["metric_jump"] is not None:
            jump = self._metric_jump(trainer, t["metric_jump"])
            if jump:
                signs["metric_jump"] = jump
        return signs

    def _metric_jump(self, trainer, fraction: float):
        metrics = next((c for c in trainer.callbacks if hasattr(c, "history") and hasattr(c, "primary")), None)
        if metrics is None:
            return None
        values = [v for v in metrics.history if v.name == metrics.primary]
        new = len(values) != self.seen_metrics and len(values) >= 2
        self.seen_metrics = len(values)
        if not new:
            return None
        prev, last = values[-2].value, values[-1].value
        worse = (prev - last) if metrics.higher_is_better else (last - prev)
        if prev and worse > fraction * abs(prev):
            return f"{metrics.primary} got worse {prev:.4g} -> {last:.4g}", last
        return None

    # ---- actions -----------------------------------------------------------------------------------------
    def _newest_snapshot(self, pl_module) -> str | None:
        snaps = sorted((Path(pl_module.run_dir) / "checkpoints").glob("snapshot-*.ckpt"),
                       key=lambda p: (int(re.sub(r"\D", "", p.stem) or 0), p.stat().st_mtime))
        return str(snaps[-1]) if snaps else None

    def _act(self, trainer, pl_module, fired: dict) -> None:
        kimg = pl_module.kimg
        action = self.action
        if action == "rollback" and (self.good_snapshot is None or len(self.applied) >= self.max_rollbacks):
            why = ("no snapshot existed at a healthy check (set callbacks.checkpoint.snapshot_every_kimg)"
                   if self.good_snapshot is None else f"{self.max_rollbacks} rollbacks done")
            action, note = "stop", f"; cannot roll back: {why}, stopping"
        else:
            note = ""
        signs = "; ".join(f"{name}: {detail}" for name, (detail, _) in fired.items())
        record = {"action": action}
        if action == "rollback":
            target = self.good_snapshot
            to_kimg = self._restore(trainer, pl_module, target)
            apply_change(pl_module, self.change)
            self.applied.append(dict(self.change))
            changes = ", ".join(f"{k} x{v:g}" for k, v in self.change.items()) or "no change"
            note = f"; rolled back to {Path(target).name} (kimg {to_kimg:.3f}) with {changes}"
            record.update({"to": target, "to_kimg": to_kimg, "change": dict(self.change)})
            self._reset()
            self.good_snapshot = target
        elif action == "stop":
            trainer.should_stop = True
        message = f"health: {signs} at kimg {kimg:.3f} -> {action}{note}"
        self.events.append({"kimg": kimg, "signs": sorted(fired), **record, "message": message})
        if trainer.is_global_zero:
            print(message, file=sys.stderr)
            with open(Path(pl_module.run_dir) / "metrics.jsonl", "a") as f:
                for name, (_, value) in fired.items():
                    line = {"metric": f"health/{name}", "value": float(value), "kimg": round(kimg, 3), **record,
                            "message": message, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
                    f.write(json.dumps(line) + "\n")

    def _restore(self, trainer, pl_module, path: str) -> float:
        ckpt = torch.load(path, map_location=pl_module.device, weights_only=False)
        pl_module.load_state_dict(ckpt["state_dict"])
        for opt, state in zip(trainer.optimizers, ckpt["optimizer_states"]):
            opt.load_state_dict(state)
        pl_module.on_load_checkpoint(ckpt)
        return float(pl_module.kimg)

    def on_train_end(self, trainer, pl_module) -> None:
        csv_path = Path(pl_module.run_dir) / "health" / "spectra.csv"
        if self.plot and trainer.is_global_zero and csv_path.is_file():
            plot_spectra(csv_path, csv_path.with_name("sigma0.png"))
