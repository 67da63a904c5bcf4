"""gan-zoo-report: rebuild a paper table from the user's own run directories, the paper's numbers beside them.

    gan-zoo-report <runs_root> [--table r3gan_roadmap] [--out reports/<name>] [--metric m1,m2]

Reads only the run directory contract (docs/architecture.md): ``config.yaml`` (``name``, ``seed``,
``table.name``, ``table.row``, ``table.change``, ``budget.name``, ``metrics.primary``), ``status.json`` and
``metrics.jsonl``; wandb is not needed. Each finished run contributes its last evaluated value (highest kimg)
of a metric; seeds of a row are averaged with a 95 % confidence interval from Student's t with n - 1 degrees
of freedom (``scipy.stats.t``). Diverged, failed, running, unreadable and missing runs are shown in the cell,
never averaged and never dropped. Writes ``<out>/<table>.md``, ``.tex``, ``.csv`` and ``<table>_curves.png``.
Markdown and LaTeX are a few lines of string formatting, so no table library is pulled in for them.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from omegaconf import ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from scipy import stats

from gan_zoo.errors import ConfigError, GanZooError
from gan_zoo.paper_tables import PAPER_TABLES, PaperTable, metric_base

STATES = ("running", "finished", "diverged", "failed")
DASH = "—"


@dataclass
class Run:
    """One run directory as the report sees it; ``unreadable`` names the file that could not be parsed."""

    path: Path
    name: str = ""
    seed: int | None = None
    table: str | None = None
    row: str | None = None
    change: str | None = None
    budget: str | None = None
    primary: list[str] = field(default_factory=list)
    state: str = "unreadable"
    status: dict = field(default_factory=dict)
    metrics: list[dict] = field(default_factory=list)
    unreadable: str | None = None


def find_run_dirs(root: Path) -> list[Path]:
    """Every directory under ``root`` (itself included) holding both config.yaml and status.json."""
    return sorted({p.parent for p in root.rglob("status.json") if (p.parent / "config.yaml").is_file()})


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, ListConfig | list | tuple):
        return [str(v) for v in value]
    return [m.strip() for m in str(value).split(",") if m.strip()]


def read_run(path: Path, warn) -> Run:
    """Parse one run directory; a corrupt file makes the run ``unreadable`` with a warning, not a crash."""
    run = Run(path)
    try:
        cfg = OmegaConf.load(path / "config.yaml")
        get = lambda key: OmegaConf.select(cfg, key, default=None)  # noqa: E731
        run.name, run.seed = str(get("name") or path.name), get("seed")
        run.table, run.row, run.change = get("table.name"), get("table.row"), get("table.change")
        run.budget, run.primary = get("budget.name"), _as_list(get("metrics.primary"))
        run.row = None if run.row is None else str(run.row)
    except (OSError, ValueError, yaml.YAMLError, OmegaConfBaseException) as exc:
        warn(f"{path / 'config.yaml'}: unreadable ({type(exc).__name__}); the run cannot be placed in a row")
        run.unreadable = "config.yaml"
        return run
    try:
        status = json.loads((path / "status.json").read_text())
        if not isinstance(status, dict) or status.get("state") not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}")
        run.status, run.state = status, status["state"]
    except (OSError, ValueError) as exc:
        warn(f"{path / 'status.json'}: unreadable ({exc}); shown as 'unreadable: status.json'")
        run.unreadable = "status.json"
        return run
    metrics_path = path / "metrics.jsonl"
    lines = metrics_path.read_text().splitlines() if metrics_path.exists() else []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            entry["kimg"], entry["value"] = float(entry["kimg"]), float(entry["value"])
            entry["metric"] = str(entry["metric"])
        except (ValueError, TypeError, KeyError) as exc:
            warn(f"{metrics_path}:{number}: unreadable line ({type(exc).__name__}: {exc}); "
                 "shown as 'unreadable: metrics.jsonl'")
            run.unreadable, run.state = "metrics.jsonl", "unreadable"
            return run
        run.metrics.append(entry)
    return run


def metric_series(run: Run, metric: str) -> list[dict]:
    """The run's entries of ``metric``, by kimg. A bare name ("modes") matches "modes[<provenance>]"."""
    entries = [e for e in run.metrics if e["metric"] == metric]
    if not entries and "[" not in metric:
        names = sorted({e["metric"] for e in run.metrics if metric_base(e["metric"]) == metric.lower()})
        if len(names) > 1:
            raise ConfigError(f"--metric {metric} matches {', '.join(names)} in {run.path}; pass a full name")
        entries = [e for e in run.metrics if e["metric"] in names]
    return [e for _, e in sorted(enumerate(entries), key=lambda ie: (ie[1]["kimg"], ie[0]))]


