"""The flexible growth model of the offline study: penalised piecewise-linear surplus.

Independent references: a piecewise-linear g recovered exactly from noiseless transitions; the
closed-form L2 projection of a quadratic on a uniform mesh (nodal offset h² r / (6K)); the MDP of
the logistic's surplus knotted at the grid points equals ``fitted_mdp``'s; GCV recomputed from a
hand-built hat basis and penalty.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decide.envs.fisheries.data.surplus_fit import (
    KNOTS,
    PENALTIES,
    PiecewiseSurplus,
    fit_surplus,
    penalised_fit,
    recorded_surplus,
    surplus_mdp,
)
from decide.envs.fisheries.studies.offline.history import fitted_mdp, simulate_history
from decide.errors import ModelError, UsageError

knot_values = st.lists(st.floats(-1.0, 1.0), min_size=10, max_size=10)


@settings(max_examples=25, deadline=None)
@given(knot_values)
def test_recovers_a_piecewise_linear_surplus_from_noiseless_transitions(values):
    truth = np.concatenate([[0.0], values])
    s = np.linspace(0.0, 2.0, 401)
    z = np.interp(s, KNOTS, truth)
    np.testing.assert_allclose(penalised_fit(s, z, 0.0).values, truth, atol=1e-10)
    # GCV at the smallest penalties leaves a bias of order λ·|Δ²g| / (points per knot) ≲ 1e-5
    np.testing.assert_allclose(fit_surplus(s, z).values, truth, atol=1e-3)
    assert fit_surplus(s, z).sigma_g < 1e-3


def test_logistic_surplus_is_fitted_within_the_projection_error():
    r, K, h = 0.75, 1.0, KNOTS[1]
    s = np.linspace(0.0, 2.0, 4001)
    fit = penalised_fit(s, r * s * (1 - s / K), 0.0)
    # L2 projection of -(r/K) s² on a uniform mesh: interior nodal values shift by +h² r / (6K);
    # the pinned g(0) = 0 perturbs knot j by a factor (2 - √3)^j: ≲ 1e-4 from knot 3 on
    interior = slice(3, -1)
    expected = r * KNOTS * (1 - KNOTS / K) + h**2 * r / (6 * K)
    np.testing.assert_allclose(fit.values[interior], expected[interior], atol=2e-4)
    # everywhere: interpolation error h²|g''|/8 plus that offset h²|g''|/12
    bound = 5 * h**2 * (2 * r / K) / 24
    assert np.max(np.abs(fit.surplus(s) - r * s * (1 - s / K))) <= bound


def test_mdp_of_the_logistic_knotted_on_the_grid_is_fitted_mdp():
    grid = np.linspace(0.0, 2.0, 55)
    model = PiecewiseSurplus(grid, 0.75 * grid * (1 - grid), sigma_g=0.1)
    ours, reference = surplus_mdp(model), fitted_mdp(0.75, 1.0, 0.1)
    np.testing.assert_allclose(ours.T, reference.T, atol=1e-12)
    np.testing.assert_array_equal(ours.R, reference.R)


@settings(max_examples=20, deadline=None)
@given(knot_values, st.floats(0.01, 0.5))
def test_mdp_rows_sum_to_one_and_collapse_is_absorbing(values, sigma):
    model = PiecewiseSurplus(KNOTS, np.concatenate([[0.0], values]), sigma_g=sigma)
    T = surplus_mdp(model, n_grid=21).T
    np.testing.assert_allclose(T.sum(axis=2), 1.0, atol=1e-12)
    assert np.all(T >= 0) and np.all(T[:, 0, 0] == 1.0)


def test_gcv_chooses_the_penalty_by_its_formula():
    history = simulate_history(np.random.default_rng(3))
    s, z = recorded_surplus(history.records, history.catches)
    h = KNOTS[1]
    B = np.maximum(0.0, 1.0 - np.abs(np.clip(s, 0, 2)[:, None] - KNOTS[None, 1:]) / h)
    D = np.zeros((KNOTS.size - 2, KNOTS.size - 1))
    for i in range(KNOTS.size - 2):  # g_i - 2 g_{i+1} + g_{i+2}, with g_0 = 0 dropped
        for j, w in zip((i, i + 1, i + 2), (1.0, -2.0, 1.0), strict=True):
            if j > 0:
                D[i, j - 1] = w
    scores = []
    for lam in PENALTIES:
        H = B @ np.linalg.inv(B.T @ B + lam * D.T @ D) @ B.T
        rss = np.sum((z - H @ z) ** 2)
        scores.append(z.size * rss / (z.size - np.trace(H)) ** 2)
    fit = fit_surplus(s, z)
    assert fit.penalty == PENALTIES[int(np.argmin(scores))]
    H = B @ np.linalg.inv(B.T @ B + fit.penalty * D.T @ D) @ B.T
    assert fit.dof == pytest.approx(np.trace(H), rel=1e-9)
    rss = np.sum((z - H @ z) ** 2)
    assert fit.sigma_g == pytest.approx(np.sqrt(rss / (z.size - np.trace(H))), rel=1e-9)


def test_fit_errors():
    with pytest.raises(UsageError, match="penalty"):
        penalised_fit(np.linspace(0, 1, 5), np.zeros(5), -1.0)
    with pytest.raises(ModelError, match="not determined"):
        penalised_fit(np.zeros(5), np.zeros(5), 1.0)
    with pytest.raises(ModelError, match="not determined"):  # no records above 0.5, λ = 0
        penalised_fit(np.linspace(0.05, 0.5, 8), np.ones(8), 0.0)
    with pytest.raises(ModelError, match="records"):
        recorded_surplus(np.ones(2), np.zeros(2))
