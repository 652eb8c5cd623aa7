"""Robust ℓ1 calibration: the sub-gradient method against exact answers, then the fisheries fit.

Independent numbers: the median (ℓ1 location), the linear programme of ℓ1 regression solved by
HiGHS, closed forms of the step-size schedule, the growth model of ``growth.py``, finite
differences, and a synthetic stock with known parameters.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from decide.envs.fisheries.data.robust_fit import (
    DEMO_TRUTH,
    demo_series,
    l1_calibrate,
    least_squares_calibrate,
    simulate,
)
from decide.envs.fisheries.model.growth import Logistic, expected_next
from decide.errors import ModelError, UsageError
from decide.robust.l1fit import L1Fit, l1_fit, step_sizes

# ---------------------------------------------------------------- generic sub-gradient method


def lad_by_linear_programme(a: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """min (1/m) Σ t_i subject to -t <= A β - y <= t, by HiGHS."""
    m, p = a.shape
    cost = np.r_[np.zeros(p), np.ones(m) / m]
    a_ub = np.block([[a, -np.eye(m)], [-a, -np.eye(m)]])
    b_ub = np.r_[y, -y]
    bounds = [(None, None)] * p + [(0, None)] * m
    result = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    assert result.status == 0
    return result.x[:p], float(result.fun)


def linear_problem(seed: int, m: int = 60, outliers: int = 18):
    """y = A β + small noise, with gross positive errors in 30 % of the rows."""
    rng = np.random.default_rng(seed)
    a = np.c_[np.ones(m), rng.uniform(-1, 1, (m, 2))]
    y = a @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.standard_normal(m)
    bad = rng.choice(m, outliers, replace=False)
    y[bad] += rng.uniform(5, 20, outliers)
    return a, y


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linear_l1_regression_matches_the_linear_programme(seed):
    a, y = linear_problem(seed)
    beta_lp, objective_lp = lad_by_linear_programme(a, y)
    fit = l1_fit(
        lambda b: a @ b - y, lambda b: a, np.zeros(3), step=1.0, decay=0.98, iterations=1500
    )
    assert fit.objective == pytest.approx(objective_lp, abs=1e-10)
    np.testing.assert_allclose(fit.theta, beta_lp, atol=1e-9)
    # the least-squares solution is pulled far away by the outliers; ℓ1 is not
    beta_ls = np.linalg.lstsq(a, y, rcond=None)[0]
    assert abs(beta_ls[0] - 1.0) > 1.0
    np.testing.assert_allclose(fit.theta, [1.0, -2.0, 0.5], atol=0.1)


def test_location_model_converges_to_the_median():
    rng = np.random.default_rng(7)
    y = np.r_[rng.normal(3.0, 0.1, 41), rng.uniform(50, 100, 20)]  # 61 values, 1/3 outliers
    fit = l1_fit(lambda t: t - y, lambda t: np.ones((y.size, 1)), [0.0], step=5.0, decay=0.98)
    assert fit.theta[0] == pytest.approx(np.median(y), abs=1e-9)
    assert fit.objective == pytest.approx(np.mean(np.abs(y - np.median(y))), abs=1e-12)


def test_step_sizes_are_geometric():
    np.testing.assert_allclose(step_sizes(0.5, 0.9, 4), [0.5, 0.45, 0.405, 0.3645], rtol=1e-15)
    assert step_sizes(1.0, 0.5, 0).size == 0


def test_normalised_steps_follow_the_schedule_exactly():
    """f(θ) = |θ| from θ0 beyond the reach η0/(1-q): every step is -η_k, never crossing 0."""
    step, decay, iterations, start = 0.3, 0.9, 25, 5.0
    fit = l1_fit(
        lambda t: 4.0 * t,  # the slope is normalised away
        lambda t: np.array([[4.0]]),
        [start],
        step=step,
        decay=decay,
        iterations=iterations,
    )
    k = np.arange(iterations + 1)
    expected = 4.0 * (start - step * (1 - decay**k) / (1 - decay))
    np.testing.assert_allclose(fit.history, expected, rtol=1e-12)
    assert fit.theta[0] == pytest.approx(start - step * (1 - decay**iterations) / (1 - decay))
    assert fit.iterations == iterations


def test_unnormalised_steps_scale_with_the_subgradient():
    """r = 4θ, m = 2 rows: g = Jᵀ sign(r)/m = (4 + 4)/2 = 4, so θ moves by 4 η_k."""
    fit = l1_fit(
        lambda t: np.array([4.0 * t[0], 4.0 * t[0]]),
        lambda t: np.array([[4.0], [4.0]]),
        [10.0],
        step=0.1,
        decay=0.5,
        iterations=3,
        normalise=False,
    )
    assert fit.theta[0] == pytest.approx(10.0 - 4.0 * (0.1 + 0.05 + 0.025))


def test_bounds_project_onto_the_box():
    target = np.array([5.0, -5.0, 0.3])
    fit = l1_fit(
        lambda t: t - target,
        lambda t: np.eye(3),
        [9.0, 9.0, 9.0],  # outside the box: projected first
        bounds=([0.0, -1.0, -1.0], [2.0, 1.0, 1.0]),
        step=0.5,
        decay=0.97,
        iterations=800,
    )
    np.testing.assert_allclose(fit.theta, [2.0, -1.0, 0.3], atol=1e-9)
    assert fit.objective == pytest.approx((3.0 + 4.0 + 0.0) / 3, abs=1e-9)


def test_components_against_an_active_bound_do_not_shorten_the_step():
    """At θ = (2, 5) with θ1 ≤ 2 and target (10, 0), g = (-1/2, 1/2); the first component points
    out of the box, so the whole normalised step goes to θ2."""
    fit = l1_fit(
        lambda t: t - np.array([10.0, 0.0]),
        lambda t: np.eye(2),
        [2.0, 5.0],
        bounds=([-np.inf, -np.inf], [2.0, np.inf]),
        step=0.7,
        iterations=1,
    )
    np.testing.assert_allclose(fit.theta, [2.0, 4.3], rtol=1e-15)


def test_a_zero_subgradient_stops_the_method():
    fit = l1_fit(lambda t: t - 1.0, lambda t: np.eye(1), [1.0], iterations=50)
    assert fit.iterations == 0
    assert fit.objective == 0.0
    assert fit.history.tolist() == [0.0]


def test_the_best_iterate_is_kept_when_steps_overshoot():
    """A first step far larger than the distance to the median makes the history go up."""
    y = np.array([0.0, 1.0, 2.0])
    fit = l1_fit(lambda t: t - y, lambda t: np.ones((3, 1)), [1.5], step=10.0, decay=0.5)
    assert fit.history[1] > fit.history[0]
    assert fit.objective == fit.history.min()
    assert fit.objective == pytest.approx(np.mean(np.abs(fit.theta[0] - y)), abs=0)
    assert fit.theta[0] == pytest.approx(1.0, abs=1e-9)
    assert isinstance(fit, L1Fit)


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    m=st.integers(3, 12),
    low=st.floats(-2.0, 0.0),
    width=st.floats(0.1, 3.0),
)
def test_result_is_feasible_and_never_below_the_exact_minimum(seed, m, low, width):
    """Invariants only: with the default schedule an ill-conditioned instance may stop short."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, 2))
    y = rng.standard_normal(m) * rng.choice([1.0, 30.0], m)
    box = (np.full(2, low), np.full(2, low + width))
    fit = l1_fit(lambda b: a @ b - y, lambda b: a, rng.standard_normal(2), bounds=box)
    assert np.all(fit.theta >= box[0]) and np.all(fit.theta <= box[1])
    # the exact minimum over the box, as a linear programme
    cost = np.r_[np.zeros(2), np.ones(m) / m]
    a_ub = np.block([[a, -np.eye(m)], [-a, -np.eye(m)]])
    lp = linprog(
        cost,
        A_ub=a_ub,
        b_ub=np.r_[y, -y],
        bounds=[(low, low + width)] * 2 + [(0, None)] * m,
        method="highs",
    )
    assert fit.objective >= lp.fun - 1e-9
    assert fit.objective == fit.history.min() <= fit.history[0]
    assert fit.objective == pytest.approx(np.mean(np.abs(a @ fit.theta - y)), rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(
    data=st.lists(st.floats(-100, 100), min_size=1, max_size=15).filter(lambda v: len(v) % 2),
    start=st.floats(-100, 100),
    decay=st.floats(0.5, 0.95),
    iterations=st.integers(1, 60),
)
def test_normalised_steps_reach_the_median_within_the_last_step(data, start, decay, iterations):
    """1-D location, η0 ≥ |θ0 - median|: |θ_k - median| ≤ η_k / q holds at every step when
    q ≥ 1/2 (each step either shortens the distance by η_k or overshoots by less than η_k), and
    the mean absolute deviation is 1-Lipschitz, so f(best) - f* ≤ η0 q^(K-1)."""
    y = np.array(data)
    median = float(np.median(y))
    step = max(abs(start - median), 1e-3)
    fit = l1_fit(
        lambda t: t - y,
        lambda t: np.ones((y.size, 1)),
        [start],
        step=step,
        decay=decay,
        iterations=iterations,
    )
    best = np.mean(np.abs(y - median))
    assert best - 1e-9 <= fit.objective <= best + step * decay ** (iterations - 1) + 1e-9


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"step": 0.0}, "step"),
        ({"step": np.inf}, "step"),
        ({"decay": 1.0}, "decay"),
        ({"decay": 0.0}, "decay"),
        ({"iterations": -1}, "iterations"),
        ({"iterations": 2.5}, "iterations"),
        ({"bounds": ([1.0], [0.0])}, "bounds"),
        ({"bounds": [0.0]}, "bounds"),
    ],
)
def test_bad_settings_name_the_argument(options, name):
    with pytest.raises(UsageError, match=name):
        l1_fit(lambda t: t, lambda t: np.eye(1), [1.0], **options)


