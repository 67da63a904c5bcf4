"""StyleGAN2 generator and discriminator for rows A and B of R3GAN's roadmap, one code with flags.

Row A is StyleGAN2 (Karras et al., "Analyzing and Improving the Image Quality of StyleGAN", CVPR 2020,
Sec. 2-4) in the official FFHQ-256 setting ("paper256" of StyleGAN2-ADA: channel_base 16384, channel_max 512,
8 mapping layers, minibatch-stddev group 8): G 24.767M / D 24.001M parameters. Row B is R3GAN's "stripped
StyleGAN2" (Huang et al., "The GAN is dead; long live the GAN! A Modern GAN Baseline", NeurIPS 2024, Sec. 3,
Table 2): G 18.890M / D 23.996M. Each of B's removals is one flag:

=============================  =====================================  ==================================
removed in B                   flag (model config)                    A -> B
=============================  =====================================  ==================================
z normalisation                ``normalize_z``                        true -> false
minibatch stddev               ``mbstd_num_channels`` (D)             1 -> 0
equalised learning rate        ``equalized_lr`` (G and D)             true -> false
mapping network                ``mapping_layers``                     8 -> 0
style injection                ``style_injection``                    true -> false
modulation / demodulation      ``demodulate``                         true -> false
noise injection                ``noise_injection``                    true -> false
mixing regularisation          ``style_mixing_prob``                  0.9 -> 0
path-length reg., lazy reg.    regularizer config, not the model      (conf/regularizer)
=============================  =====================================  ==================================

and ``z_dim`` 512 -> 64. Shared by both: a 4x4 constant input, G output skips (to-RGB outputs of every
resolution upsampled and summed), x2 FIR [1, 3, 3, 1] (bilinear) resampling, leaky ReLU(0.2), no tanh, no
normalisation layers, a ResNet D (residual blocks with a 1x1 down skip, both branches scaled by sqrt(0.5)).

How z enters G without style injection (row B): the 4x4 constant is scaled per channel by a bias-free
``Linear(z -> C_4)``. The official R3GAN code has no row B; this form is inferred from Table 2's count: the
stripped synthesis network alone has 18,857,685 parameters and Table 2 says 18.890M, leaving 31.8k-32.8k
for z's entry: a bias-free 64 -> 512 linear layer (32,768) fits; with a bias (33,280) it rounds to 18.891M.
The per-channel scaling of the constant is the input layer R3GAN keeps in its later rows (its "generative
basis"). This gives 18,890,453.

Conditioning (presets are unconditional): G concatenates ``embed(c)`` to z before the mapping network
(StyleGAN2-ADA; both normalised when ``normalize_z``); D is a projection discriminator (output ``cmap_dim``
features, inner product with ``embed(c)`` scaled by ``1/sqrt(cmap_dim)``).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gan_zoo.errors import ConfigError
from gan_zoo.models.layers import Upsample2x, log2_resolution
from gan_zoo.models.stylegan2_layers import (
    Conv2dLayer,
    FullyConnected,
    MinibatchStd,
    SynthesisLayer,
    ToRGB,
    normalize_2nd_moment,
)


def check_resolution(resolution: object) -> int:
    """log2 of ``resolution``; a ConfigError unless it is a power of two >= 4."""
    return log2_resolution(resolution, "StyleGAN2")


def channels_at(resolution: int, channel_base: int, channel_max: int) -> int:
    """StyleGAN2's width rule: ``min(channel_base // resolution, channel_max)``."""
    return min(channel_base // resolution, channel_max)


def _check(key: str, value: object, ok: bool, expected: str) -> None:
    if not ok:
        raise ConfigError(f"{key}={value!r} is invalid: {expected}")


class MappingNetwork(nn.Module):
    """z (+ label embedding) -> w: optional 2nd-moment normalisation, then ``num_layers`` leaky-ReLU FC layers
    with lr multiplier 0.01 (StyleGAN Sec. 2). With ``num_layers=0`` it returns the (normalised) input, whose
    width ``out_dim`` is then ``z_dim`` (+ embedding width)."""

    def __init__(
        self,
        z_dim: int,
        c_dim: int,
        w_dim: int,
        num_layers: int,
        normalize_z: bool,
        lr_multiplier: float,
        equalized: bool,
    ):
        super().__init__()
        self.c_dim, self.normalize_z = c_dim, normalize_z
        embed_dim = (w_dim if num_layers else z_dim) if c_dim else 0
        self.embed = FullyConnected(c_dim, embed_dim, equalized=equalized) if c_dim else None
        dims = [z_dim + embed_dim] + [w_dim] * num_layers
        self.layers = nn.Sequential(
            *(
                FullyConnected(a, b, activation="lrelu", lr_multiplier=lr_multiplier, equalized=equalized)
                for a, b in zip(dims[:-1], dims[1:])
            )
        )
        self.out_dim = dims[-1]

    def forward(self, z: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        x = normalize_2nd_moment(z) if self.normalize_z else z
        if self.embed is not None:
            if c is None:
                raise ValueError(f"this generator is class-conditional (c_dim={self.c_dim}): pass one-hot c")
            y = self.embed(c.to(z.dtype))
            x = torch.cat([x, normalize_2nd_moment(y) if self.normalize_z else y], dim=1)
        return self.layers(x)


class SynthesisBlock(nn.Module):
    """One resolution of the skip generator: (x2-up conv), conv, to-RGB; consumes ``num_conv + 1`` ws (the
    to-RGB layer shares the next block's first w, as in StyleGAN2)."""

    def __init__(self, in_channels: int, out_channels: int, resolution: int, img_channels: int, **layer_kw):
        super().__init__()
        self.conv0 = (
            SynthesisLayer(in_channels, out_channels, resolution=resolution, up=True, **layer_kw)
            if in_channels
            else None
        )
        self.conv1 = SynthesisLayer(out_channels, out_channels, resolution=resolution, **layer_kw)
        kw = {k: layer_kw[k] for k in ("w_dim", "style", "equalized")}
        self.torgb = ToRGB(out_channels, img_channels, **kw)
        self.num_conv = 2 if in_channels else 1

    def forward(self, x, img, ws, noise_mode):
        w = [None] * 3 if ws is None else ws.unbind(dim=1)
        if self.conv0 is not None:
            x = self.conv0(x, w[0], noise_mode)
        x = self.conv1(x, w[self.num_conv - 1], noise_mode)
        return x, self.torgb(x, w[self.num_conv])


class SynthesisNetwork(nn.Module):
    """ws [N, num_ws, w_dim] -> image. With style injection every layer takes its own w; without, ``num_ws``
    is 1 and that one latent scales the 4x4 constant per channel (module docstring)."""

    def __init__(
        self,
        resolution: int,
        img_channels: int,
        w_dim: int,
        channel_base: int,
        channel_max: int,
        style_injection: bool,
        demodulate: bool,
        noise_injection: bool,
        equalized: bool,
    ):
        super().__init__()
        self.resolutions = [2**i for i in range(2, check_resolution(resolution) + 1)]
        ch = {r: channels_at(r, channel_base, channel_max) for r in self.resolutions}
        self.style_injection = style_injection
        self.noise_mode = "random"
        self.const = nn.Parameter(torch.randn(ch[4], 4, 4))
        self.input_scale = (
            None if style_injection else FullyConnected(w_dim, ch[4], bias=False, equalized=equalized)
        )
        layer_kw = dict(
            w_dim=w_dim,
            style=style_injection,
            demodulate=demodulate,
            noise=noise_injection,
            equalized=equalized,
        )
        self.blocks = nn.ModuleList(
            SynthesisBlock(ch[r // 2] if r > 4 else 0, ch[r], r, img_channels, **layer_kw)
            for r in self.resolutions
        )
        self.upsample_rgb = Upsample2x(img_channels)
        self.num_ws = sum(b.num_conv for b in self.blocks) + 1 if style_injection else 1

    def forward(self, ws: torch.Tensor) -> torch.Tensor:
        x = self.const.unsqueeze(0).to(ws.dtype)
        if self.input_scale is None:
            x = x.expand(ws.shape[0], -1, -1, -1)
        else:
            x = x * self.input_scale(ws[:, 0])[:, :, None, None]
        img, idx = None, 0
        for block in self.blocks:
            block_ws = ws[:, idx : idx + block.num_conv + 1] if self.style_injection else None
            idx += block.num_conv
            x, rgb = block(x, img, block_ws, self.noise_mode)
            img = rgb if img is None else self.upsample_rgb(img) + rgb
        return img


class Generator(nn.Module):
    """StyleGAN2 skip generator ``G(z, c) -> images [N, img_channels, R, R]`` (flags: module docstring).

    ``G.map_latents(z, c)`` gives ws [N, num_ws, w_dim] (with style mixing in training mode) and
    ``G.synthesis(ws)`` the image; the path-length regulariser differentiates through both.
    ``G.synthesis.noise_mode`` ('random', 'const', 'none') selects the noise inputs.
    """

    def __init__(
        self,
        resolution: int,
        z_dim: int = 512,
        c_dim: int = 0,
        img_channels: int = 3,
        w_dim: int = 512,
        channel_base: int = 16384,
        channel_max: int = 512,
        mapping_layers: int = 8,
        mapping_lr_multiplier: float = 0.01,
        normalize_z: bool = True,
        style_injection: bool = True,
        demodulate: bool = True,
        noise_injection: bool = True,
        style_mixing_prob: float = 0.9,
        equalized_lr: bool = True,
    ):
        super().__init__()
        key = "model.generator"
        check_resolution(resolution)
        _check("model.z_dim", z_dim, isinstance(z_dim, int) and z_dim >= 1, "a positive int")
        _check("model.c_dim", c_dim, isinstance(c_dim, int) and c_dim >= 0, "an int >= 0 (0 = unconditional)")
        _check(
            f"{key}.mapping_layers",
            mapping_layers,
            isinstance(mapping_layers, int) and mapping_layers >= 0,
            "an int >= 0",
        )
        _check(
            f"{key}.demodulate",
            demodulate,
            not demodulate or style_injection,
            "demodulation needs style_injection=true (it normalises the modulated weights)",
        )
        _check(
            f"{key}.style_mixing_prob",
            style_mixing_prob,
            0 <= style_mixing_prob <= 1 and (style_mixing_prob == 0 or style_injection),
            "a probability in [0, 1], and 0 unless style_injection=true (mixing swaps per-layer styles)",
        )
        self.resolution, self.z_dim, self.c_dim, self.img_channels = resolution, z_dim, c_dim, img_channels
        self.style_mixing_prob = float(style_mixing_prob)
        self.mapping = MappingNetwork(
            z_dim, c_dim, w_dim, mapping_layers, normalize_z, mapping_lr_multiplier, equalized_lr
        )
        self.w_dim = self.mapping.out_dim
        self.synthesis = SynthesisNetwork(
            resolution,
            img_channels,
            self.w_dim,
            channel_base,
            channel_max,
            style_injection,
            demodulate,
            noise_injection,
            equalized_lr,
        )
        self.num_ws = self.synthesis.num_ws

    def map_latents(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """ws [N, num_ws, w_dim]: w broadcast to every layer. In training mode, with probability
        ``style_mixing_prob`` the layers from a random cutoff in [1, num_ws) on take w of a second z
        (mixing regularisation, StyleGAN Sec. 3.1; one cutoff per batch as the official code)."""
        ws = self.mapping(z, c).unsqueeze(1).expand(-1, self.num_ws, -1)
        if self.training and self.num_ws > 1 and self.style_mixing_prob > 0:
            if torch.rand(()).item() < self.style_mixing_prob:
                cutoff = int(torch.randint(1, self.num_ws, ()).item())
                ws2 = self.mapping(torch.randn_like(z), c).unsqueeze(1).expand(-1, self.num_ws, -1)
                ws = torch.cat([ws[:, :cutoff], ws2[:, cutoff:]], dim=1)
        return ws

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.synthesis(self.map_latents(z, c))


class DiscriminatorBlock(nn.Module):
    """ResNet D block (StyleGAN2 Sec. 4.1, Fig. 7c): ``(skip(x) + conv1(conv0(x))) * sqrt(0.5)`` with a 3x3
    conv, a x2-down 3x3 conv and a bias-free x2-down 1x1 skip."""

    def __init__(self, in_channels: int, out_channels: int, equalized: bool):
        super().__init__()
        self.conv0 = Conv2dLayer(in_channels, in_channels, 3, equalized=equalized)
        self.conv1 = Conv2dLayer(in_channels, out_channels, 3, down=True, equalized=equalized)
        self.skip = Conv2dLayer(
            in_channels, out_channels, 1, bias=False, activation="linear", down=True, equalized=equalized
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gain = math.sqrt(0.5)
        return self.skip(x, gain) + self.conv1(self.conv0(x), gain)


class Discriminator(nn.Module):
    """StyleGAN2 ResNet discriminator ``D(x, c) -> logits [N]``: from-RGB 1x1, one block per resolution down
    to 4x4, then (minibatch stddev), 3x3 conv, FC, FC to 1 (or to ``cmap_dim`` for a projection with
    embed(c))."""

    def __init__(
        self,
        resolution: int,
        c_dim: int = 0,
        img_channels: int = 3,
        channel_base: int = 16384,
        channel_max: int = 512,
        mbstd_group_size: int | None = 4,
        mbstd_num_channels: int = 1,
        equalized_lr: bool = True,
        cmap_dim: int | None = None,
    ):
        super().__init__()
        key = "model.discriminator"
        log2 = check_resolution(resolution)
        _check("model.c_dim", c_dim, isinstance(c_dim, int) and c_dim >= 0, "an int >= 0 (0 = unconditional)")
        ch = {2**i: channels_at(2**i, channel_base, channel_max) for i in range(2, log2 + 1)}
        _check(
            f"{key}.mbstd_num_channels",
            mbstd_num_channels,
            isinstance(mbstd_num_channels, int)
            and mbstd_num_channels >= 0
            and ch[4] % max(mbstd_num_channels, 1) == 0,
            f"an int >= 0 dividing the {ch[4]} channels at 4x4 (0 = no minibatch stddev)",
        )
        _check(
            f"{key}.mbstd_group_size",
            mbstd_group_size,
            mbstd_group_size is None or mbstd_group_size >= 1,
            "a positive int or null (whole batch)",
        )
        self.resolution, self.c_dim, self.img_channels = resolution, c_dim, img_channels
        eq = equalized_lr
        self.fromrgb = Conv2dLayer(img_channels, ch[resolution], 1, equalized=eq)
        self.blocks = nn.Sequential(
            *(DiscriminatorBlock(ch[2**i], ch[2 ** (i - 1)], eq) for i in range(log2, 2, -1))
        )
        c4 = ch[4]
        self.mbstd = MinibatchStd(mbstd_group_size, mbstd_num_channels) if mbstd_num_channels else None
        self.conv = Conv2dLayer(c4 + mbstd_num_channels, c4, 3, equalized=eq)
        self.fc = FullyConnected(c4 * 16, c4, activation="lrelu", equalized=eq)
        self.cmap_dim = (cmap_dim or c4) if c_dim else 0
        self.out = FullyConnected(c4, self.cmap_dim or 1, equalized=eq)
        self.embed = FullyConnected(c_dim, self.cmap_dim, equalized=eq) if c_dim else None

    def features(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """The trunk: from-RGB, the blocks, (minibatch stddev), the 3x3 conv and the first FC: ``[N, C_4]``."""
        x = self.blocks(self.fromrgb(x))
        if self.mbstd is not None:
            x = self.mbstd(x)
        return self.fc(self.conv(x).flatten(1))

    def head(self, h: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """The last FC, to 1 logit or to ``cmap_dim`` projected on ``embed(c)``."""
        x = self.out(h)
        if self.embed is None:
            return x[:, 0]
        if c is None:
            raise ValueError(f"this discriminator is class-conditional (c_dim={self.c_dim}): pass one-hot c")
        return (x * self.embed(c.to(x.dtype))).sum(dim=1) / math.sqrt(self.cmap_dim)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x, c), c)
