"""Building blocks of BigGAN and BigGAN-deep (Brock, Donahue, Simonyan, ICLR 2019, arXiv 1809.11096, Sec. 3
and App. B, Fig. 15/16), the SA-GAN self-attention block (Zhang et al., ICML 2019, Sec. 3) and the
projection discriminator's conditioning (Miyato & Koyama, ICLR 2018, Eq. 3).

- Spectral normalisation (Miyato et al., ICLR 2018) on every conv and linear of G and D and on D's class
  embedding, through ``torch.nn.utils.parametrizations.spectral_norm`` (one power iteration per forward in
  train mode, none in eval mode, so evaluating a network never moves its u/v vectors). G's shared class
  embedding is deliberately *not* normalised (BigGAN-PyTorch notes that SN there cripples G).
- Class-conditional BatchNorm (de Vries et al. 2017; BigGAN Sec. 3): BatchNorm without its own affine, then
  per sample ``gain = 1 + W_g y`` and ``bias = W_b y``, with ``W_g, W_b`` bias-free SN-linear maps of the
  block's condition vector ``y = [shared embedding, z chunk]`` ("shared embedding"), or per-class tables
  ``y = one-hot(c)`` (the ablation without it, Table 1 rows 1-5).
- Conditions are float matrices: a one-hot ``c`` selects table rows, and a blend of two one-hots blends the
  rows, which is class-embedding interpolation (Fig. 8/9) for free.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


def sn(module: nn.Module, eps: float = 1e-12) -> nn.Module:
    """Mark ``module`` for spectral normalisation; :func:`apply_spectral_norm_` wraps it once the network is
    built and initialised, so torch's 15 initial power iterations see the final weights."""
    module.sn_eps = float(eps)
    return module


def apply_spectral_norm_(net: nn.Module) -> nn.Module:
    """In place: every module marked by :func:`sn` gets a spectrally normalised weight (one power iteration
    per training forward, ``torch.nn.utils.parametrizations.spectral_norm``)."""
    for module in list(net.modules()):
        eps = module.__dict__.pop("sn_eps", None)
        if eps is not None:
            spectral_norm(module, n_power_iterations=1, eps=eps)
    return net


def sn_conv(cin: int, cout: int, kernel: int = 3, bias: bool = True, eps: float = 1e-12) -> nn.Module:
    return sn(nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=bias), eps)


def sn_linear(fin: int, fout: int, bias: bool = True, eps: float = 1e-12) -> nn.Module:
    return sn(nn.Linear(fin, fout, bias=bias), eps)


def embed_rows(table: nn.Embedding, c: torch.Tensor) -> torch.Tensor:
    """``c @ table.weight``: the rows a one-hot ``c`` selects (its blend for a soft ``c``)."""
    return c.to(table.weight.dtype) @ table.weight


