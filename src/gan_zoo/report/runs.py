"""The run directory contract as the report reads it: config.yaml, status.json and metrics.jsonl.

See docs/architecture.md. A corrupt file makes its run ``unreadable`` (named in the table) with a warning,
never a crash, so one bad directory cannot hide a sweep's other runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml
from omegaconf import ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from gan_zoo.errors import ConfigError
from gan_zoo.paper_tables import metric_base

STATES = ("running", "finished", "diverged", "failed")  # counted in the table's columns
# written by gan-zoo-train too: stopped early (health monitor), interrupted by a signal (resumable)
KNOWN_STATES = (*STATES, "stopped", "interrupted")


@dataclass
class Run:
    """One run directory as the report sees it; ``unreadable`` names the file that could not be parsed."""

    path: Path
    name: str = ""
    seed: int | None = None
    table: str | None = None
    row: str | None = None
    variant: str | None = None  # table.variant: one line of a row (e.g. one gamma), never pooled
    also: list[str] = field(default_factory=list)  # table.also: further tables that show this run (shared runs)
    change: str | None = None
    budget: str | None = None
    primary: list[str] = field(default_factory=list)
    state: str = "unreadable"
    status: dict = field(default_factory=dict)
    metrics: list[dict] = field(default_factory=list)
    unreadable: str | None = None
    cfg: object = None  # the run's config.yaml (an OmegaConf DictConfig), for the table's scale caption


def find_run_dirs(root: Path) -> list[Path]:
    """Every directory under ``root`` (itself included) holding both config.yaml and status.json."""
    return sorted({p.parent for p in root.rglob("status.json") if (p.parent / "config.yaml").is_file()})


def as_list(value) -> list[str]:
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
        run.budget, run.primary = get("budget.name"), as_list(get("metrics.primary"))
        run.row = None if run.row is None else str(run.row)
        run.variant = None if get("table.variant") is None else str(get("table.variant"))
        run.also = as_list(get("table.also"))
        run.cfg = cfg
    except (OSError, ValueError, yaml.YAMLError, OmegaConfBaseException) as exc:
        warn(f"{path / 'config.yaml'}: unreadable ({type(exc).__name__}); the run cannot be placed in a row")
        run.unreadable = "config.yaml"
        return run
    try:
        status = json.loads((path / "status.json").read_text())
        if not isinstance(status, dict) or status.get("state") not in KNOWN_STATES:
            raise ValueError(f"state must be one of {', '.join(KNOWN_STATES)}")
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


def at_kimg(run: Run, kimg: float, tol: float = 0.5) -> Run:
    """The run as it stood at its evaluation at ``kimg`` (within ``tol`` kimg): later entries dropped, and a
    run evaluated there counts as finished at that point, whatever happened after (a later divergence or a
    still running run). A run without that evaluation keeps its state (running, diverged, ...), with no values
    (a finished one then shows "no value"): its last value would belong to another kimg."""
    entries = [e for e in run.metrics if e["kimg"] <= kimg + tol]
    reached = any(abs(e["kimg"] - kimg) <= tol for e in entries)
    if run.unreadable:
        return run
    status = dict(run.status)
    if status.get("kimg") is not None:
        status["kimg"] = min(float(status["kimg"]), kimg)
    clocks = [e["wall_clock_s"] for e in entries if abs(e["kimg"] - kimg) <= tol and e.get("wall_clock_s")]
    if reached and clocks:
        status["wall_clock_s"] = max(clocks)
    return replace(run, metrics=entries if reached else [], status=status,
                   state="finished" if reached else run.state)
