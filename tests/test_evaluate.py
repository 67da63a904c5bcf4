"""gan-zoo-eval: evaluates a run handle with the run's metrics config or overrides, from cached references
without the training data, and writes JSON beside the checkpoint."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from omegaconf import OmegaConf

sys.path.insert(0, str(Path(__file__).parent / "metrics"))
from metrics_helpers import TinyImageG, TinyPointG, image_dataset  # noqa: E402

from gan_zoo.data.toy2d import Toy2D  # noqa: E402
from gan_zoo.errors import ConfigError  # noqa: E402
from gan_zoo.evaluate import evaluate_run, main, parse_overrides, print_table  # noqa: E402
from gan_zoo.metrics.callback import MetricsCallback, SingleProcess  # noqa: E402
from gan_zoo.metrics.classifier import DigitClassifier, classifier_path, save_classifier  # noqa: E402


@pytest.fixture
def cache(tmp_path):
    torch.manual_seed(0)
    save_classifier(DigitClassifier(10, 8, "rand8").eval(), classifier_path("rand8", tmp_path / "cache"))
    return str(tmp_path / "cache")


def handle(tmp_path, cfg: dict, G, kimg=4.0):
    run_dir = tmp_path / "run"
    ckpt = run_dir / "checkpoints" / "best.ckpt"
    ckpt.parent.mkdir(parents=True, exist_ok=True)
    ckpt.write_text("stand-in")
    return SimpleNamespace(
        cfg=OmegaConf.create(cfg), G_ema=G.eval(), run_dir=run_dir, ckpt_path=ckpt, kimg=kimg
    )


def test_uses_the_cached_reference_without_training_data(tmp_path, cache):
    metrics_cfg = {
        "_target_": "gan_zoo.metrics.callback.MetricsCallback",
        "metrics": ["fd"],
        "every_kimg": 1,
        "primary": "fd",
        "extractor": "classifier:rand8",
        "num_samples": 12,
        "batch_size": 5,
        "seed": 3,
        "cache_dir": cache,
    }
    G = TinyImageG(resolution=8, channels=1)
    run = handle(tmp_path, {"metrics": metrics_cfg}, G)  # no dataset in the config
    # training wrote metrics.jsonl and the reference cache
    cb = MetricsCallback(**{k: v for k, v in metrics_cfg.items() if k != "_target_"})
    trainer = SimpleNamespace(
        datamodule=SimpleNamespace(dataset=image_dataset(20, channels=1, resolution=8)),
        strategy=SingleProcess(),
        loggers=[],
        callback_metrics={},
        global_rank=0,
        is_global_zero=True,
        global_step=0,
        save_checkpoint=lambda p, weights_only=None: Path(p).write_text("x"),
    )
    module = SimpleNamespace(G_ema=G, kimg=4.0, run_dir=run.run_dir, device=torch.device("cpu"))
    trained = cb.run(trainer, module)[0]
    records, out = evaluate_run(run, {})
    assert out == run.ckpt_path.with_name("best.metrics.json")
    saved = json.loads(out.read_text())
    assert saved["results"] == records and saved["kimg"] == 4.0
    (record,) = records
    assert record["metric"] == "fd[classifier:rand8]" and record["ref_hash"] == trained.ref_hash
    assert record["value"] == pytest.approx(trained.value, rel=1e-12)  # fixed latents: reproducible
    assert record["checkpoint"] == str(run.ckpt_path)
    # without the cache (and no dataset to rebuild it) it says so in one line
    for f in (Path(cache) / "real_stats").iterdir():
        f.unlink()
    with pytest.raises(ConfigError, match="no cached reference and no dataset"):
        evaluate_run(run, {})


def test_overrides_and_dataset_from_the_run_config(tmp_path, capsys):
    ring = Toy2D("ring", num_points=100)
    cfg = {
        "metrics": {},
        "dataset": {"_target_": "gan_zoo.data.toy2d.Toy2D", "kind": "ring", "num_points": 100},
    }
    run = handle(tmp_path, cfg, TinyPointG(ring.centers, noise=0.001))
    out_path = tmp_path / "elsewhere" / "eval.json"
    records, out = evaluate_run(run, parse_overrides(["metrics=toy2d", "num_samples=400", f"out={out_path}"]))
    assert out == out_path and out.is_file()
    values = {r["metric"]: r for r in records}
    assert values["modes"]["value"] == 8 and values["hq"]["value"] == 100.0
    assert values["hq"]["n"] == 400 and values["hq"]["extractor"] == "none"
    print_table(records, "run")
    table = capsys.readouterr().out
    assert "modes" in table and "hq" in table and "400" in table


def test_parse_overrides():
    assert parse_overrides(
        [
            "metrics=fid,kid",
            "num_samples=1000",
            "metrics.classifier=fmnist",
            "inception_weights=/w/x.pth",
            "extractor=classifier:fmnist",
        ]
    ) == {
        "metrics": ["fid", "kid"],
        "num_samples": 1000,
        "classifier": "fmnist",
        "inception_weights": "/w/x.pth",
        "extractor": "classifier:fmnist",
    }
    assert parse_overrides(["metrics=[fid,is]"])["metrics"] == ["fid", "is"]
    with pytest.raises(ConfigError, match="expected key=value"):
        parse_overrides(["fid"])


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main([str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no checkpoint at") and "\n" not in err
    assert main(["--help"]) == 0
