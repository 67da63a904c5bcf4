"""The LightningDataModule: one dataset, an infinite seeded sampler, one loader batch per training iteration.

Training length is counted in images shown to D (kimg), not epochs, so the sampler never ends. It walks a
fresh seeded permutation per pass over the data; position ``p`` of the global stream is index
``perm(seed + p // N)[p % N]``, and rank ``r`` of ``W`` takes positions ``r, r + W, r + 2W, ...``. Because
the stream is a pure function of the position, resuming only needs the position, which the
AdversarialModule saves (images drawn so far); workers prefetching ahead of it do not matter.

A loader batch holds ``batch_size * (n_dis + 1)`` images per rank: ``n_dis`` real batches for D's steps and
one for G's step (RpGAN pairs G's fakes with fresh reals), so one loader batch is exactly one iteration.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset, Sampler


class InfiniteSampler(Sampler[int]):
    def __init__(self, size: int, seed: int = 0, rank: int = 0, world_size: int = 1, start: int = 0) -> None:
        self.size, self.seed, self.rank, self.world_size, self.start = size, seed, rank, world_size, start

    def __iter__(self) -> Iterator[int]:
        position = self.start * self.world_size + self.rank  # global position of this rank's next index
        epoch, perm = -1, None
        while True:
            e = position // self.size
            if e != epoch:
                epoch = e
                perm = torch.randperm(self.size, generator=torch.Generator().manual_seed(self.seed + e))
            yield int(perm[position % self.size])
            position += self.world_size


def _seed_worker(worker_id: int) -> None:
    # Augmentation and z are drawn in the main process; workers only decode, but seed numpy/random anyway so
    # a dataset that draws in __getitem__ is reproducible per worker.
    import random

    import numpy as np

    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)


class GanDataModule(pl.LightningDataModule):
    def __init__(self, dataset: Dataset, batch_size: int, n_dis: int = 1, num_workers: int = 0,
                 seed: int = 0, pin_memory: bool = False) -> None:
        super().__init__()
        self.dataset = dataset
        self.batch_size, self.n_dis = int(batch_size), int(n_dis)
        self.num_workers, self.seed, self.pin_memory = int(num_workers), int(seed), bool(pin_memory)
        self.start = 0  # images already drawn by this rank (restored on resume)

    @property
    def loader_batch_size(self) -> int:
        return self.batch_size * (self.n_dis + 1)

    def train_dataloader(self) -> DataLoader:
        rank, world = 0, 1
        if self.trainer is not None:
            rank, world = self.trainer.global_rank, self.trainer.world_size
        sampler = InfiniteSampler(len(self.dataset), self.seed, rank, world, start=self.start)
        return DataLoader(self.dataset, batch_size=self.loader_batch_size, sampler=sampler,
                          num_workers=self.num_workers, pin_memory=self.pin_memory, drop_last=True,
                          worker_init_fn=_seed_worker, persistent_workers=self.num_workers > 0)

    def state_dict(self) -> dict:
        module = self.trainer.lightning_module if self.trainer is not None else None
        drawn = module.iteration * self.loader_batch_size if module is not None else self.start
        return {"start": int(drawn)}

    def load_state_dict(self, state: dict) -> None:
        self.start = int(state.get("start", 0))
