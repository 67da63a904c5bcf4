"""A built table written out: Markdown, a bare LaTeX tabular, and a PNG of metric vs kimg per row.

Markdown and LaTeX are a few lines of string formatting, so no table library is pulled in for them.
"""

from __future__ import annotations

from pathlib import Path

from gan_zoo.paper_tables import metric_base
from gan_zoo.report.runs import metric_series
from gan_zoo.report.table import Report


def to_markdown(report: Report) -> str:
    esc = lambda s: s.replace("|", "\\|")  # noqa: E731
    lines = [line for c in report.caption for line in (c, "")]
    lines.append("| " + " | ".join(esc(h) for h in report.header) + " |")
    lines.append("|" + "|".join("---" for _ in report.header) + "|")
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in report.rows]
    if report.verdicts:
        from gan_zoo.report.claims import verdict_lines

        lines += ["", "Claims (verdicts computed from the numbers above):", ""]
        lines += [f"- {line}" for line in verdict_lines(report.verdicts)]
    return "\n".join(lines) + "\n"


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
        "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "±": r"$\pm$", "Δ": r"$\Delta$",
        "—": "--", "–": "--", "−": "-", "é": r"\'e", "γ": r"$\gamma$",
        "→": r"$\to$"}


def _tex(text: str) -> str:
    return "".join(_TEX.get(ch, ch) for ch in text)


def to_latex(report: Report) -> str:
    """A bare tabular (wrap it in your own table/caption); the caption lines follow as comments."""
    lines = [r"\begin{tabular}{" + "l" * len(report.header) + "}", r"\hline",
             " & ".join(_tex(h) for h in report.header) + r" \\", r"\hline"]
    lines += [" & ".join(_tex(c) for c in row) + r" \\" for row in report.rows]
    lines += [r"\hline", r"\end{tabular}"] + [f"% {c}" for c in report.caption]
    if report.verdicts:
        from gan_zoo.report.claims import verdict_lines

        lines += [f"% {line}" for line in verdict_lines(report.verdicts)]
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
        for i, (label, runs) in enumerate(by_row.items()):
            drawn = [(r, metric_series(r, metric)) for r in runs if r.unreadable is None]
            for j, (run, series) in enumerate((r, s) for r, s in drawn if s):
                style = {"running": ":", "diverged": "--", "failed": "--"}.get(run.state, "-")
                ax.plot([e["kimg"] for e in series], [e["value"] for e in series], style, marker=".",
                        color=f"C{i % 10}", label=None if j else label)
        ax.set(title=metric, xlabel="kimg", ylabel=metric_base(metric))
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
        else:
            ax.text(0.5, 0.5, "no values yet", ha="center", va="center", transform=ax.transAxes)
    fig.suptitle(f"{report.name}  (solid: finished, dotted: running, dashed: diverged/failed)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
