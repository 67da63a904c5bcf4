"""gan-zoo-eval: evaluate a run's G_ema with chosen metrics, print a table, write JSON next to the checkpoint.

    gan-zoo-eval runs/demo/2026-11-22_10-00-00                      # the run's own metrics config
    gan-zoo-eval runs/demo/.../checkpoints/best.ckpt metrics=[fid,kid] num_samples=10000
    gan-zoo-eval <run> metrics=fd extractor=classifier:fmnist inception_weights=/data/weights.pth

``key=value`` arguments override the run's ``metrics`` config (keys of
:class:`gan_zoo.metrics.callback.MetricEvaluator`, plus ``out=<file>`` and ``device=<cpu|cuda>``); a run
trained with ``metrics=none`` gets ``metrics=[fid]``. The real reference comes from the disk cache when
``<run_dir>/metrics.jsonl`` names one (``ref_hash``) and it still exists, so no training data is needed;
otherwise the run's dataset config is instantiated. Output: ``<checkpoint stem>.metrics.json`` beside the
checkpoint, one record per value with the provenance keys of metrics.jsonl.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml
from omegaconf import DictConfig, OmegaConf

from gan_zoo.errors import ConfigError, GanZooError
from gan_zoo.metrics import provenance
from gan_zoo.metrics.callback import CALLBACK_KEYS, MetricEvaluator

SKIP_KEYS = ("_target_", *CALLBACK_KEYS)
CLI_KEYS = ("out", "device")


def parse_overrides(tokens: list[str]) -> dict:
    out = {}
    for token in tokens:
        key, sep, value = token.partition("=")
        key = key.removeprefix("metrics.").lstrip("+")
        if not sep or not key:
            raise ConfigError(
                f"argument {token!r}: expected key=value, e.g. metrics=[fid,kid] or num_samples=10000"
            )
        parsed = yaml.safe_load(value) if value else None
        if key == "metrics" and isinstance(parsed, str):
            parsed = [m.strip() for m in parsed.split(",") if m.strip()]
        out[key] = parsed
    return out


def evaluator_options(run_metrics_cfg: DictConfig | dict | None, overrides: dict) -> dict:
    """The run's metrics config minus the callback-only keys, with ``overrides`` on top."""
    base = {}
    if isinstance(run_metrics_cfg, DictConfig):
        if "_target_" in run_metrics_cfg:  # resolved in place, so ${paths.cache_dir} still finds its root
            base = OmegaConf.to_container(run_metrics_cfg, resolve=True)
    elif run_metrics_cfg:
        base = dict(run_metrics_cfg)
    options = {k: v for k, v in base.items() if k not in SKIP_KEYS}
    options.update({k: v for k, v in overrides.items() if k not in CLI_KEYS})
    options.setdefault("metrics", ["fid"])
    return options


def reference_hints(run_dir: Path) -> dict[str, str]:
    """extractor -> the latest ``ref_hash`` the run's metrics.jsonl recorded for it."""
    hints: dict[str, str] = {}
    path = run_dir / "metrics.jsonl"
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("ref_hash"):
                hints[entry["extractor"]] = entry["ref_hash"]
    return hints


def evaluate_run(run, overrides: dict) -> tuple[list[dict], Path]:
    """Evaluate a :class:`gan_zoo.checkpoint.RunHandle` (``cfg``, ``G_ema``, ``run_dir``, ``ckpt_path``,
    ``kimg``); return the records and the JSON path they were written to."""
    options = evaluator_options(run.cfg.get("metrics"), overrides)
    try:
        evaluator = MetricEvaluator(**options)
    except TypeError as e:  # an unknown key
        raise ConfigError(f"gan-zoo-eval: {e}; see `gan-zoo-eval --help` for the keys") from None

    def dataset():
        from gan_zoo.config import build

        if "dataset" not in run.cfg:
            raise ConfigError(f"{run.run_dir}: no cached reference and no dataset in the run config")
        return build(run.cfg.dataset, "dataset")

    device = overrides.get("device") or next(run.G_ema.parameters()).device
    G = run.G_ema.to(device).eval()
    values = evaluator.evaluate(G, dataset, device=device, ref_hints=reference_hints(Path(run.run_dir)))
    records = [
        provenance(v, run.kimg, evaluator.seed, None) | {"checkpoint": str(run.ckpt_path)} for v in values
    ]
    ckpt = Path(run.ckpt_path)
    out = Path(overrides["out"]) if overrides.get("out") else ckpt.with_name(f"{ckpt.stem}.metrics.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"checkpoint": str(ckpt), "kimg": run.kimg, "results": records}, indent=2) + "\n"
    )
    return records, out


def print_table(records: list[dict], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in ("metric", "value", "n", "extractor", "resize", "ref_hash"):
        table.add_column(column, justify="right" if column in ("value", "n") else "left")
    for r in records:
        table.add_row(
            r["metric"], f"{r['value']:.6g}", str(r["n"]), r["extractor"], r["resize"], r["ref_hash"] or "-"
        )
    Console().print(table)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    try:
        from gan_zoo.checkpoint import load_run

        overrides = parse_overrides(argv[1:])
        run = load_run(argv[0], device=overrides.get("device") or "cpu")
        records, out = evaluate_run(run, overrides)
    except GanZooError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print_table(records, f"{run.ckpt_path} (kimg {run.kimg:.1f})")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
