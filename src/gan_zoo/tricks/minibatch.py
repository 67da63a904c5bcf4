"""Features of the whole batch for any D: minibatch discrimination and minibatch standard deviation.

Both wrap D's trunk (``transform_discriminator``): the features become ``[h ; s(h)]`` where ``s`` depends on
the other samples of the batch D is shown, and the head adds a learned linear function of ``s`` to D's own
logit (the same as one linear layer on the concatenation, which is where both papers put it). A collapsed
batch (all samples alike) moves ``s`` far from its value on a real batch, so D can detect the collapse.

- Minibatch discrimination (Salimans et al., "Improved Techniques for Training GANs", NeurIPS 2016, Sec. 3.2):
  ``M_i = h_i T`` with ``T`` in R^{F x B x C}; ``c_b(i, j) = exp(-||M_{i,b} - M_{j,b}||_1)``;
  ``o(h_i)_b = sum_j c_b(i, j)`` (the sum includes j = i, as in the paper).
- Minibatch standard deviation (Karras et al., "Progressive Growing of GANs", ICLR 2018, Sec. 3): the std of
  each feature over groups of ``group`` samples, averaged over features, one number per group, given to
  every sample of the group.
"""

from __future__ import annotations

import torch
from torch import nn

from gan_zoo.errors import ConfigError
from gan_zoo.tricks.base import Wrapped, require_features


class _BatchFeatures(Wrapped):
    """``features = [h ; s(h)]``, ``head = inner.head(h) + w . s + b`` (w and b learned, nn.Linear's init)."""

    extra: int

    def __init__(self, inner: nn.Module) -> None:
        super().__init__(inner)
        self.readout = nn.Linear(self.extra, 1)

    def stat(self, h: torch.Tensor) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError

    def features(self, x: torch.Tensor, c=None) -> torch.Tensor:
        h = self.inner.features(x, c)
        return torch.cat([h, self.stat(h)], dim=1)

    def head(self, h: torch.Tensor, c=None) -> torch.Tensor:
        own, s = h[:, : -self.extra], h[:, -self.extra :]
        return self.inner.head(own, c) + self.readout(s).squeeze(1)


class MinibatchDiscriminationD(_BatchFeatures):
    def __init__(self, inner: nn.Module, in_features: int, kernels: int, kernel_dim: int) -> None:
        self.extra = int(kernels)
        super().__init__(inner)
        self.kernels, self.kernel_dim = int(kernels), int(kernel_dim)
        self.T = nn.Parameter(torch.randn(in_features, kernels * kernel_dim) * 0.1)

    def stat(self, h: torch.Tensor) -> torch.Tensor:
        M = (h @ self.T).view(-1, self.kernels, self.kernel_dim)  # [N, B, C]
        l1 = (M[:, None] - M[None, :]).abs().sum(-1)  # [N, N, B]
        return torch.exp(-l1).sum(1)  # [N, B]


class MinibatchStdD(_BatchFeatures):
    def __init__(self, inner: nn.Module, group: int) -> None:
        self.extra = 1
        super().__init__(inner)
        self.group = int(group)

    def stat(self, h: torch.Tensor) -> torch.Tensor:
        n = h.shape[0]
        g = min(self.group, n) if self.group > 0 else n
        if n % g:
            g = n  # a last, odd-sized batch: one group
        hs = h.reshape(g, n // g, -1)  # sample i is in group i mod (n / g), as in progressive GAN's code
        std = (hs.var(0, unbiased=False) + 1e-8).sqrt().mean(-1)  # [n / g]
        return std.repeat(g)[:, None]


def _feature_dim(D: nn.Module, trick: str) -> int:
    """The trunk width of D, by one forward pass on a dummy input when it is not declared."""
    for attr in ("feature_dim", "num_features"):
        if isinstance(getattr(D, attr, None), int):
            return int(getattr(D, attr))
    probe = _probe_input(D, trick)
    with torch.no_grad():
        was = D.training
        D.eval()
        h = D.features(probe, None)
        D.train(was)
    return int(h.shape[1])


def _probe_input(D: nn.Module, trick: str) -> torch.Tensor:
    """Two samples (two packs of a packed D) of the shape D takes."""
    first = next((m for m in D.modules() if isinstance(m, (nn.Linear, nn.Conv2d))), None)
    if first is None:
        raise ConfigError(f"trick.{trick}: cannot infer D's input shape (no Linear/Conv2d layer)")
    m = next((int(w.m) for w in D.modules() if type(w).__name__ == "PackedDiscriminator"), 1)
    if isinstance(first, nn.Linear):
        return torch.zeros(2 * m, first.in_features // m)
    res = getattr(D, "resolution", None)
    if not res:
        raise ConfigError(f"trick.{trick}: D has no resolution to build a probe image from")
    return torch.zeros(2 * m, first.in_channels // m, int(res), int(res))


class MinibatchDiscrimination(nn.Module):
    def __init__(self, kernels: int = 50, kernel_dim: int = 5) -> None:
        super().__init__()
        if int(kernels) < 1 or int(kernel_dim) < 1:
            raise ConfigError(f"trick.minibatch_discrimination: kernels and kernel_dim must be >= 1 "
                              f"(got {kernels}, {kernel_dim})")
        self.kernels, self.kernel_dim = int(kernels), int(kernel_dim)

    def transform_discriminator(self, D: nn.Module) -> nn.Module:
        require_features(D, "minibatch_discrimination")
        return MinibatchDiscriminationD(D, _feature_dim(D, "minibatch_discrimination"), self.kernels,
                                        self.kernel_dim)


class MinibatchStd(nn.Module):
    def __init__(self, group: int = 4) -> None:
        super().__init__()
        if int(group) < 0:
            raise ConfigError(f"trick.minibatch_std.group must be >= 0 (got {group}); 0 = the whole batch")
        self.group = int(group)

    def transform_discriminator(self, D: nn.Module) -> nn.Module:
        require_features(D, "minibatch_std")
        return MinibatchStdD(D, self.group)
