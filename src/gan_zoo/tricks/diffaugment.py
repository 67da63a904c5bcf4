"""DiffAugment (Zhao, Liu, Lin, Zhu, Han, "Differentiable Augmentation for Data-Efficient GAN Training",
NeurIPS 2020, Sec. 3 and App.): the same differentiable augmentations on every image D sees, real and fake, in
D's and G's steps, so G is trained through them.

- color: brightness ``x + (u - 0.5)``, saturation ``(x - mean_c) * 2u + mean_c``, contrast
  ``(x - mean) * (u + 0.5) + mean``, u ~ U(0, 1) per image (the official ``rand_brightness``,
  ``rand_saturation``, ``rand_contrast`` ranges);
- translation: an integer shift of up to ``translation`` (default 1/8) of the image size in each axis,
  zero-padded;
- cutout: a square of ``cutout`` (default 1/2) of the image size at a random centre set to zero.

Draws come from the step's seeded generator. It is a ``d_input`` hook, beside (and composable with) the
existing ADA pipeline (``augment=ada``), and refuses 2-D point data.
"""

from __future__ import annotations

import torch
from torch import nn

from gan_zoo.errors import ConfigError

OPS = ("color", "translation", "cutout")


def _u(n: int, gen: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    return torch.rand(n, 1, 1, 1, generator=gen).to(like.device, like.dtype)


def color(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    n = x.shape[0]
    x = x + (_u(n, gen, x) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_u(n, gen, x) * 2) + mean
    mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - mean) * (_u(n, gen, x) + 0.5) + mean


def translation(x: torch.Tensor, gen: torch.Generator, ratio: float = 0.125) -> torch.Tensor:
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sh, sh + 1, (n, 1, 1), generator=gen).to(x.device)
    dx = torch.randint(-sw, sw + 1, (n, 1, 1), generator=gen).to(x.device)
    gy, gx = torch.meshgrid(torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij")
    ys, xs = gy[None] + dy, gx[None] + dx  # source pixel of each output pixel
    valid = ((ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)).to(x.dtype)
    idx = (ys.clamp(0, h - 1) * w + xs.clamp(0, w - 1)).view(n, 1, h * w).expand(-1, x.shape[1], -1)
    out = x.reshape(n, x.shape[1], h * w).gather(2, idx).view_as(x)
    return out * valid[:, None]


def cutout(x: torch.Tensor, gen: torch.Generator, ratio: float = 0.5) -> torch.Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), generator=gen).to(x.device)
    cx = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), generator=gen).to(x.device)
    gy, gx = torch.meshgrid(torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij")
    top, left = cy - ch // 2, cx - cw // 2  # the square may be clipped by the border, as in the official code
    inside = (gy[None] >= top) & (gy[None] < top + ch) & (gx[None] >= left) & (gx[None] < left + cw)
    return x * (~inside).to(x.dtype)[:, None]


class DiffAugment(nn.Module):
    def __init__(self, policy: str = "color,translation,cutout", translation: float = 0.125,
                 cutout: float = 0.5) -> None:
        super().__init__()
        ops = [p.strip() for p in str(policy).split(",") if p.strip()]
        bad = [p for p in ops if p not in OPS]
        if bad:
            raise ConfigError(f"trick.diffaugment.policy has unknown {', '.join(bad)}; use a comma list of "
                              f"{', '.join(OPS)}")
        self.ops, self.translation, self.cutout = ops, float(translation), float(cutout)

    def check(self, module) -> None:
        if getattr(module.G, "resolution", None) is None:
            raise ConfigError("trick.diffaugment augments images; this model makes points (model.resolution is "
                              "null): drop trick diffaugment or use an image model")

    def d_input(self, x: torch.Tensor, ctx) -> torch.Tensor:
        for op in self.ops:
            if op == "color":
                x = color(x, ctx.gen)
            elif op == "translation":
                x = translation(x, ctx.gen, self.translation)
            else:
                x = cutout(x, ctx.gen, self.cutout)
        return x
