"""The Dirac-GAN's linearised dynamics, and a recorder of the trajectory the training step actually takes.

Mescheder, Geiger, Nowozin, "Which Training Methods for GANs do actually Converge?", ICML 2018: data a point
mass at x0 (= 0), G(theta) = theta, D(x) = psi * x, equilibrium (theta, psi) = (x0, 0). Local convergence of
a discrete update F is decided by the eigenvalues of its Jacobian F'(equilibrium) (their Prop. 3 / App. A): the
iterates converge linearly with rate rho = max |lambda| < 1 and fail to converge when rho >= 1.

The update analysed here is the one :class:`gan_zoo.module.AdversarialModule` takes with ``optimizer=sgd``
(plain gradient descent, step size h = lr), *alternating*: ``n_dis`` D steps, then one G step that sees the
updated psi,

    psi'   = psi - h * d/dpsi [ loss.d(D(x0), D(theta)) + (gamma/2) * (R1 and/or R2) ]
    theta' = theta - h * d/dtheta  loss.g(D'(theta), D'(x0))

built from the very loss objects and :func:`~gan_zoo.regularizers.gradient_penalty.squared_grad_norm`
the training step uses, in float64, and differentiated by autograd at the equilibrium. By hand, for the
non-saturating GAN and RpGAN (identical on a Dirac at 0, since D(x0) = 0) with f'(0) = 1/2 and
g = gamma * (number of penalties) (R1 = R2 = psi^2 for a linear D):

    J_D = [[1, 0], [-h/2, 1 - h g]],  J_G = [[1, h/2], [0, 1]],  J = J_G J_D,  det J = 1 - h g,

so without a penalty det J = 1 and both eigenvalues lie on the unit circle (the iterates circle forever),
and with one |lambda| = sqrt(1 - h g) while the eigenvalues are complex. The continuous-time Jacobian
(gradient flow, Mescheder's Eq. 10) has eigenvalues -g/2 +- sqrt(g^2/4 - f'(0)^2): +-i/2 at g = 0.
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch

from gan_zoo.regularizers.gradient_penalty import R1, R2, squared_grad_norm

PENALTIES = ("r1", "r2")


def _as_pair(state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if not state.requires_grad:
        state = state.detach().clone().requires_grad_(True)
    return state[0], state[1]


def d_objective(loss, penalties: Sequence[str], gamma: float, theta, psi, x0: float = 0.0) -> torch.Tensor:
    """D's objective at (theta, psi): ``loss.d`` on D(x0), D(theta) plus (gamma/2) R1 and/or R2."""
    real = torch.full((1, 1), float(x0), dtype=psi.dtype, requires_grad=True)
    fake = theta.reshape(1, 1)
    if not fake.requires_grad:
        fake = fake.detach().requires_grad_(True)
    real_logits, fake_logits = real[:, 0] * psi, fake[:, 0] * psi
    total = loss.d(real_logits, fake_logits)
    if "r1" in penalties:
        total = total + gamma / 2 * squared_grad_norm(real_logits, real)
    if "r2" in penalties:
        total = total + gamma / 2 * squared_grad_norm(fake_logits, fake)
    return total


def g_objective(loss, theta, psi, x0: float = 0.0) -> torch.Tensor:
    fake_logits = theta.reshape(1) * psi
    real_logits = torch.full((1,), float(x0), dtype=psi.dtype) * psi
    return loss.g(fake_logits, real_logits)


def _grad(value: torch.Tensor, wrt: torch.Tensor) -> torch.Tensor:
    (g,) = torch.autograd.grad(value, wrt, create_graph=True)
    return g


def alternating_update(loss, penalties: Sequence[str], gamma: float, lr: float, x0: float = 0.0, n_dis: int = 1):
    """One training iteration as a map ``[theta, psi] -> [theta', psi']`` (float64 tensors)."""
    unknown = set(penalties) - set(PENALTIES)
    if unknown:
        raise ValueError(f"unknown penalties {sorted(unknown)}; the Dirac analysis knows {PENALTIES}")

    def step(state: torch.Tensor) -> torch.Tensor:
        theta, psi = _as_pair(state)
        # Each gradient is a *partial* derivative at the current values, as an optimizer step takes it:
        # it is taken w.r.t. a fresh node (``x * 1``), so paths through earlier updates (psi' depends on
        # theta) do not enter it; the Jacobian of the map still follows every path.
        for _ in range(int(n_dis)):
            psi_now = psi * 1
            psi = psi_now - lr * _grad(d_objective(loss, penalties, gamma, theta, psi_now, x0), psi_now)
        theta_now = theta * 1
        theta = theta_now - lr * _grad(g_objective(loss, theta_now, psi, x0), theta_now)
        return torch.stack([theta, psi])

    return step