def mean_ci(values: list[float]) -> tuple[float, float | None]:
    """Mean and half-width of its 95 % CI, t quantile with n - 1 dof; no interval for a single seed."""
    mean, n = statistics.fmean(values), len(values)
    if n < 2:
        return mean, None
    return mean, float(stats.t.ppf(0.975, n - 1)) * statistics.stdev(values) / math.sqrt(n)


def _decimals(mean: float, half: float | None) -> int:
    """Two significant digits of the CI (the mean to the same place), or four of the mean without one."""
    ref, digits = (half, 2) if half else (abs(mean), 4)
    if not ref or not math.isfinite(ref):
        return 0
    return max(0, digits - 1 - math.floor(math.log10(ref)))


def _count(k: int, total: int) -> str:
    return f" ({k}/{total} seeds)" if total > 1 else ""


def _span(xs: list[float]) -> str:
    lo, hi = (f"{round(x, 1):g}" for x in (min(xs), max(xs)))
    return lo if lo == hi else f"{lo}–{hi}"


def _duration(seconds: float) -> str:
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 60}m {s % 60:02d}s" if s >= 60 else f"{s}s"


def _params(n) -> str:
    return DASH if n is None else f"{n / 1e6:.3f}M" if n >= 1e6 else f"{n / 1e3:.1f}k"


@dataclass
class Report:
    """A rendered table: caption lines, display cells (Markdown/LaTeX) and numeric CSV rows."""

    name: str
    caption: list[str]
    header: list[str]
    rows: list[list[str]]
    csv_header: list[str]
    csv_rows: list[list[str]]
    curves: dict[str, dict[str, list[Run]]]  # metric -> row -> runs (for the plot)


def metric_cell(runs: list[Run], metric: str) -> tuple[str, float | None, float | None, int, int]:
    """Text of one row's metric cell, with mean, CI half-width, n and the decimals used."""
    values, no_value = [], 0
    for run in runs:
        if run.state == "finished":
            series = metric_series(run, metric)
            if series and math.isfinite(series[-1]["value"]):
                values.append(series[-1]["value"])
            else:
                no_value += 1
    if not runs:
        return "missing", None, None, 0, 0
    parts, mean, half, decimals, total = [], None, None, 0, len(runs)
    if values:
        mean, half = mean_ci(values)
        decimals = _decimals(mean, half)
        ci = "" if half is None else f" ± {half:.{decimals}f}"
        parts.append(f"{mean:.{decimals}f}{ci} (n={len(values)})")
    for state in ("diverged", "failed"):
        k = sum(r.state == state for r in runs)
        if k:
            parts.append(f"{state}{_count(k, total)}")
    running = [r for r in runs if r.state == "running"]
    if running:
        kimgs = [float(r.status["kimg"]) for r in running if r.status.get("kimg") is not None]
        where = f" at {_span(kimgs)} kimg" if kimgs else ""
        parts.append(f"running{where}{_count(len(running), total)}")
    for file in sorted({r.unreadable for r in runs if r.unreadable}):
        parts.append(f"unreadable: {file}{_count(sum(r.unreadable == file for r in runs), total)}")
    if no_value:
        parts.append(f"no value{_count(no_value, total)}")
    return "; ".join(parts), mean, half, len(values), decimals


def not_fid_caption(runs: list[Run], metrics: list[str], paper: PaperTable | None) -> str | None:
    """A caption line when any of ``metrics`` comes from a feature extractor other than Inception."""
    extractors, budgets = set(), sorted({str(r.budget) for r in runs if r.budget})
    for run in runs:
        for metric in metrics:
            extractors |= {str(e.get("extractor") or "unknown") for e in metric_series(run, metric)}
    other = sorted(x for x in extractors if not x.lower().startswith("inception"))
    if not other:
        return None
    against = f"the paper's {paper.protocol}" if paper else "a paper's protocol"
    return (f"Not FID: our {', '.join(metrics)} come from the {', '.join(repr(x) for x in other)} feature "
            f"extractor (budget {', '.join(budgets) or 'unknown'}), a classifier-feature Fréchet distance or "
            f"mode count on a small dataset, not {against}; the paper column is for orientation only.")