class ConditionalBatchNorm2d(nn.Module):
    """``BN(x) * (1 + gain(y)) + bias(y)`` (module docstring).

    ``cond_dim > 0``: gain/bias are bias-free SN-linear maps of ``y [N, cond_dim]`` (shared embedding);
    ``num_classes > 0``: per-class tables indexed by a one-hot ``y [N, num_classes]``; neither: an ordinary
    BatchNorm with learned affine (an unconditional G without skip-z)."""

    def __init__(self, channels: int, cond_dim: int = 0, num_classes: int = 0, eps: float = 1e-5,
                 sn_eps: float = 1e-12) -> None:
        super().__init__()
        self.channels, self.cond_dim, self.num_classes = channels, int(cond_dim), int(num_classes)
        self.bn = nn.BatchNorm2d(channels, eps=eps, affine=not (cond_dim or num_classes))
        if self.cond_dim:
            self.gain = sn_linear(self.cond_dim, channels, bias=False, eps=sn_eps)
            self.bias = sn_linear(self.cond_dim, channels, bias=False, eps=sn_eps)
        elif self.num_classes:
            self.gain = nn.Embedding(self.num_classes, channels)
            self.bias = nn.Embedding(self.num_classes, channels)
        else:
            self.gain = self.bias = None

    def affine(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-sample ``(1 + gain, bias)``, each ``[N, channels]``."""
        if self.cond_dim:
            return 1 + self.gain(y), self.bias(y)
        return 1 + embed_rows(self.gain, y), embed_rows(self.bias, y)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        out = self.bn(x)
        if self.gain is None:
            return out
        gain, bias = self.affine(y)
        return out * gain[:, :, None, None] + bias[:, :, None, None]


class SelfAttention(nn.Module):
    """SA-GAN's non-local block: ``x + gamma * o(g(x) softmax(theta(x)^T phi(x)))`` with theta, phi: C -> C/8
    and g: C -> C/2 as bias-free SN 1x1 convs, phi and g max-pooled 2x2, o: C/2 -> C, gamma starting at 0."""

    def __init__(self, channels: int, sn_eps: float = 1e-12) -> None:
        super().__init__()
        self.channels = channels
        self.theta = sn_conv(channels, channels // 8, 1, bias=False, eps=sn_eps)
        self.phi = sn_conv(channels, channels // 8, 1, bias=False, eps=sn_eps)
        self.g = sn_conv(channels, channels // 2, 1, bias=False, eps=sn_eps)
        self.o = sn_conv(channels // 2, channels, 1, bias=False, eps=sn_eps)
        self.gamma = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        n, c, h, w = x.shape
        theta = self.theta(x).flatten(2)  # [N, C/8, HW]
        phi = F.max_pool2d(self.phi(x), 2).flatten(2)  # [N, C/8, HW/4]
        g = F.max_pool2d(self.g(x), 2).flatten(2)  # [N, C/2, HW/4]
        beta = torch.softmax(theta.transpose(1, 2) @ phi, dim=-1)  # [N, HW, HW/4]
        o = self.o((g @ beta.transpose(1, 2)).view(n, c // 2, h, w))
        return x + self.gamma * o


class GBlock(nn.Module):
    """BigGAN's up block: cBN-ReLU-up-conv3x3-cBN-ReLU-conv3x3, shortcut up then 1x1 conv (learned when the
    width changes or the block upsamples); nearest-neighbour x2 upsampling."""

    def __init__(self, cin: int, cout: int, bn, upsample: bool = True, sn_eps: float = 1e-12) -> None:
        super().__init__()
        self.upsample = upsample
        self.bn1, self.bn2 = bn(cin), bn(cout)
        self.conv1 = sn_conv(cin, cout, 3, eps=sn_eps)
        self.conv2 = sn_conv(cout, cout, 3, eps=sn_eps)
        self.conv_sc = sn_conv(cin, cout, 1, eps=sn_eps) if (cin != cout or upsample) else None

    def forward(self, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        h = F.relu(self.bn1(x, y))
        if self.upsample:
            h, x = F.interpolate(h, scale_factor=2.0), F.interpolate(x, scale_factor=2.0)
        h = self.conv2(F.relu(self.bn2(self.conv1(h), y)))
        return h + (self.conv_sc(x) if self.conv_sc is not None else x)


class DBlock(nn.Module):
    """BigGAN's "wide" down block: [ReLU]-conv3x3-ReLU-conv3x3-avgpool, shortcut 1x1 conv and avgpool (the
    conv before the pooling after a pre-activation, after it in the first block, which has none)."""

    def __init__(self, cin: int, cout: int, preactivation: bool, downsample: bool, sn_eps: float = 1e-12) -> None:
        super().__init__()
        self.preactivation, self.downsample = preactivation, downsample
        self.conv1 = sn_conv(cin, cout, 3, eps=sn_eps)
        self.conv2 = sn_conv(cout, cout, 3, eps=sn_eps)
        self.conv_sc = sn_conv(cin, cout, 1, eps=sn_eps) if (cin != cout or downsample) else None

    def _pool(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, 2) if self.downsample else x

    def shortcut(self, x: torch.Tensor) -> torch.Tensor:
        conv = self.conv_sc if self.conv_sc is not None else nn.Identity()
        return self._pool(conv(x)) if self.preactivation else conv(self._pool(x))

    def forward(self, x: torch.Tensor, y=None) -> torch.Tensor:
        h = F.relu(x) if self.preactivation else x  # out of place: the shortcut reads x
        h = self._pool(self.conv2(F.relu(self.conv1(h))))
        return h + self.shortcut(x)


class DeepGBlock(nn.Module):
    """BigGAN-deep's bottleneck up block (App. B, Fig. 16): cBN-ReLU-1x1 (C -> C/4), cBN-ReLU-[up]-3x3,
    cBN-ReLU-3x3, cBN-ReLU-1x1 (-> out); the skip keeps the first ``out`` channels of x (channel drop) and
    is upsampled with the main path."""

    def __init__(self, cin: int, cout: int, bn, upsample: bool, channel_ratio: int = 4,
                 sn_eps: float = 1e-12) -> None:
        super().__init__()
        hidden = cin // channel_ratio
        self.cout, self.upsample = cout, upsample
        self.bn1, self.bn2, self.bn3, self.bn4 = bn(cin), bn(hidden), bn(hidden), bn(hidden)
        self.conv1 = sn_conv(cin, hidden, 1, eps=sn_eps)
        self.conv2 = sn_conv(hidden, hidden, 3, eps=sn_eps)
        self.conv3 = sn_conv(hidden, hidden, 3, eps=sn_eps)
        self.conv4 = sn_conv(hidden, cout, 1, eps=sn_eps)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        h = F.relu(self.bn2(self.conv1(F.relu(self.bn1(x, y))), y))
        x = x[:, : self.cout]
        if self.upsample:
            h, x = F.interpolate(h, scale_factor=2.0), F.interpolate(x, scale_factor=2.0)
        h = self.conv3(F.relu(self.bn3(self.conv2(h), y)))
        h = self.conv4(F.relu(self.bn4(h, y)))
        return h + x


class DeepDBlock(nn.Module):
    """BigGAN-deep's bottleneck down block: ReLU-1x1 (-> out/4)-ReLU-3x3-ReLU-3x3-ReLU-[avgpool]-1x1 (-> out);
    shortcut [avgpool], then, where the width grows, concat[x, 1x1 conv(x) giving the out - in new
    channels]."""

    def __init__(self, cin: int, cout: int, downsample: bool, channel_ratio: int = 4, sn_eps: float = 1e-12) -> None:
        super().__init__()
        hidden = cout // channel_ratio
        self.downsample = downsample
        self.conv1 = sn_conv(cin, hidden, 1, eps=sn_eps)
        self.conv2 = sn_conv(hidden, hidden, 3, eps=sn_eps)
        self.conv3 = sn_conv(hidden, hidden, 3, eps=sn_eps)
        self.conv4 = sn_conv(hidden, cout, 1, eps=sn_eps)
        self.conv_sc = sn_conv(cin, cout - cin, 1, eps=sn_eps) if cout > cin else None

    def forward(self, x: torch.Tensor, y=None) -> torch.Tensor:
        h = self.conv1(F.relu(x))
        h = F.relu(self.conv3(F.relu(self.conv2(F.relu(h)))))
        if self.downsample:
            h, x = F.avg_pool2d(h, 2), F.avg_pool2d(x, 2)
        h = self.conv4(h)
        if self.conv_sc is not None:
            x = torch.cat([x, self.conv_sc(x)], dim=1)
        return h + x


class ProjectionHead(nn.Module):
    """D's output on the sum-pooled features ``h [N, F]``: ``SN-linear(h) + <SN-embed(c), h>`` (projection
    discriminator, Miyato & Koyama 2018, Eq. 3); without classes only the linear term."""

    def __init__(self, features: int, c_dim: int, sn_eps: float = 1e-12) -> None:
        super().__init__()
        self.linear = sn_linear(features, 1, eps=sn_eps)
        self.embed = sn(nn.Embedding(c_dim, features), sn_eps) if c_dim else None

    def forward(self, h: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        out = self.linear(h).squeeze(1)
        if self.embed is not None:
            if c is None:
                raise ValueError("this discriminator is class-conditional: pass one-hot c")
            out = out + (embed_rows(self.embed, c) * h).sum(dim=1)
        return out
