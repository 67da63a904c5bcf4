"""Top singular values of every weight of a network, by block power iteration that reuses its vectors.

BigGAN (Brock et al., ICLR 2019, Sec. 4, App. F) monitors the top three singular values sigma_0..2 of each
weight matrix (convs reshaped to ``[out, in * kh * kw]``) and finds that G's sigma_0 (typically its first,
over-complete linear layer) grows and explodes at collapse, while D's spectra are noisy and jump at it.
The paper uses the Arnoldi iteration; here each weight keeps an orthonormal basis ``V [fan_in, k]`` between
calls and takes ``iters`` steps of subspace iteration on ``W^T W`` (``V <- qr(W^T W V)``), then the
Rayleigh-Ritz values ``svdvals(W V)``: a warm start converges in a few steps because weights move little
between checks. The estimates never exceed the true values and :func:`exact_top` (``torch.linalg.svdvals``)
checks them on request.

Spectrally normalised layers are read through their *unnormalised* weight (``parametrizations.weight.
original``): the normalised one has sigma_0 = 1 by construction, and BigGAN plots the former.
"""

from __future__ import annotations

import csv
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils import parametrize


def _clean(name: str) -> str:
    return name.replace(".parametrizations.weight.original", ".weight")


def weight_matrices(net: nn.Module) -> dict[str, torch.Tensor]:
    """Every >= 2-D parameter of ``net`` (spectral-norm originals included), by readable name."""
    out = {}
    for name, p in net.named_parameters():
        if p.ndim >= 2:
            out[_clean(name)] = p
    for name, module in net.named_modules():  # weights that are parametrized but not parameters by name
        if parametrize.is_parametrized(module, "weight") and f"{name}.weight" not in out:
            out[f"{name}.weight"] = module.parametrizations.weight.original
    return out


class SpectrumTracker:
    """Top-``k`` singular values of each weight of a network, with persistent warm-start bases.

    Each call iterates until every one of the top ``k`` Ritz pairs ``(theta, x)`` of ``A = W^T W`` has a
    relative residual ``||A x - theta x|| / theta`` below ``tol`` (some eigenvalue of ``A`` then lies within
    that relative distance of ``theta``: the singular value within about half of it), at least ``iters`` and
    at most ``max_iters`` iterations (``warmup_iters`` when there is no basis yet)."""

    def __init__(self, k: int = 3, iters: int = 2, warmup_iters: int = 30, oversample: int = 8,
                 tol: float = 1e-4, max_iters: int = 200, seed: int = 0) -> None:
        self.k, self.iters, self.warmup_iters, self.oversample = int(k), int(iters), int(warmup_iters), int(oversample)
        self.tol, self.max_iters = float(tol), int(max_iters)
        self.bases: dict[str, torch.Tensor] = {}
        self.last_iters: dict[str, int] = {}
        self._gen = torch.Generator().manual_seed(seed)

    @torch.no_grad()
    def top(self, name: str, weight: torch.Tensor) -> torch.Tensor:
        """Estimates of sigma_0 >= ... >= sigma_{k-1} of ``weight`` (float64, CPU)."""
        w = weight.detach().reshape(weight.shape[0], -1).double()
        b = min(self.k + self.oversample, *w.shape)  # extra vectors: convergence at rate sigma_b / sigma_0
        k = min(self.k, b)
        v = self.bases.get(name)
        least = self.iters
        if v is None or v.shape != (w.shape[1], b):
            v = torch.linalg.qr(torch.randn(w.shape[1], b, generator=self._gen, dtype=torch.float64))[0]
            least = self.warmup_iters
        v = v.to(w.device)
        for it in range(1, self.max_iters + 1):
            y = w @ v  # [out, b]
            _, s, qt = torch.linalg.svd(y, full_matrices=False)
            z = w.T @ y  # A v
            theta = s.square()
            ritz = v @ qt.T  # Ritz vectors x_j (columns), orthonormal
            resid = (z @ qt.T - ritz * theta)[:, :k].norm(dim=0) / theta[:k].clamp_min(1e-300)
            v = torch.linalg.qr(z)[0]
            if it >= least and float(resid.max()) < self.tol:
                break
        self.bases[name], self.last_iters[name] = v.cpu(), it
        return s[:k].cpu()

    def spectra(self, net: nn.Module, prefix: str) -> dict[str, torch.Tensor]:
        return {f"{prefix}/{n}": self.top(f"{prefix}/{n}", w) for n, w in weight_matrices(net).items()}

    def state_dict(self) -> dict:
        return {"bases": dict(self.bases)}

    def load_state_dict(self, state: dict) -> None:
        self.bases = dict(state.get("bases", {}))


@torch.no_grad()
def exact_top(weight: torch.Tensor, k: int = 3) -> torch.Tensor:
    """``torch.linalg.svdvals`` of the reshaped weight: the reference the estimates are checked against."""
    return torch.linalg.svdvals(weight.detach().reshape(weight.shape[0], -1).double())[:k].cpu()


HEADER = ["step", "kimg", "net", "layer", "sigma0", "sigma1", "sigma2"]


def append_rows(path: Path, step: int, kimg: float, spectra: dict[str, torch.Tensor]) -> None:
    """One CSV row per layer (``net`` = G or D) appended to ``path`` (header written once)."""
    new = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", newline="") as f:
        writer = csv.writer(f)
        if new:
            writer.writerow(HEADER)
        for key, s in spectra.items():
            net, layer = key.split("/", 1)
            vals = [f"{float(x):.6g}" for x in s[:3]] + [""] * (3 - min(3, len(s)))
            writer.writerow([step, f"{kimg:.4f}", net, layer, *vals])


def plot_spectra(csv_path: Path, png_path: Path) -> Path:
    """sigma_0 of every layer against kimg, G and D side by side (log scale), plus each net's max sigma_0/sigma_1
    (dashed, right axis); written with matplotlib's object API (no display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = list(csv.DictReader(csv_path.open()))
    fig = Figure(figsize=(12, 4.5))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    for ax, net in zip(axes, ("G", "D")):
        layers: dict[str, list[tuple[float, float, float]]] = {}
        for r in rows:
            if r["net"] == net:
                s1 = float(r["sigma1"]) if r["sigma1"] else float("nan")
                layers.setdefault(r["layer"], []).append((float(r["kimg"]), float(r["sigma0"]), s1))
        for i, (layer, pts) in enumerate(sorted(layers.items())):
            ax.plot([p[0] for p in pts], [p[1] for p in pts], color=f"C{i % 10}", lw=1,
                    label=layer if i < 12 else None)
        ax.set(title=f"{net}: sigma_0 per layer", xlabel="kimg", ylabel="sigma_0 (unnormalised W)", yscale="log")
        if layers:
            best: dict[float, float] = {}
            for pts in layers.values():
                for k, s0, s1 in pts:
                    if s1 > 0:
                        best[k] = max(best.get(k, 0.0), s0 / s1)
            kimgs = sorted(best)
            ratio = [best[k] for k in kimgs]
            twin = ax.twinx()
            twin.plot(kimgs, ratio, "k--", lw=1.5, label="max sigma_0/sigma_1")
            twin.set_ylabel("max sigma_0 / sigma_1")
            twin.legend(loc="upper right", fontsize=7)
            ax.legend(loc="upper left", fontsize=6, ncol=2)
    fig.tight_layout()
    png_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png_path, dpi=100)
    return png_path
