"""MetricsCallback: kimg crossing, metrics.jsonl provenance, cached references, best.ckpt, DDP gathering, and
one real Lightning fit."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import pytorch_lightning as pl
import torch
from metrics_helpers import TinyImageG, TinyPointG, image_dataset

import gan_zoo.metrics.callback as callback_module
from gan_zoo.data.datamodule import GanDataModule
from gan_zoo.data.toy2d import Toy2D
from gan_zoo.errors import ConfigError, GanZooError
from gan_zoo.metrics.callback import MetricEvaluator, MetricsCallback, SingleProcess
from gan_zoo.metrics.extractors import extract_generated

PROVENANCE = {
    "metric",
    "value",
    "kimg",
    "n",
    "extractor",
    "resize",
    "ref_hash",
    "seed",
    "wall_clock_s",
    "time",
}


class FakeLogger:
    def __init__(self):
        self.calls = []

    def log_metrics(self, metrics, step):
        self.calls.append((step, dict(metrics)))

    def save(self):
        pass


class FakeTrainer:
    """What the callback touches: datamodule.dataset, strategy, loggers, callback_metrics, save_checkpoint."""

    def __init__(self, dataset, module):
        self.datamodule = SimpleNamespace(dataset=dataset)
        self.strategy = SingleProcess()
        self.loggers = [FakeLogger()]
        self.callback_metrics = {}
        self.global_rank, self.is_global_zero, self.global_step = 0, True, 0
        self.module, self.saved, self.fail_save = module, [], False

    def save_checkpoint(self, path, weights_only=None):
        path = Path(path)
        self.saved.append(path)
        path.write_text("partial")
        if self.fail_save:
            raise OSError("disk full")
        path.write_text(json.dumps({"kimg": self.module.kimg, "G": self.module.G_ema.tag}))


def make_module(tmp_path, G, tag):
    G.tag = tag
    return SimpleNamespace(G_ema=G.eval(), kimg=0.0, run_dir=tmp_path / "run", device=torch.device("cpu"))


@pytest.fixture
def setup(tmp_path, untrained_classifier):
    cache, name = untrained_classifier
    module = make_module(tmp_path, TinyImageG(resolution=8, channels=1), "G0")
    trainer = FakeTrainer(image_dataset(20, channels=1, resolution=8), module)
    cb = MetricsCallback(
        metrics=["fd"],
        every_kimg=1.0,
        extractor=f"classifier:{name}",
        cache_dir=cache,
        num_samples=12,
        batch_size=5,
        seed=3,
    )
    return cb, trainer, module, Path(cache)


def lines(module):
    return [json.loads(s) for s in (module.run_dir / "metrics.jsonl").read_text().splitlines()]


def test_kimg_crossing_provenance_and_cached_reference(setup, monkeypatch):
    cb, trainer, module, cache = setup
    calls = []

    def counting(*args, **kwargs):
        calls.append(1)
        return callback_module.extract_dataset.__wrapped__(*args, **kwargs)

    counting.__wrapped__ = callback_module.extract_dataset
    monkeypatch.setattr(callback_module, "extract_dataset", counting)
    cb.on_train_start(trainer, module)
    assert cb.next_kimg == 1.0
    for kimg in (0.4, 0.8, 1.05, 1.5, 2.6):  # crosses 1 and (2 and... only once) at 2.6
        module.kimg = kimg
        trainer.global_step += 1
        cb.on_train_batch_end(trainer, module, None, None, 0)
    assert [e["kimg"] for e in lines(module)] == [1.05, 2.6]
    assert cb.next_kimg == 3.0
    cb.on_train_end(trainer, module)  # already evaluated at this kimg
    assert len(lines(module)) == 2
    module.kimg = 2.7
    cb.on_train_end(trainer, module)
    entries = lines(module)
    assert len(entries) == 3
    for e in entries:
        assert PROVENANCE <= set(e)
        assert e["metric"] == "fd[classifier:rand8]"
        assert (e["n"], e["extractor"], e["resize"], e["seed"]) == (12, "classifier:rand8", "none", 3)
        assert (cache / "real_stats" / f"{e['ref_hash']}.pt").is_file()
        assert e["value"] > 0 and isinstance(e["wall_clock_s"], float)
    assert len(calls) == 1  # the real reference was extracted once, then read from the disk cache
    assert [step for step, _ in trainer.loggers[0].calls] == [3, 5, 5]
    assert set(trainer.loggers[0].calls[0][1]) == {"metrics/fd[classifier:rand8]"}
    assert float(trainer.callback_metrics["fd[classifier:rand8]"]) == pytest.approx(entries[-1]["value"])
    # same G, same fixed latents: the same number every time, so best.ckpt was written once
    assert len({e["value"] for e in entries}) == 1
    assert len(trainer.saved) == 1


def test_best_ckpt_follows_the_primary_value_and_is_atomic(setup, tmp_path):
    cb, trainer, module, _ = setup
    assert cb.primary == "fd[classifier:rand8]" and cb.higher_is_better is False
    best = module.run_dir / "checkpoints" / "best.ckpt"
    written = []
    for i, offset in enumerate((0.0, 2.0, -0.5, 1.0)):
        module.G_ema = TinyImageG(resolution=8, channels=1, offset=offset, seed=i)
        module.G_ema.tag = f"G{i}"
        module.kimg = float(i + 1)
        value = cb.run(trainer, module)[0].value
        written.append((value, f"G{i}"))
        expected = min(written)[1]
        assert json.loads(best.read_text())["G"] == expected
    assert cb.best == pytest.approx(min(written)[0])
    for path in trainer.saved:  # a temp file in the same directory, renamed over best.ckpt
        assert path.parent == best.parent and path.name != "best.ckpt" and not path.exists()
    # a failed write leaves the previous best.ckpt intact
    before = best.read_text()
    module.G_ema = TinyImageG(resolution=8, channels=1, offset=0.0, seed=99)
    module.G_ema.tag = "G-fail"
    cb.best = float("inf")  # force an improvement
    trainer.fail_save = True
    with pytest.raises(GanZooError, match="disk full"):  # one line naming the file (gan_zoo.checkpoint)
        cb.run(trainer, module)
    assert best.read_text() == before


def test_primary_names_and_directions(untrained_classifier):
    cache, name = untrained_classifier
    cb = MetricsCallback(
        metrics=["fd", "modes_kl"],
        extractor=f"classifier:{name}",
        classifier=name,
        cache_dir=cache,
        primary="modes",
    )
    assert cb.primary == f"modes[classifier:{name}]" and cb.higher_is_better is True
    cb = MetricsCallback(metrics=["modes_kl"], classifier=name, cache_dir=cache, primary="modes_kl")
    assert cb.primary == f"kl[classifier:{name}]" and cb.higher_is_better is False
    assert MetricsCallback(metrics=["toy2d"], primary="hq").higher_is_better is True
    with pytest.raises(ConfigError, match="metrics.primary=fid: not among the evaluated values"):
        MetricsCallback(metrics=["toy2d"], primary="fid")
    with pytest.raises(ConfigError, match="unknown metric 'fdi'"):
        MetricsCallback(metrics=["fdi"])
    with pytest.raises(ConfigError, match="metrics.every_kimg=0"):
        MetricsCallback(metrics=["toy2d"], every_kimg=0)
    with pytest.raises(ConfigError, match="metrics.classifier=<name>"):
        MetricsCallback(metrics=["modes_kl"])


class TwoRanks:
    """Emulates all_gather of a 2-process group: rank 1 runs first and leaves its padded share."""

    world_size = 2

    def __init__(self, rank, shares):
        self.global_rank, self.shares = rank, shares

    def all_gather(self, tensor):
        self.shares[self.global_rank] = tensor
        return torch.stack([self.shares.get(r, torch.full_like(tensor, float("nan"))) for r in range(2)])


@pytest.mark.parametrize("n", [5, 1])
def test_ddp_shares_gather_to_the_single_process_result(n):
    G = TinyImageG(resolution=4, channels=1)

    def flat(x):
        return {"pool": x.float().flatten(1)}

    evaluator = MetricEvaluator(["toy2d"], batch_size=2)
    evaluator._device = torch.device("cpu")

    def extract(a, b):
        return extract_generated(G, flat, n, 2, 0, a, b)

    evaluator._strategy = SingleProcess()
    single = evaluator._gather(n, extract)["pool"]
    shares = {}
    evaluator._strategy = TwoRanks(1, shares)
    evaluator._gather(n, extract)
    evaluator._strategy = TwoRanks(0, shares)
    gathered = evaluator._gather(n, extract)["pool"]
    assert gathered.shape == (n, 16)
    torch.testing.assert_close(gathered, single)


class ToyModule(pl.LightningModule):
    """Just the module contract: G_ema, kimg, run_dir (and iteration, which the datamodule saves); each step
    shrinks G_ema's noise (better hq)."""

    def __init__(self, run_dir, centers):
        super().__init__()
        self.automatic_optimization = False
        self.G_ema = TinyPointG(centers, noise=0.2).eval()
        self.dummy = torch.nn.Parameter(torch.zeros(1))  # manual optimisation counts optimizer steps
        self.run_dir, self.steps = Path(run_dir), 0

    @property
    def kimg(self):
        return self.steps * 0.4

    @property
    def iteration(self):
        return self.steps

    def training_step(self, batch, batch_idx):
        self.steps += 1
        with torch.no_grad():
            self.G_ema.noise.mul_(0.7)
        self.optimizers().step()  # no gradients: a no-op that advances trainer.global_step

    def configure_optimizers(self):
        return torch.optim.SGD([self.dummy], lr=0.0)


