"""The training-health monitor: its sigma_0 against svdvals, its signs, and its actions in real runs."""

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from gan_zoo.callbacks.health import HealthMonitor
from gan_zoo.callbacks.spectra import SpectrumTracker, exact_top, weight_matrices
from gan_zoo.errors import ConfigError
from gan_zoo.models.biggan import Discriminator, Generator
from tests.helpers import read_losses, train_run


class FakeStrategy:
    def broadcast(self, obj, src=0):
        return obj


def fake_trainer(callbacks=()):
    return SimpleNamespace(is_global_zero=True, loggers=[], global_step=0, strategy=FakeStrategy(),
                           callbacks=list(callbacks), should_stop=False)


def test_sigma0_matches_svdvals_on_every_layer_while_the_weights_move(tmp_path: Path):
    torch.manual_seed(0)
    module = SimpleNamespace(G=Generator(16, z_dim=24, c_dim=10, ch=4, shared_dim=8, attention=[8]),
                             D=Discriminator(16, c_dim=10, ch=4, attention=[8]), run_dir=tmp_path, iteration=0,
                             kimg=0.0, last_values={})
    # one iteration, no extra vectors: only the residual test (iterate until converged) keeps it accurate
    monitor = HealthMonitor(every_n_steps=1, verify_svd=True, sigma_jump=None, power_iters=1, warmup_iters=1,
                            oversample=0)
    trainer = fake_trainer()
    for step in range(4):  # orthogonal init (flat spectra), then drifting weights, as training moves them
        with torch.no_grad():
            for net in (module.G, module.D):
                for w in weight_matrices(net).values():
                    w.add_(0.05 * (step + 1) * torch.randn_like(w))
        module.iteration = step
        monitor.check(trainer, module)
        assert len(monitor.last_errors) == len(weight_matrices(module.G)) + len(weight_matrices(module.D)) > 30
        worst = max(monitor.last_errors, key=monitor.last_errors.get)
        assert monitor.last_errors[worst] < 0.01, (step, worst, monitor.last_errors[worst])
    rows = (tmp_path / "health" / "spectra.csv").read_text().splitlines()
    assert rows[0].startswith("step,kimg,net,layer,sigma0") and len(rows) == 1 + 4 * len(monitor.last_errors)


def test_tracker_reuses_its_vectors():
    torch.manual_seed(1)
    w = torch.randn(40, 30) @ torch.diag(torch.linspace(1, 3, 30))
    tracker = SpectrumTracker(k=3, iters=1, warmup_iters=1, oversample=0, tol=1e-8, max_iters=500)
    first = tracker.top("w", w)
    assert tracker.last_iters["w"] > 20  # a cold start needs many iterations
    again = tracker.top("w", w)
    assert tracker.last_iters["w"] <= 2 and torch.allclose(again, exact_top(w, 3).float().double(), rtol=1e-6)
    assert torch.allclose(first, again, rtol=1e-6)


def test_loss_and_metric_signs(tmp_path: Path):
    module = SimpleNamespace(G=torch.nn.Linear(2, 2), D=torch.nn.Linear(2, 2), run_dir=tmp_path, iteration=0,
                             kimg=0.0, last_values={})
    monitor = HealthMonitor(every_n_steps=1, sigma_jump=None, d_loss_floor=0.05, loss_jump=1.0,
                            metric_jump=0.2, patience=2)
    metrics = SimpleNamespace(primary="fd", higher_is_better=False, history=[])
    trainer = fake_trainer([metrics])
    feed = [(0.5, 1.0), (0.01, 1.2), (0.02, 3.0), (0.5, 3.1)]
    fired = []
    for i, (d, g) in enumerate(feed):
        module.last_values = {"loss/d": d, "loss/g": g}
        metrics.history.append(SimpleNamespace(name="fd", value=[10.0, 11.0, 20.0, 30.0][i]))
        monitor.on_train_batch_end(trainer, module, None, None, 0)
        fired.append(sorted(monitor.events[-1]["signs"]) if monitor.events and monitor.events[-1]["kimg"] == i
                     else [])
        module.kimg += 1.0
    # patience 2: the D-loss floor holds at checks 1 and 2 -> fires at 2; fd worsens 11 -> 20 (+82 %) and
    # 20 -> 30 (+50 %) -> fires at 3; G's loss jumps once (1.2 -> 3.0), not twice -> never fires
    assert fired == [[], [], ["d_loss_floor"], ["metric_jump"]]
    lines = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert {x["metric"] for x in lines} == {"health/d_loss_floor", "health/metric_jump"}
    assert all(x["action"] == "warn" and "\n" not in x["message"] for x in lines)


