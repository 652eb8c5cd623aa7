"""Reactive rules as alpha vectors: against the rule's value on the joint (state, observation)
chain, and as a start of the point-based solver's lower bound."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decide.errors import ModelError, UsageError
from decide.pomdp.kernel_arrays import sparse_model
from decide.pomdp.model import TabularPOMDP
from decide.pomdp.pointbased import PointBased, solver_part
from decide.pomdp.pointbased.state import SearchState, estimate_bytes
from decide.pomdp.reactive import reactive_vectors


@st.composite
def models_and_rules(draw):
    S, A, O = draw(st.integers(1, 5)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    T = rng.dirichlet(np.full(S, 0.5), size=(A, S))
    Z = rng.dirichlet(np.ones(O), size=S if draw(st.booleans()) else (A, S))
    R = rng.normal(size=(S, A))
    pomdp = TabularPOMDP(T=T, Z=Z, R=R, discount=0.9, b0=np.full(S, 1 / S))
    return pomdp, rng.integers(A, size=O)


def _joint_chain_value(pomdp: TabularPOMDP, table: np.ndarray) -> np.ndarray:
    """V[s, o]: playing table[o] in state s after observation o, then the rule, from the dense
    linear system of the Markov chain on (state, last observation)."""
    S, O = pomdp.n_states, pomdp.n_observations
    T, Z = pomdp.dense_transitions(), pomdp.dense_observations()
    P = np.zeros((S, O, S, O))
    r = np.zeros((S, O))
    for s in range(S):
        for o in range(O):
            a = table[o]
            P[s, o] = T[a, s][:, None] * Z[a]
            r[s, o] = pomdp.R[s, a]
    n = S * O
    V = np.linalg.solve(np.eye(n) - pomdp.discount * P.reshape(n, n), r.ravel())
    return V.reshape(S, O)


@settings(max_examples=60, deadline=None)
@given(models_and_rules())
def test_vectors_are_the_rule_value_and_backups_of_each_other(model_and_rule):
    pomdp, table = model_and_rule
    vectors = reactive_vectors(pomdp, table)
    V = _joint_chain_value(pomdp, table)
    np.testing.assert_allclose(vectors.alpha[vectors.child].T, V, atol=1e-9)
    np.testing.assert_array_equal(vectors.action[vectors.child], table)
    T, Z = pomdp.dense_transitions(), pomdp.dense_observations()
    for alpha, a in zip(vectors.alpha, vectors.action, strict=True):
        successors = vectors.alpha[vectors.child].T  # (S, O): vector after each observation
        backup = pomdp.R[:, a] + pomdp.discount * T[a] @ (Z[a] * successors).sum(axis=1)
        np.testing.assert_allclose(alpha, backup, atol=1e-9)


def test_blind_rule_is_the_blind_vector():
    pomdp = _chain()
    vectors = reactive_vectors(pomdp, np.zeros(pomdp.n_observations, dtype=int))
    T = pomdp.dense_transitions()[0]
    blind = np.linalg.solve(np.eye(pomdp.n_states) - pomdp.discount * T, pomdp.R[:, 0])
    np.testing.assert_allclose(vectors.alpha, blind[None], rtol=1e-12)


def test_rule_tables_are_checked():
    pomdp = _chain()
    with pytest.raises(ModelError, match=r"rule.*shape"):
        reactive_vectors(pomdp, np.zeros(5, dtype=int))
    with pytest.raises(ModelError, match=r"rule.*\[0, 2\)"):
        reactive_vectors(pomdp, np.array([0, 2, 0]))
    with pytest.raises(ModelError, match=r"rule.*integer"):
        reactive_vectors(pomdp, np.zeros(3))


def _chain() -> TabularPOMDP:
    """Three states in a row; "stay" (0) earns 1 in the right end only, "move right" (1) moves
    right with probability 0.9; the observation tells the state with probability 0.8."""
    stay = np.eye(3)
    right = np.array([[0.1, 0.9, 0.0], [0.0, 0.1, 0.9], [0.0, 0.0, 1.0]])
    Z = np.full((3, 3), 0.1) + 0.7 * np.eye(3)
    R = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    return TabularPOMDP(T=np.stack([stay, right]), Z=Z, R=R, discount=0.95, b0=np.ones(3) / 3)


def test_warm_start_lifts_the_first_lower_bound_to_the_rule():
    """With one trial the blind bound of the chain is far below the rule "move right unless
    you see the right end"; started from the rule, the lower bound is at least its value."""
    pomdp = _chain()
    rule = np.array([1, 1, 0])
    value = float(np.max(reactive_vectors(pomdp, rule).alpha @ pomdp.b0))
    solver = PointBased(time_limit=60.0, max_iterations=1, max_depth=1)
    cold, warm = solver.solve(pomdp), solver.solve(pomdp, warm_start=[rule])
    assert cold.lower_bound < value - 1.0
    assert warm.lower_bound >= value - 1e-9
    assert warm.policy.value(pomdp.b0) >= value - 1e-9
    assert warm.upper_bound >= warm.lower_bound


def test_warm_start_is_checked():
    with pytest.raises(ModelError, match="rule"):
        PointBased(max_iterations=1).solve(_chain(), warm_start=[np.array([0, 1])])
    momdp = _chain().replace(Z=np.eye(3), observed=np.arange(3), b0=np.array([1.0, 0, 0]))
    with pytest.raises(UsageError, match="warm_start"):
        PointBased(max_iterations=1).solve(momdp, warm_start=[np.array([0, 1, 0])])


def test_the_memory_estimate_counts_the_rules_vectors():
    """The store must hold the blind and the rules' vectors plus two trials' backups: with
    max_depth = 200 that is more than the initial 256 vectors, and the estimate says so."""
    pomdp = _chain()
    model, part = sparse_model(pomdp), solver_part(pomdp)
    rules = [reactive_vectors(pomdp, np.array(t)) for t in ([1, 1, 0], [0, 1, 0])]
    state = SearchState(model, pomdp.b0, part, 200, {"max_calls": 1}, rules)
    alpha_t, *_, child = state.alphas
    estimate = estimate_bytes(model, part, 200, n_rule_vectors=4)
    entry = next(v for k, v in estimate.items() if k.startswith("alpha vectors"))
    assert alpha_t.shape[1] == 2 + 4 + 2 * 202
    assert entry == alpha_t.nbytes + child.nbytes
