"""BigGAN-deep's generator and discriminator (Brock, Donahue, Simonyan, ICLR 2019, arXiv 1809.11096 v2,
Sec. 5.1 and App. B, Fig. 16; BigGAN-PyTorch's ``BigGANdeep.py`` for the tables, "untested" upstream).

- G: the whole ``z`` is concatenated with the shared class embedding (no split); that vector feeds the first
  SN-linear layer (to ``[16ch, 4, 4]``) and every cBN. Each resolution has ``depth`` bottleneck blocks
  (:class:`~gan_zoo.models.biggan_layers.DeepGBlock`, ``channel_ratio`` 4): the first ``depth - 1`` keep
  the width, the last changes it (channel drop in the skip) and upsamples. Self-attention after the stage
  whose resolution is listed in ``attention``; BN, ReLU, SN-conv3x3, tanh.
- D: an SN-conv3x3 stem (3 -> ch), then per resolution ``depth`` bottleneck down blocks
  (:class:`~gan_zoo.models.biggan_layers.DeepDBlock`; the first downsamples and grows the width by
  concatenating new channels to the skip), self-attention, ReLU, global sum pooling, projection head.

Tables (channel multipliers of ``ch`` per stage): G as BigGAN's; D at 128 px 1->2, 2->4, 4->8, 8->16,
16->16. At 128 px, ch 128, depth 2, z 128: G 50.24 M / D 34.59 M parameters (reference section 8).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from gan_zoo.models.biggan import (
    G_ARCH,
    ClassEmbedding,
    ProjectionDiscriminator,
    arch,
    attention_set,
    check_positive,
    finish,
)
from gan_zoo.models.biggan_layers import (
    ConditionalBatchNorm2d,
    DeepDBlock,
    DeepGBlock,
    ProjectionHead,
    SelfAttention,
    sn_conv,
    sn_linear,
)

# resolution -> (in, out) channel multipliers of D's stages (each downsamples) after the stem
D_DEEP_ARCH = {
    64: ([1, 2, 4, 8], [2, 4, 8, 16]),
    128: ([1, 2, 4, 8, 16], [2, 4, 8, 16, 16]),
    256: ([1, 2, 4, 8, 8, 16], [2, 4, 8, 8, 16, 16]),
}


class Generator(ClassEmbedding):
    def __init__(
        self,
        resolution: int,
        z_dim: int = 128,
        c_dim: int = 0,
        ch: int = 128,
        depth: int = 2,
        shared_dim: int = 128,
        attention: Sequence[int] | int | None = (64,),
        channel_ratio: int = 4,
        img_channels: int = 3,
        bn_eps: float = 1e-5,
        sn_eps: float = 1e-12,
        init: str | None = "ortho",
        spectral_norm: bool = True,
    ) -> None:
        key = "model.generator"
        check_positive(key, z_dim=z_dim, c_dim=c_dim, ch=ch, depth=depth, shared_dim=shared_dim)
        super().__init__(c_dim, True, shared_dim)
        ins, outs = arch(G_ARCH, resolution, "BigGAN-deep", key)
        self.resolution, self.z_dim, self.img_channels = resolution, z_dim, img_channels
        cond_dim = z_dim + self.dim

        def bn(channels: int) -> ConditionalBatchNorm2d:
            return ConditionalBatchNorm2d(channels, cond_dim, 0, bn_eps, sn_eps)

        self.bottom = ins[0] * ch
        self.linear = sn_linear(cond_dim, self.bottom * 16, eps=sn_eps)
        attn, res = attention_set(attention), 4
        blocks: list[nn.Module] = []
        for cin, cout in zip(ins, outs):
            for k in range(depth):
                last = k == depth - 1
                blocks.append(DeepGBlock(cin * ch, (cout if last else cin) * ch, bn, upsample=last,
                                         channel_ratio=channel_ratio, sn_eps=sn_eps))
            res *= 2
            if res in attn:
                blocks.append(SelfAttention(cout * ch, sn_eps))
        self.blocks = nn.ModuleList(blocks)
        self.out_bn = nn.BatchNorm2d(outs[-1] * ch, eps=bn_eps)
        self.out_conv = sn_conv(outs[-1] * ch, img_channels, 3, eps=sn_eps)
        finish(self, init, spectral_norm)

    def synthesize(self, z: torch.Tensor, e: torch.Tensor | None) -> torch.Tensor:
        y = z if e is None else torch.cat([e, z], dim=1)
        h = self.linear(y).view(z.shape[0], self.bottom, 4, 4)
        for block in self.blocks:
            h = block(h, y) if isinstance(block, DeepGBlock) else block(h)
        return torch.tanh(self.out_conv(F.relu(self.out_bn(h))))


class Discriminator(ProjectionDiscriminator):
    def __init__(
        self,
        resolution: int,
        c_dim: int = 0,
        ch: int = 128,
        depth: int = 2,
        attention: Sequence[int] | int | None = (64,),
        channel_ratio: int = 4,
        img_channels: int = 3,
        sn_eps: float = 1e-12,
        init: str | None = "ortho",
        spectral_norm: bool = True,
    ) -> None:
        super().__init__()
        key = "model.discriminator"
        check_positive(key, c_dim=c_dim, ch=ch, depth=depth)
        ins, outs = arch(D_DEEP_ARCH, resolution, "BigGAN-deep", key)
        self.resolution, self.c_dim = resolution, c_dim
        self.stem = sn_conv(img_channels, ins[0] * ch, 3, eps=sn_eps)
        attn, res = attention_set(attention), resolution
        blocks: list[nn.Module] = []
        for cin, cout in zip(ins, outs):
            for k in range(depth):
                blocks.append(DeepDBlock((cin if k == 0 else cout) * ch, cout * ch, downsample=k == 0,
                                         channel_ratio=channel_ratio, sn_eps=sn_eps))
            res //= 2
            if res in attn:
                blocks.append(SelfAttention(cout * ch, sn_eps))
        self.blocks = nn.Sequential(*blocks)
        self.out = ProjectionHead(outs[-1] * ch, c_dim, sn_eps)
        finish(self, init, spectral_norm)

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.stem(x))
