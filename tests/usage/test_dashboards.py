"""wandb dashboards of a sweep (offline, read back from the run files) and TensorBoard against kimg."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from omegaconf import OmegaConf

from gan_zoo.loggers import WandbLogger, flatten
from tests.conftest import QUIET, compose_run
from tests.usage.wandb_records import read_offline_run

# 2-D ring, 10 iterations of 64, metrics and sample scatters every 0.32 kimg: seconds per run
RUN = ["experiment=toy2d/ring", "seed=3", "total_kimg=0.64", "batch_size=64", "schedule.burnin_kimg=0.64",
       "metrics.every_kimg=0.32", "metrics.num_samples=500", "metrics.batch_size=500",
       "callbacks.samples.every_kimg=0.32", "callbacks.checkpoint.every_kimg=1000", "trainer.log_every_n_steps=1"]


def sweep_job(root: Path, row: str, logger: str) -> Path:
    """One job of a sweep in runs/sweeps/wbsweep whose rows set their own name (as experiments do), in-process."""
    from gan_zoo.train import train

    run_dir = root / "sweeps" / "wbsweep" / row
    sweep_dir = f"hydra.sweep.dir={root / 'sweeps' / 'wbsweep'}"  # what Hydra resolves for a real -m launch
    train(compose_run([*QUIET[:1], *RUN, f"name=wb_{row}", f"+table.row={row}", f"logger={logger}", sweep_dir],
                      run_dir, multirun=True))
    return run_dir


@pytest.fixture(scope="module")
def wandb_sweep(tmp_path_factory):
    root = tmp_path_factory.mktemp("wandb_sweep")
    import os

    os.environ["WANDB_SILENT"] = "true"
    return [sweep_job(root, row, "wandb") for row in ("A", "B")]


def test_sweep_group_job_types_tags_and_config(wandb_sweep):
    runs = [read_offline_run(d) for d in wandb_sweep]
    assert [r.group for r in runs] == ["wbsweep", "wbsweep"]  # the sweep's folder name
    assert [r.job_type for r in runs] == ["A", "B"]  # the table row
    assert runs[0].tags == ["dataset:toy2d", "model:mlp", "loss:rpgan", "regularizer:r1+r2", "trick:none", "seed:3"]
    cfg = OmegaConf.load(wandb_sweep[0] / "config.yaml")
    assert cfg.logger.wandb.group == "wbsweep" and cfg.logger.wandb.job_type == "A"  # kept for resume
    flat = flatten(OmegaConf.to_container(cfg))
    for key in ("schedule.lr.start", "model.generator.width", "regularizer.r1._target_", "seed", "table.row"):
        assert runs[0].config[key] == flat[key], key


def test_every_curve_against_kimg_grids_and_best_in_summary(wandb_sweep):
    run_dir = wandb_sweep[1]
    run = read_offline_run(run_dir)
    assert run.metrics["*"] == "kimg"  # define_metric("*", step_metric="kimg") replaced Lightning's axis
    evaluations = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    logged = [(round(h["kimg"], 3), h["metrics/modes"]) for h in run.history if "metrics/modes" in h]
    assert logged == [(round(e["kimg"], 3), e["value"]) for e in evaluations if e["metric"] == "modes"]
    assert [round(k, 3) for k, _ in logged] == [0.32, 0.64]
    grids = [h for h in run.history if "samples" in h or "samples/_type" in h]
    assert [round(h["kimg"], 3) for h in grids] == [0.0, 0.32, 0.64]
    training = [h for h in run.history if "loss/d" in h]
    assert len(training) == 10 and all("kimg" in h for h in training)
    assert run.summary["best/modes"] == max(e["value"] for e in evaluations if e["metric"] == "modes")


class _Summary(dict):
    pass


def test_best_follows_the_metric_direction():
    cb = SimpleNamespace(primary="fid", best=None, best_kimg=None, higher_is_better=False)
    logger = SimpleNamespace(_metrics_cb=cb, experiment=SimpleNamespace(summary=_Summary()))
    for kimg, value in ((1, 3.0), (2, 1.0), (3, 2.0), (4, float("nan"))):
        WandbLogger._update_best(logger, {"metrics/fid": value, "kimg": kimg})
    assert logger.experiment.summary == {"best/fid": 1.0, "best/kimg": 2}
    resumed = SimpleNamespace(_metrics_cb=SimpleNamespace(**{**vars(cb), "best": 0.5, "best_kimg": 9}),
                              experiment=SimpleNamespace(summary=_Summary()))
    WandbLogger._update_best(resumed, {"metrics/fid": 0.7, "kimg": 10})  # worse than the restored best
    assert resumed.experiment.summary == {"best/fid": 0.5, "best/kimg": 9}


def test_tensorboard_scalars_and_grids_at_images_shown(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_dir = sweep_job(tmp_path, "A", "tensorboard")
    events = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"images": 0, "scalars": 0}).Reload()
    assert [e.step for e in events.Scalars("metrics/modes")] == [320, 640]  # kimg x 1000
    assert [e.step for e in events.Scalars("loss/d")] == [64 * i for i in range(1, 11)]
    assert [e.step for e in events.Images("samples")] == [0, 320, 640]
