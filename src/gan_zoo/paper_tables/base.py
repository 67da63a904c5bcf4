"""Published numbers as data, so a report can set the user's own runs beside them: the containers.

Values are kept exactly as printed (``PaperValue.text``) so the report shows the paper's own precision;
``PaperValue.value`` is the float used for differences. Row ids (``PaperRow.row``) are the ones experiment
configs put in ``table.row``; ``PaperTable.name`` is what they put in ``table.name``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Our metric names carry their extractor and data in brackets ("modes[classifier:stacked_fmnist]"); the
# part before the bracket says which paper metric they stand for. A Frechet distance on other features
# ("fd") is set beside the paper's FID for orientation only.
METRIC_ALIASES = {"fid": "fid", "fd": "fid", "modes": "modes", "kl": "kl", "reverse_kl": "kl", "hq": "hq"}


def metric_base(name: str) -> str:
    """``"modes[classifier:stacked_fmnist]"`` -> ``"modes"``: the metric's name without its provenance."""
    return name.split("[", 1)[0].strip().lower()


@dataclass(frozen=True)
class PaperValue:
    """One published number as printed; ``value`` is None for a non-number such as "diverged"."""

    text: str

    @property
    def value(self) -> float | None:
        try:
            return float(self.text)
        except ValueError:
            return None


@dataclass(frozen=True)
class PaperRow:
    """A row of a paper table: its config row id, the paper's label and change, numbers and G/D sizes."""

    row: str
    label: str
    change: str
    values: dict[str, PaperValue] = field(default_factory=dict)
    g_params_m: float | None = None  # millions, as printed in the paper
    d_params_m: float | None = None
    note: str = ""


@dataclass(frozen=True)
class PaperTable:
    """A table of the paper: where it comes from, which metrics it reports and its rows in paper order."""

    name: str
    paper: str
    table: str
    title: str
    protocol: str  # how the paper measured its metric, named in the "not FID" caption
    metrics: tuple[str, ...]
    rows: tuple[PaperRow, ...]

    @property
    def source(self) -> str:
        return f"{self.paper}, {self.table}"

    def row(self, row_id: str) -> PaperRow | None:
        return next((r for r in self.rows if r.row == row_id), None)

    def paper_metric(self, metric: str) -> str | None:
        """The paper metric our metric ``metric`` is compared with, or None when the table has none."""
        base = METRIC_ALIASES.get(metric_base(metric))
        return base if base in self.metrics else None

    def value(self, row_id: str, metric: str) -> PaperValue | None:
        paper_row, paper_metric = self.row(row_id), self.paper_metric(metric)
        if paper_row is None or paper_metric is None:
            return None
        return paper_row.values.get(paper_metric)
