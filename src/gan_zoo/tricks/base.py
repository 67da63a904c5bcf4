"""What several tricks share: wrapping a network while keeping its contract, and widening its input layer.

A trick that changes *what D computes* (packing, minibatch features) does so in ``transform_discriminator``
by wrapping D in a :class:`Wrapped` network: it keeps D's contract (``features(x, c)``, ``head(h, c)``,
``D(x, c) == head(features(x, c), c)``) and forwards every other attribute (``c_dim``, ``resolution``, ...)
to the wrapped net, so wrappers stack in config order and the step needs no change.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gan_zoo.errors import ConfigError


class Wrapped(nn.Module):
    """A network around ``inner``; attributes it does not define are looked up on ``inner``."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name == "inner":
                raise
            return getattr(super().__getattr__("inner"), name)

    def features(self, x: torch.Tensor, c=None) -> torch.Tensor:
        return self.inner.features(x, c)

    def head(self, h: torch.Tensor, c=None) -> torch.Tensor:
        return self.inner.head(h, c)

    def forward(self, x: torch.Tensor, c=None) -> torch.Tensor:
        return self.head(self.features(x, c), c)


def require_features(D: nn.Module, trick: str) -> None:
    if not (callable(getattr(D, "features", None)) and callable(getattr(D, "head", None))):
        raise ConfigError(f"trick.{trick} needs a discriminator with features(x, c) and head(h, c) "
                          f"({type(D).__name__} has none); use a model of gan_zoo.models or add them")


def widen_input_layer(net: nn.Module, m: int, trick: str) -> None:
    """Replace the first ``nn.Linear``/``nn.Conv2d`` of ``net`` by one taking ``m`` times its inputs.

    The new weight is the old one tiled ``m`` times and divided by ``sqrt(m)``: for ``m`` independent inputs
    the pre-activations keep the variance of the original init (and of the model's own init scheme), and the
    slots' weights separate from the first gradient step since each slot sees other samples."""
    for path, child in net.named_modules():  # pre-order: the first layer a forward pass meets in most nets
        if isinstance(child, (nn.Linear, nn.Conv2d)):
            parent_path, _, name = path.rpartition(".")
            parent = net.get_submodule(parent_path) if parent_path else net
            if isinstance(child, nn.Linear):
                new = nn.Linear(child.in_features * m, child.out_features, bias=child.bias is not None)
                weight = child.weight.detach().repeat(1, m)
            else:
                if child.groups != 1:
                    raise ConfigError(f"trick.{trick}: D's first convolution is grouped; packing needs a "
                                      "plain first layer")
                new = nn.Conv2d(child.in_channels * m, child.out_channels, child.kernel_size, child.stride,
                                child.padding, child.dilation, 1, child.bias is not None, child.padding_mode)
                weight = child.weight.detach().repeat(1, m, 1, 1)
            with torch.no_grad():
                new.weight.copy_(weight / math.sqrt(m))
                if child.bias is not None:
                    new.bias.copy_(child.bias)
            setattr(parent, name, new.to(child.weight.device, child.weight.dtype))
            return
    raise ConfigError(f"trick.{trick}: D has no nn.Linear or nn.Conv2d input layer to widen")


def refuse_fake_changing_tricks(module, trick: str, why: str) -> None:
    """ConfigError if another trick of ``module`` changes which fakes D is shown (``d_fakes``) or packs them."""
    for name, part in module.hooks.parts.items():
        if callable(getattr(part, "d_fakes", None)) or type(part).__name__ == "Pack":
            raise ConfigError(f"trick.{trick} with trick.{name}: {why}; drop one of them")


def find_head(D: nn.Module, name: str) -> nn.Module | None:
    """The submodule called ``name`` that a trick attached to D (or to a net D wraps)."""
    for m in D.modules():
        head = m._modules.get(name)
        if head is not None:
            return head
    return None


def materialise_heads(module, head: nn.Module) -> None:
    """Run one no-grad forward of ``head`` on D's features of two fakes, so its lazy layers get their shapes
    before the optimizers exist (train/eval modes restored)."""
    with torch.no_grad():
        was = module.G.training, module.D.training
        module.G.eval(), module.D.eval()
        z = torch.randn(2, module.G.z_dim)
        c = None if not module.G.c_dim else torch.zeros(2, module.G.c_dim)
        head(module.D.features(module.G(z, c), c))
        module.G.train(was[0]), module.D.train(was[1])
