"""Layers of StyleGAN2 (Karras et al., "Analyzing and Improving the Image Quality of StyleGAN", CVPR 2020),
in pure PyTorch so they run on CPU and support double backprop (R1, path length) without custom CUDA ops.

- Equalised learning rate (Karras et al. 2018, ProGAN Sec. 4.1; StyleGAN2 Appendix B): with ``equalized=True``
  the stored weight is N(0, 1) (divided by the layer's lr multiplier) and the forward pass multiplies it by
  ``lr_multiplier / sqrt(fan_in)``; with ``equalized=False`` the same effective weight N(0, 1 / fan_in) is
  stored directly (He init) and used as is, so both start from the same function and differ only in how an
  optimiser such as Adam sees the parameters. A learning-rate multiplier can only act through the runtime
  scaling, so it is ignored when ``equalized=False``.
- Modulated convolution with demodulation (StyleGAN2 Sec. 2.2, Eqs. 1-3): ``w'_oik = s_i w_oik`` and
  ``w''_oik = w'_oik / sqrt(sum_ik w'_oik^2 + eps)``. It is computed by scaling the activations before and
  after one convolution shared by the batch (``conv(x * s, w) * d``), which equals a grouped convolution with
  one weight per sample (tested); :func:`modulated_weight` builds that explicit per-sample weight.
- Noise inputs (StyleGAN Sec. 3.2): per-pixel N(0, 1) noise, one learned strength per layer, added after the
  convolution and before bias and activation.
- Minibatch standard deviation (ProGAN Sec. 3; StyleGAN2-ADA's group variant): one extra feature map holding
  the standard deviation over a group of samples, averaged over channels and pixels.
- Leaky ReLU(0.2) scaled by sqrt(2) (StyleGAN2's ``lrelu`` gain) after a per-channel bias.
- Resampling by 2 uses the [1, 3, 3, 1] FIR filter with zero padding from :mod:`gan_zoo.models.layers`
  (bilinear in the interior). A x2-up convolution upsamples then convolves; a x2-down 3x3 convolution blurs
  then convolves with stride 2 (both equal the official transposed/strided forms up to border effects,
  since convolutions commute).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gan_zoo.models.layers import Downsample2x, Upsample2x, fir_kernel

LRELU_SLOPE = 0.2
#: StyleGAN2's output gain of its leaky ReLU.
LRELU_GAIN = math.sqrt(2.0)
EPS = 1e-8


def lrelu(x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
    """``leaky_relu(x, 0.2) * sqrt(2) * gain``."""
    return F.leaky_relu(x, LRELU_SLOPE) * (LRELU_GAIN * gain)


def normalize_2nd_moment(x: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """Scale each row to unit mean square (StyleGAN's normalisation of z and of the label embedding)."""
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


def equalized_weight(
    shape: tuple[int, ...], equalized: bool, lr_multiplier: float = 1.0
) -> tuple[nn.Parameter, float]:
    """A weight parameter and its runtime gain, such that ``param * gain`` ~ N(0, 1 / fan_in) at init."""
    fan_in = math.prod(shape[1:])
    if equalized:
        return nn.Parameter(torch.randn(shape) / lr_multiplier), lr_multiplier / math.sqrt(fan_in)
    return nn.Parameter(torch.randn(shape) / math.sqrt(fan_in)), 1.0


class FullyConnected(nn.Module):
    """Linear layer with optional equalised lr, lr multiplier, bias init and leaky-ReLU activation."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        bias_init: float = 0.0,
        lr_multiplier: float = 1.0,
        activation: str = "linear",
        equalized: bool = True,
    ):
        super().__init__()
        self.activation = activation
        lr_mult = lr_multiplier if equalized else 1.0
        self.weight, self.weight_gain = equalized_weight((out_features, in_features), equalized, lr_mult)
        self.bias = nn.Parameter(torch.full((out_features,), bias_init / lr_mult)) if bias else None
        self.bias_gain = lr_mult

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.bias * self.bias_gain if self.bias is not None else None
        x = F.linear(x, self.weight * self.weight_gain, bias)
        return lrelu(x) if self.activation == "lrelu" else x


def blur_for_strided_conv(x: torch.Tensor, kernel: torch.Tensor, conv_size: int) -> torch.Tensor:
    """Low-pass ``x`` with the FIR ``kernel`` [C, 1, k, k], padded so that a following ``conv_size``
    convolution with stride 2 and no padding gives exactly H/2 (StyleGAN2's blur-then-stride down conv)."""
    pad = kernel.shape[-1] + conv_size - 3
    x = F.pad(x, [pad // 2, pad - pad // 2] * 2)
    return F.conv2d(x, kernel.to(x.dtype), groups=x.shape[1])


class Conv2dLayer(nn.Module):
    """'Same' convolution with optional x2 up/down FIR resampling, bias, activation and equalised lr.

    ``forward(x, gain)`` multiplies the activation output by ``gain`` (StyleGAN2's sqrt(0.5) on residual
    branches)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        bias: bool = True,
        activation: str = "lrelu",
        up: bool = False,
        down: bool = False,
        equalized: bool = True,
    ):
        super().__init__()
        self.activation, self.kernel_size, self.down = activation, kernel_size, down
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.weight, self.weight_gain = equalized_weight(shape, equalized)
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.upsample = Upsample2x(in_channels) if up else None
        self.downsample = Downsample2x(in_channels) if down and kernel_size == 1 else None
        if down and kernel_size > 1:
            self.register_buffer(
                "blur", fir_kernel().expand(in_channels, 1, 4, 4).contiguous(), persistent=False
            )

    def forward(self, x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
        w = self.weight * self.weight_gain
        if self.upsample is not None:
            x = self.upsample(x)
        if self.downsample is not None:
            x = F.conv2d(self.downsample(x), w)
        elif self.down:
            x = F.conv2d(blur_for_strided_conv(x, self.blur, self.kernel_size), w, stride=2)
        else:
            x = F.conv2d(x, w, padding=self.kernel_size // 2)
        if self.bias is not None:
            x = x + self.bias.view(1, -1, 1, 1)
        return lrelu(x, gain) if self.activation == "lrelu" else x * gain


def modulated_weight(weight: torch.Tensor, styles: torch.Tensor, demodulate: bool = True) -> torch.Tensor:
    """Per-sample weights ``[N, O, I, k, k]``: ``weight`` [O, I, k, k] scaled by ``styles`` [N, I] on its
    input channels and, with ``demodulate``, each output feature map's weight rescaled to unit L2 norm
    (Eq. 3)."""
    w = weight.unsqueeze(0) * styles[:, None, :, None, None]
    if demodulate:
        w = w * (w.square().sum(dim=(2, 3, 4), keepdim=True) + EPS).rsqrt()
    return w


def modulated_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    styles: torch.Tensor,
    demodulate: bool = True,
    upsample: nn.Module | None = None,
) -> torch.Tensor:
    """'Same' convolution of ``x`` [N, I, H, W] with :func:`modulated_weight` (optionally after x2
    upsampling), done as ``conv(x * s, w) * d`` with the demodulation coefficients
    ``d_no = (sum_i s_ni^2 sum_k w_oik^2 + eps)^(-1/2)``: one convolution for the whole batch."""
    x = x * styles[:, :, None, None]
    if upsample is not None:
        x = upsample(x)
    x = F.conv2d(x, weight, padding=weight.shape[-1] // 2)
    if demodulate:
        dcoefs = (styles.square() @ weight.square().sum(dim=(2, 3)).t() + EPS).rsqrt()  # [N, O]
        x = x * dcoefs[:, :, None, None]
    return x


class SynthesisLayer(nn.Module):
    """One 3x3 layer of the synthesis network: (x2 up), conv, noise, bias, leaky ReLU.

    With ``style=True`` the conv is modulated by ``affine(w)`` (bias init 1, Sec. 2.2) and demodulated if
    ``demodulate``; with ``style=False`` it is a plain conv and ``w`` is ignored. ``noise=True`` adds
    per-pixel noise with a learned strength (init 0); ``noise_mode`` 'random' draws it, 'const' uses a fixed
    buffer, 'none' skips it."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        w_dim: int,
        resolution: int,
        up: bool = False,
        style: bool = True,
        demodulate: bool = True,
        noise: bool = True,
        equalized: bool = True,
    ):
        super().__init__()
        self.resolution, self.demodulate = resolution, demodulate
        self.affine = (
            FullyConnected(w_dim, in_channels, bias_init=1.0, equalized=equalized) if style else None
        )
        self.weight, self.weight_gain = equalized_weight((out_channels, in_channels, 3, 3), equalized)
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.upsample = Upsample2x(in_channels) if up else None
        if noise:
            self.noise_strength = nn.Parameter(torch.zeros([]))
            self.register_buffer("noise_const", torch.randn(resolution, resolution))
        else:
            self.noise_strength = None

    def forward(self, x: torch.Tensor, w: torch.Tensor | None, noise_mode: str = "random") -> torch.Tensor:
        weight = self.weight * self.weight_gain
        if self.affine is not None:
            x = modulated_conv2d(x, weight, self.affine(w), self.demodulate, self.upsample)
        else:
            x = self.upsample(x) if self.upsample is not None else x
            x = F.conv2d(x, weight, padding=1)
        if self.noise_strength is not None and noise_mode != "none":
            if noise_mode == "const":
                noise = self.noise_const.to(x.dtype)
            else:
                noise = torch.randn(x.shape[0], 1, x.shape[2], x.shape[3], device=x.device, dtype=x.dtype)
            x = x + noise * self.noise_strength
        return lrelu(x + self.bias.view(1, -1, 1, 1))


class ToRGB(nn.Module):
    """1x1 conv to image channels, modulated but not demodulated when ``style`` (Sec. 2.2), linear output."""

    def __init__(
        self, in_channels: int, img_channels: int, w_dim: int, style: bool = True, equalized: bool = True
    ):
        super().__init__()
        self.affine = (
            FullyConnected(w_dim, in_channels, bias_init=1.0, equalized=equalized) if style else None
        )
        self.weight, self.weight_gain = equalized_weight((img_channels, in_channels, 1, 1), equalized)
        self.bias = nn.Parameter(torch.zeros(img_channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
        weight = self.weight * self.weight_gain
        if self.affine is not None:
            x = modulated_conv2d(x, weight, self.affine(w), demodulate=False)
        else:
            x = F.conv2d(x, weight)
        return x + self.bias.view(1, -1, 1, 1)


def mbstd_group(batch: int, group_size: int | None) -> int:
    """The group size actually used: the largest divisor of ``batch`` not above ``group_size`` (whole batch
    when None), so any batch size works (StyleGAN2-ADA requires divisibility)."""
    g = batch if group_size is None else min(group_size, batch)
    while batch % g:
        g -= 1
    return g


class MinibatchStd(nn.Module):
    """Append ``num_channels`` feature maps: for each group of samples, the standard deviation of each feature
    over the group (sqrt(var + 1e-8), biased), averaged over the channels of that slice and all pixels.

    Groups are strided: with G samples per group and n = N / G groups, sample i is in group ``i mod n``."""

    def __init__(self, group_size: int | None = 4, num_channels: int = 1):
        super().__init__()
        self.group_size, self.num_channels = group_size, num_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g, f = mbstd_group(n, self.group_size), self.num_channels
        y = x.reshape(g, -1, f, c // f, h, w)
        y = (y - y.mean(dim=0)).square().mean(dim=0)
        y = (y + EPS).sqrt().mean(dim=(2, 3, 4))  # [n/g, F]
        y = y.reshape(-1, f, 1, 1).repeat(g, 1, h, w)
        return torch.cat([x, y], dim=1)
