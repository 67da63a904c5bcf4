"""gan-zoo-report: rebuild a paper table from the user's own run directories, the paper's numbers beside them.

    gan-zoo-report <runs_root> [--table r3gan_roadmap] [--budget cpu_mini] [--out reports/<name>] [--metric m1,m2]
                  [--at-kimg K]

Reads only the run directory contract (docs/architecture.md): ``config.yaml`` (``name``, ``seed``,
``table.name``, ``table.row``, ``table.variant``, ``table.change``, ``table.also``, ``budget.name``,
``metrics.primary``),
``status.json`` and ``metrics.jsonl``; wandb is not needed. Each finished run contributes its last evaluated
value (highest kimg) of a metric; the seeds of a row (one line per ``table.variant``, e.g. each gamma of an
R1-only row) are averaged with a 95 % confidence interval. Diverged, failed, running, unreadable and missing
runs are shown in the cell, never averaged and never dropped. Writes ``<out>/<table>.md``, ``.tex``, ``.csv``
``<table>_curves.png`` and ``<table>.html`` (one self-contained page: tables, curves, sample grids and the
verdict on each claim the table tests, :mod:`gan_zoo.report.claims`). ``--at-kimg K`` builds the same table
from each run's evaluation at K kimg instead (files ``<table>_atKkimg.*``): where a claim appears and where it
goes within one sweep.

    runs.py    the run directory contract, read defensively
    table.py   grouping, aggregation and the cells of one table
    render.py  Markdown, LaTeX and the curves PNG
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from gan_zoo.errors import ConfigError, GanZooError
from gan_zoo.paper_tables import PAPER_TABLES
from gan_zoo.report.html import report_section, write_html
from gan_zoo.report.render import plot_curves, to_latex, to_markdown
from gan_zoo.report.runs import Run, as_list, find_run_dirs, metric_series, read_run
from gan_zoo.report.table import build_report, mean_ci

__all__ = ["Run", "build_report", "collect", "main", "mean_ci", "metric_series", "read_run"]


def collect(root: Path, table: str | None, metric: str | None, warn,
            budget: str | None = None) -> tuple[list[Run], str, list[str]]:
    """Read every run under ``root``; pick the table (``--table`` or the runs' one), the budget (``--budget``
    or the runs' one: runs of different budgets are never one row) and the metrics."""
    if not root.is_dir():
        raise ConfigError(f"runs_root {root} is not a directory: pass the folder holding your run "
                          "directories (each with config.yaml and status.json), e.g. runs/sweeps/roadmap")
    runs = [read_run(p, warn) for p in find_run_dirs(root)]
    placed = [r for r in runs if r.unreadable != "config.yaml"]
    names = sorted({str(r.table) for r in placed if r.table} | {t for r in placed if r.table for t in r.also})
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
        elif str(run.table) == table or table in run.also:  # table.also: one run shown in several tables
            chosen.append(run)
    budgets = sorted({str(r.budget) for r in chosen})
    if budget is None and len(budgets) > 1:
        raise ConfigError(f"{root} holds runs of table {table} at several budgets ({', '.join(budgets)}): "
                          f"pass --budget, one of {', '.join(budgets)}")
    if budget is not None:
        if budget not in budgets:
            raise ConfigError(f"--budget {budget}: no run of table {table} under {root} has budget.name "
                              f"{budget} (found: {', '.join(budgets) or 'none'})")
        chosen = [r for r in chosen if str(r.budget) == budget]
    metrics = (as_list(metric) or list(dict.fromkeys(m for r in chosen for m in r.primary))
               or list(PAPER_TABLES[table].metrics if table in PAPER_TABLES else ()))
    if not metrics:
        raise ConfigError(f"no run of table {table} sets metrics.primary: pass --metric")
    return chosen, table, metrics


def run_cli(write) -> int:
    """The report commands' ending: ``write() -> (markdown, paths)``; print the Markdown and the files written,
    or one line for a bad run tree (:class:`GanZooError`) or an unwritable output folder, exit 2."""
    try:
        markdown, paths = write()
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gan-zoo-report", description=__doc__.split("\n\n")[0])
    parser.add_argument("runs_root", type=Path, help="folder searched for run directories")
    parser.add_argument("--table", help=f"table.name to report ({', '.join(PAPER_TABLES)}, or your own)")
    parser.add_argument("--out", type=Path, help="output folder (default reports/<table>)")
    parser.add_argument("--metric", help="metric name(s), comma-separated (default: metrics.primary)")
    parser.add_argument("--budget", help="budget.name of the runs to report (needed when a tree holds several)")
    parser.add_argument("--at-kimg", type=float, help="the table as it stood at this evaluation (kimg) of each "
                        "run; files get the suffix _at<K>kimg")
    args = parser.parse_args(argv)

    def warn(message: str) -> None:
        print(f"warning: {message}", file=sys.stderr)

    def write():
        runs, table, metrics = collect(args.runs_root, args.table, args.metric, warn, args.budget)
        report = build_report(runs, table, metrics, args.at_kimg)
        out = args.out or Path("reports") / table
        out.mkdir(parents=True, exist_ok=True)
        stem = table if args.at_kimg is None else f"{table}_at{args.at_kimg:g}kimg"
        paths = [out / f"{stem}.md", out / f"{stem}.tex", out / f"{stem}.csv", out / f"{stem}_curves.png",
                 out / f"{stem}.html"]
        markdown = to_markdown(report)
        paths[0].write_text(markdown)
        paths[1].write_text(to_latex(report))
        with paths[2].open("w", newline="") as f:
            csv.writer(f).writerows([report.csv_header, *report.csv_rows])
        plot_curves(report, paths[3])
        write_html(paths[4], f"{table}: our runs beside the paper", [report_section(report, curves=paths[3])])
        return markdown, paths

    return run_cli(write)

