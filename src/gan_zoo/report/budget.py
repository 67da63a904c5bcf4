"""At which training length does each claim of a table appear? The claims of :mod:`gan_zoo.report.claims`
judged at every evaluated kimg of a sweep, not only at its end (gan_zoo issue 14: "find the smallest budget
at which RpGAN + R1 + R2 reaches >= 990 modes and separates from GAN + R1 + R2 beyond the seeds' spread").

    python -m gan_zoo.report.budget runs/sweeps/stackedmnist_loss_ablation --table r3gan_loss_ablation \\
        --budget cpu_long --metric modes,kl --out reports/loss_ablation_budget

Every run that reached an evaluation counts at that kimg, whatever its state now (finished, interrupted or
still running), so a sweep stopped early still answers for the lengths it reached; a diverged run counts as
diverged from the first kimg after its last finite evaluation. At each kimg the rows' values give the same
:class:`~gan_zoo.report.claims.RowStats` the end-of-run table uses, and every claim's judge runs on them: a
claim *appears* at the first kimg where it is "consistent with the paper" and *holds from* the first kimg after
which it stays so at every later evaluation (the shortest budget that shows it and keeps it). For each row the
measured throughput (kimg over the run's own wall-clock) says what the paper's length would take on this
machine. Writes ``<table>_budget.md``, ``<table>_budget.csv``,
``<table>_budget.png`` (the metrics against kimg, mean and 95 % interval per row) and ``<table>_budget.html``.
``--data-reference`` adds what the data itself scores on the mode metrics under the runs' classifier and N
(:func:`~gan_zoo.metrics.modes.dataset_mode_metrics`): the ceiling a row is measured against.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from gan_zoo.paper_tables import metric_base
from gan_zoo.report import collect, run_cli
from gan_zoo.report.claims import CONSISTENT, RowStats, Verdict, claims_for
from gan_zoo.report.html import Section, write_html
from gan_zoo.report.runs import Run, metric_series
from gan_zoo.report.table import mean_ci, scale_caption

#: Two evaluations closer than this (kimg) are the same point of the schedule: a run's evaluations land a
#: batch past the nominal kimg (30.016 for 30 at batch 64).
KIMG_TOL = 0.5


@dataclass
class Timeline:
    """One claim judged at every kimg: ``points`` is ``[(kimg, status, evidence), ...]`` in kimg order."""

    claim: str
    points: list[tuple[float, str, str]]

    @property
    def appears(self) -> float | None:
        return next((k for k, s, _ in self.points if s == CONSISTENT), None)

    @property
    def holds(self) -> bool:
        """Consistent from its first appearance to the last kimg measured."""
        return self.appears is not None and self.holds_from == self.appears

    @property
    def holds_from(self) -> float | None:
        """The smallest kimg from which the claim is consistent at every later kimg measured (None when it is
        not consistent at the last one): the shortest budget that shows the claim and keeps it."""
        start = None
        for k, s, _ in self.points:
            start = (k if start is None else start) if s == CONSISTENT else None
        return start


def _value_at(run: Run, metric: str, kimg: float) -> float | None:
    for e in metric_series(run, metric):
        if abs(e["kimg"] - kimg) <= KIMG_TOL:
            return e["value"]
    return None


def eval_points(runs: list[Run], metrics: list[str]) -> list[float]:
    """The evaluated kimgs of the sweep (merged within :data:`KIMG_TOL`), ascending."""
    ks = sorted(e["kimg"] for r in runs for m in metrics for e in metric_series(r, m))
    points: list[float] = []
    for k in ks:
        if not points or k - points[-1] > KIMG_TOL:
            points.append(k)
    return points


def stats_at(runs: list[Run], metrics: list[str], kimg: float) -> dict[str, RowStats]:
    """Per ``table.row``: each run's value of each metric at ``kimg`` (runs that reached it); a diverged run
    whose evaluations end before ``kimg`` counts as diverged there."""
    out: dict[str, RowStats] = {}
    for run in runs:
        st = out.setdefault(str(run.row), RowStats())
        last = max((e["kimg"] for m in metrics for e in metric_series(run, m)), default=-1.0)
        if run.state == "diverged" and last < kimg - KIMG_TOL:
            st.runs += 1
            st.diverged += 1
            continue
        reached = False
        for m in metrics:
            v = _value_at(run, m, kimg)
            if v is not None and math.isfinite(v):
                st.values.setdefault(metric_base(m), []).append(v)
                reached = True
        st.runs += reached
    return out


def timelines(table: str, runs: list[Run], metrics: list[str]) -> tuple[list[float], list[Timeline]]:
    ks = eval_points(runs, metrics)
    lines = [Timeline(c.text, []) for c in claims_for(table)]
    for k in ks:
        st = stats_at(runs, metrics, k)
        for claim, line in zip(claims_for(table), lines):
            status, evidence = claim.judge(st)
            line.points.append((k, status, evidence))
    return ks, lines


def throughput(runs: list[Run], metrics: list[str]) -> dict[str, float]:
    """Per row, the median over its runs of kimg per wall-clock hour, from each run's last evaluation."""
    rates: dict[str, list[float]] = {}
    for run in runs:
        entries = [e for m in metrics for e in metric_series(run, m) if e.get("wall_clock_s")]
        if entries:
            last = max(entries, key=lambda e: e["kimg"])
            rates.setdefault(str(run.row), []).append(last["kimg"] / (float(last["wall_clock_s"]) / 3600))
    return {row: sorted(v)[len(v) // 2] for row, v in rates.items()}


def _cell(values: list[float]) -> str:
    if not values:
        return "—"
    mean, half = mean_ci(values)
    return f"{mean:.4g} (n=1)" if half is None else f"{mean:.4g} ± {half:.2g} (n={len(values)})"


@dataclass
class Study:
    """The rendered study: captions, titled tables ``(title, header, rows)``, verdicts at the last kimg and the
    CSV rows; Markdown and HTML are two views of it."""

    table: str
    captions: list[str]
    tables: list[tuple[str, list[str], list[list[str]]]]
    verdicts: list[Verdict]
    notes: list[str]
    csv_rows: list[list]

    def markdown(self) -> str:
        md = [f"# {self.table}: the claims against training length", "", *self.captions, ""]
        for title, header, rows in self.tables:
            md += [f"## {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            md += ["| " + " | ".join(r) + " |" for r in rows]
            md.append("")
        if self.verdicts:
            md += ["Verdicts at the last kimg:", ""]
            md += [f"- {v.status}: {v.claim}. Evidence: {v.evidence}." for v in self.verdicts]
            md.append("")
        md += self.notes
        return "\n".join(md) + "\n"


def build(table: str, runs: list[Run], metrics: list[str], target_kimg: float | None) -> Study:
    ks, lines = timelines(table, runs, metrics)
    rows = sorted({str(r.row) for r in runs})
    captions = [scale_caption(runs, metrics).replace("Scale of our runs", "Scale of our runs (longest)"),
                "Each cell: mean ± 95 % CI over the seeds that reached that kimg (n); runs stopped early count "
                "up to where they got. A claim appears at the first kimg where its verdict, computed from the "
                "numbers there, is 'consistent with the paper', and holds from the first kimg after which it "
                "stays so at every evaluation to the last."]
    csv_rows: list[list] = [["kimg", "row", "metric", "mean", "ci95", "n"]]
    tables = []
    for m in metrics:
        base, body = metric_base(m), []
        for k in ks:
            st = stats_at(runs, metrics, k)
            cells = [f"{k:.0f}"]
            for row in rows:
                vals = st.get(row, RowStats()).values.get(base, [])
                cells.append(_cell(vals))
                if vals:
                    mean, half = mean_ci(vals)
                    csv_rows.append([f"{k:.3f}", row, base, f"{mean:.6g}", "" if half is None else f"{half:.6g}",
                                     len(vals)])
            body.append(cells)
        tables.append((m, ["kimg", *rows], body))
    claims = []
    for line in lines:
        last = line.points[-1][1] if line.points else "not tested yet"
        claims.append([line.claim, "—" if line.appears is None else f"{line.appears:.0f}",
                       "—" if line.holds_from is None else f"{line.holds_from:.0f}", last])
    tables.append(("When each claim appears",
                   ["claim", "appears at kimg", "holds from kimg on", "at the last kimg"], claims))
    verdicts = [Verdict(line.claim, line.points[-1][1], line.points[-1][2]) for line in lines if line.points]
    notes = []
    rates = throughput(runs, metrics)
    if rates:
        notes += ["Throughput on this machine (each row's median run, kimg over its own wall-clock):", ""]
        for row, rate in sorted(rates.items()):
            text = f"- {row}: {rate:.0f} kimg per hour"
            if target_kimg:
                text += f"; the paper's {target_kimg:g} kimg would take {target_kimg / rate:.1f} h per run"
            notes.append(text)
        notes.append("")
    return Study(table, captions, tables, verdicts, notes, csv_rows)


def data_reference(runs: list[Run]) -> str:
    """One line: the modes and KL of the real images the runs trained on, classified by the runs' own
    classifier at their own sample count; or why it could not be computed (the line says so, never silently)."""
    from hydra.utils import instantiate

    from gan_zoo.errors import GanZooError
    from gan_zoo.metrics.extractors import make_extractor
    from gan_zoo.metrics.modes import dataset_mode_metrics

    entry = next((e for r in runs for e in r.metrics if metric_base(str(e.get("metric", ""))) == "modes"), None)
    run = next((r for r in runs if r.cfg is not None and "dataset" in r.cfg), None)
    if entry is None or run is None or not str(entry.get("extractor", "")).startswith("classifier:"):
        return ("The data itself: not computed (no run logged modes with a classifier, or no run config names "
                "its dataset).")
    n, tag = int(entry.get("n") or 26000), str(entry["extractor"])
    try:
        dataset = instantiate(run.cfg.dataset)
        extractor = make_extractor(tag, cache_dir=run.cfg.get("metrics", {}).get("cache_dir"))
        ref = dataset_mode_metrics(dataset, extractor, n)
    except GanZooError as exc:
        return f"The data itself: not computed ({exc})."
    name = getattr(getattr(dataset, "info", None), "name", None) or run.cfg.dataset._target_.rsplit(".", 1)[-1]
    return (f"The data itself ({n} real images of {name}, {tag}, as the "
            f"runs are measured): {ref['modes']:.0f} modes, KL {ref['kl']:.4f}; this is the metric's ceiling here.")


def plot(table: str, runs: list[Run], metrics: list[str], path: Path) -> dict[str, tuple[float, float]]:
    """Each metric's mean over seeds per row against kimg, with its 95 % CI as a band. The y axis spans the
    seeds' own values (padded by 5 %), not the bands: with n=2 a t-interval is 12.7 standard errors wide and
    would squash every curve into a line (and reach below 0 FD or above 1000 modes). Returns the y limits."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = eval_points(runs, metrics)
    rows = sorted({str(r.row) for r in runs})
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.6), squeeze=False)
    limits: dict[str, tuple[float, float]] = {}
    for ax, m in zip(axes[0], metrics):
        base, seen = metric_base(m), []
        for row in rows:
            xs, ms, hs = [], [], []
            for k in ks:
                vals = stats_at(runs, metrics, k).get(row, RowStats()).values.get(base, [])
                if vals:
                    mean, half = mean_ci(vals)
                    xs.append(k), ms.append(mean), hs.append(half or 0.0)
                    seen += vals
            line, = ax.plot(xs, ms, marker="o", label=row)
            ax.fill_between(xs, [a - b for a, b in zip(ms, hs)], [a + b for a, b in zip(ms, hs)],
                            color=line.get_color(), alpha=0.2)
        if seen:
            pad = 0.05 * (max(seen) - min(seen)) or 0.05 * abs(max(seen)) or 1.0
            ax.set_ylim(min(seen) - pad, max(seen) + pad)
            limits[m] = ax.get_ylim()
        ax.set_xlabel("kimg")
        ax.set_ylabel(m)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle(f"{table}: mean and 95 % CI over seeds")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return limits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gan_zoo.report.budget", description=__doc__.split("\n\n")[0])
    parser.add_argument("runs_root", type=Path)
    parser.add_argument("--table")
    parser.add_argument("--budget")
    parser.add_argument("--metric")
    parser.add_argument("--target-kimg", type=float, default=None,
                        help="the paper's training length, for the time it would take here (e.g. 10000)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--data-reference", action="store_true",
                        help="also score the real images with the runs' classifier (StackedMNIST mode metrics)")
    args = parser.parse_args(argv)

    def warn(message: str) -> None:
        print(f"warning: {message}", file=sys.stderr)

    def write():
        runs, table, metrics = collect(args.runs_root, args.table, args.metric, warn, args.budget)
        runs = [r for r in runs if r.unreadable is None]
        out = args.out or Path("reports") / f"{table}_budget"
        out.mkdir(parents=True, exist_ok=True)
        study = build(table, runs, metrics, args.target_kimg)
        if args.data_reference:
            study.captions.append(data_reference(runs))
        paths = [out / f"{table}_budget.{ext}" for ext in ("md", "csv", "png", "html")]
        markdown = study.markdown()
        paths[0].write_text(markdown)
        with paths[1].open("w", newline="") as f:
            csv.writer(f).writerows(study.csv_rows)
        plot(table, runs, metrics, paths[2])
        sections = [Section("Scale and protocol", study.captions)]
        sections += [Section(title, [], header, body) for title, header, body in study.tables]
        sections[-1].verdicts = study.verdicts
        sections[-1].images = [("metrics against kimg, mean and 95 % CI per row (the axes span the seeds' "
                                 "values; wider intervals run off them)", paths[2])]
        if study.notes:
            sections.append(Section("Throughput", [n for n in study.notes if n]))
        write_html(paths[3], f"{table}: claims against training length", sections)
        return markdown, paths

    return run_cli(write)


if __name__ == "__main__":
    sys.exit(main())
