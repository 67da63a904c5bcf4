"""The Dirac-GAN (Mescheder et al., ICML 2018) through the ordinary training step, against its linearisation.

R3GAN's theoretical claim (Huang et al. 2024, Sec. 2): unregularised RpGAN (and GAN) is not locally
convergent; with zero-centred penalties it is. Here the AdversarialModule trains G(theta) = theta against
D(x) = psi x with plain gradient descent (optimizer=sgd, step size h = 0.2), and the measured per-step rate is
compared with the one the Jacobian of the alternating update predicts.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_zoo.analysis.dirac import (
    alternating_update,
    behaviour,
    continuous_jacobian,
    linearised_jacobian,
    measured_rate,
    predicted_rate,
)
from gan_zoo.losses import Hinge, NonSaturating, RpGAN
from tests.helpers import train_run

H = 0.2


def _train(tmp: Path, loss: str, reg: str, gamma: float, steps: int, start: float = 1.0) -> list[tuple[float, ...]]:
    train_run(["experiment=dirac/base", "metrics=dirac", f"loss={loss}", f"regularizer={reg}", f"gamma={gamma}",
               f"lr={H}", f"total_kimg={steps / 1000}", f"model.generator.theta0={start}",
               f"model.discriminator.psi0={start}"], tmp)
    with open(tmp / "trajectory.csv") as f:
        return [(float(r["theta"]), float(r["psi"]), float(r["distance"])) for r in csv.DictReader(f)]


def _hand_jacobian(h: float, g: float, slope: float) -> np.ndarray:
    """J_G @ J_D for D's gradient slope * theta + g * psi and G's -slope * psi' (see gan_zoo.analysis.dirac)."""
    j_d = np.array([[1.0, 0.0], [-h * slope, 1.0 - h * g]])
    j_g = np.array([[1.0, h * slope], [0.0, 1.0]])
    return j_g @ j_d


@pytest.mark.parametrize("h,gamma", [(0.2, 0.0), (0.2, 0.3), (0.05, 1.0), (0.5, 0.7)])
def test_linearised_jacobian_by_hand(h, gamma):
    for loss, slope in ((NonSaturating(), 0.5), (RpGAN(), 0.5), (Hinge(), 1.0)):
        for penalties, n in (((), 0), (("r1",), 1), (("r2",), 1), (("r1", "r2"), 2)):
            jac = linearised_jacobian(loss, penalties, gamma, h)
            np.testing.assert_allclose(jac, _hand_jacobian(h, gamma * n, slope), atol=1e-12)
            assert np.linalg.det(jac) == pytest.approx(1 - h * gamma * n, abs=1e-12)


def test_continuous_eigenvalues_as_mescheder():
    """zoo.md: eigenvalues -gamma/2 +- sqrt(gamma^2/4 - f'(0)^2), f'(0) = 1/2: +-i/2 without a penalty."""
    for gamma in (0.0, 0.3, 1.0, 3.0):
        eig = np.sort_complex(np.linalg.eigvals(continuous_jacobian(NonSaturating(), ("r1",), gamma)))
        root = np.sqrt(complex(gamma**2 / 4 - 0.25))
        np.testing.assert_allclose(eig, np.sort_complex(np.array([-gamma / 2 - root, -gamma / 2 + root])),
                                   atol=1e-12)


def test_rates_and_verdicts_of_sequences():
    d = [2.0 * 0.9**k for k in range(400)]
    assert measured_rate(d) == pytest.approx(-math.log(0.9), rel=1e-9)
    assert behaviour(d) == "converges"
    assert math.isnan(measured_rate([1.0] * 300)) and behaviour([1.0] * 300) == "does not converge"
    assert behaviour([1.0, 5.0, 50.0]) == "diverges" and behaviour([1.0, float("nan")]) == "diverges"


@pytest.mark.parametrize("loss", ["ns", "rpgan"])
def test_unregularised_gan_and_rpgan_do_not_converge(tmp_path, loss):
    """Started in the linear regime, the iterates circle: after 300 steps (about 5 turns) the distance to the
    equilibrium has not fallen below 0.9 of its start (the linearised update has |lambda| = 1; the loss's cubic
    terms only drain it sublinearly, about k^-1/2), while RpGAN + R1 + R2 at gamma 0.3 falls by e^-19 in the
    same 300 steps."""
    traj = _train(tmp_path, loss, "none", 0.3, 300, start=0.05)
    d = np.array([t[2] for t in traj])
    assert len(d) == 301
    assert d[-1] >= 0.9 * d[0] and d.min() >= 0.9 * d[0]
    assert behaviour(d) == "does not converge"
    assert predicted_rate(linearised_jacobian(NonSaturating(), (), 0.3, H)) == pytest.approx(0.0, abs=1e-12)
    regularised = predicted_rate(linearised_jacobian(RpGAN(), ("r1", "r2"), 0.3, H))
    assert -math.log(d[-1] / d[0]) / 300 < 0.05 * regularised


@pytest.mark.parametrize("loss,reg,gamma,steps,penalties", [
    ("rpgan", "r1_r2", 0.3, 300, ("r1", "r2")),
    ("ns", "r1", 0.3, 500, ("r1",)),
])
def test_regularised_converge_at_the_linearised_rate(tmp_path, loss, reg, gamma, steps, penalties):
    traj = _train(tmp_path, loss, reg, gamma, steps)
    d = [t[2] for t in traj]
    assert behaviour(d) == "converges"
    loss_obj = {"rpgan": RpGAN(), "ns": NonSaturating()}[loss]
    predicted = predicted_rate(linearised_jacobian(loss_obj, penalties, gamma, H))
    measured = measured_rate(d)
    assert predicted > 0.02
    assert measured == pytest.approx(predicted, rel=0.10)
    # the module's iterates are the analysed map's: float64 iteration from (1, 1) reproduces them
    step = alternating_update(loss_obj, penalties, gamma, H)
    state = torch.tensor([1.0, 1.0], dtype=torch.float64)
    for k in range(1, 60):
        state = step(state).detach()
        np.testing.assert_allclose(traj[k][:2], state.numpy(), rtol=1e-4, atol=1e-6)


def test_dirac_study_table_and_verdicts(tmp_path):
    """The report's sweep (torch SGD on the same objectives) and its verdicts, on a small grid; a measured
    rate moved by 20 % (a wrong update) turns the verdict."""
    from gan_zoo.analysis.dirac import simulate
    from gan_zoo.report.claims import CONSISTENT, NOT_REPRODUCED
    from gan_zoo.report.dirac import run_sweep, table_rows, verdicts

    results = run_sweep(losses=("ns", "rpgan"), penalties=("none", "r1", "r1_r2"), gammas=(0.3,),
                        optimizers={"sgd": H}, steps=300)
    assert len(results) == 6 and len(table_rows(results)) == 6
    assert [v.status for v in verdicts(results)] == [CONSISTENT] * 3
    # simulate() takes the alternating map's iterates
    traj = simulate(RpGAN(), ("r1", "r2"), 0.3, H, 40)
    state = torch.tensor([1.0, 1.0], dtype=torch.float64)
    step = alternating_update(RpGAN(), ("r1", "r2"), 0.3, H)
    for k in range(1, 41):
        state = step(state).detach()
        np.testing.assert_allclose(traj[k], state.numpy(), rtol=1e-10, atol=1e-14)
    for r in results:
        if r["loss"] == "rpgan" and r["penalty"] == "r1_r2":
            r["rate_measured"] *= 1.2
    assert verdicts(results)[1].status == NOT_REPRODUCED
