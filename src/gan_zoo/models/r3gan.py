"""R3GAN generator and discriminator: configs D and E of the roadmap and the config E presets of Huang et al.,
"The GAN is dead; long live the GAN! A Modern GAN Baseline", NeurIPS 2024 (arXiv 2501.05441), Sec. 3 (Fig.
2c, Table 2), Appendix (architecture details, Table 9).

Stages double the resolution from 4x4 up to ``resolution``; ``channels`` lists one width per stage in that
order (4x4 first) and the discriminator mirrors the generator, so one list serves both.

- G: ``z`` (N(0, I), not normalised) concatenated with ``Linear(c -> c_embed_dim)`` when conditional; stage
  0 is a learned basis ``[W, 4, 4]`` scaled per channel by ``Linear(z')`` followed by residual blocks; every
  later stage is a transition (1x1 conv if the width changes, then x2 FIR upsampling) followed by residual
  blocks; a 1x1 conv to RGB, no tanh. ``output_skips=True`` gives StyleGAN2's skip generator of Table 2's
  first D row: every stage has a 1x1 to-RGB conv and the image so far is upsampled (same FIR filter) and
  added.
- D: 1x1 conv RGB -> W; stages of residual blocks followed by a transition (x2 FIR downsampling, then a 1x1
  conv if the width changes); the last (4x4) stage ends in a depthwise 4x4 conv and ``Linear(W -> 1)``.
  Conditional: ``Linear(W -> W)`` and the inner product with ``Linear(c -> W)`` (gain ``1/sqrt(W)``), a
  projection discriminator (Miyato & Koyama 2018).
- Residual blocks (:class:`gan_zoo.models.layers.ResidualBlock`): ``expansion`` 2 with 16 channels per group
  is config E; 0.5 with 16 per group is Table 2's "+ResNeXt-ify" row; 0.25 with ``channels_per_group=None``
  (dense 3x3) is config D. Fix-up init with ``L`` = residual blocks in the network.
- Mixed precision: the ``bf16_stages`` highest-resolution stages run under ``torch.autocast(bfloat16)`` when
  the input is on CUDA (the paper: 3 for CIFAR-10 / ImageNet-32, 4 for FFHQ / ImageNet-64); on CPU all is
  fp32. Each precision region covers the whole stage (including G's to-RGB conv after the last stage and D's
  from-RGB conv before the first, as the official code); outputs are returned in the parameters' dtype.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence

import torch
from torch import nn

from gan_zoo.errors import ConfigError
from gan_zoo.models.layers import (
    DiscriminativeHead,
    DownTransition,
    GenerativeBasis,
    ResidualBlock,
    Upsample2x,
    UpTransition,
    conv2d,
    linear,
    log2_resolution,
)


def num_stages(resolution: object) -> int:
    """Stages from 4x4 up to ``resolution``; a ConfigError unless it is a power of two >= 4."""
    return log2_resolution(resolution, "R3GAN") - 1


def _per_stage(value: int | Sequence[int], n: int, key: str, resolution: int) -> list[int]:
    """An int broadcast to every stage, or a list of exactly one positive int per stage."""
    values = [value] * n if isinstance(value, int) else list(value)
    if len(values) != n:
        raise ConfigError(
            f"{key} has {len(values)} entries but resolution {resolution} needs {n} (one per stage, 4x4 "
            f"up to {resolution}x{resolution}); list {n} values or give a single int"
        )
    if any(not isinstance(v, int) or v < 1 for v in values):
        raise ConfigError(f"{key}={values} must hold positive ints")
    return values


def _check_blocks(key: str, widths: list[int], expansion: float, channels_per_group: int | None) -> None:
    """Each stage's expanded width must be a whole number, divisible by channels_per_group."""
    if channels_per_group is not None and (not isinstance(channels_per_group, int) or channels_per_group < 1):
        raise ConfigError(
            f"{key}.channels_per_group={channels_per_group!r} must be a positive int or null (dense)"
        )
    for w in widths:
        e = w * expansion
        if e < 1 or e != int(e):
            raise ConfigError(
                f"{key}.expansion={expansion} times width {w} is not a whole channel count; change the "
                "expansion or the widths"
            )
        if channels_per_group is not None and int(e) % channels_per_group:
            raise ConfigError(
                f"{key}.channels_per_group={channels_per_group} does not divide the {int(e)} expanded "
                f"channels of a width-{w} stage; pick widths with width x expansion a multiple of it"
            )


