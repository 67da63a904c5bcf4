"""Standing statistics: BatchNorm statistics of a generator re-estimated before it is evaluated or sampled.

BigGAN (Brock et al., ICLR 2019; App. C / BigGAN-PyTorch's ``--accumulate_stats``) evaluates G with BN
statistics averaged over many forward passes of random z, not with the running averages of training (which,
for G_ema, belong to G's weights, and which momentum 0.1 turns into an average of the last ~10 batches).
Here, for every BatchNorm layer of ``G`` (any model: BigGAN's cBN, DCGAN's BN, SyncBatchNorm):

1. reset, then run ``passes`` forward passes of ``batch_size`` samples (z ~ N(0, I), or truncated at ``t``,
   classes uniform), each layer normalising with its batch statistics as in training;
2. store the *cumulative average* of the per-pass batch means and (unbiased) variances as the layer's
   running statistics, ``num_batches_tracked = passes``.

The network stays in eval mode throughout: forward hooks compute the batch statistics and the batch-normalised
output themselves, so spectral-norm u/v vectors, dropout and everything but the BN buffers are untouched, no
SyncBatchNorm synchronises (a rank-0-only sample grid cannot hang), and no gradient is built. Only G's BN
buffers change; in training that G is G_ema, whose buffers the next EMA update overwrites with G's.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from gan_zoo.sampling import one_hot, truncated_normal


def batchnorm_layers(net: nn.Module) -> list[_BatchNorm]:
    """The BatchNorm layers of ``net`` that keep running statistics."""
    return [m for m in net.modules() if isinstance(m, _BatchNorm) and m.track_running_stats]


@torch.no_grad()
def accumulate_standing_stats(
    G: nn.Module,
    passes: int = 16,
    batch_size: int = 64,
    truncation: float | None = None,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> int:
    """Replace the running statistics of every BN layer of ``G`` by their average over ``passes`` forward
    passes (module docstring); returns the number of layers refreshed (0: no BN, nothing done)."""
    layers = batchnorm_layers(G)
    if not layers or passes <= 0:
        return 0
    sums = {m: [torch.zeros_like(m.running_mean), torch.zeros_like(m.running_var)] for m in layers}

    def hook(module: _BatchNorm, inputs, output):
        x = inputs[0]
        dims = [0, *range(2, x.ndim)]
        acc = sums[module]
        acc[0] += x.mean(dims).to(acc[0].dtype)
        acc[1] += x.var(dims, unbiased=True).to(acc[1].dtype)
        return F.batch_norm(x, None, None, module.weight, module.bias, True, 0.0, module.eps)

    handles = [m.register_forward_hook(hook) for m in layers]
    was_training = G.training
    G.eval()
    device = device or next(G.parameters()).device
    gen = torch.Generator().manual_seed(int(seed))
    c_dim = int(getattr(G, "c_dim", 0))
    try:
        for _ in range(int(passes)):
            z = truncated_normal((batch_size, G.z_dim), truncation, gen)
            labels = torch.randint(0, c_dim, (batch_size,), generator=gen) if c_dim else torch.zeros(batch_size)
            G(z.to(device), one_hot(labels.to(device), c_dim))
    finally:
        for h in handles:
            h.remove()
        G.train(was_training)
    for m, (mean, var) in sums.items():
        m.running_mean.copy_(mean / passes)
        m.running_var.copy_(var / passes)
        if m.num_batches_tracked is not None:
            m.num_batches_tracked.fill_(int(passes))
    return len(layers)


def refresh_for_eval(pl_module, G: nn.Module | None = None, truncation: float | None = None) -> int:
    """Standing statistics for the module's G_ema (or ``G``) as the run config's ``standing_stats`` says
    (``passes``, ``batch_size``; default 16 x 64; ``passes: 0`` keeps the running statistics)."""
    G = pl_module.G_ema if G is None else G
    cfg = getattr(pl_module, "cfg", None)
    opts = dict(cfg.get("standing_stats") or {}) if cfg is not None else {}
    return accumulate_standing_stats(
        G, int(opts.get("passes", 16)), int(opts.get("batch_size", 64)), truncation,
        int(opts.get("seed", 0)), getattr(pl_module, "device", None),
    )
