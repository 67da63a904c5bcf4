"""The loss x regularizer table of sweeps/ring8_objectives.yaml: modes /8 and % high quality (mean ± standard
error over seeds) and seconds per run, from each run directory's status.json and metrics.jsonl.

    python benchmarks/ring8_objectives_table.py runs/sweeps/ring8_objectives [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from pathlib import Path

LOSSES = ["minimax", "ns", "wasserstein", "hinge", "lsgan", "rpgan", "ragan", "ralsgan"]
REGS = ["none", "r1", "wgan_gp"]


def _overrides(name: str) -> dict[str, str]:
    return dict(kv.split("=", 1) for kv in name.split(",") if "=" in kv)


def _last(path: Path) -> dict[str, float]:
    out: dict[str, float] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            row = json.loads(line)
            out[row["metric"]] = row["value"]
    return out


def _mean_se(xs: list[float]) -> str:
    if not xs:
        return "–"
    m = sum(xs) / len(xs)
    if len(xs) == 1:
        return f"{m:.1f}"
    se = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1) / len(xs))
    return f"{m:.1f}±{se:.1f}"


def collect(root: Path) -> dict:
    cells: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for status_path in sorted(root.glob("*/status.json")):
        ov = _overrides(status_path.parent.name)
        status = json.loads(status_path.read_text())
        metrics = _last(status_path.parent / "metrics.jsonl")
        cells[ov.get("loss"), ov.get("regularizer")].append(
            {"seed": int(ov.get("seed", 0)), "state": status.get("state"), "seconds": status.get("wall_clock_s"),
             "modes": metrics.get("modes"), "hq": metrics.get("hq")})
    return cells


def render(cells: dict) -> str:
    lines = ["| loss | " + " | ".join(f"{r}: modes /8 | {r}: HQ % | {r}: s" for r in REGS) + " |",
             "|---|" + "---|" * (3 * len(REGS))]
    for loss in LOSSES:
        row = [loss]
        for reg in REGS:
            runs = [r for r in cells.get((loss, reg), []) if r["state"] in ("finished", "diverged")]
            div = sum(r["state"] == "diverged" for r in runs)
            ok = [r for r in runs if r["state"] == "finished" and r["modes"] is not None]
            note = f" ({div} div.)" if div else ""
            row += [_mean_se([r["modes"] for r in ok]) + f" (n={len(ok)}){note}", _mean_se([r["hq"] for r in ok]),
                    _mean_se([r["seconds"] for r in runs if r["seconds"] is not None])]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("root", type=Path)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    cells = collect(args.root)
    print(render(cells))
    if args.json:
        args.json.write_text(json.dumps({f"{k[0]}/{k[1]}": v for k, v in cells.items()}, indent=1))


if __name__ == "__main__":
    main()
