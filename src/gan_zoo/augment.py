"""Differentiable augmentation applied to every image D sees (real and fake), inside D's graph.

R3GAN trains with the ADA pipeline (Karras et al. 2020, "Training GANs with limited data", Sec. 2.2/App. B)
at a *scheduled* probability p rather than an adaptive one. This module implements the pipeline's groups
with plain differentiable torch ops, each applied per sample with probability ``p * multiplier``:

- ``xflip``, ``rot90``, ``int_translate`` (±12.5 % of the size, wrap-free via reflection), pixel blitting;
- ``scale`` (lognormal, std 0.2·ln 2), ``rotate`` (uniform angle), ``aniso`` (lognormal), ``frac_translate``
  (normal, std 0.125): composed into one affine matrix, applied by ``grid_sample`` with reflection padding;
- ``brightness`` (+N(0, 0.2)), ``contrast`` (×lognormal 0.5·ln 2), ``saturation`` (×lognormal ln 2 around the
  per-pixel mean): colour, R3GAN uses multiplier 0.5;
- ``cutout``: a zeroed square of half the image size at a random centre.

Why not a library: torchvision's v2 transforms and kornia are per-batch or non-differentiable w.r.t. the
image in places, draw from the global RNG, and don't implement ADA's per-sample probability semantics; the
R1/R2 penalties need double backprop through the pipeline (``grid_sample`` supports it on CPU and CUDA).
ADA resamples geometric ops with a wavelet filter; bilinear ``grid_sample`` is the simpler approximation.

Randomness comes from a ``torch.Generator`` passed per call, so a run's augmentation is part of its
checkpointed RNG state. ``p == 0`` is the identity (no op is evaluated).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gan_zoo.errors import ConfigError

OPS = ("xflip", "rot90", "int_translate", "scale", "rotate", "aniso", "frac_translate",
       "brightness", "contrast", "saturation", "cutout")


class Augment(nn.Module):
    """Per-sample augmentation of images in [-1, 1] with overall probability ``p`` (set each step)."""

    def __init__(self, **multipliers: float) -> None:
        super().__init__()
        unknown = sorted(set(multipliers) - set(OPS))
        if unknown:
            raise ConfigError(f"augment.{unknown[0]} is not an augmentation; known: {', '.join(OPS)}")
        for name, m in multipliers.items():
            if not 0 <= float(m) <= 1:
                raise ConfigError(f"augment.{name} = {m}: multipliers must lie in [0, 1]")
        self.multipliers = {name: float(m) for name, m in multipliers.items() if float(m) > 0}
        self.p = 0.0

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if self.p <= 0 or not self.multipliers or x.ndim != 4:
            return x
        n, device = x.shape[0], x.device

        def draw(shape=(), kind="rand") -> torch.Tensor:
            fn = torch.rand if kind == "rand" else torch.randn
            return fn((n, *shape), generator=generator).to(device)

        def gate(name: str) -> torch.Tensor:
            prob = self.p * self.multipliers.get(name, 0.0)
            return (draw() < prob).float() if prob > 0 else torch.zeros(n, device=device)

        x = self._geometric(x, gate, draw)
        x = self._colour(x, gate, draw)
        if "cutout" in self.multipliers:
            x = self._cutout(x, gate("cutout"), draw)
        return x

    def _geometric(self, x, gate, draw) -> torch.Tensor:
        n, device = x.shape[0], x.device
        eye = torch.eye(3, device=device).expand(n, 3, 3)
        mat = eye.clone()

        def compose(m):
            nonlocal mat
            mat = mat @ m

        def affine(a=None, b=None, c=None, d=None, tx=None, ty=None):
            m = eye.clone()
            if a is not None:
                m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1] = a, b, c, d
            if tx is not None:
                m[:, 0, 2], m[:, 1, 2] = tx, ty
            return m

        if "xflip" in self.multipliers:
            s = 1 - 2 * gate("xflip") * (draw() < 0.5).float()
            compose(affine(s, 0 * s, 0 * s, torch.ones_like(s)))
        if "rot90" in self.multipliers:
            k = torch.floor(draw() * 4) * gate("rot90")
            cos, sin = torch.cos(k * math.pi / 2).round(), torch.sin(k * math.pi / 2).round()
            compose(affine(cos, -sin, sin, cos))
        if "int_translate" in self.multipliers:
            g = gate("int_translate")
            size = x.shape[-1]
            t = torch.round((draw((2,)) * 2 - 1) * 0.125 * size) * 2 / size  # whole pixels, normalised units
            compose(affine(tx=t[:, 0] * g, ty=t[:, 1] * g))
        if "scale" in self.multipliers:
            s = torch.exp2(draw(kind="randn") * 0.2 * gate("scale"))
            compose(affine(s, 0 * s, 0 * s, s))
        if "rotate" in self.multipliers:
            theta = (draw() * 2 - 1) * math.pi * gate("rotate")
            compose(affine(torch.cos(theta), -torch.sin(theta), torch.sin(theta), torch.cos(theta)))
        if "aniso" in self.multipliers:
            s = torch.exp2(draw(kind="randn") * 0.2 * gate("aniso"))
            compose(affine(s, 0 * s, 0 * s, 1 / s))
        if "frac_translate" in self.multipliers:
            t = draw((2,), kind="randn") * 0.125 * 2 * gate("frac_translate")[:, None]
            compose(affine(tx=t[:, 0], ty=t[:, 1]))
        if torch.equal(mat, eye):
            return x
        grid = F.affine_grid(mat[:, :2, :].to(x.dtype), list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)

    def _colour(self, x, gate, draw) -> torch.Tensor:
        shape = (-1, 1, 1, 1)
        if "brightness" in self.multipliers:
            x = x + (draw(kind="randn") * 0.2 * gate("brightness")).view(shape)
        if "contrast" in self.multipliers:
            x = x * torch.exp2(draw(kind="randn") * 0.5 * gate("contrast")).view(shape)
        if "saturation" in self.multipliers and x.shape[1] == 3:
            mean = x.mean(dim=1, keepdim=True)
            x = mean + (x - mean) * torch.exp2(draw(kind="randn") * 1.0 * gate("saturation")).view(shape)
        return x

    def _cutout(self, x, g, draw) -> torch.Tensor:
        h, w = x.shape[-2:]
        centre = draw((2,))
        ys = (torch.arange(h, device=x.device) + 0.5) / h
        xs = (torch.arange(w, device=x.device) + 0.5) / w
        inside_y = (ys[None, :] - centre[:, 0:1]).abs() < 0.25
        inside_x = (xs[None, :] - centre[:, 1:2]).abs() < 0.25
        mask = (inside_y[:, :, None] & inside_x[:, None, :]).float() * g.view(-1, 1, 1)
        return x * (1 - mask[:, None])
