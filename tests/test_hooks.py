"""The named extension points (gan_zoo.hooks) are called where the step says, in order, with the right data;
discriminators split into trunk features and head; instance noise (the worked example) follows its schedule."""

from __future__ import annotations

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch import nn

from gan_zoo.checkpoint import load_checkpoint
from gan_zoo.hooks import Hooks, StepContext
from gan_zoo.tricks import InstanceNoise
from tests.conftest import compose_run
from tests.helpers import read_losses, train_run

RING = ["dataset=toy2d_ring", "model=mlp", "batch_size=32", "trainer.log_every_n_steps=1",
        "callbacks.samples.every_kimg=100", "callbacks.checkpoint.every_kimg=100"]


@pytest.mark.parametrize("model", ["r3gan/tiny", "stylegan2/tiny_a", "mlp"])
def test_discriminator_is_head_of_features(model):
    cfg = compose_run([f"model={model}", *(["dataset=toy2d_ring"] if model == "mlp" else [])])
    torch.manual_seed(0)
    D = instantiate(cfg.model.discriminator)
    x = torch.randn(6, 2) if model == "mlp" else torch.randn(6, 3, 8, 8)
    h = D.features(x)
    assert h.ndim == 2 and h.shape[0] == 6
    assert torch.equal(D.head(h), D(x))


def test_conditional_r3gan_head_projects_the_class_embedding():
    cfg = compose_run(["model=r3gan/tiny", "model.c_dim=10"])
    D = instantiate(cfg.model.discriminator)
    x, c = torch.randn(4, 3, 8, 8), torch.eye(10)[[1, 2, 3, 4]]
    h = D.features(x, c)
    by_hand = (D.stages[-1][-1].linear(h) * D.embed(c)).sum(dim=1)
    assert torch.allclose(D(x, c), by_hand) and torch.equal(D(x, c), D.head(h, c))


class Spy(nn.Module):
    """Records every extension-point call of a training run (class-level, as Hydra builds the instance)."""

    calls: list = []
    last = None

    def __init__(self, drop_adv: bool = False) -> None:
        super().__init__()
        self.drop_adv = drop_adv
        self.register_buffer("count", torch.zeros((), dtype=torch.long))
        Spy.calls, Spy.last = [], self

    def transform_generator(self, G):
        G.spied = True
        return G

    def transform_discriminator(self, D):
        Spy.calls.append(("transform_discriminator", type(D).__name__))
        return D

    def check(self, module):
        Spy.calls.append(("check", getattr(module.G_ema, "spied", False)))

    def d_fakes(self, fake, c, ctx):
        Spy.calls.append(("d_fakes", ctx.phase, ctx.step, fake.requires_grad))
        return fake, c

    def d_input(self, x, ctx):
        Spy.calls.append(("d_input", ctx.phase, tuple(x.shape)))
        return x

    def d_terms(self, inputs):
        assert torch.equal(inputs.D.head(inputs.real_features, inputs.c), inputs.real_logits)
        return {"spy_d": inputs.fake_logits.mean() * 0}

    def g_objective(self, inputs, terms):
        Spy.calls.append(("g_objective", sorted(terms), inputs.real_features is not None))
        if self.drop_adv:
            terms.pop("adv")
            terms["spy_g"] = -inputs.fake_logits.mean()
        return terms

    def after_step(self, side, module):
        self.count += 1
        Spy.calls.append(("after_step", side))


def test_every_extension_point_is_called_in_order_each_iteration(tmp_path):
    # RpGAN needs D(real) in G's step, so G sees d_input twice; 2 D steps per iteration, 2 iterations.
    train_run([*RING, "n_dis=2", "loss=rpgan", "total_kimg=0.128", "+trick.spy._target_=tests.test_hooks.Spy"],
              tmp_path)
    calls = Spy.calls
    assert calls[:2] == [("transform_discriminator", "MLPDiscriminator"), ("check", True)]  # G_ema is transformed
    one_d_step = lambda step: [("d_fakes", "D", step, False), ("d_input", "D", (32, 2)), ("d_input", "D", (32, 2)),  # noqa: E731
                               ("after_step", "D")]
    one_g_step = [("d_input", "G", (32, 2)), ("d_input", "G", (32, 2)), ("g_objective", ["adv"], True),
                  ("after_step", "G")]
    expected = [*one_d_step(0), *one_d_step(1), *one_g_step, *one_d_step(2), *one_d_step(3), *one_g_step]
    assert calls[2:] == expected
    rows = read_losses(tmp_path)
    assert all(r.get("trick/spy_d") == 0.0 for r in rows if "loss/d" in r)
    ckpt = load_checkpoint(tmp_path / "checkpoints" / "last.ckpt")
    assert int(ckpt["state_dict"]["tricks.spy.count"]) == 6  # trick state is in the checkpoint


