"""Hyper-parameter search with hydra-optuna-sweeper (``gan-zoo-train -m hparams_search=<name>``).

A search config (``conf/hparams_search/*.yaml``, the lightning-hydra-template convention) picks the sweeper,
the search space (``hydra.sweeper.params``), the direction and an ``objective`` block; this module supplies
the two pieces the plugin does not have:

- :func:`objective`: the value a trial reports, read from the run's own ``metrics.jsonl`` (the primary metric,
  ``metrics.primary``, or ``objective.metric``; its ``last`` value or its ``best`` one in the sweeper's
  direction). A run that diverged, failed or has no value reports ``None``, which the sweeper records as a
  FAILED trial (``max_failure_rate: 1.0`` keeps the study going).
- ``hydra_plugins.gan_zoo_optuna.resumable_sweeper.ResumableOptunaSweeper``: the plugin's sweeper, except
  that ``n_trials`` is the size of the study, not the number of trials to add: launched again on the same
  ``storage`` (an SQLite file) it runs only the trials still missing, and the trials a killed launch left
  RUNNING are marked FAILED and re-queued with the same parameters, so they land in the same run directory
  and resume from its ``last.ckpt``.

Versions: hydra-optuna-sweeper 1.3 pins optuna < 3, and optuna 2.10's SQLite storage needs SQLAlchemy < 2
(with SQLAlchemy 2 ``create_study(storage="sqlite:///...")`` fails in ``get_current_version``); hence the
pins in pyproject.toml.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from omegaconf import DictConfig


def _direction() -> str:
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return "minimize"
    direction = HydraConfig.get().sweeper.get("direction", "minimize")
    return str(getattr(direction, "name", direction)).lower()


def objective_value(run_dir: Path, metric: str | None, reduce: str = "last", direction: str = "minimize",
                    warn=print) -> float | None:
    """The trial value of the run in ``run_dir``: ``metric`` (None: the run's ``metrics.primary``, else its
    first metric) from metrics.jsonl, reduced by ``last`` (at the highest kimg) or ``best`` (in
    ``direction``). None if the run did not finish or logged no finite value."""
    from gan_zoo.report.runs import metric_series, read_run

    run = read_run(Path(run_dir), warn)
    if run.state != "finished" or not run.metrics:
        return None
    name = metric or (run.primary[0] if run.primary else run.metrics[0]["metric"])
    values = [float(e["value"]) for e in metric_series(run, name) if math.isfinite(float(e["value"]))]
    if not values:
        return None
    if reduce == "last":
        return values[-1]
    if reduce == "best":
        return max(values) if direction == "maximize" else min(values)
    raise ValueError(f"objective.reduce={reduce!r}: pick last or best")


def objective(cfg: DictConfig, result: Any) -> Any:
    """The task's return value: ``result`` unchanged, unless the config has an ``objective`` block (a search
    config): then the trial value of this job's run (see :func:`objective_value`)."""
    spec = cfg.get("objective") if isinstance(cfg, DictConfig) else None
    if not spec:
        return result
    from hydra.core.hydra_config import HydraConfig

    run_dir = Path(HydraConfig.get().runtime.output_dir)
    value = objective_value(run_dir, spec.get("metric"), str(spec.get("reduce", "last")), _direction())
    state = result.get("state") if isinstance(result, dict) else None
    print(f"objective: {value} ({state}; {run_dir})")
    return value


def study_table(storage: str, study_name: str) -> str:
    """The stored study as a Markdown table (number, state, value, parameters) and its best trial."""
    import optuna

    study = optuna.load_study(study_name=study_name, storage=storage)
    trials = study.get_trials(deepcopy=False)
    names = sorted({k for t in trials for k in t.params})
    lines = ["| trial | state | value | " + " | ".join(names) + " |", "|---" * (3 + len(names)) + "|"]
    for t in trials:
        value = "" if t.value is None else f"{t.value:.4g}"
        params = " | ".join(f"{t.params[k]:.3g}" if k in t.params else "" for k in names)
        lines.append(f"| {t.number} | {t.state.name} | {value} | {params} |")
    try:
        best = study.best_trial
        lines.append(f"\nbest: trial {best.number}, value {best.value:.4g}, params {best.params}")
    except ValueError:
        lines.append("\nbest: none (no completed trial)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """``python -m gan_zoo.hparams_search <sqlite file> <study name>``: print the study's table."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m gan_zoo.hparams_search", description=main.__doc__)
    parser.add_argument("db", type=Path)
    parser.add_argument("study")
    args = parser.parse_args(argv)
    print(study_table(f"sqlite:///{args.db}", args.study))


if __name__ == "__main__":
    main()
