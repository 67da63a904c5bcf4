"""PacGAN's 2-D mode-collapse table as data, and the verdicts and sample figure of the mode-collapse sweep.

Source: Lin, Khetan, Fanti, Oh, "PacGAN: The power of two samples in generative adversarial networks",
NeurIPS 2018, Table 1 (10 trials, ± standard error), as transcribed in shared/reference/zoo.md; protocol there
and in experiments/mode_collapse/_base_ring.yaml. Our runs put ``table.name`` zoo_ring / zoo_grid and
``table.row`` gan, pacgan4 (the paper's rows) or an entry of their own (ns_mbd, rpgan_r1r2_pack4, ...).

    python -m gan_zoo.paper_tables.zoo runs/sweeps/mode_collapse --out reports/mode_collapse

writes ``verdicts.md`` (each verdict computed from the numbers: does plain NS GAN fail, does the best entry
beat PacGAN4's grid row on all three numbers, which tricks helped, did nothing or hurt against NS GAN by
non-overlapping 95 % CIs) and ``samples.png`` (2,500 points of seed 0's G_ema per entry).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from gan_zoo.paper_tables.base import PaperRow, PaperTable, PaperValue

PAPER = "Lin et al., PacGAN: The power of two samples in generative adversarial networks, NeurIPS 2018"
PROTOCOL = ("2,500 samples; high quality = within 3 std of the nearest mode; a mode is recovered by one high-quality "
            "sample; reverse KL of the mode histogram to uniform (PacGAN's code counts the high-quality samples only, "
            "gan_zoo's metric every sample's nearest mode); 400 epochs of 100k points (ours: see the caption)")
METRICS = ("modes", "hq", "kl")


def _v(modes: str, hq: str, kl: str) -> dict[str, PaperValue]:
    return {"modes": PaperValue(modes), "hq": PaperValue(hq), "kl": PaperValue(kl)}


def _rows(values: dict[str, tuple[str, str, str, str]]) -> tuple[PaperRow, ...]:
    labels = {"gan": "GAN", "ali": "ALI", "pacgan2": "PacGAN2", "pacgan3": "PacGAN3", "pacgan4": "PacGAN4"}
    return tuple(PaperRow(row, labels[row], labels[row], _v(*v[:3]), note=v[3]) for row, v in values.items())


ZOO_RING = PaperTable(
    name="zoo_ring", paper=PAPER, table="Table 1 (ring)",
    title="2-D ring of 8 Gaussians (radius 1, std 0.01): modes /8, % high quality, reverse KL",
    protocol=PROTOCOL, metrics=METRICS,
    rows=_rows({"gan": ("6.3", "98.2", "0.45", "±0.5 / ±0.2 / ±0.09 s.e."),
                "ali": ("6.6", "97.6", "0.36", "±0.3 / ±0.4 / ±0.04"),
                "pacgan2": ("7.9", "95.6", "0.07", "±0.1 / ±2.0 / ±0.03"),
                "pacgan3": ("7.8", "97.7", "0.10", "±0.1 / ±0.3 / ±0.02"),
                "pacgan4": ("7.8", "95.9", "0.07", "±0.1 / ±1.4 / ±0.02")}),
)
ZOO_GRID = PaperTable(
    name="zoo_grid", paper=PAPER, table="Table 1 (grid)",
    title="2-D grid of 25 Gaussians ({-4..4}^2 step 2, std 0.05): modes /25, % high quality, reverse KL",
    protocol=PROTOCOL, metrics=METRICS,
    rows=_rows({"gan": ("17.3", "94.8", "0.70", "±0.8 / ±0.7 / ±0.07 s.e."),
                "ali": ("24.1", "95.7", "0.14", "±0.4 / ±0.6 / ±0.03"),
                "pacgan2": ("23.8", "91.3", "0.13", "±0.7 / ±0.8 / ±0.04"),
                "pacgan3": ("24.6", "94.2", "0.06", "±0.4 / ±0.4 / ±0.02"),
                "pacgan4": ("24.8", "93.6", "0.04", "±0.2 / ±0.6 / ±0.01")}),
)
TABLES = (ZOO_RING, ZOO_GRID)
MODES = {"zoo_ring": 8, "zoo_grid": 25}


# ---- stacked digits: the unrolled-GAN StackedMNIST table with a small D (PacGAN Table 3) ------------------
# Metz et al. 2017 (Unrolled GAN) as reprinted with PacGAN's own rows in Lin et al. 2018 Table 3 (shared/
# reference/zoo.md); our runs: experiments/mode_collapse_stacked/{quarter,half}, sweeps/mode_collapse_stacked.
STACKED_PROTOCOL = ("StackedMNIST, 1000 modes: 26,000 samples (Metz et al.: 25,600), each channel classified by a "
                    "pretrained MNIST classifier; modes with at least one sample, reverse KL of the mode histogram "
                    "to uniform; D has 1/4 or 1/2 of G's filters")


def _stacked_rows(values: dict[str, tuple[str, str, str]]) -> tuple[PaperRow, ...]:
    labels = {"dcgan": "DCGAN (Metz)", "unrolled_1": "Unrolled, 1 step", "unrolled_5": "Unrolled, 5 steps",
              "unrolled_10": "Unrolled, 10 steps", "pacdcgan2": "PacDCGAN2", "pacdcgan3": "PacDCGAN3",
              "pacdcgan4": "PacDCGAN4"}
    return tuple(PaperRow(row, labels[row], labels[row], {"modes": PaperValue(m), "kl": PaperValue(kl)}, note=note)
                 for row, (m, kl, note) in values.items())


def _stacked_table(size: str, fraction: str, values: dict[str, tuple[str, str, str]]) -> PaperTable:
    return PaperTable(
        name=f"zoo_stacked_{size}", paper=PAPER,
        table=f"Table 3 (D = {fraction} G; unrolled rows from Metz et al. 2017)",
        title=f"StackedMNIST (1000 modes) with a discriminator of {fraction} of G's size: modes, reverse KL",
        protocol=STACKED_PROTOCOL, metrics=("modes", "kl"), rows=_stacked_rows(values))


ZOO_STACKED_QUARTER = _stacked_table("quarter", "1/4", {
    "dcgan": ("30.6", "5.99", "±20.73 / ±0.42"), "unrolled_1": ("65.4", "5.91", "±34.75 / ±0.14"),
    "unrolled_5": ("236.4", "4.67", "±63.30 / ±0.43"), "unrolled_10": ("327.2", "4.66", "±74.67 / ±0.46"),
    "pacdcgan2": ("484.5", "2.61", ""), "pacdcgan3": ("601.3", "2.00", ""), "pacdcgan4": ("667.4", "1.81", "")})
ZOO_STACKED_HALF = _stacked_table("half", "1/2", {
    "dcgan": ("628.0", "2.58", "±140.9 / ±0.75"), "unrolled_1": ("523.6", "2.44", "±55.77 / ±0.26"),
    "unrolled_5": ("732.0", "1.66", "±44.98 / ±0.09"), "unrolled_10": ("817.4", "1.43", "±37.91 / ±0.12"),
    "pacdcgan2": ("840.7", "1.00", ""), "pacdcgan3": ("866.6", "0.90", ""), "pacdcgan4": ("820.2", "1.15", "")})
TABLES = (*TABLES, ZOO_STACKED_QUARTER, ZOO_STACKED_HALF)


# ---- verdicts ---------------------------------------------------------------------------------------------
def entry_stats(runs) -> dict[str, dict[str, tuple[float, float | None, int]]]:
    """row -> metric -> (mean, 95 % CI half-width, n) over the finished seeds."""
    from gan_zoo.report import mean_ci, metric_series

    out: dict[str, dict] = {}
    for run in runs:
        if run.state != "finished":
            continue
        for m in METRICS:
            series = metric_series(run, m)
            if series:
                out.setdefault(run.row, {}).setdefault(m, []).append(series[-1]["value"])
    return {row: {m: (*mean_ci(v), len(v)) for m, v in ms.items()} for row, ms in out.items()}


def _fmt(stat) -> str:
    mean, half, n = stat
    return f"{mean:.3g}" + (f" ± {half:.2g}" if half else "") + f" (n={n})"


def effect(base, entry, better_high: bool) -> str:
    """helped / hurt when the 95 % CIs do not overlap (one seed: any difference), else did nothing."""
    (mb, hb, nb), (me, he, ne) = base, entry
    gap = (hb or 0.0) + (he or 0.0)
    diff = (me - mb) if better_high else (mb - me)
    # A CI half-width of 0 over several seeds (all ten seeds found all 8 modes) is a CI, not a missing one.
    tag = "" if (nb or 0) > 1 and (ne or 0) > 1 else " (no CI: one seed)"
    if abs(me - mb) <= gap or me == mb:
        return "did nothing" + tag
    return ("helped" if diff > 0 else "hurt") + tag


def verdicts(by_table: dict[str, dict]) -> list[str]:
    lines = []
    for name, stats in by_table.items():
        k = MODES[name]
        gan = stats.get("gan", {}).get("modes")
        if gan:
            fails = gan[0] < k
            lines.append(f"- {name}: plain NS GAN (PacGAN's networks) recovers {_fmt(gan)} of {k} modes: "
                         f"{'reproduces the failure (mean < ' + str(k) + ')' if fails else 'does NOT fail'}.")
        for row, s in stats.items():
            if row == "gan" or "gan" not in stats or not all(m in s for m in METRICS):
                continue
            parts = [f"{m} {effect(stats['gan'][m], s[m], m != 'kl')} ({_fmt(stats['gan'][m])} -> {_fmt(s[m])})"
                     for m in METRICS]
            lines.append(f"- {name}: {row} vs NS GAN: " + "; ".join(parts))
    grid = by_table.get("zoo_grid", {})
    target = {m: ZOO_GRID.value("pacgan4", m).value for m in METRICS}
    best = None
    for row, s in grid.items():
        if all(m in s for m in METRICS):
            wins = (s["modes"][0] > target["modes"], s["hq"][0] > target["hq"], s["kl"][0] < target["kl"])
            score = (sum(wins), s["modes"][0], s["hq"][0], -s["kl"][0])
            if best is None or score > best[0]:
                best = (score, row, wins, s)
    if best:
        _, row, wins, s = best
        lines.append(f"- zoo_grid: best entry {row}: modes {_fmt(s['modes'])}, HQ {_fmt(s['hq'])} %, KL "
                     f"{_fmt(s['kl'])} vs PacGAN4 24.8 / 93.6 % / 0.04: beats it on {sum(wins)} of 3 "
                     f"({'all three' if all(wins) else 'NOT all three'}).")
    return lines


def run_times(runs) -> list[str]:
    """One line per (table, row): mean training wall-clock per seed, its range and the iterations."""
    by: dict[tuple[str, str], list] = {}
    for r in runs:
        if r.state == "finished" and "wall_clock_s" in r.status:
            by.setdefault((str(r.table), str(r.row)), []).append(r)
    lines = []
    for (table, row), rs in sorted(by.items()):
        clocks = [float(r.status["wall_clock_s"]) for r in rs]
        iters = sorted({int(r.status.get("iterations", 0)) for r in rs})
        lines.append(f"- {table} {row}: {statistics.fmean(clocks):.0f} s per seed (min {min(clocks):.0f}, max "
                     f"{max(clocks):.0f}, n={len(clocks)}), {', '.join(map(str, iters))} iterations")
    return lines


def sample_figure(runs, path: Path, n: int = 2500) -> None:
    """One panel of ``n`` points of G_ema per (table, row), from the lowest finished seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    from gan_zoo.checkpoint import load_run
    from gan_zoo.data.toy2d import mixture_centers

    chosen: dict[tuple[str, str], object] = {}
    for run in sorted((r for r in runs if r.state == "finished"), key=lambda r: (int(r.seed or 0), str(r.path))):
        chosen.setdefault((str(run.table), str(run.row)), run)
    if not chosen:
        return
    tables = sorted({t for t, _ in chosen})
    rows_of = {t: sorted(r for tt, r in chosen if tt == t) for t in tables}
    cols = max(len(v) for v in rows_of.values())
    fig, axes = plt.subplots(len(tables), cols, figsize=(2.6 * cols, 2.8 * len(tables)), squeeze=False)
    for ax in axes.flat:
        ax.set_visible(False)
    for i, table in enumerate(tables):
        for j, row in enumerate(rows_of[table]):
            ax, run = axes[i][j], chosen[(table, row)]
            handle = load_run(run.path)
            with torch.no_grad():
                z = torch.randn(n, handle.G_ema.z_dim, generator=torch.Generator().manual_seed(0))
                x = handle.G_ema.eval()(z).numpy()
            ax.set_visible(True)
            ax.scatter(x[:, 0], x[:, 1], s=1, alpha=0.4)
            centers, _ = mixture_centers("ring" if table == "zoo_ring" else "grid")
            ax.scatter(centers[:, 0], centers[:, 1], marker="x", c="red", s=10, linewidths=0.6)
            lim = 1.5 if table == "zoo_ring" else 5.5
            ax.set_xlim(-lim, lim), ax.set_ylim(-lim, lim), ax.set_aspect("equal")
            ax.set_title(f"{table[4:]} {row} (seed {run.seed})", fontsize=8)
            ax.tick_params(labelsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    from gan_zoo.errors import GanZooError
    from gan_zoo.report import collect

    parser = argparse.ArgumentParser(prog="python -m gan_zoo.paper_tables.zoo", description=__doc__.split("\n\n")[0])
    parser.add_argument("runs_root", type=Path)
    parser.add_argument("--out", type=Path, default=Path("reports/mode_collapse"))
    args = parser.parse_args(argv)

    def warn(message: str) -> None:
        print(f"warning: {message}", file=sys.stderr)

    try:
        by_table, all_runs = {}, []
        for table in ("zoo_ring", "zoo_grid"):
            runs, _, _ = collect(args.runs_root, table, ",".join(METRICS), warn)
            by_table[table] = entry_stats(runs)
            all_runs += runs
    except GanZooError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    seeds = {t: sorted({str(r.seed) for r in all_runs if r.table == t and r.state == "finished"}) for t in by_table}
    text = ["# Mode-collapse benchmark: verdicts (computed from the numbers)", "",
            *(f"- {t}: finished seeds {', '.join(s) or 'none'}" for t, s in seeds.items()),
            "", "## Run time per seed (training wall-clock of the finished runs; the load average of a shared "
            "machine decides it)", "", *run_times(all_runs), "", "## Verdicts", "", *verdicts(by_table), ""]
    (args.out / "verdicts.md").write_text("\n".join(text))
    sample_figure(all_runs, args.out / "samples.png")
    print("\n".join(text))
    print(f"wrote {args.out / 'verdicts.md'} and {args.out / 'samples.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
