"""Chance-constrained planning: the LP against brute force, the Lagrangian method against the LP.

Independent references: enumeration of every trajectory (for :func:`evaluate`), enumeration of
every deterministic Markov policy (whose (value, failure) points span the achievable set, so the
constrained optimum is the upper concave envelope of those points at δ), a plain backward
induction (δ = 1), and the exact LP for the Lagrangian method.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from decide.errors import ModelError, UsageError
from decide.mdp import TabularMDP
from decide.robust.constrained import (
    ConstrainedMDP,
    Lagrangian,
    LinearProgramme,
    dual_value,
    evaluate,
    least_failure_probability,
)


def random_cmdp(
    seed: int,
    n_states: int = 3,
    n_actions: int = 2,
    horizon: int = 3,
    n_failure: int = 1,
    discount: float = 0.9,
    start_failed: float = 0.0,
) -> ConstrainedMDP:
    """Dirichlet transitions, uniform rewards, the first ``n_failure`` states fail."""
    rng = np.random.default_rng(seed)
    T = rng.dirichlet(np.ones(n_states), size=(n_actions, n_states))
    R = rng.uniform(0.0, 1.0, size=(n_states, n_actions))
    failure = np.arange(n_states) < n_failure
    initial = np.zeros(n_states)
    initial[~failure] = (1.0 - start_failed) * rng.dirichlet(np.ones((~failure).sum()))
    initial[0] += start_failed
    return ConstrainedMDP(TabularMDP(T, R, discount), horizon, initial, failure)


def enumerate_paths(cmdp: ConstrainedMDP, policy: np.ndarray) -> tuple[float, float]:
    """Value and failure probability summed over every trajectory (failure ends a path)."""
    totals = {"value": 0.0, "failure": 0.0}

    def walk(t: int, s: int, probability: float) -> None:
        if cmdp.failure[s]:
            totals["failure"] += probability
            return
        if t == cmdp.horizon:
            return
        for a in range(cmdp.n_actions):
            p = probability * policy[t, s, a]
            totals["value"] += p * cmdp.mdp.discount**t * cmdp.mdp.R[s, a]
            for s_next in range(cmdp.n_states):
                walk(t + 1, s_next, p * cmdp.mdp.T[a, s, s_next])

    for s in range(cmdp.n_states):
        walk(0, s, cmdp.initial[s])
    return totals["value"], totals["failure"]


def deterministic_points(cmdp: ConstrainedMDP) -> np.ndarray:
    """(value, failure) of every deterministic Markov policy, shape (A^(H S), 2)."""
    eye = np.eye(cmdp.n_actions)
    shape = (cmdp.horizon, cmdp.n_states)
    choices = itertools.product(range(cmdp.n_actions), repeat=cmdp.horizon * cmdp.n_states)
    return np.array([evaluate(cmdp, eye[np.reshape(c, shape)]) for c in choices])


def envelope(points: np.ndarray, delta: float) -> float:
    """max value over mixtures of two points whose failure probability is at most δ."""
    value, failure = points[:, 0], points[:, 1]
    best = value[failure <= delta].max()
    low, high = failure <= delta, failure > delta
    for v_low, f_low in points[low]:
        q = (delta - f_low) / (failure[high] - f_low)  # weight of the riskier point
        best = max(best, np.max(q * value[high] + (1 - q) * v_low, initial=-np.inf))
    return float(best)


def backward_induction_value(cmdp: ConstrainedMDP) -> float:
    """Unconstrained optimum: nothing is earned from a failure state on."""
    future = np.zeros(cmdp.n_states)
    for t in reversed(range(cmdp.horizon)):
        q = cmdp.mdp.discount**t * cmdp.mdp.R + np.einsum("ast,t->sa", cmdp.mdp.T, future)
        future = np.where(cmdp.failure, 0.0, q.max(axis=1))
    return float(cmdp.initial @ future)


def test_evaluate_matches_trajectory_enumeration():
    cmdp = random_cmdp(3, n_states=3, n_actions=2, horizon=3, start_failed=0.2)
    policy = np.random.default_rng(4).dirichlet(np.ones(2), size=(3, 3))
    value, failure = evaluate(cmdp, policy)
    expected_value, expected_failure = enumerate_paths(cmdp, policy)
    assert value == pytest.approx(expected_value, abs=1e-13)
    assert failure == pytest.approx(expected_failure, abs=1e-13)
    assert failure > 0.2  # the start's failure mass counts, and more is added on the way


@settings(max_examples=30, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), fraction=st.floats(0.05, 0.95))
def test_lp_and_lagrangian_reach_the_brute_force_optimum(seed, fraction):
    cmdp = random_cmdp(seed)
    points = deterministic_points(cmdp)
    least, riskiest_best = points[:, 1].min(), points[points[:, 0].argmax(), 1]
    assume(riskiest_best - least > 1e-3)
    delta = least + fraction * (riskiest_best - least)
    optimum = envelope(points, delta)
    best_deterministic = points[points[:, 1] <= delta, 0].max()

    assert least_failure_probability(cmdp) == pytest.approx(least, abs=1e-13)
    lp = LinearProgramme().solve(cmdp, delta=delta)
    assert lp.value >= best_deterministic - 1e-9
    assert lp.value == pytest.approx(optimum, abs=1e-8)
    assert lp.failure_probability <= delta + 1e-9
    value, failure = evaluate(cmdp, lp.policies[0])
    assert value == pytest.approx(lp.value, abs=1e-8)
    assert failure == pytest.approx(lp.failure_probability, abs=1e-8)

    dual = Lagrangian().solve(cmdp, delta=delta)
    assert dual.value == pytest.approx(optimum, abs=1e-8)
    assert dual.failure_probability <= delta + 1e-12


def test_unconstrained_lp_equals_backward_induction():
    for seed in (0, 1):
        cmdp = random_cmdp(seed, n_states=6, n_actions=3, horizon=8, n_failure=2, discount=0.95)
        expected = backward_induction_value(cmdp)
        assert LinearProgramme().solve(cmdp, delta=1.0).value == pytest.approx(expected, abs=1e-8)
        plan = Lagrangian().solve(cmdp, delta=1.0)
        assert plan.value == pytest.approx(expected, abs=1e-12)
        assert plan.lambda_ == 0.0 and len(plan.policies) == 1


def check_against_lp(cmdp: ConstrainedMDP, delta: float):
    lp = LinearProgramme().solve(cmdp, delta=delta)
    plan = Lagrangian().solve(cmdp, delta=delta)
    # the acceptance criterion, then what the duality-gap certificate promises
    assert plan.failure_probability <= delta + 0.01
    assert abs(plan.value - lp.value) <= 0.02 * abs(lp.value)
    assert plan.failure_probability <= delta + 1e-12
    assert plan.value == pytest.approx(lp.value, rel=1e-6)
    # weak duality at every multiplier tried; strong duality at the LP's multiplier
    assert min(step.dual_value for step in plan.history) >= lp.value - 1e-7
    assert dual_value(cmdp, delta, lp.lambda_) == pytest.approx(lp.value, rel=1e-6)
    assert plan.lambda_ == pytest.approx(lp.lambda_, rel=1e-4)
    # the mixture's per-time action distribution is a Markov policy with the same numbers
    markov = evaluate(cmdp, plan.action_probabilities(cmdp))
    assert markov == pytest.approx((plan.value, plan.failure_probability), abs=1e-12)
    return lp, plan


@pytest.mark.parametrize("seed", [10, 11, 12])
def test_lagrangian_matches_lp_on_random_cmdps(seed):
    cmdp = random_cmdp(seed, n_states=8, n_actions=4, horizon=12, n_failure=2, discount=0.95)
    least = least_failure_probability(cmdp)
    unconstrained = Lagrangian().solve(cmdp, delta=1.0).failure_probability
    delta = 0.5 * (least + unconstrained)
    _, plan = check_against_lp(cmdp, delta)
    assert len(plan.policies) == 2
    assert plan.failure_probability == pytest.approx(delta, abs=1e-12)  # it binds


@pytest.fixture(scope="module")
def fisheries():
    from decide.envs.fisheries.model.growth import Logistic
    from decide.envs.fisheries.model.pomdp_builder import build_pomdp, make_grids

    model = Logistic(0.75, 1.0)
    T = build_pomdp(model, sigma_g=0.15, sigma_m=0.0, n_states=50).dense_transitions()
    grids = make_grids(model, n_states=50)
    reward = np.minimum(grids.states[:, None], grids.actions[None, :])
    initial = np.zeros(50)
    initial[np.abs(grids.states - model.K / 6).argmin()] = 1.0
    collapse = grids.states < 0.1 * model.K
    return ConstrainedMDP(TabularMDP(T, reward, 0.95), 50, initial, collapse)


@pytest.mark.parametrize("tight", [False, True])
def test_lagrangian_matches_lp_on_fisheries(fisheries, tight):
    # The unconstrained plan empties the stock in the last year (P(collapse) = 1 with s_H
    # counted), so δ = half of that mostly limits the final liquidation; δ = least + 0.01
    # also limits the collapses before it.
    unconstrained = Lagrangian().solve(fisheries, delta=1.0)
    least = least_failure_probability(fisheries)
    delta = least + 0.01 if tight else 0.5 * unconstrained.failure_probability
    assert least < delta < unconstrained.failure_probability
    lp, plan = check_against_lp(fisheries, delta)
    assert lp.value < unconstrained.value - 1e-4
    assert lp.lambda_ > 0
    assert len(plan.policies) == 2 and 0 < plan.weights[0] < 1


def test_too_few_iterations_stay_feasible():
    cmdp = random_cmdp(10, n_states=8, n_actions=4, horizon=12, n_failure=2)
    delta = least_failure_probability(cmdp) + 0.01
    plan = Lagrangian(max_iterations=1).solve(cmdp, delta=delta)
    assert plan.failure_probability <= delta + 1e-12
    assert plan.value <= LinearProgramme().solve(cmdp, delta=delta).value + 1e-8


def test_mixture_draws_follow_the_weights():
    cmdp = random_cmdp(11, n_states=8, n_actions=4, horizon=12, n_failure=2)
    least = least_failure_probability(cmdp)
    unconstrained = Lagrangian().solve(cmdp, delta=1.0).failure_probability
    plan = Lagrangian().solve(cmdp, delta=0.5 * (least + unconstrained))
    rng = np.random.default_rng(5)
    risky = np.mean([plan.draw(rng) is plan.policies[0] for _ in range(4000)])
    q = plan.weights[0]
    assert abs(risky - q) < 4 * np.sqrt(q * (1 - q) / 4000)
    assert plan.draw(7) is plan.draw(7)


def test_infeasible_delta_names_the_least_failure_probability():
    cmdp = random_cmdp(2, start_failed=0.1)
    least = deterministic_points(cmdp)[:, 1].min()
    assert least > 0.1
    for method in (LinearProgramme(), Lagrangian()):
        with pytest.raises(UsageError, match=re.escape(f"{least:.10g}")):
            method.solve(cmdp, delta=0.5 * least)
    assert LinearProgramme().solve(cmdp, delta=least).failure_probability <= least + 1e-9


@pytest.mark.parametrize("delta", [-0.1, 1.5, float("nan")])
def test_delta_outside_zero_one_is_refused(delta):
    with pytest.raises(UsageError, match="delta"):
        LinearProgramme().solve(random_cmdp(0), delta=delta)


def test_bad_options_and_policies_are_refused():
    cmdp = random_cmdp(0)
    with pytest.raises(UsageError, match="policy"):
        evaluate(cmdp, np.full((3, 3, 2), 0.4))
    with pytest.raises(UsageError, match="policy"):
        evaluate(cmdp, np.full((2, 3, 2), 0.5))
    with pytest.raises(UsageError, match="max_iterations"):
        Lagrangian(max_iterations=0)
    with pytest.raises(UsageError, match="step"):
        Lagrangian(step=-1.0)


def valid_arrays() -> dict:
    cmdp = random_cmdp(0)
    return {
        "T": np.array(cmdp.mdp.T),
        "R": np.array(cmdp.mdp.R),
        "discount": 0.9,
        "horizon": 3,
        "initial": np.array(cmdp.initial),
        "failure": np.array(cmdp.failure),
    }


def model_from(arrays: dict) -> ConstrainedMDP:
    mdp = TabularMDP(arrays["T"], arrays["R"], arrays["discount"])
    return ConstrainedMDP(mdp, arrays["horizon"], arrays["initial"], arrays["failure"])


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("T", lambda T: T * 1.1),
        ("T", lambda T: T[0]),
        ("T", lambda T: np.where(T.max() == T, np.nan, T)),
        ("T", lambda T: T[:, :2, :]),
        ("R", lambda R: R.T),
        ("R", lambda R: np.full_like(R, np.inf)),
        ("discount", lambda d: 0.0),
        ("discount", lambda d: 1.5),
        ("horizon", lambda h: 0),
        ("horizon", lambda h: 2.5),
        ("initial", lambda p: 2 * p),
        ("initial", lambda p: p[:2]),
        ("failure", lambda f: f[:2]),
        ("failure", lambda f: f * 2),
        ("failure", lambda f: np.ones_like(f)),
    ],
)
def test_bad_model_arrays_name_the_field(field, bad):
    arrays = valid_arrays()
    arrays[field] = bad(arrays[field])
    with pytest.raises(ModelError) as error:
        model_from(arrays)
    assert error.value.field == field


def test_the_model_holds_a_tabular_mdp_and_allows_no_discount():
    arrays = valid_arrays()
    cmdp = model_from(arrays | {"discount": 1.0})
    assert cmdp.mdp.discount == 1.0
    assert (cmdp.n_states, cmdp.n_actions) == arrays["R"].shape
    with pytest.raises(UsageError, match="mdp: expected a TabularMDP"):
        ConstrainedMDP(arrays["T"], arrays["horizon"], arrays["initial"], arrays["failure"])
