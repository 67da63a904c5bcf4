"""Each loss trains on the 8-Gaussian ring with the MLP pair (experiments/toy2d/ring.yaml shortened to 50 kimg,
the budget of sweeps/ring8_objectives.yaml) to a stated number of modes at a stated seed, so a broken sign or a
swapped target shows up as a collapsed run. The numbers beside each case are the sweep's 3 seeds (modes /8),
measured on 2 shared CPU cores; most rows are bimodal at this budget (8 or 0-1 modes: a start that stalls
at the high initial lr), so the test pins a configuration and a first seed, and passes when that seed or one of
the next two reaches the bar: which seeds of a bimodal row train moves with the CPU's floating-point rounding
(minimax and ns seed 0 trained on an earlier session's machine and stall on an AVX2 EPYC, 2026-12-02), while a
broken sign or a swapped target collapses every seed."""

import json

import pytest

from tests.conftest import QUIET, compose_run

SWEEP = ["experiment=toy2d/ring", "total_kimg=50", "schedule.burnin_kimg=50", "metrics.every_kimg=50",
         "callbacks.checkpoint.every_kimg=25", "callbacks.samples.every_kimg=50"]

# loss -> (regularizer, seed, modes at least); the sweep's seeds 0/1/2 in the comment
CASES = {
    "minimax": ("none", 0, 7),   # none 7/8/8, r1 7/8/8: the saturating G still trains from D's initial logits
    "ns": ("none", 0, 7),        # none 8/8/0, r1 1/8/8
    "lsgan": ("r1", 0, 7),       # r1 8/8/8, none 8/8/1
    "rpgan": ("r1", 0, 7),       # r1 8/8/0, none 1/8/8
    "ragan": ("none", 2, 7),     # none 2/0/8, r1 0/8/0
    "ralsgan": ("r1", 0, 7),     # r1 8/8/8, none 8/8/1
}
# The two losses whose G objective is linear in D stall at the 50-kimg budget above (0 modes in all 9 sweep
# runs each: G_ema stays near the origin) but train at the ring recipe's full 150 kimg (measured 2026-12-02,
# seed 0): hinge with R1 + R2 8/8 modes, 86.5 % HQ; Wasserstein with WGAN-GP needs the critic steps of
# Arjovsky et al. Alg. 1 (n_dis 5) and Gulrajani et al.'s toy lambda 0.1 (lambda 10 stops every loss here):
# 8/8 modes, 11 % HQ. loss -> (overrides, seed, modes at least).
FULL_RECIPE = {
    "hinge": (["regularizer=r1_r2"], 0, 7),
    "wasserstein": (["regularizer=wgan_gp", "regularizer.wgan_gp.weight=0.1", "n_dis=5"], 0, 7),
}

def _modes(tmp_path, loss, overrides, seed, budget=SWEEP):
    from gan_zoo.train import train

    quiet = [q for q in QUIET if not q.startswith("metrics=")]  # the ring experiment's toy2d metrics stay on
    over = [*budget, f"seed={seed}", f"loss={loss}", *overrides, *quiet]
    assert train(compose_run(over, tmp_path))["state"] == "finished"
    metrics = {}
    for line in (tmp_path / "metrics.jsonl").read_text().splitlines():
        row = json.loads(line)
        metrics[row["metric"]] = row["value"]
    return metrics


@pytest.mark.slow
@pytest.mark.parametrize("loss", sorted(CASES))
def test_loss_trains_on_ring8(tmp_path, loss):
    reg, first, at_least = CASES[loss]
    seen = {}
    for seed in (first, first + 1, first + 2):
        seen[seed] = _modes(tmp_path / f"seed{seed}", loss, [f"regularizer={reg}"], seed)
        if seen[seed]["modes"] >= at_least:
            return
    pytest.fail(f"{loss}: no seed of {sorted(seen)} reached {at_least} modes: {seen}")


@pytest.mark.slow
@pytest.mark.parametrize("loss", sorted(FULL_RECIPE))
def test_linear_g_losses_train_on_ring8_at_the_full_recipe(tmp_path, loss):
    overrides, seed, at_least = FULL_RECIPE[loss]
    metrics = _modes(tmp_path, loss, overrides, seed, budget=["experiment=toy2d/ring"])
    assert metrics["modes"] >= at_least, metrics
