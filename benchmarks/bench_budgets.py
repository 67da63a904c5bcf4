"""Time budgets that used to be asserted inside tests (where a shared machine's load made them flaky):

1. ``toy2d_ring``: seconds of training (``status.json`` ``wall_clock_s``, process start-up excluded) of the
   acceptance recipe ``experiment=toy2d/ring`` (tests/test_toy2d_training.py checks its quality), against a
   budget of 60 s on one CPU thread;
2. ``stacked_fmnist_build``: seconds to build the 128k StackedMNIST set from Debian's Fashion-MNIST idx files
   (reading the 70k source images included), against a budget of 20 s; skipped without the Debian package.

Run: ``python benchmarks/bench_budgets.py``; writes benchmarks/results/budgets.json. The load average before
and after is recorded: on shared cores other jobs lengthen both numbers, so read ``within_budget`` with it.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "budgets.json"
FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def toy2d_ring(run_dir: Path) -> dict:
    """The acceptance run through the CLI of this checkout; training seconds from its status.json."""
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "gan_zoo.train", "experiment=toy2d/ring", "seed=0", "metrics=none",
           "trainer.enable_progress_bar=false", f"hydra.run.dir={run_dir}"]
    subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    status = json.loads((run_dir / "status.json").read_text())
    return {"seconds": status["wall_clock_s"], "budget_s": 60.0, "within_budget": status["wall_clock_s"] <= 60.0,
            "iterations": status["iterations"], "state": status["state"]}


def stacked_fmnist_build(data_dir: Path) -> dict:
    if not FASHION_MNIST.is_dir():
        return {"skipped": f"{FASHION_MNIST} missing (apt-get install dataset-fashion-mnist)"}
    import torch
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    torch.set_num_threads(1)
    node = OmegaConf.load(ROOT / "conf" / "dataset" / "stacked_fmnist.yaml")
    cfg = OmegaConf.create({"paths": {"data_dir": str(data_dir)}, "dataset": node})
    start = time.perf_counter()
    ds = instantiate(cfg.dataset)
    seconds = time.perf_counter() - start
    return {"seconds": round(seconds, 2), "budget_s": 20.0, "within_budget": seconds < 20.0, "images": len(ds)}


def main() -> None:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        results = {"toy2d_ring": toy2d_ring(Path(tmp) / "ring"),
                   "stacked_fmnist_build": stacked_fmnist_build(Path(tmp) / "data")}
    out = {"results": results, "load_average_before": load_before, "load_average_after": os.getloadavg(),
           "cpu_count": os.cpu_count(), "python": platform.python_version(), "time": time.strftime("%Y-%m-%d %H:%M")}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
