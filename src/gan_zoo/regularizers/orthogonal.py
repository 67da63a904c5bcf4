"""Orthogonal initialisation and BigGAN's off-diagonal orthogonal regularisation of G.

Brock, Donahue, Simonyan, "Large Scale GAN Training for High Fidelity Natural Image Synthesis", ICLR 2019
(arXiv 1809.11096), Sec. 3.1, Eq. 3 (Saxe et al. 2014 for the initialisation, Brock et al. 2017 for Eq. 2).

**Convention.** Every weight with at least two axes is read as the matrix ``W`` of shape ``[out, fan_in]``
(a conv's ``[out, in, kh, kw]`` flattened), so its *rows* are the filters ``w_i``. The penalty is

    R_beta(W) = beta * || W W^T  (.)  (1 - I) ||_F^2 = beta * sum_{i != j} (w_i . w_j)^2

(the paper writes ``W^T W`` with filters as columns: the same number). Its gradient is
``4 beta [(W W^T) (.) (1 - I)] W``. BigGAN-PyTorch's ``utils.ortho`` adds ``2 beta [...] W`` to the gradient
instead, i.e. it applies ``beta / 2`` in this convention; ``beta=1e-4`` here is the paper's 1e-4.
Because ``||W W^T||_F = ||W^T W||_F``, the penalty is computed with the smaller Gram matrix as
``||G||_F^2 - sum_i ||w_i||^4`` (``G`` = ``W^T W`` or ``W W^T``, whichever is smaller): G's first linear at
128 px is ``[24576, 20]``, whose ``W W^T`` would have 6e8 entries.

Which weights: every parameter with >= 2 axes except those of ``nn.Embedding`` modules (the paper and BGP
skip G's shared class embedding: "it makes no sense" to decorrelate class vectors). Spectrally normalised
layers contribute their *unnormalised* weight (``parametrizations.weight.original``), as in BGP.

The regulariser is a G-side entry of the ``regularizer`` group (``regularizer=ortho``), logged as
``reg/ortho``; :class:`OrthogonalInit` is a model transform (``transform_generator`` /
``transform_discriminator``) that gives any network BigGAN's initialisation.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn
from torch.nn.utils import parametrize

from gan_zoo.errors import ConfigError
from gan_zoo.regularizers.base import GStepInputs, Regularizer

_WEIGHTED = (nn.Conv2d, nn.Linear, nn.Embedding, nn.ConvTranspose2d, nn.Conv1d)


def _raw_weight(module: nn.Module) -> torch.Tensor:
    """The trainable weight tensor (the unnormalised original when the weight is parametrized)."""
    if parametrize.is_parametrized(module, "weight"):
        return module.parametrizations.weight.original
    return module.weight


def penalised_weights(model: nn.Module) -> Iterator[tuple[str, torch.Tensor]]:
    """(name, weight) of every >= 2-D parameter of ``model`` outside ``nn.Embedding`` modules."""
    skip = {id(p) for m in model.modules() if isinstance(m, nn.Embedding) for p in m.parameters()}
    for name, p in model.named_parameters():
        if p.ndim >= 2 and id(p) not in skip:
            yield name, p


def off_diagonal_gram_sq(weight: torch.Tensor) -> torch.Tensor:
    """``|| W W^T (.) (1 - I) ||_F^2`` for ``W = weight.reshape(out, -1)``, via the smaller Gram matrix."""
    w = weight.reshape(weight.shape[0], -1)
    gram = w.T @ w if w.shape[1] <= w.shape[0] else w @ w.T
    row_sq = w.square().sum(dim=1)
    return gram.square().sum() - row_sq.square().sum()


class OrthogonalRegularizer(Regularizer):
    """``{"ortho": beta * sum_W ||W W^T (.) (1 - I)||_F^2}`` over G's weights (module docstring)."""

    side = "G"

    def __init__(self, beta: float = 1e-4, interval: int = 1) -> None:
        super().__init__(interval)
        if not beta >= 0:
            raise ConfigError(f"regularizer ortho.beta must be >= 0 (got {beta}); BigGAN uses 1e-4")
        self.beta = float(beta)

    def penalty(self, model: nn.Module) -> torch.Tensor:
        terms = [off_diagonal_gram_sq(w) for _, w in penalised_weights(model)]
        if not terms:
            raise ConfigError(f"regularizer ortho: {type(model).__name__} has no >= 2-D weights to regularise")
        return self.beta * torch.stack(terms).sum()

    def forward(self, inputs: GStepInputs) -> dict[str, torch.Tensor]:
        return {"ortho": self.penalty(inputs.G)}


@torch.no_grad()
def init_weights_(model: nn.Module, style: str = "ortho") -> nn.Module:
    """In place: every conv/linear/embedding weight of ``model`` orthogonal (``ortho``, Saxe et al. 2014),
    N(0, 0.02^2) (``N02``) or Glorot-uniform (``xavier``); biases are left as they are. Spectral-norm
    parametrizations get their power-iteration vectors re-estimated for the new weights (``refresh_sn_``)."""
    inits = {"ortho": nn.init.orthogonal_, "N02": lambda w: nn.init.normal_(w, 0.0, 0.02),
             "xavier": nn.init.xavier_uniform_}
    if style not in inits:
        raise ConfigError(f"model init={style!r} is unknown; use one of {', '.join(inits)}")
    for module in model.modules():
        if isinstance(module, _WEIGHTED):
            inits[style](_raw_weight(module))
    refresh_sn_(model)
    return model


@torch.no_grad()
def refresh_sn_(model: nn.Module, iterations: int = 15) -> None:
    """Re-run the power iteration of every spectral-norm parametrization (torch's own 15 at construction),
    so its u, v vectors belong to the current weights (after a re-initialisation)."""
    for module in model.modules():
        if not parametrize.is_parametrized(module, "weight"):
            continue
        for p in module.parametrizations.weight:
            power = getattr(p, "_power_method", None)  # torch's _SpectralNorm; private, hence the fallback
            if callable(power) and hasattr(p, "_reshape_weight_to_matrix"):
                power(p._reshape_weight_to_matrix(module.parametrizations.weight.original), iterations)
            else:
                was = module.training
                module.train()
                for _ in range(iterations):
                    module.weight  # noqa: B018 - each read in train mode is one power iteration
                module.train(was)


class OrthogonalInit(nn.Module):
    """Model transform: orthogonal (or ``style``) initialisation of G and/or D (``nets``), any architecture."""

    def __init__(self, nets: tuple[str, ...] | list[str] = ("G", "D"), style: str = "ortho") -> None:
        super().__init__()
        nets = tuple(nets)
        if not set(nets) <= {"G", "D"} or not nets:
            raise ConfigError(f"regularizer ortho_init.nets={list(nets)}: use a subset of [G, D]")
        self.nets, self.style = nets, style

    def transform_generator(self, G: nn.Module) -> nn.Module:
        return init_weights_(G, self.style) if "G" in self.nets else G

    def transform_discriminator(self, D: nn.Module) -> nn.Module:
        return init_weights_(D, self.style) if "D" in self.nets else D