def vector_field(loss, penalties: Sequence[str], gamma: float, x0: float = 0.0):
    """The gradient vector field ``v(theta, psi) = (-dL_G/dtheta, -dL_D/dpsi)`` (simultaneous, continuous time)."""

    def v(state: torch.Tensor) -> torch.Tensor:
        theta, psi = _as_pair(state)
        return -torch.stack([_grad(g_objective(loss, theta, psi, x0), theta),
                             _grad(d_objective(loss, penalties, gamma, theta, psi, x0), psi)])

    return v


def _jacobian_at_equilibrium(fn, x0: float) -> np.ndarray:
    eq = torch.tensor([float(x0), 0.0], dtype=torch.float64)
    return torch.autograd.functional.jacobian(fn, eq).detach().numpy()


def linearised_jacobian(loss, penalties: Sequence[str], gamma: float, lr: float, x0: float = 0.0,
                        n_dis: int = 1) -> np.ndarray:
    """Jacobian (rows theta', psi'; columns theta, psi) of the alternating update at the equilibrium."""
    return _jacobian_at_equilibrium(alternating_update(loss, penalties, gamma, lr, x0, n_dis), x0)


def continuous_jacobian(loss, penalties: Sequence[str], gamma: float, x0: float = 0.0) -> np.ndarray:
    return _jacobian_at_equilibrium(vector_field(loss, penalties, gamma, x0), x0)


def predicted_rate(jacobian: np.ndarray) -> float:
    """``-ln max|lambda|`` per iteration: > 0 converges (distance ~ exp(-rate * k)), <= 0 does not."""
    return -math.log(float(np.abs(np.linalg.eigvals(jacobian)).max()))


def measured_rate(distances: Sequence[float], start_below: float = 1e-3, stop_below: float = 1e-25,
                  min_steps: int = 20) -> float:
    """Least-squares slope of ``-ln d_k`` over the iterations where the linearisation holds: from the first
    distance below ``start_below`` (relative to d_0) until the distance leaves float32's normal range
    (``stop_below``, relative). NaN when fewer than ``min_steps`` iterations qualify (e.g. no convergence)."""
    d = np.asarray(distances, dtype=np.float64)
    rel = d / d[0]
    below = np.nonzero(rel < start_below)[0]
    if len(below) == 0:
        return math.nan
    k0 = int(below[0])
    tail = np.nonzero(rel[k0:] > stop_below)[0]
    k1 = k0 + int(tail[-1]) if len(tail) else k0
    if k1 - k0 < min_steps or not np.all(d[k0 : k1 + 1] > 0):
        return math.nan
    k = np.arange(k0, k1 + 1)
    slope = np.polyfit(k, np.log(d[k0 : k1 + 1]), 1)[0]
    return float(-slope)


def behaviour(distances: Sequence[float]) -> str:
    """``converges`` (final distance below 1e-3 of the start), ``diverges`` (above 10x, or not finite) or
    ``does not converge`` (bounded: circles or stalls)."""
    d = np.asarray(distances, dtype=np.float64)
    if not np.all(np.isfinite(d)) or d[-1] > 10 * d[0]:
        return "diverges"
    return "converges" if d[-1] < 1e-3 * d[0] else "does not converge"


def run_penalties(module) -> list[str]:
    """The Dirac-analysis names (r1, r2) of the D penalties a module applies every step."""
    out = []
    for reg in module.regularizers.values():
        if isinstance(reg, R1):
            out.append("r1")
        elif isinstance(reg, R2):
            out.append("r2")
    return out


