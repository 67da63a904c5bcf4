"""AdversarialModule: the D steps and the G step of every GAN in gan_zoo, with nothing model-specific.

One training iteration (one loader batch of ``batch * (n_dis + 1)`` real images per rank):

1. ``n_dis`` D steps, each on its own real batch and fresh z: ``fake = G(z, c)`` detached;
   ``loss.d(D(aug(real), c), D(aug(fake), c))`` plus every D-side regularizer due this step (R1 and R2 by
   double backprop w.r.t. the pre-augmentation images, ``interval`` for lazy application).
2. One G step on the last real batch and fresh z: ``loss.g(D(aug(G(z, c)), c), D(aug(real), c))`` plus
   G-side regularizers (e.g. path length).
3. Schedules (half-cosine over the burn-in) set lr, Adam beta2, gamma, augment p and the EMA half-life
   from the kimg at the start of the iteration; G_ema is updated after the G step: by the half-life, or by a
   fixed per-step ``ema_decay`` (BigGAN: 0.9999), and pinned to G (a copy) before ``ema_start_kimg``.

Gradient accumulation (``accumulate`` > 1, BigGAN-PyTorch's 256 x 8): each D or G step splits its batch into
``accumulate`` micro-batches, backpropagates each loss divided by ``accumulate`` and takes one optimizer
step on the summed gradients, so a step sees the whole batch with the memory of one micro-batch (BatchNorm
statistics are per micro-batch, as there). ``accumulate=1`` is the plain step.

kimg counts real images shown to D (``batch * n_dis`` per iteration, all ranks), as R3GAN and
stylegan2-ada do. Randomness is drawn from generators reseeded every iteration, so a resumed run draws exactly
what an uninterrupted one would: z from one stream of (seed, iteration) shared by all ranks, of which rank r
of W keeps rows r, r + W, ... of the global batch (as the sampler deals out real images), so a run on W
devices pairs the same z with the same real images as one device would; augmentation from (seed, rank,
iteration).
Lazy regularisation (``lazy_reg_steps=true``, StyleGAN2's official dynamics; Karras et al. CVPR 2020, Sec. 3.1,
as stylegan2-ada's training loop applies it): a penalty of ``interval`` k > 1 is not added to the main loss but
takes its own optimizer step (phases Dmain/Dreg, Gmain/Greg) on ``k *`` its terms every k-th step, and that
side's Adam runs with lr x k/(k+1) and betas ** (k/(k+1)), so that k main steps plus one regularisation step
move the weights as k steps would. Off (the default), a due penalty is added to that step's loss, x k.
Non-finite losses raise :class:`~gan_zoo.errors.DivergenceError` before any optimizer step is taken with them.

Variants (tricks and the regularizer group's constraints and transforms) act only through the named extension
points of :mod:`gan_zoo.hooks`, called below at their places: ``transform_*`` when the networks are set up,
``d_fakes`` on D's fakes, ``d_input`` on everything D sees, ``d_terms`` and ``g_objective`` on the two
objectives, ``after_step`` after each optimizer step.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
from torch import nn

from gan_zoo.data.base import to_float
from gan_zoo.ema import ema_beta, update_ema
from gan_zoo.errors import DivergenceError
from gan_zoo.hooks import Hooks, StepContext
from gan_zoo.regularizers.base import DStepInputs, GStepInputs
from gan_zoo.sampling import one_hot
from gan_zoo.schedules import Schedules


class AdversarialModule(pl.LightningModule):
    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        loss,
        regularizers: dict[str, nn.Module],
        augment: nn.Module,
        optimizer,  # a partial: optimizer(params, lr=...) -> torch.optim.Optimizer
        schedules: Schedules,
        batch_size: int,
        total_kimg: float,
        n_dis: int = 1,
        seed: int = 0,
        g_lr_mult: float = 1.0,
        d_lr_mult: float = 1.0,
        channels_last: bool = False,
        compile: bool = False,
        run_dir: str | Path = ".",
        cfg=None,
        tricks: dict[str, nn.Module] | None = None,
        ema_decay: float | None = None,
        ema_start_kimg: float = 0.0,
        accumulate: int = 1,
        lazy_reg_steps: bool = False,
    ) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.regularizers = nn.ModuleDict(regularizers)
        self.tricks = nn.ModuleDict(tricks or {})
        self.hooks = Hooks({"loss": loss, **regularizers, **(tricks or {})})  # a loss may log (label flips)
        self.G = self.hooks.transform_generator(generator)
        self.D = self.hooks.transform_discriminator(discriminator)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        self.loss = loss
        self.augment = augment
        self.optimizer_factory = optimizer
        self.schedules = schedules
        self.batch_size, self.total_kimg, self.n_dis = int(batch_size), float(total_kimg), int(n_dis)
        self.seed, self.g_lr_mult, self.d_lr_mult = int(seed), float(g_lr_mult), float(d_lr_mult)
        self.channels_last = bool(channels_last) and generator.resolution is not None
        self.use_compile = bool(compile)
        self.run_dir = Path(run_dir)
        self.cfg = cfg
        self.ema_decay = None if ema_decay is None else float(ema_decay)
        self.ema_start_kimg, self.accumulate = float(ema_start_kimg), int(accumulate)
        self.lazy_reg_steps = bool(lazy_reg_steps)
        self.iteration = 0
        self.last_values: dict[str, float] = {}
        if self.channels_last:
            for net in (self.G, self.D, self.G_ema):
                net.to(memory_format=torch.channels_last)
        if self.use_compile:
            self.G.compile()  # in place: state_dict keys (and checkpoints) stay those of the eager model
        self.hooks.check(self)

    # ---- bookkeeping ---------------------------------------------------------------------------------
    @property
    def kimg(self) -> float:
        return self.iteration * self.batch_size * self.n_dis / 1000.0

    @property
    def world_size(self) -> int:
        return self.trainer.world_size if self._trainer is not None else 1

    @property
    def per_rank_batch(self) -> int:
        return self.batch_size // self.world_size

    def _rng(self, shared: bool = False) -> torch.Generator:
        rank = self.global_rank if self._trainer is not None else 0
        key = [self.seed, self.iteration] if shared else [self.seed, rank, self.iteration]
        state = np.random.SeedSequence(key).generate_state(2, dtype=np.uint64)
        return torch.Generator().manual_seed(int(state[0] >> np.uint64(1)))

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        x = to_float(x)
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def _latents(self, n: int) -> torch.Tensor:
        """This rank's ``n`` rows of the global batch of z drawn from the shared stream (see module doc)."""
        world, rank = self.world_size, (self.global_rank if self._trainer is not None else 0)
        z = torch.randn(n * world, self.G.z_dim, generator=self._z_gen)
        return z[rank::world].to(self.device)

    def _due(self, side: str, step: int, part: str = "all") -> list[tuple[str, nn.Module]]:
        """The penalties of ``side`` due at ``step`` (regularizer entries without a side only act via hooks);
        with ``lazy_reg_steps``, ``part`` "main" keeps the every-step ones and "reg" the lazy ones."""
        due = [(n, r) for n, r in self.regularizers.items()
               if getattr(r, "side", None) == side and step % r.interval == 0]
        if part == "all":
            return due
        return [(n, r) for n, r in due if (r.interval > 1) == (part == "reg")]

    def reg_ratio(self, side: str) -> float:
        """stylegan2-ada's ``mb_ratio`` k/(k+1) of a side with lazy regularisation steps of interval k (else 1)."""
        ks = {r.interval for r in self.regularizers.values() if getattr(r, "side", None) == side and r.interval > 1}
        if not self.lazy_reg_steps or not ks:
            return 1.0
        if len(ks) > 1:
            from gan_zoo.errors import ConfigError

            raise ConfigError(f"lazy_reg_steps: the {side}-side penalties have intervals {sorted(ks)}; one "
                              "regularisation step per side needs one interval (as stylegan2-ada's reg_interval)")
        k = ks.pop()
        return k / (k + 1)

    def _ctx(self, gen: torch.Generator, phase: str, step: int) -> StepContext:
        return StepContext(gen=gen, kimg=self.kimg, iteration=self.iteration, phase=phase, step=step)

    def _discriminator(self, gen: torch.Generator, ctx: StepContext):
        """``discriminate(x, c) -> (logits, trunk features)``: D on what it sees (augmentation, then the
        ``d_input`` hooks), as one function, so penalties and hooks evaluate D exactly as the loss did."""

        def see(x: torch.Tensor) -> torch.Tensor:
            return self.hooks.d_input(self.augment(x, gen), ctx)

        def discriminate(x: torch.Tensor, c):
            h = self.D.features(see(x), c)
            return self.D.head(h, c), h

        return see, discriminate

    # ---- optimisation ----------------------------------------------------------------------------------
    def configure_optimizers(self):
        lr = self.schedules("lr", 0.0)
        opt_g = self.optimizer_factory(self.G.parameters(), lr=lr * self.g_lr_mult)
        opt_d = self.optimizer_factory(self.D.parameters(), lr=lr * self.d_lr_mult)
        self._beta1 = {side: opt.param_groups[0].get("betas", (None,))[0]  # before any k/(k+1) rescaling
                       for side, opt in (("G", opt_g), ("D", opt_d))}
        return [opt_g, opt_d]

    def _apply_schedules(self, values: dict[str, float]) -> None:
        opt_g, opt_d = self.optimizers()
        for side, opt, mult in (("G", opt_g, self.g_lr_mult), ("D", opt_d, self.d_lr_mult)):
            ratio = self.reg_ratio(side)
            for group in opt.optimizer.param_groups:
                group["lr"] = values["lr"] * mult * ratio
                if "betas" in group:
                    beta1 = self._beta1[side] if ratio != 1.0 else group["betas"][0]
                    group["betas"] = (beta1**ratio, values["beta2"] ** ratio)
        self.augment.p = values["aug_p"]

    def _sync_grads(self, net: nn.Module) -> None:
        """Average gradients over ranks. Done by hand (as stylegan2-ada's training loop) because the
        DDP reducer does not follow double backprop through ``autograd.grad`` and several backward passes
        per forward; see ``gan_zoo.strategies``."""
        if self.world_size <= 1 or not torch.distributed.is_initialized():
            return
        grads = [p.grad for p in net.parameters() if p.grad is not None]
        if grads:
            flat = torch.cat([g.flatten() for g in grads])
            torch.distributed.all_reduce(flat)
            flat /= self.world_size
            offset = 0
            for g in grads:
                g.copy_(flat[offset : offset + g.numel()].view_as(g))
                offset += g.numel()

    def _check_finite(self, name: str, value: torch.Tensor) -> None:
        if not torch.isfinite(value).all():
            last = self.run_dir / "checkpoints" / "last.ckpt"
            where = (f"the last good checkpoint is {last}" if last.is_file()
                     else "no checkpoint was written before it, start again")  # none to name before the first
            raise DivergenceError(
                f"{name} became {value.item()} at kimg {self.kimg:.2f} (iteration {self.iteration}); "
                f"{where}: lower the lr or raise gamma"
            )

    def _micro_batches(self, real: torch.Tensor, c):
        """``(real, c)`` split into ``accumulate`` equal micro-batches (one when not accumulating)."""
        if self.accumulate == 1:
            return [(real, c)]
        cs = c.chunk(self.accumulate) if c is not None else [None] * self.accumulate
        return list(zip(real.chunk(self.accumulate), cs))

    def _accumulated(self, side: str, loss_fn, real: torch.Tensor, c) -> dict:
        """One optimizer step of ``side`` on the gradients of ``loss_fn(real, c) -> (total, logs)`` summed over
        the micro-batches; the logs are their means."""
        opt, net = (self.optimizers()[1], self.D) if side == "D" else (self.optimizers()[0], self.G)
        opt.zero_grad(set_to_none=True)
        parts = []
        for real_k, c_k in self._micro_batches(real, c):
            total, logs = loss_fn(real_k, c_k)
            self.manual_backward(total / self.accumulate if self.accumulate > 1 else total)
            parts.append(logs)
        self._sync_grads(net)
        opt.step()
        self.hooks.after_step(side, self)
        if len(parts) == 1:
            return parts[0]
        return {k: torch.stack([p[k] for p in parts]).mean() for k in parts[0]}

    def _d_step(self, real: torch.Tensor, c, gen: torch.Generator, gamma: float, step: int) -> dict:
        if not self.lazy_reg_steps:
            return self._accumulated("D", lambda r, c_k: self._d_loss(r, c_k, gen, gamma, step), real, c)
        logs = self._accumulated("D", lambda r, c_k: self._d_loss(r, c_k, gen, gamma, step, "main"), real, c)
        if self._due("D", step, "reg"):  # stylegan2-ada's Dreg phase: the lazy penalties alone, own step
            reg = self._accumulated("D", lambda r, c_k: self._d_loss(r, c_k, gen, gamma, step, "reg"), real, c)
            logs.update({k: v for k, v in reg.items() if k.startswith("reg/")})
        return logs

    def _d_loss(self, real: torch.Tensor, c, gen: torch.Generator, gamma: float, step: int, part: str = "all"):
        ctx = self._ctx(gen, "D", step)
        see, discriminate = self._discriminator(gen, ctx)
        self.G.requires_grad_(False)
        self.D.requires_grad_(True)
        z = self._latents(real.shape[0])
        with torch.no_grad():
            fake = self.G(z, c)
        fake, fake_c = self.hooks.d_fakes(fake.detach(), c, ctx)
        due = self._due("D", step, part)
        real = real.detach().requires_grad_(any(r.needs_real_grad for _, r in due))
        fake = fake.detach().requires_grad_(any(r.needs_fake_grad for _, r in due))
        real_logits, real_h = discriminate(real, c)
        fake_logits, fake_h = discriminate(fake, fake_c)
        adv = self.loss.d(real_logits, fake_logits, gen=gen)
        inputs = DStepInputs(self.D, real, fake, c, real_logits, fake_logits, see, gamma, fake_c=fake_c,
                             real_features=real_h, fake_features=fake_h, discriminate=discriminate, ctx=ctx,
                             loss=self.loss, z=z)
        terms = {k: v * r.interval for _, r in due for k, v in r(inputs).items()}
        extra = self.hooks.d_terms(inputs)
        total = (adv + sum(extra.values()) if part != "reg" else 0.0) + sum(terms.values())
        self._check_finite("D loss", total)
        return total, {"loss/d": adv.detach(), **{f"reg/{k}": v.detach() for k, v in terms.items()},
                       **{f"trick/{k}": v.detach() for k, v in extra.items()},
                       "logits/real": real_logits.detach().mean(), "logits/fake": fake_logits.detach().mean()}

    def _g_step(self, real: torch.Tensor, c, gen: torch.Generator) -> dict:
        part = "main" if self.lazy_reg_steps else "all"
        logs = self._accumulated("G", lambda r, c_k: self._g_loss(r, c_k, gen, part), real, c)
        if self.lazy_reg_steps and self._due("G", self.iteration, "reg"):  # the Greg phase
            reg = self._accumulated("G", lambda r, c_k: self._g_loss(r, c_k, gen, "reg"), real, c)
            logs.update({k: v for k, v in reg.items() if k.startswith("reg/")})
        self.D.requires_grad_(True)
        return logs

    def _g_loss(self, real: torch.Tensor, c, gen: torch.Generator, part: str = "all"):
        ctx = self._ctx(gen, "G", self.iteration)
        see, discriminate = self._discriminator(gen, ctx)
        self.G.requires_grad_(True)
        self.D.requires_grad_(False)
        z = self._latents(real.shape[0])
        fake = self.G(z, c)
        fake_logits, fake_h = discriminate(fake, c)
        real_logits = real_h = None
        if self.loss.g_needs_real or any(getattr(p, "needs_real_features", False) for p in self.hooks.parts.values()):
            with torch.no_grad():
                real_logits, real_h = discriminate(real, c)
        inputs = GStepInputs(self.G, self.D, z, c, fake, fake_logits, real=real, real_logits=real_logits,
                             fake_features=fake_h, real_features=real_h, discriminate=discriminate, ctx=ctx,
                             loss=self.loss)
        objective = self.hooks.g_objective(inputs, {"adv": self.loss.g(fake_logits, real_logits, gen=gen)})
        adv = objective.pop("adv", None)
        terms = {k: v * r.interval for _, r in self._due("G", self.iteration, part) for k, v in r(inputs).items()}
        total = sum(terms.values()) + (
            sum(objective.values()) + (adv if adv is not None else 0.0) if part != "reg" else 0.0)
        self._check_finite("G loss", total)
        logs = {**{f"reg/{k}": v.detach() for k, v in terms.items()},
                **{f"trick/{k}": v.detach() for k, v in objective.items()}}
        if adv is not None:
            logs["loss/g"] = adv.detach()
        return total, logs

    def training_step(self, batch, batch_idx):
        images, labels = batch
        kimg0 = self.kimg
        values = self.schedules.values(kimg0)
        self._apply_schedules(values)
        gen, self._z_gen = self._rng(), self._rng(shared=True)
        b = images.shape[0] // (self.n_dis + 1)
        logs: dict[str, torch.Tensor] = {}
        for k in range(self.n_dis + 1):
            real = self._prepare(images[k * b : (k + 1) * b])
            c = one_hot(labels[k * b : (k + 1) * b], self.G.c_dim)
            if k < self.n_dis:
                logs.update(self._d_step(real, c, gen, values["gamma"], self.iteration * self.n_dis + k))
            else:
                logs.update(self._g_step(real, c, gen))
        self.iteration += 1
        beta = ema_beta(self.batch_size, values["ema_halflife_kimg"]) if self.ema_decay is None else self.ema_decay
        update_ema(self.G_ema, self.G, 0.0 if kimg0 < self.ema_start_kimg else beta)
        logs.update({f"schedule/{k}": torch.tensor(v) for k, v in values.items()})
        logs.update({k: torch.tensor(v) for k, v in self.hooks.logs(kimg0).items()})
        logs["kimg"] = torch.tensor(self.kimg)
        self.last_values = {k: float(v) for k, v in logs.items()}
        if self.kimg >= self.total_kimg - 1e-9:
            self.trainer.should_stop = True
        if self._logger_writes_this_step():
            self.log_dict(logs, on_step=True, on_epoch=False, batch_size=b)

    def _logger_writes_this_step(self) -> bool:
        """Whether Lightning hands this step's values to the loggers (every ``trainer.log_every_n_steps`` steps
        and the last). Values are logged only then: each ``self.log`` costs ~0.5 ms on its own (Lightning's
        result collection moves the logged value's state with ``apply_to_collection``), 6-9 % of a tiny-preset
        step for ~15 values (benchmarks/bench_overhead.py), and on other steps Lightning discards them unwritten.
        ``last_values`` (health monitor, the run summary) still sees every step."""
        connector = getattr(self._trainer, "_logger_connector", None)
        return connector is None or bool(getattr(connector, "should_update_logs", True))

    # ---- checkpoint extras -----------------------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["gan_zoo"] = {"iteration": self.iteration, "kimg": self.kimg}
        if self.cfg is not None:
            from omegaconf import OmegaConf

            checkpoint["gan_zoo_config"] = OmegaConf.to_container(self.cfg, resolve=True)

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self.iteration = int(checkpoint["gan_zoo"]["iteration"])

    def num_params(self) -> tuple[int, int]:
        return (sum(p.numel() for p in self.G.parameters()), sum(p.numel() for p in self.D.parameters()))

    @property
    def total_iterations(self) -> int:
        return math.ceil(self.total_kimg * 1000 / (self.batch_size * self.n_dis))
