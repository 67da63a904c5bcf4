"""Framework overhead: gan_zoo's real training path against a bare PyTorch loop of the same math (issue 10).

A: ``pl.Trainer.fit`` of ``AdversarialModule`` with the run's default callbacks (atomic checkpoints,
sample grids, progress bar) and the CSV logger, as ``gan_zoo.train`` builds them;
B: a plain Python loop on the same networks, the same data and the same optimizers: per iteration
``zero_grad``; D step (G under no grad, RpGAN + (gamma/2)(R1 + R2) by double backprop, Adam step); G step
(RpGAN, D(real) under no grad, Adam step); EMA ``lerp_``.

Per iteration wall time = between consecutive ``on_train_batch_start`` calls (A) / loop iterations (B), so
data loading, logging and callbacks are inside it; the first iteration of each run is dropped (oneDNN picks
kernels). A's last segment (last batch start -> ``on_train_end``) also holds the run's final checkpoint and
sample grid, a cost paid once per run, not per iteration: it is reported apart (``lightning_end_of_run_s``,
that segment minus the median iteration), not in the per-iteration figures. A and B alternate ``--reps`` times
in one process. Writes benchmarks/results/overhead_<preset>.json.

Run: ``python benchmarks/bench_overhead.py [--preset tiny8|tiny16|cifar10] [--iters 20] [--reps 3]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from hydra.utils import instantiate

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

from gan_zoo.callbacks.checkpoint import KimgCheckpoint  # noqa: E402
from gan_zoo.callbacks.progress import KimgProgressBar  # noqa: E402
from gan_zoo.callbacks.samples import SampleGrid  # noqa: E402
from gan_zoo.data.base import ImageDataset  # noqa: E402
from gan_zoo.data.datamodule import GanDataModule  # noqa: E402
from gan_zoo.ema import ema_beta, update_ema  # noqa: E402
from gan_zoo.sampling import one_hot  # noqa: E402


class StepClock(pl.Callback):
    def __init__(self):
        self.starts: list[float] = []

    def on_train_batch_start(self, *args):
        self.starts.append(time.perf_counter())

    def on_train_end(self, *args):
        self.starts.append(time.perf_counter())


def lightning_run(cfg, G, D, data, batch: int, iters: int, run_dir: Path) -> tuple[list[float], float]:
    """(per-iteration times, the last segment: last iteration + final checkpoint and samples)."""
    module = common.build_module(cfg, batch, G=G, D=D)
    module.total_kimg = iters * batch / 1000
    module.run_dir = run_dir
    clock = StepClock()
    callbacks = [KimgCheckpoint(run_dir / "checkpoints", every_kimg=10), SampleGrid(every_kimg=10),
                 KimgProgressBar(), clock]
    logger = pl.loggers.CSVLogger(str(run_dir), name="", version="")
    trainer = pl.Trainer(accelerator="cpu", devices=1, precision="32-true", max_epochs=-1, max_steps=-1,
                         log_every_n_steps=10, enable_checkpointing=False, enable_model_summary=False,
                         enable_progress_bar=True, num_sanity_val_steps=0, default_root_dir=str(run_dir),
                         callbacks=callbacks, logger=logger)
    trainer.fit(module, datamodule=GanDataModule(data, batch))
    steps = list(np.diff(clock.starts))
    return steps[1:-1], steps[-1]


def bare_run(G, D, data, batch: int, iters: int, gamma: float, lr: float, betas) -> list[float]:
    """The same math as AdversarialModule's D and G steps with R1/R2, written out."""
    G_ema = __import__("copy").deepcopy(G).eval().requires_grad_(False)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=betas)
    gen = torch.Generator().manual_seed(0)
    loader = torch.utils.data.DataLoader(data, batch_size=2 * batch, shuffle=True, drop_last=True)
    c_dim = G.c_dim
    times, it = [], 0
    while it < iters:
        for images, labels in loader:
            t = time.perf_counter()
            images = images.float() / 127.5 - 1
            real_d, real_g = images[:batch], images[batch:]
            c_d, c_g = one_hot(labels[:batch], c_dim), one_hot(labels[batch:], c_dim)
            # D step
            G.requires_grad_(False)
            D.requires_grad_(True)
            opt_d.zero_grad(set_to_none=True)
            with torch.no_grad():
                fake = G(torch.randn(batch, G.z_dim, generator=gen), c_d)
            real = real_d.detach().requires_grad_(True)
            fake = fake.detach().requires_grad_(True)
            rl, fl = D(real, c_d), D(fake, c_d)
            (r1,) = torch.autograd.grad(rl.sum(), real, create_graph=True)
            (r2,) = torch.autograd.grad(fl.sum(), fake, create_graph=True)
            loss = F.softplus(-(rl - fl)).mean() + gamma / 2 * (
                r1.square().sum((1, 2, 3)).mean() + r2.square().sum((1, 2, 3)).mean())
            loss.backward()
            opt_d.step()
            # G step
            G.requires_grad_(True)
            D.requires_grad_(False)
            opt_g.zero_grad(set_to_none=True)
            fl = D(G(torch.randn(batch, G.z_dim, generator=gen), c_g), c_g)
            with torch.no_grad():
                rl = D(real_g, c_g)
            F.softplus(-(fl - rl)).mean().backward()
            opt_g.step()
            D.requires_grad_(True)
            update_ema(G_ema, G, ema_beta(batch, 0.5))
            times.append(time.perf_counter() - t)
            it += 1
            if it >= iters:
                break
    return times[1:]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="tiny8", choices=sorted(common.PRESETS))
    parser.add_argument("--batch", type=int, default=None, help="default: 32 (tiny), 8 (cifar10)")
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    batch = args.batch or (8 if args.preset == "cifar10" else 32)
    model_name, res = common.PRESETS[args.preset]
    cfg = common.compose_cfg(model_name, res)
    torch.manual_seed(0)
    G, D = instantiate(cfg.model.generator), instantiate(cfg.model.discriminator)
    c_dim = int(cfg.model.c_dim)
    rng = np.random.default_rng(0)
    n = max(4 * batch * args.iters, 256)
    data = ImageDataset(rng.integers(0, 256, (n, 3, res, res), dtype=np.uint8),
                        rng.integers(0, max(c_dim, 1), n), num_classes=c_dim)
    optim = cfg.optimizer.optim
    gamma, lr = float(cfg.schedule.gamma.start), float(cfg.schedule.lr.start)
    before = common.load()
    if args.iters < 3:
        parser.error("--iters must be >= 3 (the first iteration and the run's final segment are not timed)")
    light, bare, ends = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.reps):
            steps, end = lightning_run(cfg, G, D, data, batch, args.iters, Path(tmp) / f"run{r}")
            light += steps
            ends.append(end)
            bare += bare_run(G, D, data, batch, args.iters, gamma, lr,
                             tuple(optim.get("betas", (0.0, 0.99))))
    after = common.load()
    record = {"what": "per-iteration wall time, Lightning training path vs bare PyTorch loop, same math",
              "preset": args.preset, "batch": batch, "iters_per_run": args.iters, "reps": args.reps,
              "threads": args.threads, "load_before": before, "load_after": after,
              "lightning_median_s": float(np.median(light)), "bare_median_s": float(np.median(bare)),
              "lightning_min_s": float(np.min(light)), "bare_min_s": float(np.min(bare))}
    record["lightning_end_of_run_s"] = round(float(np.median(ends)) - record["lightning_median_s"], 3)
    record["overhead_median"] = round(record["lightning_median_s"] / record["bare_median_s"] - 1, 4)
    record["overhead_min"] = round(record["lightning_min_s"] / record["bare_min_s"] - 1, 4)
    return common.write_record(record, args.out or f"benchmarks/results/overhead_{args.preset}.json")


if __name__ == "__main__":
    main()