class TrajectoryRecorder(pl.Callback):
    """``metrics=dirac``: records (theta, psi) after every iteration of a Dirac-GAN run and, at the end, writes
    ``trajectory.csv`` (iteration, theta, psi, distance to (x0, 0)), prints the linearised Jacobian's
    eigenvalues beside the measured rate, and appends them to ``metrics.jsonl`` (one line per number)."""

    def __init__(self, x0: float = 0.0) -> None:
        self.x0 = float(x0)
        self.rows: list[tuple[int, float, float]] = []
        self._t0 = time.time()

    def _record(self, module) -> None:
        self.rows.append((module.iteration, float(module.G.theta.detach()), float(module.D.psi.detach())))

    def on_train_start(self, trainer, pl_module) -> None:
        self._t0 = time.time()
        if not hasattr(pl_module.G, "theta") or not hasattr(pl_module.D, "psi"):
            from gan_zoo.errors import ConfigError

            raise ConfigError("metrics=dirac records theta and psi: use it with model=dirac dataset=dirac")
        self._record(pl_module)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._record(pl_module)

    def summary(self, module) -> dict:
        distances = [math.hypot(t - self.x0, p) for _, t, p in self.rows]
        out = {"distance": distances[-1], "distance_ratio": distances[-1] / distances[0],
               "rate_measured": measured_rate(distances), "behaviour": behaviour(distances)}
        opt = module.optimizers()[1] if module._trainer is not None else None
        sgd = opt is not None and isinstance(getattr(opt, "optimizer", opt), torch.optim.SGD)
        momentum = sgd and getattr(opt, "optimizer", opt).param_groups[0].get("momentum", 0.0) == 0.0
        lr = module.schedules("lr", 0.0)
        same_lr = module.g_lr_mult == module.d_lr_mult == 1.0
        if momentum and same_lr:  # the linearisation is of plain, equal-step gradient descent
            jac = linearised_jacobian(module.loss, run_penalties(module), module.schedules("gamma", 0.0), lr,
                                      self.x0, module.n_dis)
            eig = np.linalg.eigvals(jac)
            out.update({"rate_linearised": predicted_rate(jac), "eig_abs": float(np.abs(eig).max()),
                        "eigenvalues": [[float(e.real), float(e.imag)] for e in eig]})
        return out

    def on_train_end(self, trainer, pl_module) -> None:
        if not trainer.is_global_zero or not self.rows:
            return
        run_dir = Path(pl_module.run_dir)
        path = run_dir / "trajectory.csv"
        new = not path.exists()
        with path.open("a", newline="") as f:
            w = csv.writer(f)
            if new:
                w.writerow(["iteration", "theta", "psi", "distance"])
            for it, t, p in self.rows:
                w.writerow([it, repr(t), repr(p), repr(math.hypot(t - self.x0, p))])
        s = self.summary(pl_module)
        eig = ", ".join(f"{a:+.4f}{b:+.4f}i" for a, b in s.get("eigenvalues", []))
        print(f"dirac: {s['behaviour']}; distance {s['distance']:.3e} ({s['distance_ratio']:.3e} of the start); "
              f"measured rate {s['rate_measured']:.4f}/step; linearised: eigenvalues {eig or 'n/a (not plain SGD)'}"
              f", rate {s.get('rate_linearised', math.nan):.4f}/step")
        with (run_dir / "metrics.jsonl").open("a") as f:
            for key in ("distance", "distance_ratio", "rate_measured", "rate_linearised", "eig_abs"):
                if key in s:
                    f.write(json.dumps({"metric": key, "value": s[key], "kimg": pl_module.kimg,
                                        "n": len(self.rows), "extractor": "none", "resize": "none",
                                        "ref_hash": "none", "seed": pl_module.seed,
                                        "wall_clock_s": round(time.time() - self._t0, 3),
                                        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
                                        **({"behaviour": s["behaviour"]} if key == "distance" else {})}) + "\n")


def simulate(loss, penalties: Sequence[str], gamma: float, lr: float, steps: int = 500, optimizer: str = "sgd",
             start: tuple[float, float] = (1.0, 1.0), x0: float = 0.0, betas=(0.0, 0.99)) -> np.ndarray:
    """The training step's alternating dynamics on the two scalars, without Lightning: ``[steps + 1, 2]``
    (theta, psi) after each iteration, from torch's own SGD (plain) or Adam (R3GAN's betas (0, 0.99), eps
    1e-8) on the objectives above: one D step on ``d_objective``, then one G step on ``g_objective`` at the
    new psi, as :class:`~gan_zoo.module.AdversarialModule` does (tests/evidence/test_dirac.py checks the
    module's iterates against :func:`alternating_update`). Float64; a sweep of 48 settings takes seconds."""
    theta = torch.tensor(float(start[0]), dtype=torch.float64, requires_grad=True)
    psi = torch.tensor(float(start[1]), dtype=torch.float64, requires_grad=True)
    make = {"sgd": lambda p: torch.optim.SGD([p], lr=lr),
            "adam": lambda p: torch.optim.Adam([p], lr=lr, betas=tuple(betas), eps=1e-8)}
    if optimizer not in make:
        raise ValueError(f"optimizer {optimizer!r}: use sgd or adam")
    opt_g, opt_d = make[optimizer](theta), make[optimizer](psi)
    out = np.empty((steps + 1, 2))
    out[0] = start
    for k in range(1, steps + 1):
        opt_d.zero_grad()
        (g_psi,) = torch.autograd.grad(d_objective(loss, penalties, gamma, theta.detach(), psi, x0), psi)
        psi.grad = g_psi
        opt_d.step()
        opt_g.zero_grad()
        (g_theta,) = torch.autograd.grad(g_objective(loss, theta, psi.detach(), x0), theta)
        theta.grad = g_theta
        opt_g.step()
        out[k] = (float(theta.detach()), float(psi.detach()))
        if not np.all(np.isfinite(out[k])):
            out[k + 1 :] = np.nan
            break
    return out
