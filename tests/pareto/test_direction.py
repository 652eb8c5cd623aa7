"""The common descent direction and the min-norm element, against closed forms and SLSQP."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from decide.pareto.direction import common_direction, min_norm_point

FAR = 1e9


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 6))
def test_two_objectives_match_the_closed_form(seed, d):
    rng = np.random.default_rng(seed)
    G = rng.normal(size=(50, 2, d))
    _, alpha = common_direction(G, np.full((50, d), -FAR), np.full((50, d), FAR))
    g1, g2 = G[:, 0], G[:, 1]
    closed = np.clip(((g2 - g1) * g2).sum(1) / ((g1 - g2) ** 2).sum(1), 0, 1)
    np.testing.assert_allclose(alpha[:, 0], closed, atol=1e-9)


def _slsqp_direction(g: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """min t + ½‖q‖² s.t. g_i·q ≤ t, low ≤ q ≤ high, solved by scipy."""
    d = g.shape[1]
    cons = [{"type": "ineq", "fun": lambda z, i=i: z[-1] - g[i] @ z[:-1]} for i in range(len(g))]
    res = minimize(
        lambda z: z[-1] + 0.5 * z[:-1] @ z[:-1],
        np.zeros(d + 1),
        constraints=cons,
        bounds=[*zip(low, high, strict=True), (None, None)],
        method="SLSQP",
        options={"ftol": 1e-14, "maxiter": 500},
    )
    return res.x[:-1]


def test_three_objectives_with_bounds_match_slsqp():
    rng = np.random.default_rng(0)
    G = rng.normal(size=(20, 3, 4))
    x = rng.uniform(-1, 1, (20, 4))
    q, alpha = common_direction(G, -1 - x, 1 - x)
    for k in range(20):
        np.testing.assert_allclose(q[k], _slsqp_direction(G[k], -1 - x[k], 1 - x[k]), atol=1e-6)
    np.testing.assert_allclose(alpha.sum(axis=1), 1.0)
    assert np.all(alpha >= 0)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 3))
def test_the_direction_decreases_every_objective(seed, m):
    rng = np.random.default_rng(seed)
    G = rng.normal(size=(40, m, 3))
    x = rng.uniform(-1, 1, (40, 3))
    q, _ = common_direction(G, -1 - x, 1 - x)
    slopes = np.einsum("nmd,nd->nm", G, q)
    norm2 = (q * q).sum(axis=1)
    assert np.all(slopes <= -0.5 * norm2[:, None] + 1e-9)
    assert np.all((x + q >= -1 - 1e-12) & (x + q <= 1 + 1e-12))


def test_q_vanishes_exactly_where_the_point_is_critical():
    a, b = np.array([-1.0, 0.0]), np.array([1.0, 0.5])
    on_segment = a + np.linspace(0, 1, 7)[:, None] * (b - a)
    off = on_segment + np.array([0.0, 0.3])
    for X, critical in ((on_segment, True), (off, False)):
        G = np.stack([2 * (X - a), 2 * (X - b)], axis=1)
        q, _ = common_direction(G, np.full_like(X, -FAR), np.full_like(X, FAR))
        assert np.all(np.linalg.norm(q, axis=1) < 1e-9) == critical


def test_min_norm_point_matches_slsqp_and_finds_zero_inside_the_hull():
    rng = np.random.default_rng(3)
    for _ in range(10):
        W = rng.normal(size=(5, 3)) + 2.0
        res = minimize(
            lambda b, W=W: np.sum((b @ W) ** 2),
            np.full(5, 0.2),
            constraints=[{"type": "eq", "fun": lambda b: b.sum() - 1}],
            bounds=[(0, 1)] * 5,
            method="SLSQP",
            options={"ftol": 1e-15},
        )
        np.testing.assert_allclose(min_norm_point(W), res.x @ W, atol=1e-6)
    square = np.array([[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])
    np.testing.assert_allclose(min_norm_point(square), 0.0, atol=1e-9)
