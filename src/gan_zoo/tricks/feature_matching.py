"""Feature matching (Salimans et al., "Improved Techniques for Training GANs", NeurIPS 2016, Sec. 3.1).

G matches the mean of D's intermediate features on real data instead of (``mode: replace``) or beside
(``mode: add``) maximising D's output:

    L_FM = || E_x f(x) - E_z f(G(z)) ||_2^2                                   (Salimans et al., Sec. 3.1)

``f`` is D's trunk (``D.features``: everything but the last linear layer), evaluated in the very forward pass
the adversarial loss used on the fakes; the real batch's features are computed without grad (D is fixed in
G's step). Acts at ``g_objective``; ``check`` refuses a D that exposes no features.
"""

from __future__ import annotations

from torch import nn

from gan_zoo.errors import ConfigError
from gan_zoo.tricks.base import require_features


class FeatureMatching(nn.Module):
    needs_real_features = True
    MODES = ("replace", "add")

    def __init__(self, weight: float = 1.0, mode: str = "replace") -> None:
        super().__init__()
        if mode not in self.MODES:
            raise ConfigError(f"trick.feature_matching.mode={mode!r}: use replace (Salimans' objective alone) "
                              "or add (beside the adversarial loss)")
        self.weight, self.mode = float(weight), mode

    def check(self, module) -> None:
        require_features(module.D, "feature_matching")

    def g_objective(self, inputs, terms: dict) -> dict:
        real = inputs.real_features.detach().mean(0)
        fake = inputs.fake_features.mean(0)
        terms["feature_matching"] = self.weight * (real - fake).pow(2).sum()
        if self.mode == "replace":
            terms.pop("adv", None)
        return terms


