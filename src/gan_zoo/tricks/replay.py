"""Experience replay (seed article 002 "experience replay"; Shrivastava et al., "Learning from Simulated and
Unsupervised Images through Adversarial Training", CVPR 2017, Sec. 2.3: a history of refined images).

D's fake batch mixes the current fakes with fakes G made earlier, so D keeps punishing modes G has left and G
cannot cycle back to them:

    fake batch = ratio * N samples drawn uniformly from the pool  +  (1 - ratio) * N of the current fakes
    pool      <- every current fake: appended while the pool is not full, else it replaces a uniformly
                 drawn slot with probability ``push_prob`` (CycleGAN's ImagePool: 50, 0.5)

The pool (and the labels of its fakes) lives in registered buffers, so it is in every checkpoint and a resumed
run continues with the pool it had, unlike CycleGAN's ImagePool and TF-GAN's tensor_pool (zoo.md "Defects").
All draws come from the step's seeded generator. Acts at ``d_fakes`` (D step only: G is trained on fresh
fakes). Before the pool holds ``ratio * N`` fakes, it gives what it has.
"""

from __future__ import annotations

import torch
from torch import nn

from gan_zoo.errors import ConfigError


class Replay(nn.Module):
    def __init__(self, capacity: int = 1000, ratio: float = 0.5, push_prob: float = 0.5) -> None:
        super().__init__()
        if int(capacity) < 1 or not 0.0 <= float(ratio) <= 1.0 or not 0.0 <= float(push_prob) <= 1.0:
            raise ConfigError(f"trick.replay: capacity >= 1, 0 <= ratio <= 1 and 0 <= push_prob <= 1 needed (got "
                              f"{capacity}, {ratio}, {push_prob})")
        self.capacity, self.ratio, self.push_prob = int(capacity), float(ratio), float(push_prob)
        # Allocated on the first batch (the sample shape is not known before); _load_from_state_dict resizes
        # them to a checkpoint's, so a resumed run loads the pool it saved.
        self.register_buffer("pool", torch.empty(0))
        self.register_buffer("pool_c", torch.empty(0))
        self.register_buffer("count", torch.zeros((), dtype=torch.long))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        for name in ("pool", "pool_c"):
            if prefix + name in state_dict:
                setattr(self, name, torch.empty_like(state_dict[prefix + name], device=self.count.device))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def check(self, module) -> None:
        """Allocate the pool at G's sample shape before training, so the buffers have their final shape when a
        checkpoint is loaded into them (hooks.py: buffers keep their shape across a run)."""
        if self.pool.numel():
            return
        G = module.G
        with torch.no_grad():
            was = G.training
            G.eval()
            c = torch.zeros(2, G.c_dim) if getattr(G, "c_dim", 0) else None
            sample = G(torch.zeros(2, G.z_dim), c)
            G.train(was)
        self.pool = torch.zeros(self.capacity, *sample.shape[1:], dtype=sample.dtype)
        if c is not None:
            self.pool_c = torch.zeros(self.capacity, G.c_dim)

    def d_fakes(self, fake: torch.Tensor, c, ctx):
        n = fake.shape[0]
        if self.pool.numel() == 0:
            self.pool = torch.zeros(self.capacity, *fake.shape[1:], dtype=fake.dtype, device=fake.device)
            if c is not None:
                self.pool_c = torch.zeros(self.capacity, *c.shape[1:], dtype=c.dtype, device=c.device)
        count = int(self.count)
        k = min(int(round(self.ratio * n)), count)
        mixed, mixed_c = fake, c
        if k > 0:
            pick = torch.randint(count, (k,), generator=ctx.gen).to(fake.device)
            slots = torch.randperm(n, generator=ctx.gen)[:k].to(fake.device)
            mixed = fake.clone()
            mixed[slots] = self.pool[pick]
            if c is not None:
                mixed_c = c.clone()
                mixed_c[slots] = self.pool_c[pick]
        self._push(fake, c, ctx.gen)
        return mixed, mixed_c

    @torch.no_grad()
    def _push(self, fake: torch.Tensor, c, gen: torch.Generator) -> None:
        count, n = int(self.count), fake.shape[0]
        free = min(self.capacity - count, n)
        if free > 0:
            self.pool[count : count + free] = fake[:free]
            if c is not None:
                self.pool_c[count : count + free] = c[:free]
        rest = n - free
        if rest > 0:
            swap = torch.rand(rest, generator=gen) < self.push_prob
            slots = torch.randint(self.capacity, (rest,), generator=gen)[swap].to(fake.device)
            src = fake[free:][swap.to(fake.device)]
            self.pool[slots] = src
            if c is not None:
                self.pool_c[slots] = c[free:][swap.to(fake.device)]
        self.count.fill_(count + free)

    def logs(self, kimg: float) -> dict[str, float]:
        return {"pool": float(self.count)}
