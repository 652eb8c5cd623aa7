"""Exact belief updates: hand-computed Tiger values and the brute-force Bayes formula."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decide.errors import ImpossibleObservation, ModelError
from decide.pomdp._kernels.simulate import belief_workspace, update_belief_sparse
from decide.pomdp.belief import observation_probability, update_belief, update_beliefs
from decide.pomdp.kernel_arrays import belief_model
from decide.pomdp.model import TabularPOMDP
from decide.pomdp.problems import rock_sample, tiger


def test_tiger_by_hand():
    model = tiger()
    b1 = update_belief(model, model.b0, "listen", "obs-left")
    np.testing.assert_allclose(b1, [0.85, 0.15], atol=1e-15)
    b2 = update_belief(model, b1, 0, 0)
    np.testing.assert_allclose(b2[0], 0.85**2 / (0.85**2 + 0.15**2), atol=1e-15)
    np.testing.assert_allclose(update_belief(model, b2, "open-left", "obs-right"), [0.5, 0.5])
    np.testing.assert_allclose(observation_probability(model, model.b0, "listen"), [0.5, 0.5])
    expected = [0.85 * 0.85 + 0.15 * 0.15, 2 * 0.85 * 0.15]
    np.testing.assert_allclose(observation_probability(model, b1, "listen"), expected)


def test_impossible_observation_names_action_and_observation():
    model = tiger(noise=0.0)
    with pytest.raises(ImpossibleObservation, match=r"'obs-right'.*'listen'"):
        update_belief(model, np.array([1.0, 0.0]), "listen", "obs-right")
    rocks = rock_sample(4, 4)
    with pytest.raises(ImpossibleObservation, match=r"'obad'.*'amn'"):
        update_belief(rocks, rocks.b0, "amn", "obad")


def test_bad_arguments():
    model = tiger()
    with pytest.raises(ModelError, match="action"):
        update_belief(model, model.b0, "jump", 0)
    with pytest.raises(ModelError, match="observation"):
        update_belief(model, model.b0, 0, 2)
    with pytest.raises(ModelError, match="belief"):
        update_belief(model, np.ones(3) / 3, 0, 0)


def random_model(seed: int, S: int, A: int, O: int) -> TabularPOMDP:
    """A POMDP with many zero probabilities, so impossible observations happen."""
    rng = np.random.default_rng(seed)

    def rows(shape):
        P = rng.random(shape) * (rng.random(shape) < 0.5)
        P[..., 0] += P.sum(axis=-1) == 0
        return P / P.sum(axis=-1, keepdims=True)

    T, Z = rows((A, S, S)), rows((A, S, O))
    return TabularPOMDP(T=T, Z=Z, R=np.zeros((S, A)), discount=0.9, b0=rows(S))


def brute_force(model, b, a, o):
    S = model.n_states
    joint = [
        sum(model.dense_transitions()[a, s, s2] * b[s] for s in range(S))
        * model.dense_observations()[a, s2, o]
        for s2 in range(S)
    ]
    return np.array(joint)


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    S=st.integers(1, 5),
    A=st.integers(1, 3),
    O=st.integers(1, 4),
    data=st.data(),
)
def test_update_is_bayes(seed, S, A, O, data):
    model = random_model(seed, S, A, O)
    belief = model.b0
    a, o = data.draw(st.integers(0, A - 1)), data.draw(st.integers(0, O - 1))
    joint = brute_force(model, belief, a, o)
    np.testing.assert_allclose(observation_probability(model, belief, a)[o], joint.sum())
    if joint.sum() == 0.0:
        with pytest.raises(ImpossibleObservation):
            update_belief(model, belief, a, o)
        return
    posterior = update_belief(model, belief, a, o)
    assert np.all(posterior >= 0) and posterior.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(posterior, joint / joint.sum(), atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), S=st.integers(1, 5), O=st.integers(1, 3))
def test_vectorised_and_kernel_updates_agree(seed, S, O):
    model = random_model(seed, S, 3, O)
    rng = np.random.default_rng(seed)
    beliefs = rng.dirichlet(np.ones(S), size=6) * (rng.random((6, S)) < 0.7)
    beliefs[:, 0] += beliefs.sum(axis=1) == 0
    beliefs /= beliefs.sum(axis=1, keepdims=True)
    actions, observations = rng.integers(0, 3, 6), rng.integers(0, O, 6)
    posterior, possible = update_beliefs(model, beliefs, actions, observations)
    tables, work = belief_model(model), belief_workspace(S)
    for i in range(6):
        out, support = beliefs[i].copy(), np.empty(S, np.int64)
        m = np.count_nonzero(out)
        support[:m] = np.flatnonzero(out)
        m, kernel_ok = update_belief_sparse(
            out, support, m, actions[i], observations[i], tables, work
        )
        assert kernel_ok == possible[i]
        np.testing.assert_allclose(out, posterior[i], atol=1e-12)
        assert sorted(support[:m]) == list(np.flatnonzero(out))
        assert not work[0].any() and not work[1].any()  # the workspace is left clean
        if possible[i]:
            expected = update_belief(model, beliefs[i], actions[i], observations[i])
        else:
            expected = beliefs[i] @ model.dense_transitions()[actions[i]]  # the prediction is kept
        np.testing.assert_allclose(posterior[i], expected, atol=1e-12)


def test_kernel_belief_follows_a_long_trajectory_on_its_support():
    # RockSample: the robot's cell is known, so the belief lives on at most 2^k of n^2 2^k states
    # and each update touches only those.
    model = rock_sample(4, 4)
    rng = np.random.default_rng(3)
    belief, support = model.b0.copy(), np.empty(model.n_states, np.int64)
    m = np.count_nonzero(belief)
    support[:m] = np.flatnonzero(belief)
    tables, work = belief_model(model), belief_workspace(model.n_states)
    exact = model.b0.copy()
    for _ in range(40):
        a = int(rng.integers(model.n_actions))
        o = int(rng.choice(model.n_observations, p=observation_probability(model, exact, a)))
        exact = update_belief(model, exact, a, o)
        m, possible = update_belief_sparse(belief, support, m, a, o, tables, work)
        assert possible and m <= 2**4
        np.testing.assert_allclose(belief, exact, atol=1e-12)
        assert sorted(support[:m]) == list(np.flatnonzero(exact))
