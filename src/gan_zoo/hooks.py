"""The named extension points of the adversarial step, and the dispatcher that calls them.

A trick (``trick=[...]``) or a regularizer entry (``regularizer=...``) enters the step through one or more of
these methods. It implements only the ones it needs; :class:`Hooks` finds them by name and calls every
implementation in config order. No variant adds a branch to :mod:`gan_zoo.module`.

=====================  ==========================================  ===============================================
extension point        method                                      called
=====================  ==========================================  ===============================================
how a net is built     ``transform_generator(G) -> G``             once, before optimizers and G_ema exist; also
                       ``transform_discriminator(D) -> D``         when a checkpoint's G is rebuilt (load_run)
what D sees            ``d_input(x, ctx) -> x``                    on every D input (real and fake, D and G
                                                                   steps), after augmentation, inside the graph
which fakes D sees     ``d_fakes(fake, c, ctx) -> (fake, c)``      D step, on G's detached fakes and their labels
what D minimises       ``d_terms(inputs: DStepInputs) -> {name:    D step, after the loss and the penalties
                       term}``
what G minimises       ``g_objective(inputs: GStepInputs,          G step: receives the terms so far
                       terms) -> terms``                           (``{"adv": loss.g(...), ...}``), returns the
                                                                   terms G minimises (add, replace or drop)
after a step           ``after_step(side, module)``                after each optimizer step of side "D" or "G"
before training        ``check(module)``                           once; raise ConfigError (one line) or warn
logged values          ``logs(kimg) -> {name: float}``             every iteration, as ``trick/<entry>/<name>``
=====================  ==========================================  ===============================================

Penalties keep their own contract (:class:`gan_zoo.regularizers.base.Regularizer`: ``side``, ``interval``,
``forward(inputs) -> terms``); an entry of the ``regularizer`` group that has no ``side`` (a constraint such
as weight clipping, a transform such as spectral norm) only acts through the hooks above.

Rules that keep resume exact and the step one step:
- Randomness comes from ``ctx.gen`` (reseeded from (seed, rank, iteration) every iteration), never from the
  global RNG.
- State (a replay buffer, a schedule's position) lives in registered buffers of the trick, which is an
  ``nn.Module`` held by the AdversarialModule, so it is in every checkpoint. Buffers must keep their shape
  across a run (pre-allocate a capacity and keep a count), because ``load_state_dict`` restores in place.
- Trainable parameters of a trick live inside G or D (attach them in ``transform_*``, e.g. InfoGAN's Q head
  on D's trunk), so the optimizers, EMA, checkpoints and DDP gradient sync cover them with nothing else.
- Discriminators expose ``features(x, c) -> h [N, F]`` (the trunk: everything but the last linear layer)
  and ``head(h, c) -> logits [N]`` with ``D(x, c) == D.head(D.features(x, c), c)``; the step always calls the
  two, so hooks read the trunk features of the very forward pass the loss used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import torch
from torch import nn

POINTS = (
    "transform_generator",
    "transform_discriminator",
    "d_input",
    "d_fakes",
    "d_terms",
    "g_objective",
    "after_step",
    "check",
    "logs",
)


@dataclass
class StepContext:
    """Where in training a hook is called. ``gen`` draws this iteration's randomness; ``phase`` is "D" or
    "G"; ``step`` counts D steps over the run (``iteration * n_dis + k``) in the D phase, the iteration in G."""

    gen: torch.Generator
    kimg: float
    iteration: int
    phase: str
    step: int


class Hooks:
    """Every implementation of each extension point among ``parts`` (name -> module), in order."""

    def __init__(self, parts: Mapping[str, nn.Module]) -> None:
        self.parts = dict(parts)
        self._impl = {p: [(n, m) for n, m in self.parts.items() if callable(getattr(m, p, None))] for p in POINTS}

    def names(self, point: str) -> list[str]:
        return [n for n, _ in self._impl[point]]

    def _each(self, point: str) -> Iterable[tuple[str, nn.Module]]:
        return self._impl[point]

    def transform_generator(self, G: nn.Module) -> nn.Module:
        for _, part in self._each("transform_generator"):
            G = part.transform_generator(G)
        return G

    def transform_discriminator(self, D: nn.Module) -> nn.Module:
        for _, part in self._each("transform_discriminator"):
            D = part.transform_discriminator(D)
        return D

    def d_input(self, x: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        for _, part in self._each("d_input"):
            x = part.d_input(x, ctx)
        return x

    def d_fakes(self, fake: torch.Tensor, c: torch.Tensor | None, ctx: StepContext):
        for _, part in self._each("d_fakes"):
            fake, c = part.d_fakes(fake, c, ctx)
        return fake, c

    def d_terms(self, inputs) -> dict[str, torch.Tensor]:
        terms: dict[str, torch.Tensor] = {}
        for name, part in self._each("d_terms"):
            for key, value in part.d_terms(inputs).items():
                terms[_unique(terms, key, name)] = value
        return terms

    def g_objective(self, inputs, terms: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        for _, part in self._each("g_objective"):
            terms = dict(part.g_objective(inputs, dict(terms)))
        return terms

    def after_step(self, side: str, module) -> None:
        for _, part in self._each("after_step"):
            part.after_step(side, module)

    def check(self, module) -> None:
        for _, part in self._each("check"):
            part.check(module)

    def logs(self, kimg: float) -> dict[str, float]:
        return {f"trick/{name}/{k}": float(v) for name, part in self._each("logs") for k, v in part.logs(kimg).items()}


def _unique(terms: dict, key: str, owner: str) -> str:
    return key if key not in terms else f"{owner}.{key}"


def generator_transforms(cfg) -> Hooks:
    """The hooks of a run config's regularizer and trick entries, to rebuild its G (e.g. in load_run)."""
    from gan_zoo.config import build_all

    parts = dict(build_all(cfg.get("regularizer") or {}, "regularizer"))
    parts.update(build_all(cfg.get("trick") or {}, "trick"))
    return Hooks(parts)
