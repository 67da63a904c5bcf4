"""Unrolled GAN (Metz, Poole, Pfau, Sohl-Dickstein, "Unrolled Generative Adversarial Networks", ICLR 2017).

G minimises its loss against the discriminator *after* ``k`` further D updates, with gradients through them:

    theta_D^0 = theta_D,   theta_D^{i+1} = theta_D^i - eta * d L_D(theta_G, theta_D^i) / d theta_D^i   (Eq. 5)
    f_K(theta_G, theta_D) = L_G(theta_G, theta_D^K)                                                      (Eq. 6)
    d f_K / d theta_G  includes  d theta_D^K / d theta_G                                                  (Eq. 7)

The unroll is functional: ``torch.func.functional_call`` runs the very D of the step (its d_input transform,
wrappers and penalties' D included) on the unrolled parameters, which are fresh tensors built from D's
detached weights, so the real D is not changed (and receives no gradient) — its own optimizer step stays
the ordinary one. The unroll's D updates are plain gradient steps of size ``lr`` on the run's D loss, on the
G step's real batch and fakes (``create_graph=True``, so d theta_D^K / d theta_G flows into G's gradient).
``second_order: false`` stops the unroll's gradient (the "first-order" variant; Metz et al. Sec. 2.2).
Acts at ``g_objective``: the adversarial term is replaced by the unrolled one.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call

from gan_zoo.errors import ConfigError


class _Discriminate(nn.Module):
    """The step's ``discriminate`` as a module holding D, so functional_call can swap D's parameters."""

    def __init__(self, D: nn.Module, fn) -> None:
        super().__init__()
        self.D = D
        object.__setattr__(self, "fn", fn)

    def forward(self, x, c):
        return self.fn(x, c)[0]


def unrolled_params(D: nn.Module, discriminate, loss, real, fake, c, steps: int, lr: float,
                    second_order: bool = True, gen=None) -> dict[str, torch.Tensor]:
    """D's parameters after ``steps`` gradient steps of ``loss.d`` (graph kept when ``second_order``)."""
    net = _Discriminate(D, discriminate)
    params = {f"D.{n}": p.detach().clone().requires_grad_(True) for n, p in D.named_parameters()}
    buffers = {f"D.{n}": b.clone() for n, b in D.named_buffers()}  # BatchNorm statistics: the real D's stay put
    params = {**params, **buffers}
    for _ in range(steps):
        real_logits = functional_call(net, params, (real, c))
        fake_logits = functional_call(net, params, (fake, c))
        d_loss = loss.d(real_logits, fake_logits, gen=gen)
        names = [n for n in params if n not in buffers]
        grads = torch.autograd.grad(d_loss, [params[n] for n in names], create_graph=second_order, allow_unused=True)
        step = {n: params[n] - lr * (g if g is not None else 0.0) for n, g in zip(names, grads)}
        if not second_order:
            step = {n: p.detach().requires_grad_(True) for n, p in step.items()}
        params = {**params, **step}
    return params


class Unrolled(nn.Module):
    needs_real_features = True  # the unroll needs the G step's real batch

    def __init__(self, steps: int = 5, lr: float = 1e-4, second_order: bool = True) -> None:
        super().__init__()
        if int(steps) < 1 or not float(lr) > 0:
            raise ConfigError(f"trick.unrolled: steps must be >= 1 and lr > 0 (got {steps}, {lr}); Metz et al. "
                              "use 5-10 steps at D's learning rate")
        self.steps, self.lr, self.second_order = int(steps), float(lr), bool(second_order)

    def g_objective(self, inputs, terms: dict) -> dict:
        if inputs.real is None:
            raise ConfigError("trick.unrolled needs the G step's real batch (GStepInputs.real)")
        params = unrolled_params(inputs.D, inputs.discriminate, inputs.loss, inputs.real.detach(), inputs.fake,
                                 inputs.c, self.steps, self.lr, self.second_order, gen=inputs.ctx.gen)
        net = _Discriminate(inputs.D, inputs.discriminate)
        fake_logits = functional_call(net, params, (inputs.fake, inputs.c))
        real_logits = None
        if getattr(inputs.loss, "g_needs_real", False):
            real_logits = functional_call(net, params, (inputs.real.detach(), inputs.c)).detach()
        terms["adv"] = inputs.loss.g(fake_logits, real_logits, gen=inputs.ctx.gen)
        return terms