def _row_columns(runs: list[Run], paper_row) -> tuple[list[str], list[str]]:
    """Display and CSV cells of the columns after the metrics: sizes, kimg, wall-clock, budget, counts."""
    finished = [r for r in runs if r.state == "finished"]
    sized = [r.status for r in runs if r.status.get("g_params") is not None]
    g, d = (sized[0]["g_params"], sized[0].get("d_params")) if sized else (None, None)
    kimgs = [float(r.status["kimg"]) for r in finished if r.status.get("kimg") is not None]
    clocks = [float(r.status["wall_clock_s"]) for r in finished if r.status.get("wall_clock_s") is not None]
    clock = statistics.fmean(clocks) if clocks else None
    budgets = ", ".join(sorted({str(r.budget) for r in runs if r.budget}))
    pg, pd = (paper_row.g_params_m, paper_row.d_params_m) if paper_row else (None, None)
    shown = [DASH if g is None else f"{_params(g)} / {_params(d)}",
             DASH if pg is None else f"{pg:.3f}M / {pd:.3f}M", _span(kimgs) if kimgs else DASH,
             DASH if clock is None else _duration(clock), budgets or DASH]
    counts = [str(len(runs)), *(str(sum(r.state == s for r in runs)) for s in STATES),
              str(sum(r.unreadable is not None for r in runs))]
    return shown, ["" if g is None else str(g), "" if d is None else str(d), _csv(pg), _csv(pd),
                   _csv(max(kimgs) if kimgs else None), _csv(clock), budgets, *counts]


def build_report(runs: list[Run], table: str, metrics: list[str]) -> Report:
    """Group runs by ``table.row`` (paper rows first, in paper order) and fill every column."""
    paper = PAPER_TABLES.get(table)
    by_row: dict[str, list[Run]] = {r.row: [] for r in paper.rows} if paper else {}
    for run in sorted(runs, key=lambda r: (str(r.seed), str(r.path))):
        by_row.setdefault(run.row, []).append(run)
    header, csv_header = ["row", "change"], ["row", "change"]
    for m in metrics:
        paper_name = (paper and paper.paper_metric(m)) or metric_base(m)
        header += [f"ours {m}", f"paper {paper_name}", f"Δ {metric_base(m)}"]
        csv_header += [f"{m} mean", f"{m} ci95", f"{m} n", f"{m} cell", f"paper {m}", f"delta {m}"]
    header += ["G/D params", "paper G/D params", "kimg", "wall-clock", "budget"]
    csv_header += ["g_params", "d_params", "paper_g_params_m", "paper_d_params_m", "kimg", "wall_clock_s",
                   "budget", "runs", *STATES, "unreadable"]
    rows, csv_rows = [], []
    for row_id, row_runs in by_row.items():
        paper_row = paper.row(row_id) if paper else None
        changes = [str(r.change) for r in row_runs if r.change]
        change = changes[0] if changes else paper_row.change if paper_row else DASH
        cells, csv_cells = [row_id, change], [row_id, change]
        for m in metrics:
            text, mean, half, n, dec = metric_cell(row_runs, m)
            pv = paper.value(row_id, m) if paper else None
            delta = None if mean is None or pv is None or pv.value is None else mean - pv.value
            cells += [text, pv.text if pv else DASH, DASH if delta is None else f"{delta:+.{dec}f}"]
            csv_cells += [_csv(mean), _csv(half), str(n), text, pv.text if pv else "", _csv(delta)]
        shown, numeric = _row_columns(row_runs, paper_row)
        rows.append(cells + shown)
        csv_rows.append(csv_cells + numeric)
    caption = [f"{paper.table} of {paper.paper}: {paper.title}." if paper
               else f"Table {table}: gan_zoo.paper_tables holds no published numbers for it."]
    caption.append(f"Ours: each finished run's last evaluated {', '.join(metrics)} (highest kimg); mean ± "
                   "95% CI (Student t, n−1 dof) over seeds, n = seeds averaged; diverged, failed and running "
                   "seeds are counted, never averaged. Δ = ours − paper.")
    note = not_fid_caption(runs, metrics, paper)
    return Report(table, caption + ([note] if note else []), header, rows, csv_header, csv_rows,
                  {m: by_row for m in metrics})


def _csv(x: float | None) -> str:
    return "" if x is None else f"{x:.6g}"


def to_markdown(report: Report) -> str:
    esc = lambda s: s.replace("|", "\\|")  # noqa: E731
    lines = [line for c in report.caption for line in (c, "")]
    lines.append("| " + " | ".join(esc(h) for h in report.header) + " |")
    lines.append("|" + "|".join("---" for _ in report.header) + "|")
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in report.rows]
    return "\n".join(lines) + "\n"


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
        "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "±": r"$\pm$", "Δ": r"$\Delta$",
        "—": "--", "–": "--", "−": "-", "é": r"\'e"}


def _tex(text: str) -> str:
    return "".join(_TEX.get(ch, ch) for ch in text)