def _check_bf16(key: str, bf16_stages: int, n: int) -> None:
    if not isinstance(bf16_stages, int) or not 0 <= bf16_stages <= n:
        raise ConfigError(f"{key}.bf16_stages={bf16_stages!r} must be an int from 0 to the {n} stages")


def _precision(
    bf16: bool, x: torch.Tensor, dtype: torch.dtype
) -> tuple[contextlib.AbstractContextManager, torch.Tensor]:
    """bf16 autocast for a bf16 stage on CUDA; elsewhere no autocast and ``x`` cast back to the parameters'
    dtype (it may arrive in bf16 from the previous stage)."""
    if bf16 and x.is_cuda:
        return torch.autocast("cuda", dtype=torch.bfloat16), x
    return contextlib.nullcontext(), x.to(dtype)


def _blocks(
    width: int, count: int, expansion: float, channels_per_group: int | None, total: int
) -> list[nn.Module]:
    return [ResidualBlock(width, expansion, channels_per_group, total) for _ in range(count)]


class Generator(nn.Module):
    """R3GAN generator ``G(z, c) -> images [N, img_channels, resolution, resolution]`` (module docstring).

    Args:
        resolution: output size, a power of two >= 4.
        channels: width per stage from 4x4 up (one int for all stages).
        blocks_per_stage: residual blocks per stage (int or per-stage list).
        expansion: inner/outer width ratio of the blocks (2 = inverted bottleneck, 0.25 = 1-3-1 bottleneck).
        channels_per_group: channels per group of the 3x3 conv; None = dense.
        c_embed_dim: width of the class embedding concatenated to z (default ``z_dim``, as the official code).
        output_skips: StyleGAN2-style summed to-RGB outputs of every stage (Table 2's first D row).
        bf16_stages: highest-resolution stages run in bf16 autocast on CUDA.
    """

    def __init__(
        self,
        resolution: int,
        channels: int | Sequence[int],
        z_dim: int = 64,
        c_dim: int = 0,
        img_channels: int = 3,
        blocks_per_stage: int | Sequence[int] = 2,
        expansion: float = 2.0,
        channels_per_group: int | None = 16,
        c_embed_dim: int | None = None,
        output_skips: bool = False,
        bf16_stages: int = 0,
    ):
        super().__init__()
        key = "model.generator"
        n = num_stages(resolution)
        widths = _per_stage(channels, n, f"{key}.channels", resolution)
        blocks = _per_stage(blocks_per_stage, n, f"{key}.blocks_per_stage", resolution)
        _check_blocks(key, widths, expansion, channels_per_group)
        _check_bf16(key, bf16_stages, n)
        if not isinstance(z_dim, int) or z_dim < 1:
            raise ConfigError(f"model.z_dim={z_dim!r} must be a positive int")
        if not isinstance(c_dim, int) or c_dim < 0:
            raise ConfigError(f"model.c_dim={c_dim!r} must be an int >= 0 (0 = unconditional)")
        self.resolution, self.z_dim, self.c_dim, self.img_channels = resolution, z_dim, c_dim, img_channels
        self.widths, self.output_skips = widths, bool(output_skips)
        self.bf16_mask = [i >= n - bf16_stages for i in range(n)]

        c_embed_dim = z_dim if c_embed_dim is None else c_embed_dim
        self.embed = linear(c_dim, c_embed_dim) if c_dim else None
        total = sum(blocks)
        in_features = z_dim + (c_embed_dim if c_dim else 0)
        stages = []
        for i, (w, b) in enumerate(zip(widths, blocks)):
            first = GenerativeBasis(in_features, w) if i == 0 else UpTransition(widths[i - 1], w)
            stages.append(nn.Sequential(first, *_blocks(w, b, expansion, channels_per_group, total)))
        self.stages = nn.ModuleList(stages)
        rgb_stages = range(n) if self.output_skips else [n - 1]
        self.to_rgb = nn.ModuleList(conv2d(widths[i], img_channels, 1) for i in rgb_stages)
        self.upsample_rgb = Upsample2x(img_channels) if self.output_skips else None

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        dtype = self.stages[0][0].basis.dtype
        x = z.to(dtype)
        if self.embed is not None:
            if c is None:
                raise ValueError(f"this generator is class-conditional (c_dim={self.c_dim}): pass one-hot c")
            x = torch.cat([x, self.embed(c.to(dtype))], dim=1)
        img = None
        last = len(self.stages) - 1
        for i, stage in enumerate(self.stages):
            ctx, x = _precision(self.bf16_mask[i], x, dtype)
            rgb = None
            with ctx:
                x = stage(x)
                if self.output_skips or i == last:
                    rgb = self.to_rgb[i if self.output_skips else 0](x)
            if rgb is not None:
                rgb = rgb.to(dtype)
                img = rgb if img is None else self.upsample_rgb(img) + rgb
        return img


