"""Constraints and transforms of the networks, entries of the ``regularizer`` group without a ``side``: they
act only through :mod:`gan_zoo.hooks`.

- :class:`WeightClip` (Arjovsky et al., "Wasserstein GAN", ICML 2017, Alg. 1 line 7): after every optimizer
  step of D, every parameter of D is clamped to ``[-c, c]`` (c = 0.01), BatchNorm gains and biases included, as
  the paper's code clips ``netD.parameters()``. Hook: ``after_step("D", module)``.
- :class:`SpectralNorm` (Miyato et al., "Spectral Normalization for GANs", ICLR 2018, Eq. 8 and Alg. 1):
  every conv / transposed conv / linear weight of D and/or G becomes ``W / sigma(W)``, sigma estimated by
  one power iteration per training-mode forward pass. Implemented by
  ``torch.nn.utils.parametrizations.spectral_norm`` (its u, v vectors are buffers, so they are in every
  checkpoint and G_ema copies them); layers already normalised (BigGAN's own SN) are left as they are.
  Hook: ``transform_generator`` / ``transform_discriminator``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from gan_zoo.errors import ConfigError

_SN_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d,
              nn.Linear)


def _nets(nets, key: str) -> tuple[str, ...]:
    nets = tuple(nets)
    if not nets or not set(nets) <= {"G", "D"}:
        raise ConfigError(f"{key}.nets={list(nets)}: use a non-empty subset of [G, D]")
    return nets


class WeightClip(nn.Module):
    """Clamp every D parameter to ``[-clip, clip]`` after each D optimizer step."""

    def __init__(self, clip: float = 0.01) -> None:
        super().__init__()
        if not clip > 0:
            raise ConfigError(f"regularizer clip.clip must be > 0 (got {clip}); WGAN uses 0.01")
        self.clip = float(clip)

    @torch.no_grad()
    def after_step(self, side: str, module) -> None:
        if side == "D":
            for p in module.D.parameters():
                p.clamp_(-self.clip, self.clip)

    def logs(self, kimg: float) -> dict[str, float]:
        return {"clip": self.clip}


def sn_layers(net: nn.Module) -> list[nn.Module]:
    """The layers of ``net`` whose weight is spectrally normalised (any parametrization with ``_u``)."""
    return [m for m in net.modules() if parametrize.is_parametrized(m, "weight")
            and any(hasattr(p, "_u") for p in m.parametrizations.weight)]


def apply_spectral_norm(net: nn.Module, n_power_iterations: int = 1, eps: float = 1e-12) -> nn.Module:
    """In place: spectral norm on every conv/linear weight of ``net`` that is not parametrized already."""
    for m in list(net.modules()):
        if isinstance(m, _SN_LAYERS) and not parametrize.is_parametrized(m, "weight"):
            spectral_norm(m, n_power_iterations=n_power_iterations, eps=eps)
    return net


class SpectralNorm(nn.Module):
    """Model transform: spectral normalisation of G and/or D (``nets``)."""

    def __init__(self, nets=("D",), n_power_iterations: int = 1, eps: float = 1e-12) -> None:
        super().__init__()
        self.nets = _nets(nets, "regularizer sn")
        if int(n_power_iterations) < 1:
            raise ConfigError(f"regularizer sn.n_power_iterations must be >= 1 (got {n_power_iterations})")
        self.n_power_iterations, self.eps = int(n_power_iterations), float(eps)

    def transform_generator(self, G: nn.Module) -> nn.Module:
        return apply_spectral_norm(G, self.n_power_iterations, self.eps) if "G" in self.nets else G

    def transform_discriminator(self, D: nn.Module) -> nn.Module:
        return apply_spectral_norm(D, self.n_power_iterations, self.eps) if "D" in self.nets else D
