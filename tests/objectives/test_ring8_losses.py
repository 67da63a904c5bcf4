"""Each loss trains on the 8-Gaussian ring with the MLP pair (experiments/toy2d/ring.yaml shortened to 50 kimg,
the budget of sweeps/ring8_objectives.yaml) to a stated number of modes at a stated seed, so a broken sign or a
swapped target shows up as a collapsed run. The numbers beside each case are the sweep's 3 seeds (modes /8),
measured on 2 shared CPU cores; most rows are bimodal at this budget (8 or 0-1 modes: a start that stalls
at the high initial lr), so the test pins a configuration and seed that trains and states the others."""

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
# Expected to fail at this budget (0 modes in all 9 runs each, G_ema stays near the origin): the two losses
# whose G objective is linear in D. WGAN is made for n_dis 5 at lr 5e-5 over ~1e5 iterations (Arjovsky et al.
# 2017, Alg. 1), hinge with spectral norm (Miyato et al. 2018); 196 iterations at lr 4e-3 with n_dis 1 is not
# that. The test runs them and requires the collapse (strict), so a change that makes them train is noticed.
COLLAPSE = {
    "wasserstein": ("wgan_gp", 0, "WGAN's critic needs n_dis 5 and ~1e5 iterations (Alg. 1); 0/0/0 here"),
    "hinge": ("r1", 0, "linear G objective at lr 4e-3, n_dis 1, 196 iterations: 0/0/0 here"),
}


def _modes(tmp_path, loss, reg, seed):
    from gan_zoo.train import train

    quiet = [q for q in QUIET if not q.startswith("metrics=")]  # the ring experiment's toy2d metrics stay on
    over = [*SWEEP, f"seed={seed}", f"loss={loss}", f"regularizer={reg}", *quiet]
    assert train(compose_run(over, tmp_path))["state"] == "finished"
    metrics = {}
    for line in (tmp_path / "metrics.jsonl").read_text().splitlines():
        row = json.loads(line)
        metrics[row["metric"]] = row["value"]
    return metrics


@pytest.mark.slow
@pytest.mark.parametrize("loss", sorted(CASES))
def test_loss_trains_on_ring8(tmp_path, loss):
    reg, seed, at_least = CASES[loss]
    metrics = _modes(tmp_path, loss, reg, seed)
    assert metrics["modes"] >= at_least, metrics


@pytest.mark.slow
@pytest.mark.parametrize("loss", sorted(COLLAPSE))
def test_loss_expected_to_collapse_on_ring8_at_this_budget(tmp_path, loss):
    reg, seed, reason = COLLAPSE[loss]
    metrics = _modes(tmp_path, loss, reg, seed)
    assert metrics["modes"] <= 1, f"{loss} now trains ({metrics}); it was expected to collapse: {reason}"
