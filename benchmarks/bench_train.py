"""img/s of one training iteration (D step with RpGAN + R1 + R2, then G step) of an R3GAN preset on CPU.

It times CIFAR-10 config E (conditional, 20.8 M params) at batch 8, fp32 through gan_zoo's own training path
(Lightning Trainer + AdversarialModule), with the default channels_last layout and
with contiguous NCHW, after one warm-up iteration (oneDNN picks kernels on the first call).

Run: ``python benchmarks/bench_train.py [--preset r3gan/cifar10] [--batch 8] [--iters 2]``;
writes benchmarks/results/train.json. Numbers are only comparable within one run on one machine: the ratio to
the official code is measured side by side by ``benchmarks/bench_r3gan.py`` (``R3GAN_SRC=...``), never against a
figure from elsewhere.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

from gan_zoo.data.base import ImageDataset
from gan_zoo.data.datamodule import GanDataModule
from gan_zoo.module import AdversarialModule
from gan_zoo.paths import CONF_DIR
from gan_zoo.schedules import Schedules


class IterationTimer(pl.Callback):
    def __init__(self):
        self.times: list[float] = []

    def on_train_batch_start(self, *args):
        self._t = time.perf_counter()

    def on_train_batch_end(self, *args):
        self.times.append(time.perf_counter() - self._t)


def time_preset(preset: str, batch: int, iters: int, channels_last: bool) -> dict:
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        overrides = [f"model={preset}", "dataset=digits", "schedule=r3gan_cifar10", "metrics=none"]
        cfg = compose("train", overrides=overrides)
    model = OmegaConf.to_container(cfg.model, resolve=False)
    res, c_dim = int(model["resolution"]), int(model["c_dim"])
    G, D = instantiate(cfg.model.generator), instantiate(cfg.model.discriminator)
    rng = np.random.default_rng(0)
    data = ImageDataset(rng.integers(0, 256, (256, 3, res, res), dtype=np.uint8),
                        rng.integers(0, max(c_dim, 1), 256), num_classes=max(c_dim, 1) if c_dim else 0)
    module = AdversarialModule(
        G, D, instantiate(cfg.loss), {k: instantiate(v) for k, v in cfg.regularizer.items()},
        instantiate(cfg.augment), instantiate(cfg.optimizer.optim),
        Schedules(**OmegaConf.to_container(cfg.schedule)), batch_size=batch,
        total_kimg=(iters + 1) * batch / 1000, channels_last=channels_last, run_dir="/tmp/gan_zoo_bench")
    timer = IterationTimer()
    trainer = pl.Trainer(accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, callbacks=[timer],
                         max_epochs=-1)
    trainer.fit(module, datamodule=GanDataModule(data, batch))
    steady = timer.times[1:]
    g, d = module.num_params()
    return {"preset": preset, "batch": batch, "channels_last": channels_last, "g_params": g, "d_params": d,
            "warmup_s": round(timer.times[0], 2), "iteration_s": [round(t, 2) for t in steady],
            "img_per_s": round(batch / float(np.mean(steady)), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="r3gan/cifar10")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--iters", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/results/train.json")
    args = parser.parse_args()
    results = [time_preset(args.preset, args.batch, args.iters, cl) for cl in (True, False)]
    record = {"what": "img/s of one D (RpGAN+R1+R2) + G iteration, fp32, CPU", "threads": torch.get_num_threads(),
              "torch": torch.__version__, "machine": platform.processor() or platform.machine(),
              "load_average": os.getloadavg(), "results": results,
              "channels_last_speedup": round(results[0]["img_per_s"] / results[1]["img_per_s"], 3)}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=1))
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
