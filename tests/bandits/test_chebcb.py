"""ChebCB: features, SquareCB probabilities, the Gram-matrix regression and learning."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.polynomial import chebyshev
from scipy.optimize import lsq_linear

from decide.bandits import ChebCB
from decide.bandits.chebfit import ChebyshevRegression

OMEGAS = np.linspace(1.0, 1.95, 20)


def omega_star(c):
    return 1.2 + 0.6 * np.sin(np.pi * c) ** 2


def mean_cost(c):
    """Expected cost of every arm at context c; the best arm moves smoothly with c."""
    return 10.0 + 50.0 * (OMEGAS - omega_star(c)) ** 2


@pytest.fixture(scope="module")
def played():
    """ChebCB after T = 2000 rounds of the smooth instance, with the realised costs."""
    rng = np.random.default_rng(2)
    bandit = ChebCB(OMEGAS, context_range=(0.0, 1.0), seed=0)
    contexts = rng.random(2000)
    total = 0.0
    for c in contexts:
        arm = bandit.ask(c)
        cost = float(rng.poisson(mean_cost(c)[arm]))
        bandit.tell(arm, cost)
        total += cost
    return bandit, contexts, total


def test_features_are_chebyshev_polynomials():
    bandit = ChebCB(OMEGAS, context_range=(-0.15, 0.45), terms=6)
    for c in [-0.15, 0.0, 0.3, 0.45]:
        z = 2 * (c + 0.15) / 0.6 - 1
        np.testing.assert_allclose(bandit.features(c), chebyshev.chebvander(z, 5)[0], atol=1e-14)
    np.testing.assert_array_equal(bandit.features(-3.0), bandit.features(-0.15))
    np.testing.assert_array_equal(bandit.features(9.0), bandit.features(0.45))


def test_uniform_before_first_tell():
    bandit = ChebCB(OMEGAS, context_range=(0.0, 1.0))
    assert bandit.learning_rate == 0.0
    np.testing.assert_allclose(bandit.probabilities(0.3), 1 / 20)


def test_beats_best_fixed_arm(played):
    _, contexts, total = played
    expected = np.array([mean_cost(c) for c in contexts])
    best_fixed = expected.sum(axis=0).min()
    instance_optimal = expected.min(axis=1).sum()
    assert total < best_fixed
    assert total < 1.2 * instance_optimal


def test_squarecb_probabilities(played):
    bandit = played[0]
    eta = bandit.learning_rate
    assert eta > 0
    for c in [0.1, 0.5, 0.77]:
        p = bandit.probabilities(c)
        y = bandit.predict(c)
        best = int(np.argmin(y))
        assert p.sum() == pytest.approx(1.0, abs=1e-12)
        assert np.all(p >= 0)
        others = np.arange(20) != best
        np.testing.assert_allclose(p[others], 1 / (20 + eta * (y[others] - y[best])))
        assert p[best] >= 1 / 20


def test_learning_rate_rule(played):
    """η_t = 2t √(A t / (R_t + 2α² t)) with α = (π + (2/π) log 13) / (2σ·7) · (max k − min k)."""
    bandit = played[0]
    h = bandit.history
    spread = h.costs.max() - h.costs.min()
    n = 2 + 4 * spread / h.costs.max() * (1 + np.log(6))
    assert bandit.scale == pytest.approx(h.costs.max() * n)
    alpha = (np.pi + 2 / np.pi * np.log(13)) / (2 * bandit.scale * 7) * spread
    t = len(h)
    eta = 2 * t * np.sqrt(20 * t / (bandit.squared_error + 2 * alpha**2 * t))
    assert bandit.learning_rate == pytest.approx(eta, rel=1e-12)
    bounds = np.concatenate([[1 / n], 2 * spread / bandit.scale / np.arange(1, 6)])
    np.testing.assert_allclose(bandit.coefficient_bounds, bounds, rtol=1e-12)


def test_regression_matches_direct_fit(played):
    """θ_i from the Gram matrices equals a least-squares fit on that arm's raw data."""
    bandit = played[0]
    h = bandit.history
    gram, moment = bandit.gram
    ub = bandit.coefficient_bounds
    kinds = set()
    for arm in range(20):
        mine = h.arms == arm
        phi = chebyshev.chebvander(2 * h.contexts[mine] - 1, 5)
        np.testing.assert_allclose(gram[arm], phi.T @ phi, atol=1e-9)
        np.testing.assert_allclose(moment[arm], phi.T @ (h.costs[mine] - 1), atol=1e-8)
        if mine.sum() < 18 or np.linalg.matrix_rank(phi) < 6:
            continue  # the bounded fit need not be unique
        y = (h.costs[mine] - 1) / bandit.scale
        direct = np.linalg.lstsq(phi, y, rcond=None)[0]
        if np.any(np.abs(direct) > ub):
            direct = lsq_linear(phi, y, bounds=(-ub, ub), tol=1e-14).x
            kinds.add("bounded")
        else:
            kinds.add("free")
        np.testing.assert_allclose(bandit.coefficients[arm], direct, rtol=1e-6, atol=1e-7 * ub[0])
    assert kinds  # at least one arm was checked


