"""Tabular MDPs and their Bellman equations: evaluation, value iteration, soft value iteration.

Independent references: the closed-form value of a two-state chain, Monte Carlo roll-outs,
enumeration of every deterministic policy, the closed-form soft value of a one-state MDP, and
the Bellman optimality equation itself.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from random_mdp import random_mdp

from decide.errors import ModelError
from decide.mdp import (
    TabularMDP,
    greedy_policy,
    policy_evaluation,
    q_values,
    soft_value_iteration,
    value_iteration,
)

# --- exact evaluation ------------------------------------------------------------------------


def test_two_state_chain_matches_the_closed_form():
    # from state 0 the policy leaves with probability p, from state 1 with probability q
    p, q, gamma = 0.3, 0.6, 0.9
    T = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [1.0, 0.0]]])  # stay, switch
    R = np.array([[1.0, 2.0], [-1.0, 0.5]])
    policy = np.array([[1 - p, p], [1 - q, q]])
    r0, r1 = (1 - p) * 1.0 + p * 2.0, (1 - q) * -1.0 + q * 0.5
    det = (1 - gamma * (1 - p)) * (1 - gamma * (1 - q)) - gamma**2 * p * q
    expected = np.array(
        [
            ((1 - gamma * (1 - q)) * r0 + gamma * p * r1) / det,
            (gamma * q * r0 + (1 - gamma * (1 - p)) * r1) / det,
        ]
    )
    v = policy_evaluation(TabularMDP(T, R, gamma), policy)
    np.testing.assert_allclose(v, expected, rtol=1e-12)


def test_evaluation_matches_monte_carlo():
    rng = np.random.default_rng(3)
    mdp = random_mdp(rng, 4, 3, discount=0.8)
    policy = rng.dirichlet(np.ones(3), size=4)
    n, horizon = 40_000, 120  # 0.8^120 ≈ 2e-12: truncation is negligible
    state = np.zeros(n, dtype=int)
    total = np.zeros(n)
    sim = np.random.default_rng(4)
    for t in range(horizon):
        action = (sim.random(n)[:, None] > np.cumsum(policy[state], axis=1)).sum(axis=1)
        action = np.minimum(action, 2)
        total += mdp.discount**t * mdp.R[state, action]
        nxt = (sim.random(n)[:, None] > np.cumsum(mdp.T[action, state], axis=1)).sum(axis=1)
        state = np.minimum(nxt, 3)
    v = policy_evaluation(mdp, policy)
    se = total.std(ddof=1) / np.sqrt(n)
    assert abs(total.mean() - v[0]) < 4 * se


# --- value iteration ---------------------------------------------------------------------------


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_value_iteration_is_the_best_deterministic_policy(seed):
    rng = np.random.default_rng(seed)
    mdp = random_mdp(rng, 3, 3)
    best = np.full(3, -np.inf)
    for choice in itertools.product(range(3), repeat=3):
        best = np.maximum(best, policy_evaluation(mdp, np.eye(3)[list(choice)]))
    v, q = value_iteration(mdp)
    np.testing.assert_allclose(v, best, atol=1e-9)
    np.testing.assert_allclose(q.max(axis=1), v, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_states=st.integers(1, 6),
    n_actions=st.integers(1, 3),
    discount=st.floats(0.01, 0.95),
)
def test_value_iteration_solves_the_optimality_equation(seed, n_states, n_actions, discount):
    rng = np.random.default_rng(seed)
    T = rng.dirichlet(np.full(n_states, 0.3), size=(n_actions, n_states))
    R = rng.uniform(-1.0, 1.0, size=(n_states, n_actions))
    mdp = TabularMDP(T, R, discount)
    v, q = value_iteration(mdp)
    # the value is that of the greedy policy, evaluated exactly ...
    np.testing.assert_allclose(policy_evaluation(mdp, greedy_policy(q)), v, rtol=0, atol=1e-8)
    # ... and a fixed point of v = max_a (R + γ T v)
    np.testing.assert_allclose(q, q_values(mdp, v), rtol=0, atol=1e-12)
    np.testing.assert_allclose(q.max(axis=1), v, rtol=0, atol=1e-8)


def test_soft_value_of_one_state_is_the_closed_form():
    R = np.array([[0.2, 1.0, 0.7]])
    rho = np.array([[0.5, 0.2, 0.3]])
    gamma, beta = 0.9, 0.3
    mdp = TabularMDP(np.ones((3, 1, 1)), R, gamma)
    v, _, pi = soft_value_iteration(mdp, beta, rho)
    expected = beta * np.log(np.sum(rho * np.exp(R / beta))) / (1 - gamma)
    assert v[0] == pytest.approx(expected, rel=1e-10)
    np.testing.assert_allclose(pi, rho * np.exp(R / beta) / np.sum(rho * np.exp(R / beta)))


# --- the model and its errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "T", "R", "discount"),
    [
        ("T", np.full((1, 2, 2), 0.4), np.zeros((2, 1)), 0.9),
        ("T", np.full((1, 2, 3), 1 / 3), np.zeros((2, 1)), 0.9),
        ("T", [[[np.nan]]], [[0.0]], 0.9),
        ("R", np.ones((2, 1, 1)), np.zeros((2, 1)), 0.9),
        ("discount", np.ones((1, 1, 1)), [[0.0]], 0.0),
        ("discount", np.ones((1, 1, 1)), [[0.0]], 1.5),
    ],
)
def test_bad_arrays_name_the_field(field, T, R, discount):
    with pytest.raises(ModelError) as error:
        TabularMDP(T, R, discount)
    assert error.value.field == field


def test_no_discount_is_a_model_but_has_no_infinite_horizon_value():
    mdp = TabularMDP(np.ones((2, 1, 1)), [[1.0, 0.5]], 1.0)
    assert mdp.discount == 1.0
    np.testing.assert_allclose(q_values(mdp, [2.0]), [[3.0, 2.5]])  # a backup is still defined
    for tool in (
        lambda: policy_evaluation(mdp, [[1.0, 0.0]]),
        lambda: value_iteration(mdp),
        lambda: soft_value_iteration(mdp, 0.1),
    ):
        with pytest.raises(ModelError, match=r"\(0, 1\) for an infinite-horizon") as error:
            tool()
        assert error.value.field == "discount"
