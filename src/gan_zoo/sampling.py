"""Latents and labels in a fixed, seeded order, so grids and metrics are comparable across kimg and runs.

Every generator in gan_zoo has ``z_dim`` and ``c_dim`` attributes and is called as ``G(z, c)`` with ``c`` a
one-hot float matrix ``[N, c_dim]`` or ``None`` when unconditional. Conditional samples cycle through the
classes in order (sample i has class ``i % c_dim``), so N samples are class-balanced, as the papers evaluate.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F


def one_hot(labels: torch.Tensor, c_dim: int) -> torch.Tensor | None:
    """int64 class indices -> one-hot float ``[N, c_dim]``; ``None`` when the model is unconditional."""
    if c_dim == 0:
        return None
    return F.one_hot(labels.long(), c_dim).float()


def fixed_latents(n: int, z_dim: int, c_dim: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """z ~ N(0, I) from a private generator seeded with ``seed``, and class labels ``i % c_dim`` (zeros if
    unconditional). Same seed, same latents, on any device and independent of the global RNG."""
    gen = torch.Generator().manual_seed(int(seed))
    z = torch.randn(n, z_dim, generator=gen)
    labels = torch.arange(n) % c_dim if c_dim else torch.zeros(n, dtype=torch.int64)
    return z, labels


@torch.no_grad()
def generate_batches(
    G: torch.nn.Module, n: int, batch_size: int, seed: int, device: torch.device | str | None = None
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield ``(images, labels)`` batches of G's float output for n fixed latents (see :func:`fixed_latents`)."""
    device = device or next(G.parameters()).device
    z_all, labels_all = fixed_latents(n, G.z_dim, G.c_dim, seed)
    for start in range(0, n, batch_size):
        z = z_all[start : start + batch_size].to(device)
        labels = labels_all[start : start + batch_size].to(device)
        yield G(z, one_hot(labels, G.c_dim)), labels


def truncated_normal(shape, t: float | None, generator: torch.Generator | None = None) -> torch.Tensor:
    """BigGAN's truncation trick, paper-exact (Brock et al., ICLR 2019, Sec. 3.1): z ~ N(0, I) with every
    entry of magnitude above ``t`` resampled until it falls inside ``[-t, t]``, i.e. each entry follows the
    standard normal conditioned on ``|z_i| <= t`` (not clamped, not rescaled). ``t=None`` (or inf): no
    truncation. Drawn on the CPU from ``generator`` (the global RNG when None)."""
    z = torch.randn(shape, generator=generator)
    if t is None or t == float("inf"):
        return z
    if not t > 0:
        raise ValueError(f"truncation threshold must be > 0 (got {t}); None samples without truncation")
    outside = z.abs() > t
    while outside.any():
        z[outside] = torch.randn(int(outside.sum()), generator=generator)
        outside = z.abs() > t
    return z
