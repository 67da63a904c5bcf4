"""Building blocks of the R3GAN networks (Huang et al., "The GAN is dead; long live the GAN! A Modern GAN
Baseline", NeurIPS 2024, arXiv 2501.05441, Sec. 3 and Appendix).

- Weights are drawn from N(0, g^2 / fan_in) once at construction (no runtime equalised learning rate, no
  normalisation layers); convolutions and linear layers carry no bias: every bias lives in
  :class:`BiasedLeakyReLU`, the activation that follows a convolution.
- Residual blocks use fix-up initialisation (Zhang et al., ICLR 2019, as adopted in Sec. 3.2 of the paper):
  the two inner convolutions get gain ``sqrt(2 / (1 + 0.2^2)) * L^(-1/4)`` (``L`` = residual blocks in the
  network, ``-1/(2m - 2)`` with ``m = 3`` layers per block) and the last convolution starts at zero, so at
  initialisation every block is the identity.
- Resampling by 2 uses the separable FIR filter [1, 3, 3, 1] (outer product, normalised to sum 1) with the
  zero padding of StyleGAN2's ``upfirdn2d``; in the interior this equals bilinear interpolation
  (align_corners=False; the antialiased variant for downsampling), at the borders it treats the outside as
  zero.

Why resampling is written here with ``conv2d`` / ``conv_transpose2d`` instead of a library op: torch has no
``upfirdn2d``; ``F.interpolate(mode="bilinear")`` matches the filter in the interior but clamps (upsampling)
or renormalises (antialiased downsampling) at the borders, and plain bilinear downsampling by 0.5 is a 2x2
box filter, not [1, 3, 3, 1]; kornia's pyramid ops use a 5-tap Gaussian. A fixed depthwise kernel with
stride 2 and padding 1 reproduces the paper's resampler exactly, supports double backprop (R1/R2) and
channels_last.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gan_zoo.errors import ConfigError
from gan_zoo.models.grouped_conv import grouped_conv2d

LEAKY_SLOPE = 0.2
#: He et al. gain of leaky ReLU(0.2): sqrt(2 / (1 + slope^2)).
ACTIVATION_GAIN = math.sqrt(2.0 / (1.0 + LEAKY_SLOPE**2))


def fan_in(weight: torch.Tensor) -> int:
    """Inputs feeding one output unit: in_features (linear), (in_channels / groups) * kh * kw (conv)."""
    return weight.shape[1] * math.prod(weight.shape[2:])


@torch.no_grad()
def init_weight_(weight: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
    """In place: N(0, gain^2 / fan_in) (He/MSR init); gain 0 gives zeros. Works on the meta device (no-op)."""
    if gain == 0:
        return weight.zero_()
    return weight.normal_(0.0, gain / math.sqrt(fan_in(weight)))


class GroupedConv2d(nn.Conv2d):
    """``nn.Conv2d`` (no bias, stride 1) whose grouped forward goes through
    :func:`gan_zoo.models.grouped_conv.grouped_conv2d`: the same function, with a backward that stays grouped
    under double backprop (R1/R2). Same parameters and state_dict keys as ``nn.Conv2d``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.bias is not None or self.stride != (1, 1) or self.padding_mode != "zeros":
            return super().forward(x)
        return grouped_conv2d(x, self.weight, 1, self.padding[0], self.groups)


def conv2d(
    in_channels: int, out_channels: int, kernel_size: int, groups: int = 1, gain: float = 1.0
) -> nn.Conv2d:
    """A bias-free, 'same'-padded convolution initialised with :func:`init_weight_` (grouped ones are a
    :class:`GroupedConv2d`)."""
    conv = GroupedConv2d(
        in_channels, out_channels, kernel_size, padding=(kernel_size - 1) // 2, groups=groups, bias=False
    )
    init_weight_(conv.weight, gain)
    return conv


def linear(in_features: int, out_features: int, gain: float = 1.0) -> nn.Linear:
    """A bias-free linear layer initialised with :func:`init_weight_`."""
    layer = nn.Linear(in_features, out_features, bias=False)
    init_weight_(layer.weight, gain)
    return layer


