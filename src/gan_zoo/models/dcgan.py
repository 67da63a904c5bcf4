"""DCGAN (Radford, Metz, Chintala, "Unsupervised Representation Learning with Deep Convolutional Generative
Adversarial Networks", ICLR 2016, Sec. 3 "Architecture guidelines" and Fig. 1).

The guidelines, all kept here: strided convolutions in D and fractionally-strided (transposed) convolutions in
G, no pooling and no fully connected hidden layers; BatchNorm in both nets except G's output layer and D's
input layer; ReLU in G with tanh on the output; LeakyReLU(0.2) in D. Weights N(0, 0.02), BN gains N(1, 0.02)
and biases 0 (Sec. 4). Layer sizes follow the authors' own code (soumith/dcgan.torch) as ported to
pytorch/examples ``dcgan/main.py``: 4x4 kernels, stride 2, padding 1, no conv biases (BN follows every conv).

Generator, for ``resolution = s0 * 2**k`` (``s0`` = 4, or 7 for 28 px): ``z`` (with the one-hot class
appended when conditional, Mirza & Osindero 2014) -> transposed conv ``s0 x s0`` to ``ngf * 2**(k-1)``
channels -> BN, ReLU -> ``k - 1`` upsampling layers halving the channels, each BN, ReLU -> an upsampling
layer to the image, tanh. Upsampling is a 4x4 stride-2 transposed conv (``upsample: deconv``) or a 3x3 conv
to 4x the channels followed by ``PixelShuffle(2)`` (``upsample: pixelshuffle``, Shi et al. 2016; no
checkerboard artefacts of overlapping deconvolutions, Odena et al. 2016).

Discriminator, mirrored: a 4x4 stride-2 conv to ``ndf`` channels and LeakyReLU (no BN: the input layer),
then ``k - 1`` such convs doubling the channels, each BN, LeakyReLU (optional dropout after each
activation) down to ``s0 x s0``; ``features`` is the flattened ``[N, ndf * 2**(k-1) * s0 * s0]`` map and
``head`` its linear output (the final ``s0 x s0`` conv of the reference code, written as a linear layer on the
flattened map: the same weights). Conditional D adds a projection (Miyato & Koyama 2018, Eq. 3):
``head(h, c) = w . h + <E c, h>``.

Parameter counts (nz 100, ngf = ndf = 64, 3 channels, unconditional, deconv), each the sum over the layers
of pytorch/examples dcgan/main.py: G at 64 px = 100*512*16 + 512*256*16 + 256*128*16 + 128*64*16 + 64*3*16
(convs) + 2*(512+256+128+64) (BN) = 3,576,704; D at 64 px = 3*64*16 + 64*128*16 + 128*256*16 + 256*512*16 +
512*16 (convs) + 2*(128+256+512) (BN) = 2,765,568. tests/objectives/test_dcgan.py checks both and the other
presets' counts by the same per-layer formula.

Dropout in D draws from torch's global generator (the module has no access to the step's seeded stream), so a
run with ``d_dropout > 0`` resumes statistically, not bit-exactly.
"""

from __future__ import annotations

import torch
from torch import nn

from gan_zoo.errors import ConfigError

UPSAMPLES = ("deconv", "pixelshuffle")


def layout(resolution: object, key: str = "model.resolution") -> tuple[int, int]:
    """``(s0, k)`` with ``resolution = s0 * 2**k``: the base map and the number of stride-2 layers."""
    if resolution == 28:
        return 7, 2
    if resolution in (8, 16, 32, 64, 128):
        return 4, {8: 1, 16: 2, 32: 3, 64: 4, 128: 5}[resolution]
    raise ConfigError(f"{key}={resolution!r}: DCGAN is built for 8, 16, 28, 32, 64 or 128 px; pick one of them")


def _positive(key: str, **values: int) -> None:
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < (0 if name == "c_dim" else 1):
            raise ConfigError(f"{key}.{name} must be a {'non-negative' if name == 'c_dim' else 'positive'} "
                              f"integer (got {v!r})")