def test_generator_transform_reaches_g_ema_and_a_g_objective_can_replace_the_adversarial_term(tmp_path):
    from gan_zoo.checkpoint import load_run

    train_run([*RING, "loss=ns", "total_kimg=0.064", "+trick.spy._target_=tests.test_hooks.Spy",
               "+trick.spy.drop_adv=true"], tmp_path)
    rows = [r for r in read_losses(tmp_path) if "trick/spy_g" in r]
    assert rows and all("loss/g" not in r for r in rows)
    assert ("g_objective", ["adv"], False) in Spy.calls  # NS needs no D(real) in G's step
    assert getattr(load_run(tmp_path).G_ema, "spied", False)  # load_run re-applies G transforms


def _ctx(kimg: float, seed: int = 0) -> StepContext:
    return StepContext(gen=torch.Generator().manual_seed(seed), kimg=kimg, iteration=0, phase="D", step=0)


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_instance_noise_follows_its_schedule(schedule):
    noise = InstanceNoise(sigma=0.5, anneal_kimg=10, schedule=schedule)
    expected = {0: 0.5, 2.5: 0.375 if schedule == "linear" else 0.5 * (1 + 2 ** -0.5) / 2,
                5: 0.25, 10: 0.0, 20: 0.0}
    x = torch.zeros(200_000)
    for kimg, sigma in expected.items():
        assert noise.sigma(kimg) == pytest.approx(sigma)
        out = noise.d_input(x, _ctx(kimg))
        assert float(out.std()) == pytest.approx(sigma, rel=0.01, abs=1e-12)
    assert torch.equal(noise.d_input(x, _ctx(1, seed=3)), noise.d_input(x, _ctx(1, seed=3)))  # seeded by the step


class Probe(nn.Module):
    """Records what D sees after the hooks before it in config order."""

    seen: list = []

    def __init__(self) -> None:
        super().__init__()
        Probe.seen = []

    def d_input(self, x, ctx):
        Probe.seen.append((ctx.kimg, x.detach().clone()))
        return x


def test_instance_noise_is_what_d_sees_in_training(tmp_path):
    train_run([*RING, "loss=ns", "total_kimg=0.064", "trick=[instance_noise]", "trick.instance_noise.sigma=3",
               "trick.instance_noise.anneal_kimg=0.064", "+trick.probe._target_=tests.test_hooks.Probe"], tmp_path)
    seen = Probe.seen
    assert len(seen) == 6 and seen[0][0] == 0.0 and seen[-1][0] == pytest.approx(0.032)
    # ring points have norm 1 (+-0.01); with sigma 3 (kimg 0) and 1.5 (kimg 0.032) what D sees is spread by it
    assert float(seen[0][1].std()) == pytest.approx(3.0, rel=0.25)
    assert float(seen[-1][1].std()) == pytest.approx(1.5, rel=0.25)
    assert [r["trick/instance_noise/sigma"] for r in read_losses(tmp_path) if "loss/d" in r] == [3.0, 1.5]


def test_hooks_run_in_config_order():
    order = []

    class Add(nn.Module):
        def __init__(self, k):
            super().__init__()
            self.k = k

        def d_input(self, x, ctx):
            order.append(self.k)
            return x * 10 + self.k

    hooks = Hooks({"a": Add(1), "b": Add(2), "none": nn.Identity()})
    assert hooks.names("d_input") == ["a", "b"] and hooks.names("after_step") == []
    assert hooks.d_input(torch.zeros(1), _ctx(0)).item() == 12 and order == [1, 2]


def test_trick_group_composes_as_a_list():
    cfg = compose_run(["trick=[instance_noise]"])
    assert list(cfg.trick) == ["instance_noise"]
    assert OmegaConf.to_container(compose_run([]).trick) == {}