def to_latex(report: Report) -> str:
    """A bare tabular (wrap it in your own table/caption); the caption lines follow as comments."""
    lines = [r"\begin{tabular}{" + "l" * len(report.header) + "}", r"\hline",
             " & ".join(_tex(h) for h in report.header) + r" \\", r"\hline"]
    lines += [" & ".join(_tex(c) for c in row) + r" \\" for row in report.rows]
    lines += [r"\hline", r"\end{tabular}"] + [f"% {c}" for c in report.caption]
    return "\n".join(lines) + "\n"


def plot_curves(report: Report, path: Path) -> None:
    """Metric vs kimg, one subplot per metric, one line per seed coloured by row (dashed: diverged/failed,
    dotted: running). Uses matplotlib's object API with the Agg canvas: no display, no global state."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5 * max(1, len(report.curves)), 4.5))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, max(1, len(report.curves)), squeeze=False)[0]
    for ax, (metric, by_row) in zip(axes, report.curves.items()):
        for i, (row_id, runs) in enumerate(by_row.items()):
            drawn = [(r, metric_series(r, metric)) for r in runs if r.unreadable is None]
            for j, (run, series) in enumerate((r, s) for r, s in drawn if s):
                style = {"running": ":", "diverged": "--", "failed": "--"}.get(run.state, "-")
                ax.plot([e["kimg"] for e in series], [e["value"] for e in series], style, marker=".",
                        color=f"C{i % 10}", label=None if j else row_id)
        ax.set(title=metric, xlabel="kimg", ylabel=metric_base(metric))
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
        else:
            ax.text(0.5, 0.5, "no values yet", ha="center", va="center", transform=ax.transAxes)
    fig.suptitle(f"{report.name}  (solid: finished, dotted: running, dashed: diverged/failed)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def collect(root: Path, table: str | None, metric: str | None, warn) -> tuple[list[Run], str, list[str]]:
    """Read every run under ``root``; pick the table (``--table`` or the runs' one) and the metrics."""
    if not root.is_dir():
        raise ConfigError(f"runs_root {root} is not a directory: pass the folder holding your run "
                          "directories (each with config.yaml and status.json), e.g. runs/sweeps/roadmap")
    runs = [read_run(p, warn) for p in find_run_dirs(root)]
    placed = [r for r in runs if r.unreadable != "config.yaml"]
    names = sorted({str(r.table) for r in placed if r.table})
    if table is None:
        if len(names) != 1:
            found = f"runs of several tables ({', '.join(names)})" if names else "no run setting table.name"
            known = ", ".join(names or PAPER_TABLES)
            raise ConfigError(f"{root} holds {found}: pass --table, one of {known}")
        table = names[0]
    elif table not in PAPER_TABLES and table not in names:
        raise ConfigError(f"--table {table} is neither a paper table ({', '.join(PAPER_TABLES)}) nor set as "
                          f"table.name by a run under {root}")
    chosen = []
    for run in placed:
        if run.table is None or run.row is None:
            warn(f"{run.path / 'config.yaml'}: no table.name/table.row; set both to place the run in a table")
        elif str(run.table) == table:
            chosen.append(run)
    metrics = (_as_list(metric) or list(dict.fromkeys(m for r in chosen for m in r.primary))
               or list(PAPER_TABLES[table].metrics if table in PAPER_TABLES else ()))
    if not metrics:
        raise ConfigError(f"no run of table {table} sets metrics.primary: pass --metric")
    return chosen, table, metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gan-zoo-report", description=__doc__.split("\n\n")[0])
    parser.add_argument("runs_root", type=Path, help="folder searched for run directories")
    parser.add_argument("--table", help=f"table.name to report ({', '.join(PAPER_TABLES)}, or your own)")
    parser.add_argument("--out", type=Path, help="output folder (default reports/<table>)")
    parser.add_argument("--metric", help="metric name(s), comma-separated (default: metrics.primary)")
    args = parser.parse_args(argv)

    def warn(message: str) -> None:
        print(f"warning: {message}", file=sys.stderr)

    try:
        runs, table, metrics = collect(args.runs_root, args.table, args.metric, warn)
        report = build_report(runs, table, metrics)
        out = args.out or Path("reports") / table
        out.mkdir(parents=True, exist_ok=True)
        paths = [out / f"{table}.md", out / f"{table}.tex", out / f"{table}.csv", out / f"{table}_curves.png"]
        markdown = to_markdown(report)
        paths[0].write_text(markdown)
        paths[1].write_text(to_latex(report))
        with paths[2].open("w", newline="") as f:
            csv.writer(f).writerows([report.csv_header, *report.csv_rows])
        plot_curves(report, paths[3])
    except GanZooError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot write the report ({exc}); pass a writable --out folder", file=sys.stderr)
        return 2
    print(markdown)
    for path in paths:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
