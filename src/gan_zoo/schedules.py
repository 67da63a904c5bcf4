"""Half-cosine schedules of training hyperparameters, as R3GAN's training loop (Huang et al. 2024, App. B).

A value moves from ``start`` to ``end`` along half a cosine over the first ``burnin_kimg`` thousand real
images shown to D, then stays at ``end``:

    v(t) = end + (start - end) * (1 + cos(pi * min(t / burnin, 1))) / 2

R3GAN schedules the learning rate, gamma, Adam's beta2, the EMA half-life and the augmentation probability
this way (paper Table 9: e.g. CIFAR-10 lr 2e-4 -> 5e-5, gamma 0.05 -> 0.005 over 20 Mimg).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gan_zoo.errors import ConfigError


@dataclass(frozen=True)
class HalfCosine:
    start: float
    end: float
    burnin_kimg: float

    def __call__(self, kimg: float) -> float:
        if self.burnin_kimg <= 0:
            return float(self.end)
        progress = min(max(kimg / self.burnin_kimg, 0.0), 1.0)
        return float(self.end + (self.start - self.end) * 0.5 * (1 + math.cos(math.pi * progress)))


class Schedules:
    """The run's schedules by name: ``lr``, ``gamma``, ``beta2``, ``ema_halflife_kimg``, ``aug_p``.

    Built from the ``schedule`` config group: ``burnin_kimg`` plus, per name, ``{start, end}`` or a constant.
    """

    NAMES = ("lr", "gamma", "beta2", "ema_halflife_kimg", "aug_p")
    LIMITS = {
        "lr": (0.0, math.inf, False),  # (low, high, low inclusive?)
        "gamma": (0.0, math.inf, True),
        "beta2": (0.0, 1.0, True),
        "ema_halflife_kimg": (0.0, math.inf, True),
        "aug_p": (0.0, 1.0, True),
    }

    def __init__(self, burnin_kimg: float, **values) -> None:
        unknown = sorted(set(values) - set(self.NAMES))
        if unknown:
            raise ConfigError(f"schedule.{unknown[0]} is not a schedule; known: {', '.join(self.NAMES)}")
        missing = [n for n in self.NAMES if n not in values]
        if missing:
            raise ConfigError(f"schedule.{missing[0]} is missing; give {{start, end}} or a number")
        if burnin_kimg < 0:
            raise ConfigError(f"schedule.burnin_kimg must be >= 0 (got {burnin_kimg})")
        self._curves: dict[str, HalfCosine] = {}
        for name, spec in values.items():
            start, end = (spec["start"], spec["end"]) if hasattr(spec, "keys") else (spec, spec)
            low, high, low_ok = self.LIMITS[name]
            for which, v in (("start", start), ("end", end)):
                v = float(v)
                if not (low < v or (low_ok and v == low)) or not v <= high or (name == "beta2" and v >= 1.0):
                    rng = f"{'[' if low_ok else '('}{low}, {high}{')' if name == 'beta2' else ']'}"
                    raise ConfigError(f"schedule.{name}.{which} = {v} is outside {rng}; fix it in the schedule config")
            self._curves[name] = HalfCosine(float(start), float(end), float(burnin_kimg))

    def __call__(self, name: str, kimg: float) -> float:
        return self._curves[name](kimg)

    def values(self, kimg: float) -> dict[str, float]:
        return {name: curve(kimg) for name, curve in self._curves.items()}
