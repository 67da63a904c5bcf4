"""Every loss of the zoo against its formula, written out by hand on python floats, with and without label
smoothing and flipping; D's and G's gradients w.r.t. the logits against the formula's derivative."""

import math

import pytest
import torch

from gan_zoo import losses as L
from gan_zoo.errors import ConfigError

R = [1.0, -0.5, 2.0, 0.25]
Q = [0.0, 0.5, -1.0, -2.0]
N = len(R)


def sp(t: float) -> float:
    return math.log1p(math.exp(t))


def sig(t: float) -> float:
    return 1 / (1 + math.exp(-t))


def mean(xs):
    return sum(xs) / len(xs)


mr, mq = mean(R), mean(Q)

# name -> (loss, D formula, G formula, dD/dr_i, dD/dq_i, dG/dq_i); every formula by hand on floats
CASES = {
    "minimax": (L.Minimax(), mean([sp(-r) + sp(q) for r, q in zip(R, Q)]), mean([-sp(q) for q in Q]),
                [-sig(-r) / N for r in R], [sig(q) / N for q in Q], [-sig(q) / N for q in Q]),
    "ns": (L.NonSaturating(), mean([sp(-r) + sp(q) for r, q in zip(R, Q)]), mean([sp(-q) for q in Q]),
           [-sig(-r) / N for r in R], [sig(q) / N for q in Q], [-sig(-q) / N for q in Q]),
    "wasserstein": (L.Wasserstein(), mq - mr, -mq, [-1 / N] * N, [1 / N] * N, [-1 / N] * N),
    "hinge": (L.Hinge(), mean([max(0, 1 - r) + max(0, 1 + q) for r, q in zip(R, Q)]), -mq,
              [(-1 if r < 1 else 0) / N for r in R], [(1 if q > -1 else 0) / N for q in Q], [-1 / N] * N),
    "lsgan": (L.LeastSquares(a=-1.0, b=1.0, c=0.0), 0.5 * mean([(r - 1) ** 2 for r in R]) + 0.5 * mean(
        [(q + 1) ** 2 for q in Q]), 0.5 * mean([q ** 2 for q in Q]),
        [(r - 1) / N for r in R], [(q + 1) / N for q in Q], [q / N for q in Q]),
    "rpgan": (L.RpGAN(), mean([sp(-(r - q)) for r, q in zip(R, Q)]), mean([sp(-(q - r)) for r, q in zip(R, Q)]),
              [-sig(q - r) / N for r, q in zip(R, Q)], [sig(q - r) / N for r, q in zip(R, Q)],
              [-sig(r - q) / N for r, q in zip(R, Q)]),
    "ragan": (L.RaGAN(), mean([sp(-(r - mq)) for r in R]) + mean([sp(q - mr) for q in Q]),
              mean([sp(-(q - mr)) for q in Q]) + mean([sp(r - mq) for r in R]),
              # d/dr_i: own term -sig(mq - r_i)/N, plus every fake's term through mean r: -sum_j sig(q_j - mr)/N^2
              [-sig(mq - r) / N - sum(sig(q - mr) for q in Q) / N ** 2 for r in R],
              [sig(q - mr) / N + sum(sig(mq - r) for r in R) / N ** 2 for q in Q],
              [-sig(mr - q) / N - sum(sig(r - mq) for r in R) / N ** 2 for q in Q]),
    "ralsgan": (L.RaLSGAN(), mean([(r - mq - 1) ** 2 for r in R]) + mean([(q - mr + 1) ** 2 for q in Q]),
                mean([(q - mr - 1) ** 2 for q in Q]) + mean([(r - mq + 1) ** 2 for r in R]),
                [2 * (r - mq - 1) / N - 2 * sum(q - mr + 1 for q in Q) / N ** 2 for r in R],
                [2 * (q - mr + 1) / N - 2 * sum(r - mq - 1 for r in R) / N ** 2 for q in Q],
                [2 * (q - mr - 1) / N - 2 * sum(r - mq + 1 for r in R) / N ** 2 for q in Q]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_equals_formula_and_its_derivative(name):
    loss, d_val, g_val, d_dr, d_dq, g_dq = CASES[name]
    r = torch.tensor(R, dtype=torch.float64, requires_grad=True)
    q = torch.tensor(Q, dtype=torch.float64, requires_grad=True)
    d = loss.d(r, q)
    assert d.item() == pytest.approx(d_val, rel=1e-9, abs=1e-12)
    gr, gq = torch.autograd.grad(d, (r, q))
    assert gr.tolist() == pytest.approx(d_dr, rel=1e-9, abs=1e-12)
    assert gq.tolist() == pytest.approx(d_dq, rel=1e-9, abs=1e-12)
    q2 = torch.tensor(Q, dtype=torch.float64, requires_grad=True)
    g = loss.g(q2, torch.tensor(R, dtype=torch.float64))
    assert g.item() == pytest.approx(g_val, rel=1e-9, abs=1e-12)
    (gq2,) = torch.autograd.grad(g, q2)
    assert gq2.tolist() == pytest.approx(g_dq, rel=1e-9, abs=1e-12)


def test_minimax_saturates_where_ns_does_not():
    """The distinction that matters: with D rejecting fakes (q = -10), minimax's G gradient vanishes."""
    q = torch.tensor([-10.0], requires_grad=True)
    (g_mm,) = torch.autograd.grad(L.Minimax().g(q), q)
    (g_ns,) = torch.autograd.grad(L.NonSaturating().g(q), q)
    assert abs(g_mm.item()) < 1e-4 and abs(g_ns.item()) > 0.99


def test_lsgan_default_labels_are_mao_a0_b1_c1():
    loss = L.LeastSquares()
    r, q = torch.tensor(R), torch.tensor(Q)
    expected = 0.5 * mean([(x - 1) ** 2 for x in R]) + 0.5 * mean([x ** 2 for x in Q])
    assert loss.d(r, q).item() == pytest.approx(expected, rel=1e-6)
    assert loss.g(q).item() == pytest.approx(0.5 * mean([(x - 1) ** 2 for x in Q]), rel=1e-6)


@pytest.mark.parametrize("cls", [L.NonSaturating, L.Minimax])
def test_one_sided_smoothing_is_cross_entropy_with_target(cls):
    loss = cls(real_label=0.9)
    r = torch.tensor(R, dtype=torch.float64, requires_grad=True)
    q = torch.tensor(Q, dtype=torch.float64)
    d = loss.d(r, q)
    expected = mean([0.9 * sp(-x) + 0.1 * sp(x) for x in R]) + mean([sp(x) for x in Q])  # fakes stay at 0
    assert d.item() == pytest.approx(expected, rel=1e-9)
    (gr,) = torch.autograd.grad(d, r)
    assert gr.tolist() == pytest.approx([(sig(x) - 0.9) / N for x in R], rel=1e-9)  # d/dr of BCE = sig - t
    assert loss.logs(0.0)["real_label"] == 0.9


def _flips(seed: int, p: float, n: int):
    u = torch.rand(2 * n, generator=torch.Generator().manual_seed(seed))
    return (u[:n] < p).tolist(), (u[n:] < p).tolist()


@pytest.mark.parametrize("smooth", [1.0, 0.9])
def test_flipping_swaps_targets_per_sample_from_the_step_generator(smooth):
    p, n, seed = 0.3, 64, 7
    torch.manual_seed(0)
    r, q = torch.randn(n, dtype=torch.float64), torch.randn(n, dtype=torch.float64)
    loss = L.NonSaturating(real_label=smooth, flip=p)
    d = loss.d(r, q, gen=torch.Generator().manual_seed(seed))
    fr, ff = _flips(seed, p, n)
    assert 0 < sum(fr) < n and 0 < sum(ff) < n
    tr = [0.0 if f else smooth for f in fr]
    tf = [smooth if f else 0.0 for f in ff]
    expected = mean([t * sp(-x) + (1 - t) * sp(x) for t, x in zip(tr, r.tolist())]) + mean(
        [t * sp(-x) + (1 - t) * sp(x) for t, x in zip(tf, q.tolist())])
    assert d.item() == pytest.approx(expected, rel=1e-9)
    assert loss.logs(0.0)["flipped"] == pytest.approx((sum(fr) + sum(ff)) / (2 * n))
    # the same generator state gives the same flips (resume draws what the uninterrupted run drew)
    assert loss.d(r, q, gen=torch.Generator().manual_seed(seed)).item() == d.item()
    assert loss.d(r, q, gen=torch.Generator().manual_seed(seed + 1)).item() != d.item()


def test_lsgan_flipping_swaps_a_and_b():
    p, n, seed = 0.3, 32, 3
    r, q = torch.linspace(-1, 2, n, dtype=torch.float64), torch.linspace(-2, 1, n, dtype=torch.float64)
    d = L.LeastSquares(flip=p).d(r, q, gen=torch.Generator().manual_seed(seed))
    fr, ff = _flips(seed, p, n)
    expected = 0.5 * mean([(x - (0.0 if f else 1.0)) ** 2 for f, x in zip(fr, r.tolist())]) + 0.5 * mean(
        [(x - (1.0 if f else 0.0)) ** 2 for f, x in zip(ff, q.tolist())])
    assert d.item() == pytest.approx(expected, rel=1e-9)


def test_no_flipping_draws_nothing():
    gen = torch.Generator().manual_seed(0)
    state = gen.get_state().clone()
    L.NonSaturating(real_label=0.9).d(torch.tensor(R), torch.tensor(Q), gen=gen)
    assert torch.equal(gen.get_state(), state)


def test_bad_label_options_fail_naming_the_key():
    with pytest.raises(ConfigError, match="loss.real_label"):
        L.NonSaturating(real_label=1.5)
    with pytest.raises(ConfigError, match="loss.flip"):
        L.Minimax(flip=0.7)


@pytest.mark.parametrize("cls", [L.RaGAN, L.RaLSGAN, L.RpGAN])
def test_relativistic_g_needs_real_and_treats_it_as_constant(cls):
    assert cls.g_needs_real
    r = torch.tensor(R, requires_grad=True)
    q = torch.tensor(Q, requires_grad=True)
    cls().g(q, r).backward()
    assert r.grad is None and q.grad is not None
    with pytest.raises(ValueError, match="real_logits"):
        cls().g(q, None)


def test_flipping_in_training_is_logged_and_resumes_exactly(tmp_path):
    """A run with label flipping logs the fraction flipped; a run cut at half way and resumed logs the same
    flips and D losses afterwards as the uninterrupted run (flips come from the step's seeded generator)."""
    from tests.helpers import TINY, read_losses, straight_and_resumed

    over = [*TINY, "dataset=toy2d_ring", "model=mlp", "loss=ns", "loss.flip=0.25", "loss.real_label=0.9",
            "regularizer=none", "trainer.log_every_n_steps=1", "callbacks.checkpoint.every_kimg=0.032"]
    straight, cut = straight_and_resumed(tmp_path, over, 0.032, 0.064)

    def by_kimg(run):
        return {round(r["kimg"], 3): (r["trick/loss/flipped"], r["loss/d"]) for r in read_losses(run)
                if "trick/loss/flipped" in r}

    a, b = by_kimg(straight), by_kimg(cut)
    after = [k for k in a if k > 0.032]
    assert len(a) == 8 and len(after) == 4 and all(a[k] == b[k] for k in after)
    assert all(0 <= f <= 1 for f, _ in a.values()) and len({f for f, _ in a.values()}) > 1
    rows = [r for r in read_losses(straight) if "trick/loss/real_label" in r]
    assert rows and all(abs(r["trick/loss/real_label"] - 0.9) < 1e-6 for r in rows)