class Discriminator(nn.Module):
    """R3GAN discriminator ``D(x, c) -> logits [N]``; mirrors :class:`Generator` (module docstring).

    ``channels`` and ``blocks_per_stage`` are given in the generator's order (4x4 first) so a model config
    shares one list; D runs them from the highest resolution down.
    """

    def __init__(
        self,
        resolution: int,
        channels: int | Sequence[int],
        c_dim: int = 0,
        img_channels: int = 3,
        blocks_per_stage: int | Sequence[int] = 2,
        expansion: float = 2.0,
        channels_per_group: int | None = 16,
        bf16_stages: int = 0,
    ):
        super().__init__()
        key = "model.discriminator"
        n = num_stages(resolution)
        widths = _per_stage(channels, n, f"{key}.channels", resolution)[::-1]
        blocks = _per_stage(blocks_per_stage, n, f"{key}.blocks_per_stage", resolution)[::-1]
        _check_blocks(key, widths, expansion, channels_per_group)
        _check_bf16(key, bf16_stages, n)
        if not isinstance(c_dim, int) or c_dim < 0:
            raise ConfigError(f"model.c_dim={c_dim!r} must be an int >= 0 (0 = unconditional)")
        self.resolution, self.c_dim, self.img_channels = resolution, c_dim, img_channels
        self.widths = widths  # highest resolution first
        self.bf16_mask = [i < bf16_stages for i in range(n)]

        total = sum(blocks)
        self.from_rgb = conv2d(img_channels, widths[0], 1)
        stages = []
        for i, (w, b) in enumerate(zip(widths, blocks)):
            if i < n - 1:
                last = DownTransition(w, widths[i + 1])
            else:
                last = DiscriminativeHead(w, w if c_dim else 1)
            stages.append(nn.Sequential(*_blocks(w, b, expansion, channels_per_group, total), last))
        self.stages = nn.ModuleList(stages)
        self.embed = linear(c_dim, widths[-1], gain=1.0 / math.sqrt(widths[-1])) if c_dim else None

    def features(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """The trunk: every layer up to the head's depthwise 4x4 conv, flattened to ``[N, W]``."""
        dtype = self.from_rgb.weight.dtype
        last = len(self.stages) - 1
        for i, stage in enumerate(self.stages):
            ctx, x = _precision(self.bf16_mask[i], x, dtype)
            with ctx:
                x = self.from_rgb(x) if i == 0 else x
                if i < last:
                    x = stage(x)
                else:
                    x = stage[-1].basis(stage[:-1](x)).flatten(1)
        return x.to(dtype)

    def head(self, h: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """``Linear(W -> 1)``, or ``Linear(W -> W)`` projected on ``embed(c)`` when conditional."""
        x = self.stages[-1][-1].linear(h)
        if self.embed is None:
            return x[:, 0]
        if c is None:
            raise ValueError(f"this discriminator is class-conditional (c_dim={self.c_dim}): pass one-hot c")
        return (x * self.embed(c.to(x.dtype))).sum(dim=1)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x, c), c)
