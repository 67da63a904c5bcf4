"""The Dirac-GAN study: loss x {none, R1, R2, R1 + R2} x gamma, plain gradient descent and Adam, with the
linearised update's eigenvalues beside the measured convergence rate, the distance-to-equilibrium curves, the
(theta, psi) trajectories (Mescheder et al. 2018, Fig. 3) and the verdicts on R3GAN's theoretical claim.

    python -m gan_zoo.report.dirac --out reports/dirac [--steps 500]

Runs :func:`gan_zoo.analysis.dirac.simulate` (torch's SGD / Adam on the training step's objectives, alternating
D then G; tests/evidence/test_dirac.py checks that AdversarialModule takes exactly these iterates), so the whole
sweep takes seconds to a minute; ``make sweep-dirac`` runs the same grid through gan-zoo-train.
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import numpy as np

from gan_zoo.analysis.dirac import behaviour, linearised_jacobian, measured_rate, predicted_rate, simulate
from gan_zoo.losses import Hinge, NonSaturating, RpGAN
from gan_zoo.report.claims import CONSISTENT, NOT_REPRODUCED, Verdict
from gan_zoo.report.html import Section, write_html

LOSSES = {"ns": NonSaturating, "rpgan": RpGAN, "hinge": Hinge}
PENALTIES = {"none": (), "r1": ("r1",), "r2": ("r2",), "r1_r2": ("r1", "r2")}
OPTIMIZERS = {"sgd": 0.2, "adam": 0.02}  # step size h of plain GD (the reference notebook's); Adam's lr


def run_sweep(losses=tuple(LOSSES), penalties=tuple(PENALTIES), gammas=(0.3, 1.0), optimizers=OPTIMIZERS,
              steps: int = 500) -> list[dict]:
    results = []
    for opt, lr in optimizers.items():
        for loss in losses:
            for pen in penalties:
                for gamma in (gammas if pen != "none" else (0.0,)):  # gamma is inert without a penalty
                    traj = simulate(LOSSES[loss](), PENALTIES[pen], gamma, lr, steps, opt)
                    d = np.hypot(traj[:, 0], traj[:, 1])
                    r = {"optimizer": opt, "lr": lr, "loss": loss, "penalty": pen, "gamma": gamma, "traj": traj,
                         "distance": d, "behaviour": behaviour(d), "rate_measured": measured_rate(d),
                         "ratio": d[-1] / d[0]}
                    if opt == "sgd":
                        jac = linearised_jacobian(LOSSES[loss](), PENALTIES[pen], gamma, lr)
                        r["eigenvalues"] = np.linalg.eigvals(jac)
                        r["rate_linearised"] = predicted_rate(jac)
                    results.append(r)
    return results


def _eig(r) -> str:
    if "eigenvalues" not in r:
        return "n/a (Adam)"
    return ", ".join(f"{e.real:+.4f}{e.imag:+.4f}i" for e in r["eigenvalues"])


def _num(x, fmt=".4f") -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:{fmt}}"


HEADER = ["optimizer", "loss", "penalty", "γ", "eigenvalues of the linearised update", "max |λ|",
          "predicted rate /step", "measured rate /step", "measured / predicted", "behaviour", "d_end / d_0"]


def table_rows(results: list[dict]) -> list[list[str]]:
    rows = []
    for r in results:
        pred, meas = r.get("rate_linearised"), r["rate_measured"]
        ratio = meas / pred if pred and pred > 1e-9 and not math.isnan(meas) else None
        rows.append([f"{r['optimizer']} (lr {r['lr']:g})", r["loss"], r["penalty"],
                     "—" if r["penalty"] == "none" else f"{r['gamma']:g}", _eig(r),
                     _num(float(np.abs(r["eigenvalues"]).max()) if "eigenvalues" in r else None, ".6f"),
                     _num(pred), _num(meas), _num(ratio, ".3f"), r["behaviour"], f"{r['ratio']:.2e}"])
    return rows


def verdicts(results: list[dict]) -> list[Verdict]:
    sgd = [r for r in results if r["optimizer"] == "sgd"]
    out = []
    unreg = [r for r in sgd if r["penalty"] == "none" and r["loss"] in ("rpgan", "ns")]
    ok = bool(unreg) and all(r["behaviour"] != "converges" and abs(r["rate_linearised"]) < 1e-9 for r in unreg)
    out.append(Verdict("Unregularised RpGAN (and GAN) is not locally convergent (R3GAN Sec. 2; Mescheder et al. "
                       "2018, Dirac-GAN)", CONSISTENT if ok else NOT_REPRODUCED,
                       "; ".join(f"{r['loss']}: max|λ| = {np.abs(r['eigenvalues']).max():.6f}, {r['behaviour']}, "
                                 f"d_end/d_0 = {r['ratio']:.3f}" for r in unreg)))
    full = [r for r in sgd if r["penalty"] == "r1_r2" and r["loss"] == "rpgan"]

    def near(r):
        return r["behaviour"] == "converges" and abs(r["rate_measured"] / r["rate_linearised"] - 1) <= 0.10

    r1 = [r for r in sgd if r["penalty"] == "r1" and r["loss"] == "ns"]
    for claim, rs in (("RpGAN + R1 + R2 is locally convergent, at the rate its linearisation predicts", full),
                      ("GAN + R1 is locally convergent (Mescheder et al. 2018, Thm. 4.1)", r1)):
        out.append(Verdict(claim, CONSISTENT if rs and all(near(r) for r in rs) else NOT_REPRODUCED,
                           "; ".join(f"γ {r['gamma']:g}: predicted {r['rate_linearised']:.4f}, measured "
                                     f"{r['rate_measured']:.4f} per step ({r['behaviour']})" for r in rs)))
    return out


def _grid(rows: int, cols: int, w: float, h: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w * cols, h * rows))
    FigureCanvasAgg(fig)
    return fig, fig.subplots(rows, cols, squeeze=False)


def plot(results: list[dict], curves: Path, trajectories: Path, gamma: float = 0.3) -> None:
    losses = list(dict.fromkeys(r["loss"] for r in results))
    opts = list(dict.fromkeys(r["optimizer"] for r in results))
    fig, axes = _grid(len(opts), len(losses), 5, 3.6)
    for i, opt in enumerate(opts):
        for j, loss in enumerate(losses):
            ax = axes[i][j]
            for r in (r for r in results if r["loss"] == loss and r["optimizer"] == opt):
                label = r["penalty"] if r["penalty"] == "none" else f"{r['penalty']} γ={r['gamma']:g}"
                ax.semilogy(np.maximum(r["distance"], 1e-30), label=label)
            ax.set(title=f"{loss}, {opt}", xlabel="iteration", ylabel="distance to (0, 0)")
            ax.legend(fontsize="x-small")
    fig.suptitle("Dirac-GAN: distance to the equilibrium")
    fig.tight_layout()
    fig.savefig(curves, dpi=90)

    pens = list(PENALTIES)
    fig, axes = _grid(len(pens), len(losses), 3.2, 3.2)
    for i, pen in enumerate(pens):
        for j, loss in enumerate(losses):
            ax = axes[i][j]
            for r in results:
                if r["loss"] == loss and r["penalty"] == pen and (pen == "none" or r["gamma"] == gamma):
                    t = r["traj"]
                    ax.plot(t[:, 0], t[:, 1], "-" if r["optimizer"] == "sgd" else "--", lw=0.8,
                            label=r["optimizer"])
            ax.plot([1], [1], "ko", ms=3)
            ax.plot([0], [0], "r*", ms=8)
            ax.set(title=f"{loss} + {pen}" + ("" if pen == "none" else f" (γ={gamma:g})"), xlabel="θ", ylabel="ψ",
                   xlim=(-2, 2), ylim=(-2, 2))
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize="x-small")
    fig.suptitle("Dirac-GAN trajectories in the (θ, ψ) plane from (1, 1); star: equilibrium")
    fig.tight_layout()
    fig.savefig(trajectories, dpi=90)


def caption(steps: int) -> list[str]:
    return ["Dirac-GAN (Mescheder et al. 2018, Sec. 2.2): data a point mass at 0, G(θ) = θ, D(x) = ψx; "
            "equilibrium (θ, ψ) = (0, 0).",
            f"Scale: 1-D, one parameter per network, {steps} iterations from (1, 1), alternating D then G steps; "
            f"plain gradient descent with step size h = {OPTIMIZERS['sgd']:g} and Adam (lr {OPTIMIZERS['adam']:g}, "
            "betas 0, 0.99); metric: distance to the equilibrium and its per-step decay rate (least squares on "
            "log distance once below 1e-3 of the start). The paper's claim is asymptotic and scale-free, so this "
            "table tests it exactly. Note: for a linear D, R1 and R2 are the same penalty (ψ²).",
            "Claims this table tests: unregularised RpGAN/GAN are not locally convergent; RpGAN + R1 + R2 is; "
            "GAN + R1 is."]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gan_zoo.report.dirac", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("reports/dirac"))
    parser.add_argument("--steps", type=int, default=500)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    results = run_sweep(steps=args.steps)
    rows, vs = table_rows(results), verdicts(results)
    curves, traj = args.out / "dirac_curves.png", args.out / "dirac_trajectories.png"
    plot(results, curves, traj)
    lines = [c for line in caption(args.steps) for c in (line, "")]
    lines += ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines += ["", "Claims (verdicts computed from the numbers above):", ""]
    lines += [f"- {v.status}: {v.claim}. Evidence: {v.evidence}." for v in vs]
    markdown = "\n".join(lines) + "\n"
    (args.out / "dirac.md").write_text(markdown)
    with (args.out / "dirac.csv").open("w", newline="") as f:
        csv.writer(f).writerows([HEADER, *rows])
    write_html(args.out / "dirac.html", "Dirac-GAN: R3GAN's convergence claim, measured",
               [Section("Dirac-GAN sweep", caption(args.steps), HEADER, rows, vs,
                        [("distance to equilibrium", curves), ("(θ, ψ) trajectories", traj)])])
    print(markdown)
    print(f"wrote {args.out}/dirac.md, dirac.csv, dirac_curves.png, dirac_trajectories.png, dirac.html")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