def test_bad_inputs_name_the_argument():
    with pytest.raises(UsageError, match="theta0"):
        l1_fit(lambda t: t, lambda t: np.eye(1), [np.nan])
    with pytest.raises(UsageError, match="residual"):
        l1_fit(lambda t: np.full(2, np.nan), lambda t: np.ones((2, 1)), [1.0])
    with pytest.raises(UsageError, match="jacobian"):
        l1_fit(lambda t: t, lambda t: np.ones((2, 2)), [1.0])


# ---------------------------------------------------------------- fisheries calibration

TRUTH = DEMO_TRUTH


def relative_errors(fit: dict[str, float]) -> dict[str, float]:
    return {name: abs(fit[name] / TRUTH[name] - 1.0) for name in ("r", "K")}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_l1_recovers_r_and_k_where_least_squares_fails(seed):
    catch, _, records = demo_series(seed)
    l1 = relative_errors(l1_calibrate(records, catch))
    ls = relative_errors(least_squares_calibrate(records, catch))
    assert max(l1.values()) < 0.05, l1
    assert max(ls.values()) > 0.5, ls


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_with_clean_records_both_recover_the_truth(seed):
    catch, clean, _ = demo_series(seed)
    for fit in (l1_calibrate(clean, catch), least_squares_calibrate(clean, catch)):
        assert max(relative_errors(fit).values()) < 0.03, fit
        assert fit["x0"] == pytest.approx(TRUTH["x0"], rel=0.1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_inliers_are_recovered_exactly_despite_30_percent_outliers(seed):
    """Without survey noise the truth fits 70 % of the records exactly (Ma & Fattahi's setting)."""
    catch, _, records = demo_series(seed, survey_sd=0.0)
    fit = l1_calibrate(records, catch)
    for name, value in TRUTH.items():
        assert fit[name] == pytest.approx(value, rel=1e-6), name


def test_fit_is_equivariant_to_the_unit_of_biomass():
    catch, _, records = demo_series(3)
    base = l1_calibrate(records, catch)
    tonnes = l1_calibrate(1000.0 * records, 1000.0 * catch)
    assert tonnes["r"] == pytest.approx(base["r"], rel=1e-6)
    assert tonnes["K"] == pytest.approx(1000.0 * base["K"], rel=1e-6)
    assert tonnes["x0"] == pytest.approx(1000.0 * base["x0"], rel=1e-6)


@pytest.mark.parametrize("order", ["harvest_first", "recruit_first"])
def test_trajectory_follows_the_growth_module(order):
    """Heavy catches so that the catch takes the whole stock in some years (the kinks)."""
    rng = np.random.default_rng(4)
    catch = rng.uniform(0.0, 0.4, 30)
    theta = np.array([0.9, 1.2, 0.5])  # r, K, x0/K
    path, _ = simulate(theta, catch, 30, order)
    model, x = Logistic(r=0.9, K=1.2), [0.6]
    for year in range(29):
        mean, _ = expected_next(model, np.array(x[-1]), np.array(catch[year]), order)
        x.append(float(mean))
    np.testing.assert_allclose(path, x, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("order", ["harvest_first", "recruit_first"])
def test_sensitivities_match_finite_differences(order):
    catch = 0.12 + 0.05 * np.sin(np.arange(25))
    theta = np.array([0.7, 1.1, 0.4])
    _, sens = simulate(theta, catch, 25, order)
    for j in range(3):
        delta = np.zeros(3)
        delta[j] = 1e-6
        up, _ = simulate(theta + delta, catch, 25, order)
        down, _ = simulate(theta - delta, catch, 25, order)
        np.testing.assert_allclose(sens[:, j], (up - down) / 2e-6, rtol=1e-6, atol=1e-8)


def test_fisheries_inputs_are_checked():
    catch, _, records = demo_series(0)
    with pytest.raises(ModelError, match="records"):
        l1_calibrate(records[:3], catch[:3])
    with pytest.raises(ModelError, match="catch"):
        least_squares_calibrate(records, catch[:10])
    with pytest.raises(ModelError, match="catch"):
        l1_calibrate(records, -catch)
    with pytest.raises(UsageError, match="bounds"):
        l1_calibrate(records, catch, bounds={"r": (0, 2), "K": (0, 5), "x0/K": (0, 1)})
    with pytest.raises(UsageError, match="starts"):
        l1_calibrate(records, catch, starts=[{"r": 0.5}])
    with pytest.raises(UsageError, match="polish"):
        l1_calibrate(records, catch, polish=-1)
    with pytest.raises(ModelError, match="order"):
        l1_calibrate(records, catch, order="harvest_last")
