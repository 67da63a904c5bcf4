import math

import pytest

from gan_zoo.ema import ema_beta
from gan_zoo.errors import ConfigError
from gan_zoo.schedules import HalfCosine, Schedules


def test_half_cosine_values():
    s = HalfCosine(start=2e-4, end=5e-5, burnin_kimg=100)
    assert s(0) == pytest.approx(2e-4)
    assert s(50) == pytest.approx((2e-4 + 5e-5) / 2)
    assert s(25) == pytest.approx(5e-5 + 1.5e-4 * (1 + math.cos(math.pi / 4)) / 2)
    assert s(100) == pytest.approx(5e-5)
    assert s(1e6) == pytest.approx(5e-5)
    assert HalfCosine(1.0, 0.1, 0)(0) == pytest.approx(0.1)


def cifar(**changes):
    spec = dict(burnin_kimg=20000, lr={"start": 2e-4, "end": 5e-5}, gamma={"start": 0.05, "end": 0.005},
                beta2={"start": 0.9, "end": 0.99}, ema_halflife_kimg={"start": 0, "end": 5000},
                aug_p={"start": 0, "end": 0.55})
    spec.update(changes)
    return Schedules(**spec)


def test_r3gan_cifar10_schedule_end_points():
    s = cifar()
    assert s.values(0) == pytest.approx({"lr": 2e-4, "gamma": 0.05, "beta2": 0.9, "ema_halflife_kimg": 0, "aug_p": 0})
    assert s.values(30000)["gamma"] == pytest.approx(0.005)


@pytest.mark.parametrize(
    "changes, key",
    [({"lr": {"start": 0.0, "end": 1e-4}}, "schedule.lr.start"),
     ({"gamma": {"start": -1.0, "end": 0.1}}, "schedule.gamma.start"),
     ({"beta2": {"start": 0.9, "end": 1.0}}, "schedule.beta2.end"),
     ({"aug_p": 1.5}, "schedule.aug_p.start"),
     ({"burnin_kimg": -5}, "schedule.burnin_kimg"),
     ({"lrr": 1e-3}, "schedule.lrr")],
)
def test_bad_schedule_values_name_the_key(changes, key):
    with pytest.raises(ConfigError) as err:
        cifar(**changes)
    assert key in str(err.value) and "\n" not in str(err.value)


def test_ema_beta_by_half_life():
    assert ema_beta(batch_size=512, half_life_kimg=0) == 0.0
    # after half_life / batch updates the old weights keep half their weight
    beta = ema_beta(batch_size=500, half_life_kimg=5)
    assert beta ** (5000 / 500) == pytest.approx(0.5)