class BiasedLeakyReLU(nn.Module):
    """``leaky_relu(x + b, 0.2)`` with a per-channel bias ``b`` initialised to zero (no output gain)."""

    def __init__(self, channels: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (1, -1) + (1,) * (x.ndim - 2)
        return F.leaky_relu(x + self.bias.to(x.dtype).view(shape), LEAKY_SLOPE)


def log2_resolution(resolution: object, family: str) -> int:
    """log2 of a model resolution; a one-line ConfigError unless it is a power of two >= 4 (both R3GAN and
    StyleGAN2 start at 4x4 and double per stage)."""
    ok = isinstance(resolution, int) and not isinstance(resolution, bool) and resolution >= 4
    if not ok or resolution & (resolution - 1):
        raise ConfigError(
            f"model.resolution={resolution!r} is not a power of two >= 4 ({family} doubles 4x4 per stage); "
            "set dataset.resolution / model.resolution to 4, 8, 16, 32, 64, ..."
        )
    return int(math.log2(resolution))


def fir_kernel(taps: tuple[float, ...] = (1.0, 3.0, 3.0, 1.0)) -> torch.Tensor:
    """The separable 2-D FIR kernel ``outer(taps, taps) / sum``, shape ``[len, len]``."""
    t = torch.tensor(taps, dtype=torch.float32)
    k = torch.outer(t, t)
    return k / k.sum()


class Upsample2x(nn.Module):
    """x2 upsampling by zero insertion and the [1, 3, 3, 1] filter (gain 4 keeps the mean), like StyleGAN2's
    ``upsample2d``: ``conv_transpose2d`` with stride 2 and padding 1 gives exactly ``2H x 2W``."""

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels
        kernel = (4.0 * fir_kernel()).expand(channels, 1, 4, 4).contiguous()
        self.register_buffer("kernel", kernel, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv_transpose2d(x, self.kernel.to(x.dtype), stride=2, padding=1, groups=self.channels)


class Downsample2x(nn.Module):
    """x2 downsampling: the [1, 3, 3, 1] filter then every second pixel (StyleGAN2's ``downsample2d``), as a
    depthwise ``conv2d`` with stride 2 and padding 1, giving ``H/2 x W/2``."""

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels
        kernel = fir_kernel().expand(channels, 1, 4, 4).contiguous()
        self.register_buffer("kernel", kernel, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # grouped_conv2d: the same conv, whose backward stays depthwise under R1/R2's double backprop.
        return grouped_conv2d(x, self.kernel.to(x.dtype), 2, 1, self.channels)


class ResidualBlock(nn.Module):
    """``x + conv1x1(act(conv3x3(act(conv1x1(x)))))`` with ``C -> E -> E -> C``, ``E = expansion * C``.

    One class covers the roadmap rows of the paper's Table 2: config D's 1-3-1 bottleneck (expansion 0.25,
    dense 3x3, ``channels_per_group=None``), config E's grouped bottleneck (expansion 0.5, 16 channels per
    group) and its inverted bottleneck (expansion 2, the final R3GAN block). Fix-up init (module docstring).
    """

    def __init__(self, channels: int, expansion: float, channels_per_group: int | None, total_blocks: int):
        super().__init__()
        expanded = channels * expansion
        if expanded != int(expanded) or expanded < 1:
            raise ValueError(
                f"expansion {expansion} x {channels} channels is not a positive whole channel count"
            )
        expanded = int(expanded)
        groups = 1 if channels_per_group is None else expanded // channels_per_group
        if channels_per_group is not None and groups * channels_per_group != expanded:
            raise ValueError(
                f"{expanded} expanded channels are not divisible by {channels_per_group} per group"
            )
        gain = ACTIVATION_GAIN * total_blocks ** (-1.0 / 4.0)
        self.expand = conv2d(channels, expanded, 1, gain=gain)
        self.act1 = BiasedLeakyReLU(expanded)
        self.spatial = conv2d(expanded, expanded, 3, groups=groups, gain=gain)
        self.act2 = BiasedLeakyReLU(expanded)
        self.project = conv2d(expanded, channels, 1, gain=0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.spatial(self.act1(self.expand(x)))
        return x + self.project(self.act2(y))


class UpTransition(nn.Module):
    """Generator transition between stages: a 1x1 conv if the width changes, then x2 upsampling."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = conv2d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()
        self.resample = Upsample2x(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.resample(self.conv(x))


class DownTransition(nn.Module):
    """Discriminator transition between stages: x2 downsampling, then a 1x1 conv if the width changes."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.resample = Downsample2x(in_channels)
        self.conv = conv2d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.resample(x))


class GenerativeBasis(nn.Module):
    """G's input layer: a learned basis ``[C, 4, 4]`` ~ N(0, 1), each channel scaled by ``Linear(z')``."""

    def __init__(self, in_features: int, channels: int):
        super().__init__()
        self.basis = nn.Parameter(torch.empty(channels, 4, 4).normal_(0.0, 1.0))
        self.scale = linear(in_features, channels)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.basis.unsqueeze(0) * self.scale(z)[:, :, None, None]


class DiscriminativeHead(nn.Module):
    """D's output layer on the 4x4 features: a depthwise 4x4 conv (no padding) then ``Linear(C -> out)``."""

    def __init__(self, channels: int, out_features: int):
        super().__init__()
        self.basis = GroupedConv2d(channels, channels, 4, groups=channels, bias=False)
        init_weight_(self.basis.weight)
        self.linear = linear(channels, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.basis(x).flatten(1))
