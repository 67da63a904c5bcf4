"""Fréchet distance: closed forms, torch-fidelity agreement, and the n < d routes."""

from __future__ import annotations

import numpy as np
import pytest
from torch_fidelity.metric_fid import fid_statistics_to_metric

from gan_zoo.errors import ConfigError
from gan_zoo.metrics.frechet import (
    feature_stats,
    frechet_distance,
    frechet_distance_from_stats,
    frechet_distance_stats_features,
    trace_sqrt_product,
)


def random_rotation(d: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def commuting_gaussians(d: int, rng: np.random.Generator):
    """Two Gaussians whose covariances share eigenvectors, so tr sqrt(S1 S2) = sum sqrt(a_i b_i) exactly."""
    q = random_rotation(d, rng)
    a, b = rng.uniform(0.1, 3.0, d), rng.uniform(0.1, 3.0, d)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    closed = float(((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum())
    return (mu1, (q * a) @ q.T), (mu2, (q * b) @ q.T), closed


def with_exact_moments(n: int, mu: np.ndarray, sigma: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """n samples whose sample mean and unbiased sample covariance are exactly mu and sigma."""
    z = rng.standard_normal((n, len(mu)))
    z -= z.mean(0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T  # sample covariance -> identity
    return z @ np.linalg.cholesky(sigma).T + mu


def test_stats_route_equals_closed_form_for_commuting_covariances():
    rng = np.random.default_rng(0)
    (mu1, s1), (mu2, s2), closed = commuting_gaussians(64, rng)
    assert frechet_distance_from_stats(mu1, s1, mu2, s2) == pytest.approx(closed, rel=1e-6)
    # diagonal covariances: the textbook case
    a, b = rng.uniform(0.5, 2, 10), rng.uniform(0.5, 2, 10)
    expected = ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert frechet_distance_from_stats(np.zeros(10), np.diag(a), np.zeros(10), np.diag(b)) == pytest.approx(
        expected, rel=1e-9
    )


def test_two_gaussian_feature_sets_equal_the_closed_form():
    rng = np.random.default_rng(1)
    (mu1, s1), (mu2, s2), closed = commuting_gaussians(32, rng)
    x1, x2 = with_exact_moments(3000, mu1, s1, rng), with_exact_moments(2000, mu2, s2, rng)
    m, s = feature_stats(x1)
    np.testing.assert_allclose(s, s1, atol=1e-10)
    assert frechet_distance(x1, x2) == pytest.approx(closed, rel=1e-6)
    assert frechet_distance_stats_features(mu1, s1, x2) == pytest.approx(closed, rel=1e-6)


def test_identical_sets_give_zero():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((400, 50)) @ rng.standard_normal((50, 50))
    scale = np.trace(np.cov(x, rowvar=False))
    assert abs(frechet_distance(x, x)) < 1e-9 * scale  # n > d: eigen route
    y = rng.standard_normal((30, 50))
    assert abs(frechet_distance(y, y)) < 1e-9 * 50  # n < d: nuclear-norm route


def test_agrees_with_torch_fidelity_fid_on_the_same_features():
    rng = np.random.default_rng(3)
    x1 = rng.standard_normal((2000, 64)) @ rng.standard_normal((64, 64)) * 0.3
    x2 = rng.standard_normal((1500, 64)) @ rng.standard_normal((64, 64)) * 0.3 + 0.5
    st1, st2 = feature_stats(x1), feature_stats(x2)
    theirs = fid_statistics_to_metric({"mu": st1[0], "sigma": st1[1]}, {"mu": st2[0], "sigma": st2[1]}, False)
    ours = frechet_distance(x1, x2)
    assert ours == pytest.approx(theirs["frechet_inception_distance"], rel=1e-6)
    # and the stats match np.cov (what torch-fidelity uses)
    np.testing.assert_allclose(st1[1], np.cov(x1, rowvar=False), rtol=1e-10, atol=1e-12)


def test_n_500_below_d_2048_is_exact():
    """n < d: the sample covariances are singular (rank n - 1). X2 = a X1 + c has S2 = a^2 S1, so
    FD = ||mu1 - mu2||^2 + (1 - a)^2 tr S1 exactly; the n x n routes must give it at d = 2048."""
    rng = np.random.default_rng(4)
    n, d, a = 500, 2048, 0.7
    x1 = np.maximum(rng.standard_normal((n, d)), 0) * rng.uniform(0.1, 2.0, d)  # ReLU-like, uneven scales
    c = rng.standard_normal(d) * 0.1
    x2 = a * x1 + c
    mu1, s1 = feature_stats(x1)
    closed = float(((mu1 - (a * mu1 + c)) ** 2).sum() + (1 - a) ** 2 * np.trace(s1))
    assert frechet_distance(x1, x2) == pytest.approx(closed, rel=1e-9)  # nuclear norm of the cross-Gram
    assert frechet_distance_stats_features(mu1, s1, x2) == pytest.approx(
        closed, rel=1e-9
    )  # n x n eigen route


def test_d_by_d_eigen_route_is_exact_on_singular_covariances():
    """The symmetric eigen route on two rank-deficient d x d covariances (n = 100 < d = 400) matches the
    closed form: the null eigenvalues' round-off must not leak into the trace."""
    rng = np.random.default_rng(7)
    n, d, a = 100, 400, 1.8
    x1 = rng.standard_normal((n, d)) * rng.uniform(0.1, 2.0, d)
    x2 = a * x1 - 0.3
    mu1, s1 = feature_stats(x1)
    closed = float(((mu1 - (a * mu1 - 0.3)) ** 2).sum() + (1 - a) ** 2 * np.trace(s1))
    assert frechet_distance_from_stats(mu1, s1, *feature_stats(x2)) == pytest.approx(closed, rel=1e-9)


def test_one_small_and_one_large_side():
    rng = np.random.default_rng(5)
    d = 40
    big = rng.standard_normal((3000, d))
    small = rng.standard_normal((25, d)) * 1.5 + 0.2
    expected = frechet_distance_from_stats(*feature_stats(big), *feature_stats(small))
    assert frechet_distance(big, small) == pytest.approx(expected, rel=1e-8)
    assert frechet_distance(small, big) == pytest.approx(expected, rel=1e-8)


def test_trace_sqrt_product_is_symmetric_in_its_arguments():
    rng = np.random.default_rng(6)
    a = rng.standard_normal((20, 20))
    b = rng.standard_normal((20, 5))
    s1, s2 = a @ a.T, b @ b.T  # s2 singular
    assert trace_sqrt_product(s1, s2) == pytest.approx(trace_sqrt_product(s2, s1), rel=1e-9)


def test_bad_inputs_raise_one_line_errors():
    with pytest.raises(ConfigError, match="feature dimensions differ: 3 vs 4"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ConfigError, match="NaN or inf"):
        frechet_distance(np.full((5, 3), np.nan), np.zeros((5, 3)))
    with pytest.raises(ConfigError, match=r"\[n >= 2, d\]"):
        frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))


def test_cholesky_and_eigh_factors_agree_and_singular_falls_back():
    rng = np.random.default_rng(8)
    (mu1, s1), (mu2, s2), closed = commuting_gaussians(48, rng)
    for method in ("auto", "cholesky", "eigh"):
        assert frechet_distance_from_stats(mu1, s1, mu2, s2, method=method) == pytest.approx(closed, rel=1e-9)
    x = rng.standard_normal((10, 48))
    singular = np.cov(x, rowvar=False)  # rank 9
    with pytest.raises(ConfigError, match="not positive definite"):
        trace_sqrt_product(np.diag([1.0, 0.0, -1e-3]), np.eye(3), method="cholesky")
    expected = trace_sqrt_product(singular, s2, method="eigh")
    assert trace_sqrt_product(singular, s2) == pytest.approx(expected, rel=1e-8)