def test_bounded_fit_matches_direct_constrained_fit():
    rng = np.random.default_rng(4)
    reg = ChebyshevRegression(2, 6, (0.0, 1.0))
    contexts = rng.random(60)
    losses = 30 * np.abs(contexts - 0.4) + rng.normal(0, 1, 60)
    for c, loss in zip(contexts, losses, strict=True):
        reg.add(1, c, loss)
    scale, ub = 40.0, np.array([0.5, 0.1, 0.05, 0.02, 0.01, 0.01])
    reg.fit(1, scale, ub)
    phi = chebyshev.chebvander(2 * contexts - 1, 5)
    y = losses / scale
    assert np.any(np.abs(np.linalg.lstsq(phi, y, rcond=None)[0]) > ub)
    direct = lsq_linear(phi, y, bounds=(-ub, ub), tol=1e-14).x
    np.testing.assert_allclose(reg.coefficients[1], direct, atol=1e-9)
    assert np.any(np.isclose(np.abs(direct), ub))  # some bound is active
    np.testing.assert_array_equal(reg.coefficients[0], 0.0)  # no data: θ = 0


def test_min_norm_fit_with_fewer_points_than_terms():
    reg = ChebyshevRegression(1, 6, (0.0, 1.0))
    contexts, losses = np.array([0.1, 0.5, 0.8]), np.array([3.0, 1.0, 2.0])
    for c, loss in zip(contexts, losses, strict=True):
        reg.add(0, c, loss)
    reg.fit(0, 2.0, np.full(6, np.inf))
    phi = chebyshev.chebvander(2 * contexts - 1, 5)
    direct = np.linalg.lstsq(phi, losses / 2.0, rcond=None)[0]  # minimum-norm solution
    np.testing.assert_allclose(reg.coefficients[0], direct, atol=1e-12)


def test_first_observation_fits_a_constant():
    """One cost k: K = k, Lip = 0, N = 2, σ = 2k, bounds (1/2, 0, …) ⇒ θ = ((k − 1)/(2k), 0, …)."""
    bandit = ChebCB(OMEGAS, context_range=(0.0, 1.0), seed=1)
    arm = bandit.ask(0.3)
    bandit.tell(arm, 25.0)
    assert bandit.scale == 50.0
    np.testing.assert_allclose(bandit.coefficient_bounds, [0.5, 0, 0, 0, 0, 0])
    expected = np.zeros((20, 6))
    expected[arm, 0] = 24 / 50
    np.testing.assert_allclose(bandit.coefficients, expected, atol=1e-15)
    # R_1 = (ŷ at ask time − k/σ)² with ŷ = 0 before any data
    assert bandit.squared_error == pytest.approx((25 / 50) ** 2)
