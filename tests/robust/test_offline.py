"""Offline improvement on tabular MDPs: the behaviour policy, the max–min with imitation, and
the A2PR baseline (the MDP tools themselves are tested in tests/mdp/test_mdp.py).

Independent references: soft value iteration (one model, no imitation), the Dirichlet posterior
mean, and a brute-force grid over every stochastic policy of two-state, two-action problems.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from random_mdp import random_mdp

from decide.errors import ModelError, UsageError
from decide.mdp import TabularMDP, policy_evaluation, q_values, soft_value_iteration
from decide.robust.offline import (
    Behaviour,
    advantage_weighted_imitation,
    behaviour_from_history,
    log_likelihood,
)
from decide.robust.regularised import regularised_objective, regularised_policy


def random_behaviour(rng: np.random.Generator, n_states: int, n_actions: int, n: int = 20):
    states = rng.integers(0, n_states, n)
    actions = rng.integers(0, n_actions, n)
    return behaviour_from_history(states, actions, n_states, n_actions, prior=0.01)


# --- behaviour policy -------------------------------------------------------------------------


def test_behaviour_policy_is_the_dirichlet_posterior_mean():
    behaviour = behaviour_from_history(
        np.array([0, 0, 0, 2]), np.array([1, 1, 0, 2]), 3, 3, prior=0.5
    )
    np.testing.assert_allclose(behaviour.counts, [[1, 2, 0], [0, 0, 0], [0, 0, 1]])
    np.testing.assert_allclose(behaviour.policy[0], np.array([1.5, 2.5, 0.5]) / 4.5)
    np.testing.assert_allclose(behaviour.policy[1], np.full(3, 1 / 3))
    np.testing.assert_allclose(behaviour.state_frequencies, [0.75, 0.0, 0.25])
    # the average log-likelihood of the four records
    pi = np.full((3, 3), 1 / 3)
    assert log_likelihood(behaviour, pi) == pytest.approx(np.log(1 / 3))


def test_bad_history_and_options_are_rejected():
    with pytest.raises(ModelError, match="actions"):
        behaviour_from_history(np.array([0]), np.array([5]), 2, 2)
    with pytest.raises(UsageError, match="prior"):
        Behaviour(np.ones((2, 2)), prior=0.0)
    mdp = random_mdp(np.random.default_rng(0), 2, 2)
    behaviour = random_behaviour(np.random.default_rng(0), 2, 2)
    with pytest.raises(UsageError, match="eta"):
        regularised_policy([mdp], behaviour, eta=-1.0, beta=0.1)
    with pytest.raises(UsageError, match="models"):
        regularised_policy([], behaviour, eta=0.0, beta=0.1)
    undiscounted = TabularMDP(mdp.T, mdp.R, 1.0)
    with pytest.raises(ModelError, match="infinite-horizon") as error:
        regularised_policy([undiscounted], behaviour, eta=0.0, beta=0.1)
    assert error.value.field == "discount"


# --- the regularised (RPO-style) policy --------------------------------------------------------


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), beta=st.sampled_from([0.02, 0.1, 0.5]))
def test_one_model_without_imitation_is_soft_optimal(seed, beta):
    rng = np.random.default_rng(seed)
    mdp = random_mdp(rng, 5, 3)
    behaviour = random_behaviour(rng, 5, 3)
    result = regularised_policy([mdp], behaviour, eta=0.0, beta=beta)
    v, _, pi = soft_value_iteration(mdp, beta)
    assert result.converged
    np.testing.assert_allclose(result.policy, pi, atol=1e-6)
    assert result.objective == pytest.approx(v.mean(), abs=1e-9)


def test_large_eta_returns_the_behaviour_policy():
    rng = np.random.default_rng(7)
    models = [random_mdp(rng, 6, 4) for _ in range(3)]
    behaviour = random_behaviour(rng, 6, 4, n=40)
    result = regularised_policy(models, behaviour, eta=1e6, beta=0.05)
    recorded = behaviour.counts.sum(axis=1) > 0
    empirical = behaviour.counts[recorded] / behaviour.counts[recorded].sum(axis=1, keepdims=True)
    np.testing.assert_allclose(result.policy[recorded], empirical, atol=1e-4)
    # the Dirichlet-smoothed behaviour policy is within A α / (N_s + A α) of it
    smoothing = 4 * 0.01 / (behaviour.counts[recorded].sum(axis=1) + 4 * 0.01)
    gap = np.abs(result.policy[recorded] - behaviour.policy[recorded]).max(axis=1)
    assert np.all(gap <= smoothing + 1e-4)


def two_by_two_values(models, beta, x, y, mu0):
    """Regularised values of every policy π(a0|s0) = x, π(a0|s1) = y (arrays), each model."""
    out = []
    for m in models:
        pi0, pi1 = np.stack([x, 1 - x], -1), np.stack([y, 1 - y], -1)
        entropy = [
            np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1) * 2), 0), -1)
            for p in (pi0, pi1)
        ]
        r0 = pi0 @ m.R[0] - beta * entropy[0]
        r1 = pi1 @ m.R[1] - beta * entropy[1]
        p00 = pi0 @ m.T[:, 0, 0]
        p10 = pi1 @ m.T[:, 1, 0]
        g = m.discount
        a, b, c, d = 1 - g * p00, -g * (1 - p00), -g * p10, 1 - g * (1 - p10)
        det = a * d - b * c
        v0 = (d * r0 - b * r1) / det
        v1 = (-c * r0 + a * r1) / det
        out.append(mu0[0] * v0 + mu0[1] * v1)
    return np.array(out)


@pytest.mark.parametrize("seed", [1, 2, 5])
@pytest.mark.parametrize("eta", [0.0, 0.3])
def test_max_min_matches_a_brute_force_grid(seed, eta):
    rng = np.random.default_rng(seed)
    models = [random_mdp(rng, 2, 2) for _ in range(3)]
    behaviour = behaviour_from_history(np.array([0, 0, 1, 1, 1]), np.array([0, 1, 1, 1, 0]), 2, 2)
    beta, mu0 = 0.05, np.array([0.5, 0.5])
    records = behaviour.record_frequencies

    def objective(x_grid: np.ndarray, y_grid: np.ndarray) -> np.ndarray:
        x, y = np.meshgrid(x_grid, y_grid, indexing="ij")
        values = two_by_two_values(models, beta, x, y, mu0)
        imitation = (
            records[0, 0] * np.log(x)
            + records[0, 1] * np.log(1 - x)
            + records[1, 0] * np.log(y)
            + records[1, 1] * np.log(1 - y)
        )
        return values.min(axis=0) + eta * imitation

    grid = np.linspace(1e-4, 1 - 1e-4, 801)
    brute = float(objective(grid, grid).max())
    result = regularised_policy(models, behaviour, eta=eta, beta=beta, initial=mu0)
    assert result.converged
    # at least as good as every policy of the grid ...
    assert result.objective >= brute - 1e-9
    # ... and no policy nearby is better (a local maximum, to 1e-9)
    x0, y0 = result.policy[0, 0], result.policy[1, 0]
    near_x = np.linspace(max(x0 - 1e-3, 1e-6), min(x0 + 1e-3, 1 - 1e-6), 201)
    near_y = np.linspace(max(y0 - 1e-3, 1e-6), min(y0 + 1e-3, 1 - 1e-6), 201)
    assert objective(near_x, near_y).max() <= result.objective + 1e-9
    # J is evaluated exactly for the returned policy
    again = regularised_objective(models, behaviour, result.policy, eta=eta, beta=beta,
                                  initial=mu0)  # fmt: skip
    assert again[0] == pytest.approx(result.objective, abs=1e-12)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), eta=st.sampled_from([0.0, 0.05, 1.0]))
def test_the_max_min_policy_is_a_maximiser(seed, eta):
    rng = np.random.default_rng(seed)
    models = [random_mdp(rng, 4, 3) for _ in range(3)]
    behaviour = random_behaviour(rng, 4, 3)
    beta = 0.05
    result = regularised_policy(models, behaviour, eta=eta, beta=beta)
    soft_optimal = [soft_value_iteration(m, beta) for m in models]
    # max–min value ≤ each model's own (soft-)optimal value
    for v, _, _ in soft_optimal:
        assert result.values.min() <= v.mean() + 1e-9
    # and J is at least J of the candidates it competes with
    candidates = [behaviour.policy] + [pi for _, _, pi in soft_optimal]
    for candidate in candidates:
        other = regularised_objective(models, behaviour, candidate, eta=eta, beta=beta)[0]
        assert result.objective >= other - 1e-9


# --- advantage-guided imitation ---------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 30))
def test_a2pr_keeps_only_positive_advantage_records_or_the_greedy_action(seed, n):
    rng = np.random.default_rng(seed)
    mdp = random_mdp(rng, 5, 4)
    behaviour = random_behaviour(rng, 5, 4, n=n)
    policy, advantage = advantage_weighted_imitation(mdp, behaviour)
    q = q_values(mdp, policy_evaluation(mdp, behaviour.policy))
    np.testing.assert_allclose(advantage, q - np.sum(behaviour.policy * q, axis=1)[:, None])
    np.testing.assert_allclose(policy.sum(axis=1), 1.0)
    for s in range(5):
        recorded = behaviour.counts[s] > 0
        if np.any(recorded & (np.abs(advantage[s]) < 1e-9)):
            continue  # a tie: either reading of "positive" is allowed
        good = recorded & (advantage[s] > 0)
        if good.any():
            expected = np.where(good, behaviour.counts[s], 0.0)
            np.testing.assert_allclose(policy[s], expected / expected.sum())
        else:
            assert policy[s, np.argmax(q[s])] == 1.0
