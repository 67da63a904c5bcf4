"""Compositions of losses, penalties, constraints and networks that cannot work (fail before training, one
line naming the keys) or are legal but known to hurt (warn once).

Called from :func:`gan_zoo.config.check_composition` with the run config and the built D (before any model
transform). Entries of the ``regularizer`` group are recognised by the class their ``_target_`` names, so any
key or import path works.

Errors:
- weight clipping and spectral norm on the same D (``regularizer=clip`` with ``regularizer=sn`` on D, or a D
  that is spectrally normalised by construction such as BigGAN's): clipping clamps SN's unnormalised weight,
  so the constraint SN maintains is silently broken and the clip no longer bounds the normalised weight.

Warnings (:class:`CompositionWarning`, once per message and process, Python's default filter):
- clipping with a loss other than Wasserstein: clipping is WGAN's Lipschitz device (Arjovsky et al. 2017); with
  a saturating or hinge loss it only caps D's capacity (Gulrajani et al. 2017, Sec. 3 show it underfits even
  for WGAN).
- BatchNorm in D with a per-sample gradient penalty (WGAN-GP, DRAGAN, R1, R2): BN couples the samples of a
  batch, so the per-sample gradient the penalty constrains is not the critic's (Gulrajani et al. 2017,
  Sec. 4: "no critic batch normalization"; DCGAN: model.d_batchnorm=false).
- the Wasserstein loss with no Lipschitz constraint at all (no clipping, gradient penalty or SN on D): the critic
  is unbounded and its loss diverges.
"""

from __future__ import annotations

import warnings

from hydra.utils import get_class
from omegaconf import DictConfig
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from gan_zoo.errors import ConfigError


class CompositionWarning(UserWarning):
    """A legal composition that is known to hurt training."""


def _entries(cfg: DictConfig) -> dict[str, tuple[type, DictConfig]]:
    out = {}
    for name, node in (cfg.get("regularizer") or {}).items():
        target = node.get("_target_") if isinstance(node, DictConfig) else None
        if target:
            try:
                out[str(name)] = (get_class(target), node)
            except Exception:  # noqa: BLE001 - an unknown target fails with its own message when built
                continue
    return out


def _loss_class(cfg: DictConfig):
    target = (cfg.get("loss") or {}).get("_target_")
    try:
        return get_class(target) if target else None
    except Exception:  # noqa: BLE001
        return None


def check_objectives(cfg: DictConfig, D: nn.Module) -> None:
    from gan_zoo.losses import Wasserstein
    from gan_zoo.regularizers import DRAGAN, R1, R2, WGANGP, SpectralNorm, WeightClip
    from gan_zoo.regularizers.constraints import sn_layers

    entries = _entries(cfg)
    clips = [n for n, (cls, _) in entries.items() if issubclass(cls, WeightClip)]
    sn_d = [n for n, (cls, node) in entries.items()
            if issubclass(cls, SpectralNorm) and "D" in list(node.get("nets", ["D"]))]
    built_in_sn = bool(sn_layers(D))
    penalties = [n for n, (cls, _) in entries.items() if issubclass(cls, (WGANGP, DRAGAN, R1, R2))]
    loss = _loss_class(cfg)
    if clips and (sn_d or built_in_sn):
        other = (f"regularizer.{sn_d[0]} (spectral norm on D)" if sn_d
                 else f"model={cfg.model.get('name')} (its D is spectrally normalised)")
        raise ConfigError(f"regularizer.{clips[0]} (weight clipping) and {other} cannot be combined on the same D: "
                          f"clipping would clamp SN's unnormalised weights; drop one of them")
    if clips and loss is not None and not issubclass(loss, Wasserstein):
        warnings.warn(f"regularizer.{clips[0]} (weight clipping) with loss={loss.__name__}: clipping is WGAN's "
                      "Lipschitz constraint and with another loss only caps D's capacity", CompositionWarning,
                      stacklevel=2)
    if penalties and any(isinstance(m, _BatchNorm) for m in D.modules()):
        warnings.warn(f"model.discriminator has BatchNorm and regularizer.{penalties[0]} penalises per-sample "
                      "gradients, which BN couples across the batch (WGAN-GP Sec. 4: no BN in the critic); use a D "
                      "without BN (DCGAN: model.d_batchnorm=false)", CompositionWarning, stacklevel=2)
    lipschitz = clips or sn_d or built_in_sn or [n for n, (cls, _) in entries.items()
                                                 if issubclass(cls, (WGANGP, DRAGAN))]
    if loss is not None and issubclass(loss, Wasserstein) and not lipschitz:
        warnings.warn("loss=wasserstein without a Lipschitz constraint on D (regularizer=clip, wgan_gp or sn): "
                      "the critic is unbounded", CompositionWarning, stacklevel=2)