@pytest.mark.parametrize("bad,match", [({"action": "explode"}, "health.action"),
                                       ({"change": {"beta": 2}}, "health.change.beta"),
                                       ({"sigma_jump": 0.5}, "health.sigma_jump")])
def test_bad_monitor_config_is_one_line(bad, match):
    with pytest.raises(ConfigError, match=match) as err:
        HealthMonitor(**bad)
    assert "\n" not in str(err.value)


# A real run: MLP on the 2-D ring, 250 images per step (4 iterations per kimg), snapshot every kimg
# (snapshot-000003 is iteration 12), health every 2 iterations; G's first weight x20 after iteration 15, so
# snapshot-000004 (iteration 16, written just before that iteration's check) already holds the exploded G.
RUN = ["dataset=toy2d_ring", "model=mlp", "loss=hinge", "regularizer=none", "callbacks=health", "batch_size=250",
       "total_kimg=6", "trainer.log_every_n_steps=1", "callbacks.checkpoint.every_kimg=100",
       "callbacks.checkpoint.snapshot_every_kimg=1", "callbacks.samples.every_kimg=100",
       "callbacks.health.every_n_steps=2", "callbacks.health.plot=false",
       "+callbacks.bomb._target_=tests.biggan.health_helpers.ScaleWeightAt", "+callbacks.bomb.iteration=15"]


def health_lines(run_dir: Path) -> list[dict]:
    return [x for x in map(json.loads, (run_dir / "metrics.jsonl").read_text().splitlines())
            if x["metric"].startswith("health/")]


def test_explosion_rolls_back_to_the_last_healthy_snapshot_and_continues(tmp_path: Path):
    run = tmp_path / "run"
    train_run([*RUN, "callbacks.health.action=rollback", "+callbacks.health.change.lr_mult=0.5"], run)
    (line,) = health_lines(run)
    assert line["metric"] == "health/sigma_jump" and line["value"] > 3 and line["kimg"] == 4.0
    # not the newest snapshot (snapshot-000004, taken after the explosion) but the last one a healthy check saw
    assert line["action"] == "rollback" and Path(line["to"]).name == "snapshot-000003000.ckpt"
    assert line["to_kimg"] == 3.0 and line["change"] == {"lr_mult": 0.5}
    kimgs = [round(r["kimg"], 3) for r in read_losses(run) if "loss/d" in r]
    assert kimgs[:16] == [0.25 * i for i in range(1, 17)] and kimgs[16:19] == [3.25, 3.5, 3.75]  # replayed
    assert kimgs[-1] == 6.0 and json.loads((run / "status.json").read_text())["state"] == "finished"
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    assert [g["lr"] for s in ckpt["optimizer_states"] for g in s["param_groups"]] == [1e-4, 1e-4]  # 2e-4 x 0.5
    good = torch.load(line["to"], weights_only=False)["state_dict"]["G.net.0.weight"]
    assert float(ckpt["state_dict"]["G.net.0.weight"].abs().max()) < 2 * float(good.abs().max())  # no x20 left


def test_explosion_stops_the_run_when_configured(tmp_path: Path):
    run = tmp_path / "run"
    train_run([*RUN, "callbacks.health.action=stop"], run)
    (line,) = health_lines(run)
    assert line["action"] == "stop" and line["kimg"] == 4.0
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "stopped" and status["kimg"] == 4.0