def test_real_lightning_fit_logs_records_and_keeps_best(tmp_path):
    dataset = Toy2D("ring", num_points=1000)
    module = ToyModule(tmp_path / "run", dataset.centers)
    cb = MetricsCallback(metrics=["toy2d"], every_kimg=1.0, primary="hq", num_samples=500, batch_size=500)
    logger = pl.loggers.CSVLogger(tmp_path / "run", name="", version="")
    trainer = pl.Trainer(
        max_steps=6,
        accelerator="cpu",
        devices=1,
        logger=logger,
        callbacks=[cb],
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(module, datamodule=GanDataModule(dataset, batch_size=8))
    entries = lines(module)
    assert [(e["metric"], e["kimg"]) for e in entries] == [
        (m, k) for k in (1.2, 2.0, 2.4) for m in ("modes", "hq", "kl")  # kl: reverse KL over the modes
    ]
    hq = [e["value"] for e in entries if e["metric"] == "hq"]
    assert hq == sorted(hq) and hq[0] < hq[-1]
    assert all(e["extractor"] == "none" and e["n"] == 500 for e in entries)
    best = torch.load(module.run_dir / "checkpoints" / "best.ckpt", weights_only=False)
    state = next(v for k, v in best["callbacks"].items() if k.startswith("MetricsCallback"))
    assert state["best"] == pytest.approx(hq[-1]) and state["best_kimg"] == pytest.approx(2.4)
    assert not list((module.run_dir / "checkpoints").glob("*.tmp"))
    assert float(trainer.callback_metrics["hq"]) == pytest.approx(hq[-1])
    header = (tmp_path / "run" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert "metrics/hq" in header and "metrics/modes" in header


@pytest.mark.parametrize(
    "name, values, primary",
    [
        ("fid", {"fid"}, "fid"),
        ("fid_kid_pr", {"fid", "kid", "precision[inception]", "recall[inception]"}, "fid"),
        ("stacked_modes", {"modes[classifier:mnist]", "kl[classifier:mnist]"}, "kl[classifier:mnist]"),
        ("toy2d", {"modes", "hq", "kl"}, "modes"),
        ("fd_classifier", {"fd[classifier:fmnist]"}, "fd[classifier:fmnist]"),
    ],
)
def test_metrics_configs_compose_and_instantiate(name, values, primary, tmp_path, monkeypatch):
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.utils import instantiate

    from gan_zoo.paths import CONF_DIR

    monkeypatch.setenv("GAN_ZOO_CACHE", str(tmp_path))
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="train", overrides=[f"metrics={name}"])
    cb = instantiate(cfg.metrics)
    assert isinstance(cb, MetricsCallback)
    assert set(cb.evaluator.value_directions()) == values and cb.primary == primary
    assert cb.evaluator.cache_dir == tmp_path  # ${paths.cache_dir} follows GAN_ZOO_CACHE
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        none = compose(config_name="train", overrides=["metrics=none"])
    assert not none.metrics.get("_target_")  # the convention: no _target_, no callback
