"""BigGAN's generator and discriminator (Brock, Donahue, Simonyan, "Large Scale GAN Training for High Fidelity
Natural Image Synthesis", ICLR 2019, arXiv 1809.11096, Sec. 3, App. B Fig. 15, Table 4/5).

Architecture tables (channel multipliers of ``ch`` per block) as in the paper's appendix and
BigGAN-PyTorch's ``G_arch``/``D_arch`` (ajbrock/BigGAN-PyTorch@9845943), from which the parameter counts of
``docs`` / ``tests/biggan`` are checked (70,433,988 G / 87,982,370 D at 128 px, ch 96). The 16 px tables
are gan_zoo's (CPU presets): BigGAN's 32 px tables less one block.

- G: ``z`` (skip-z: split into ``blocks + 1`` equal chunks; chunk 0 feeds the first linear layer, chunk i
  joins the class embedding to condition both cBNs of block i) -> SN-linear to ``[16ch, 4, 4]`` (``4ch`` at
  16/32 px) -> residual up blocks (:class:`~gan_zoo.models.biggan_layers.GBlock`), self-attention after the
  block whose output resolution is listed in ``attention`` -> BN, ReLU, SN-conv3x3, tanh.
- Shared embedding: one ``nn.Embedding(c_dim, shared_dim)`` (not spectrally normalised) whose output every
  cBN maps linearly to its gain and bias; without it, each cBN has per-class gain and bias tables.
- D: residual down blocks (:class:`~gan_zoo.models.biggan_layers.DBlock`, the first without
  pre-activation), self-attention after the block whose output resolution is listed, ReLU, global *sum*
  pooling (``features``), then ``SN-linear(h) + <SN-embed(c), h>`` (``head``: projection discriminator).
- Initialisation: orthogonal for every conv, linear and embedding weight (``init="ortho"``; ``N02`` as
  BigGAN-PyTorch's CIFAR script).

``G(z, c)`` takes the one-hot ``c`` of the gan_zoo contract; ``G.embed(c)`` and ``G.synthesize(z, e)``
split it at the class embedding, so embeddings can be interpolated (:func:`interpolate_classes`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from gan_zoo.errors import ConfigError
from gan_zoo.models.biggan_layers import (
    ConditionalBatchNorm2d,
    DBlock,
    GBlock,
    ProjectionHead,
    SelfAttention,
    apply_spectral_norm_,
    embed_rows,
    sn_conv,
    sn_linear,
)
from gan_zoo.regularizers.orthogonal import init_weights_

# resolution -> (in, out) channel multipliers of G's up blocks; every block doubles the resolution from 4x4
G_ARCH = {
    16: ([4, 4], [4, 4]),
    32: ([4, 4, 4], [4, 4, 4]),
    64: ([16, 16, 8, 4], [16, 8, 4, 2]),
    128: ([16, 16, 8, 4, 2], [16, 8, 4, 2, 1]),
    256: ([16, 16, 8, 8, 4, 2], [16, 8, 8, 4, 2, 1]),
    512: ([16, 16, 8, 8, 4, 2, 1], [16, 8, 8, 4, 2, 1, 1]),
}
# resolution -> (out channel multipliers, downsample?) of D's blocks; the first block's input is the image
D_ARCH = {
    16: ([4, 4, 4], [True, True, False]),
    32: ([4, 4, 4, 4], [True, True, False, False]),
    64: ([1, 2, 4, 8, 16], [True, True, True, True, False]),
    128: ([1, 2, 4, 8, 16, 16], [True, True, True, True, True, False]),
    256: ([1, 2, 4, 8, 8, 16, 16], [True, True, True, True, True, True, False]),
}


def arch(table: dict, resolution: object, family: str, key: str):
    if resolution not in table:
        raise ConfigError(
            f"{key}.resolution={resolution!r}: {family} has architectures for {sorted(table)} px; "
            f"pick one of them (dataset.resolution / model.resolution)"
        )
    return table[resolution]


def check_positive(key: str, **values) -> None:
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 0 or (v == 0 and name != "c_dim"):
            raise ConfigError(f"{key}.{name}={v!r} must be a positive int" + (" (0 = unconditional)"
                                                                               if name == "c_dim" else ""))


def attention_set(attention: Sequence[int] | int | None) -> set[int]:
    if attention is None:
        return set()
    return {int(a) for a in ([attention] if isinstance(attention, int) else attention) if int(a) > 0}


def finish(net: nn.Module, init: str | None, spectral_norm: bool) -> None:
    """Initialise (``init=None`` keeps torch's defaults, e.g. to count parameters on the meta device), then
    wrap the marked layers in spectral norm (``spectral_norm=False``: SA-GAN's "no SN in G" ablation)."""
    if init is not None:
        init_weights_(net, init)
    if spectral_norm:
        apply_spectral_norm_(net)
    else:
        for module in net.modules():
            module.__dict__.pop("sn_eps", None)


class ClassEmbedding(nn.Module):
    """``embed(c)``: the shared embedding of a one-hot (or blended) ``c``; ``None`` when unconditional;
    ``c`` itself when the cBNs have per-class tables."""

    def __init__(self, c_dim: int, shared: bool, shared_dim: int) -> None:
        super().__init__()
        self.c_dim = c_dim
        self.shared = nn.Embedding(c_dim, shared_dim) if (c_dim and shared) else None
        self.dim = shared_dim if self.shared is not None else 0

    def embed(self, c: torch.Tensor | None) -> torch.Tensor | None:
        if not self.c_dim:
            return None
        if c is None:
            raise ValueError(f"this generator is class-conditional (c_dim={self.c_dim}): pass one-hot c")
        return embed_rows(self.shared, c) if self.shared is not None else c

    def synthesize(self, z: torch.Tensor, e: torch.Tensor | None) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.synthesize(z, self.embed(c))


class ProjectionDiscriminator(nn.Module):
    """``features`` = global sum pooling of ``ReLU(trunk(x))``; ``head`` = the projection output ``self.out``."""

    def trunk(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def features(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return F.relu(self.trunk(x)).sum(dim=(2, 3))

    def head(self, h: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.out(h, c)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x, c), c)


class Generator(ClassEmbedding):
    """BigGAN's G (module docstring). ``attention`` lists output resolutions after which a block gets
    self-attention (BigGAN 128 px: [64])."""

    def __init__(
        self,
        resolution: int,
        z_dim: int = 120,
        c_dim: int = 0,
        ch: int = 64,
        shared_embedding: bool = True,
        shared_dim: int = 128,
        skip_z: bool = True,
        attention: Sequence[int] | int | None = (64,),
        img_channels: int = 3,
        bn_eps: float = 1e-5,
        sn_eps: float = 1e-12,
        init: str | None = "ortho",
        spectral_norm: bool = True,
    ) -> None:
        key = "model.generator"
        check_positive(key, z_dim=z_dim, c_dim=c_dim, ch=ch, shared_dim=shared_dim)
        super().__init__(c_dim, shared_embedding, shared_dim)
        ins, outs = arch(G_ARCH, resolution, "BigGAN", key)
        self.resolution, self.z_dim, self.img_channels, self.skip_z = resolution, z_dim, img_channels, skip_z
        if skip_z and c_dim and not shared_embedding:
            raise ConfigError(f"{key}: skip_z needs shared_embedding (BigGAN feeds [embedding, z chunk] to the "
                              "cBNs through linear maps); set model.shared_embedding=true or model.skip_z=false")
        slots = len(ins) + 1 if skip_z else 1
        if z_dim % slots:
            raise ConfigError(f"{key}.z_dim={z_dim} does not split into {slots} equal chunks (skip-z: one per "
                              f"block + 1 at {resolution} px); use a multiple of {slots}")
        self.chunk = z_dim // slots if skip_z else 0
        cond_dim = self.dim + self.chunk
        per_class = c_dim if (c_dim and not shared_embedding) else 0

        def bn(channels: int) -> ConditionalBatchNorm2d:
            return ConditionalBatchNorm2d(channels, cond_dim, per_class, bn_eps, sn_eps)

        self.bottom = ins[0] * ch
        self.linear = sn_linear(z_dim // slots, self.bottom * 16, eps=sn_eps)
        attn, res = attention_set(attention), 4
        blocks: list[nn.Module] = []
        self.block_resolutions = []
        for cin, cout in zip(ins, outs):
            res *= 2
            blocks.append(GBlock(cin * ch, cout * ch, bn, upsample=True, sn_eps=sn_eps))
            self.block_resolutions.append(res)
            if res in attn:
                blocks.append(SelfAttention(cout * ch, sn_eps))
                self.block_resolutions.append(res)
        self.blocks = nn.ModuleList(blocks)
        self.out_bn = nn.BatchNorm2d(outs[-1] * ch, eps=bn_eps)
        self.out_conv = sn_conv(outs[-1] * ch, img_channels, 3, eps=sn_eps)
        finish(self, init, spectral_norm)

    def conditions(self, z: torch.Tensor, e: torch.Tensor | None) -> tuple[torch.Tensor, list]:
        """(input of the first linear layer, one condition vector per up block) for ``z`` and embedding ``e``."""
        n_up = sum(isinstance(b, GBlock) for b in self.blocks)
        if self.skip_z:
            chunks = torch.split(z, self.chunk, dim=1)
            z0, rest = chunks[0], chunks[1:]
            ys = [z_i if e is None else torch.cat([e, z_i], dim=1) for z_i in rest]
        else:
            z0, ys = z, [e] * n_up
        return z0, ys

    def synthesize(self, z: torch.Tensor, e: torch.Tensor | None) -> torch.Tensor:
        z0, ys = self.conditions(z, e)
        h = self.linear(z0).view(z.shape[0], self.bottom, 4, 4)
        i = 0
        for block in self.blocks:
            if isinstance(block, GBlock):
                h, i = block(h, ys[i]), i + 1
            else:
                h = block(h)
        return torch.tanh(self.out_conv(F.relu(self.out_bn(h))))


class Discriminator(ProjectionDiscriminator):
    """BigGAN's D (module docstring): ``D(x, c) == head(features(x, c), c)``."""

    def __init__(
        self,
        resolution: int,
        c_dim: int = 0,
        ch: int = 64,
        attention: Sequence[int] | int | None = (64,),
        img_channels: int = 3,
        sn_eps: float = 1e-12,
        init: str | None = "ortho",
        spectral_norm: bool = True,
    ) -> None:
        super().__init__()
        key = "model.discriminator"
        check_positive(key, c_dim=c_dim, ch=ch)
        outs, downs = arch(D_ARCH, resolution, "BigGAN", key)
        self.resolution, self.c_dim = resolution, c_dim
        attn, res, cin = attention_set(attention), resolution, img_channels
        blocks: list[nn.Module] = []
        for i, (mult, down) in enumerate(zip(outs, downs)):
            res //= 2 if down else 1
            blocks.append(DBlock(cin, mult * ch, preactivation=i > 0, downsample=down, sn_eps=sn_eps))
            cin = mult * ch
            if res in attn:
                blocks.append(SelfAttention(cin, sn_eps))
        self.blocks = nn.Sequential(*blocks)
        self.out = ProjectionHead(cin, c_dim, sn_eps)
        finish(self, init, spectral_norm)

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """The last block's output; ``features`` sum-pools it to ``[N, 16ch]`` (``4ch`` at 16/32 px)."""
        return self.blocks(x)


@torch.no_grad()
def interpolate_classes(G: nn.Module, z: torch.Tensor, class_a: int, class_b: int, steps: int = 8) -> torch.Tensor:
    """Images ``[steps, C, H, W]`` along the straight line from class ``a``'s embedding to class ``b``'s, z held
    fixed (BigGAN Fig. 8/9, "class interpolation"). ``z`` is one latent ``[z_dim]`` or ``[1, z_dim]``; works
    for any gan_zoo G taking a one-hot ``c`` (a blended one-hot blends the embedding rows it selects)."""
    if not getattr(G, "c_dim", 0):
        raise ConfigError("class interpolation needs a class-conditional generator (c_dim > 0)")
    alpha = torch.linspace(0.0, 1.0, steps, device=z.device)[:, None]
    eye = torch.eye(G.c_dim, device=z.device)
    c = (1 - alpha) * eye[class_a] + alpha * eye[class_b]
    return G(z.reshape(1, -1).expand(steps, -1), c)