@torch.no_grad()
def dcgan_init_(net: nn.Module) -> nn.Module:
    """Radford et al. Sec. 4: conv/linear weights N(0, 0.02); BN gains N(1, 0.02), BN biases 0."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return net


def _up(c_in: int, c_out: int, upsample: str) -> list[nn.Module]:
    if upsample == "deconv":
        return [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False)]
    return [nn.Conv2d(c_in, 4 * c_out, 3, 1, 1, bias=False), nn.PixelShuffle(2)]


class Generator(nn.Module):
    """``G(z, c) -> [N, img_channels, resolution, resolution]`` in [-1, 1] (module docstring)."""

    def __init__(self, resolution: int = 32, z_dim: int = 100, c_dim: int = 0, ngf: int = 64,
                 img_channels: int = 3, upsample: str = "deconv", batchnorm: bool = True) -> None:
        super().__init__()
        key = "model.generator"
        _positive(key, z_dim=z_dim, c_dim=c_dim, ngf=ngf, img_channels=img_channels)
        if upsample not in UPSAMPLES:
            raise ConfigError(f"{key}.upsample={upsample!r}: use one of {', '.join(UPSAMPLES)}")
        s0, k = layout(resolution)
        self.resolution, self.z_dim, self.c_dim, self.img_channels = resolution, z_dim, c_dim, img_channels
        chans = [ngf * 2 ** (k - 1 - i) for i in range(k)]  # channels at s0, 2 s0, ..., resolution / 2

        def norm(c: int) -> nn.Module:
            return nn.BatchNorm2d(c) if batchnorm else nn.Identity()

        layers: list[nn.Module] = [nn.ConvTranspose2d(z_dim + c_dim, chans[0], s0, 1, 0, bias=False),
                                   norm(chans[0]), nn.ReLU(True)]
        for c_in, c_out in zip(chans[:-1], chans[1:]):
            layers += [*_up(c_in, c_out, upsample), norm(c_out), nn.ReLU(True)]
        layers += [*_up(chans[-1], img_channels, upsample), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        dcgan_init_(self)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        if self.c_dim:
            if c is None:
                raise ValueError(f"this generator is class-conditional (c_dim={self.c_dim}): pass one-hot c")
            z = torch.cat([z, c.to(z.dtype)], dim=1)
        return self.net(z[:, :, None, None])


class Discriminator(nn.Module):
    """``D(x, c) -> logits [N]``; ``features(x, c) -> [N, F]`` and ``head(h, c)`` (module docstring)."""

    def __init__(self, resolution: int = 32, c_dim: int = 0, ndf: int = 64, img_channels: int = 3,
                 dropout: float = 0.0, batchnorm: bool = True) -> None:
        super().__init__()
        key = "model.discriminator"
        _positive(key, c_dim=c_dim, ndf=ndf, img_channels=img_channels)
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"{key}.dropout must be in [0, 1) (got {dropout})")
        s0, k = layout(resolution)
        self.resolution, self.c_dim = resolution, c_dim
        chans = [ndf * 2 ** i for i in range(k)]

        def act() -> list[nn.Module]:
            return [nn.LeakyReLU(0.2, True)] + ([nn.Dropout(dropout)] if dropout > 0 else [])

        layers: list[nn.Module] = [nn.Conv2d(img_channels, chans[0], 4, 2, 1, bias=False), *act()]
        for c_in, c_out in zip(chans[:-1], chans[1:]):
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(c_out) if batchnorm else nn.Identity(), *act()]
        self.trunk = nn.Sequential(*layers)
        self.num_features = chans[-1] * s0 * s0
        self.out = nn.Linear(self.num_features, 1, bias=False)
        self.embed = nn.Linear(c_dim, self.num_features, bias=False) if c_dim else None
        dcgan_init_(self)

    def features(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.trunk(x).flatten(1)

    def head(self, h: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        logits = self.out(h).squeeze(1)
        if self.embed is not None:
            if c is None:
                raise ValueError(f"this discriminator is class-conditional (c_dim={self.c_dim}): pass one-hot c")
            logits = logits + (self.embed(c.to(h.dtype)) * h).sum(dim=1)
        return logits

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x, c), c)
