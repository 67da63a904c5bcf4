"""One paper table from runs of one budget: rows grouped by ``table.row`` (and ``table.variant``), seeds
aggregated (``collect`` in ``gan_zoo.report`` picks the budget, so budgets are never pooled either).

Mean and a 95 % confidence interval from Student's t with n - 1 degrees of freedom (``scipy.stats.t``).
Diverged, failed, running, unreadable and missing runs are shown in the cell, never averaged, never dropped.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from scipy import stats

from gan_zoo.paper_tables import PAPER_TABLES, PaperTable, metric_base
from gan_zoo.report.runs import STATES, Run, metric_series

DASH = "—"


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
    curves: dict[str, dict[str, list[Run]]]  # metric -> row label -> runs (for the plot)
    verdicts: list = field(default_factory=list)  # gan_zoo.report.claims.Verdict per claim the table tests
    scale: str = ""


def scale_caption(runs: list[Run], metrics: list[str]) -> str:
    """What the table's numbers were measured at: data and resolution, kimg, batch, G/D sizes, metric."""
    from omegaconf import OmegaConf

    def values(key: str) -> list:
        found = []
        for r in runs:
            v = OmegaConf.select(r.cfg, key, default=None) if r.cfg is not None else None
            if v is not None and v not in found:
                found.append(v)
        return found

    def join(vs: list) -> str:
        return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in vs) or "unknown"

    data = join(values("dataset._target_")).replace("gan_zoo.data.", "")
    kinds = values("dataset.kind") + values("dataset.family")  # toy2d's ring/grid; StackedMNIST's mnist/fmnist
    data += f" ({join(kinds)})" if kinds else ""
    res = values("dataset.resolution")
    res_text = f"{join(res)} px" if res else "points (no resolution)"
    sizes = sorted({(r.status["g_params"], r.status.get("d_params")) for r in runs if r.status.get("g_params")})
    params = ", ".join(f"G {_params(g)} / D {_params(d)}" for g, d in sizes) or "unknown"
    models = values("model.name")
    model_text = f" (model {join(models)})" if models else ""
    return (f"Scale of our runs: data {data} at {res_text}; {join(values('total_kimg'))} kimg at batch "
            f"{join(values('batch_size'))}; {params} params{model_text}; metric {', '.join(metrics)}.")


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
    other = sorted(x for x in extractors if not x.lower().startswith("inception") and x != "none")
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


def group_runs(runs: list[Run], paper: PaperTable | None) -> dict[tuple[str, str | None], list[Run]]:
    """Runs by (``table.row``, ``table.variant``): paper rows first in paper order, each followed by its
    variants in the order first seen; then rows the paper lacks. A paper row with no runs stays (as
    "missing") unless its runs all carry a variant, which then stand in its place."""
    groups: dict[tuple[str, str | None], list[Run]] = {(r.row, None): [] for r in paper.rows} if paper else {}
    for run in sorted(runs, key=lambda r: (str(r.seed), str(r.path))):
        groups.setdefault((run.row, run.variant), []).append(run)
    varied = {row for row, variant in groups if variant is not None}
    order = {r.row: i for i, r in enumerate(paper.rows)} if paper else {}
    keys = sorted((k for k, v in groups.items() if v or k[0] not in varied),
                  key=lambda k: order.get(k[0], len(order)))  # stable: keeps first-seen order within a row
    return {k: groups[k] for k in keys}


def row_label(row_id: str, variant: str | None) -> str:
    return row_id if variant is None else f"{row_id} ({variant})"


def build_report(runs: list[Run], table: str, metrics: list[str], at_kimg: float | None = None) -> Report:
    """One line per (row, variant) of ``group_runs`` with every column filled; with ``at_kimg`` the runs as
    they stood at that evaluation (:func:`gan_zoo.report.runs.at_kimg`), so a claim's verdict can be read
    at each evaluation of a sweep, e.g. where it appears and where it goes."""
    if at_kimg is not None:
        from gan_zoo.report.runs import at_kimg as truncate

        runs = [truncate(r, at_kimg) for r in runs]
    paper = PAPER_TABLES.get(table)
    groups = group_runs(runs, paper)
    header, csv_header = ["row", "change"], ["row", "variant", "change"]
    for m in metrics:
        paper_name = (paper and paper.paper_metric(m)) or metric_base(m)
        header += [f"ours {m}", f"paper {paper_name}", f"Δ {metric_base(m)}"]
        csv_header += [f"{m} mean", f"{m} ci95", f"{m} n", f"{m} cell", f"paper {m}", f"delta {m}"]
    header += ["G/D params", "paper G/D params", "kimg", "wall-clock", "budget"]
    csv_header += ["g_params", "d_params", "paper_g_params_m", "paper_d_params_m", "kimg", "wall_clock_s",
                   "budget", "runs", *STATES, "unreadable"]
    rows, csv_rows = [], []
    for (row_id, variant), row_runs in groups.items():
        paper_row = paper.row(row_id) if paper else None
        changes = [str(r.change) for r in row_runs if r.change]
        change = changes[0] if changes else paper_row.change if paper_row else DASH
        cells, csv_cells = [row_label(row_id, variant), change], [row_id, variant or "", change]
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
    ours = (f"Ours: each run's {', '.join(metrics)} at its evaluation at {at_kimg:g} kimg (the table as it stood "
            "then; later evaluations ignored)" if at_kimg is not None else
            f"Ours: each finished run's last evaluated {', '.join(metrics)} (highest kimg)")
    caption.append(f"{ours}; mean ± "
                   "95% CI (Student t, n−1 dof) over seeds, n = seeds averaged (a row's variants, in brackets, "
                   "are never pooled); diverged, failed and running "
                   "seeds are counted, never averaged. Δ = ours − paper.")
    note = not_fid_caption(runs, metrics, paper)
    from gan_zoo.report.claims import claims_for, row_stats, verdicts

    scale = scale_caption(runs, metrics)
    if at_kimg is not None:
        scale = scale[:-1] + f"; values at {at_kimg:g} kimg."
    caption.append(scale)
    claims = claims_for(table)
    caption.append("Claims this table tests: " + ("; ".join(c.text for c in claims) if claims else "none") + ".")
    return Report(table, caption + ([note] if note else []), header, rows, csv_header, csv_rows,
                  {m: {row_label(*k): v for k, v in groups.items()} for m in metrics},
                  verdicts(table, row_stats(groups, metrics)), scale)


def _csv(x: float | None) -> str:
    return "" if x is None else f"{x:.6g}"
