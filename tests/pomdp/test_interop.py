"""Conversion to and from pomdp-py, checked on pomdp-py's own Tiger problem."""

from __future__ import annotations

import numpy as np
import pytest
from required import require_module
from scipy import stats

pomdp_py = require_module("pomdp_py")
tp = require_module("pomdp_py.problems.tiger.tiger_problem")

from dense import dense  # noqa: E402

from decide.errors import ModelError, UsageError  # noqa: E402
from decide.pomdp.interop import from_pomdp_py, to_pomdp_py  # noqa: E402
from decide.pomdp.model import TabularPOMDP  # noqa: E402

STATES = ("tiger-left", "tiger-right")
ACTIONS = ("listen", "open-left", "open-right")
# Tiger written out by hand (Kaelbling, Littman & Cassandra 1998): listening is 85 % accurate.
TIGER_T = np.array([np.eye(2), np.full((2, 2), 0.5), np.full((2, 2), 0.5)])
TIGER_Z = np.array([[[0.85, 0.15], [0.15, 0.85]], np.full((2, 2), 0.5), np.full((2, 2), 0.5)])
TIGER_R = np.array([[-1.0, -100.0, 10.0], [-1.0, 10.0, -100.0]])
TIGER_OPTIMUM = 19.3711  # SARSOP's value at b0 with γ = 0.95


def pomdp_py_tiger() -> tuple[object, list, list, list]:
    problem = tp.TigerProblem.create("tiger-left", 0.5, 0.15)
    states = [tp.TigerState(name) for name in STATES]
    actions = [tp.TigerAction(name) for name in ACTIONS]
    observations = [tp.TigerObservation(name) for name in STATES]
    return problem, states, actions, observations


def random_model(seed: int) -> TabularPOMDP:
    rng = np.random.default_rng(seed)
    return TabularPOMDP(
        T=rng.dirichlet(np.ones(4), size=(3, 4)),
        Z=rng.dirichlet(np.ones(2), size=(3, 4)),
        R=rng.normal(size=(4, 3)),
        discount=0.9,
        b0=rng.dirichlet(np.ones(4)),
        states=("a", "b", "c", "d"),
        name="random",
    )


def test_pomdp_py_tiger_equals_the_hand_written_arrays():
    model = from_pomdp_py(*pomdp_py_tiger(), 0.95)
    # pomdp-py's listen keeps the tiger in place with probability 1 - 1e-9.
    np.testing.assert_allclose(model.dense_transitions(), TIGER_T, rtol=0, atol=1e-8)
    np.testing.assert_array_equal(model.dense_observations(), TIGER_Z)
    np.testing.assert_array_equal(model.R, TIGER_R)
    np.testing.assert_array_equal(model.b0, [0.5, 0.5])
    assert (model.states, model.actions, model.observations) == (STATES, ACTIONS, STATES)
    assert model.discount == 0.95


def test_pomdp_py_tiger_solves_to_the_known_value():
    from decide.pomdp import pointbased

    model = from_pomdp_py(*pomdp_py_tiger(), 0.95)
    result = pointbased.PointBased(time_limit=600, max_iterations=5000).solve(model)
    assert result.stop_reason == "converged"
    assert abs(result.lower_bound - TIGER_OPTIMUM) <= 1e-3


def test_models_as_tuple_or_mapping_and_explicit_b0():
    problem, states, actions, observations = pomdp_py_tiger()
    agent = problem.agent
    models = (agent.transition_model, agent.observation_model, agent.reward_model)
    keys = ("transition_model", "observation_model", "reward_model")
    b0 = np.array([0.3, 0.7])
    for source in (models, dict(zip(keys, models, strict=True))):
        model = from_pomdp_py(source, states, actions, observations, 0.9, b0)
        np.testing.assert_array_equal(model.R, TIGER_R)
        np.testing.assert_array_equal(model.b0, b0)


@pytest.mark.parametrize("seed", [0, 1])
def test_round_trip_is_exact(seed):
    model = random_model(seed)
    agent, env = to_pomdp_py(model, seed=seed)
    back = from_pomdp_py(agent, None, None, None, model.discount, name=model.name)
    for field in ("T", "Z", "R", "b0"):
        np.testing.assert_array_equal(dense(back, field), dense(model, field))
    assert (back.states, back.actions, back.observations) == (
        model.states,
        model.actions,
        model.observations,
    )
    assert env.state in agent.transition_model.get_all_states()


def test_tabular_models_sample_their_arrays():
    model = random_model(2)
    agent, _ = to_pomdp_py(model, seed=3)
    states = agent.transition_model.get_all_states()
    action = agent.policy_model.get_all_actions()[1]
    draws = [agent.transition_model.sample(states[2], action).index for _ in range(8000)]
    counts = np.bincount(draws, minlength=model.n_states)
    assert stats.chisquare(counts, 8000 * model.dense_transitions()[1, 2]).pvalue > 1e-6
    assert agent.reward_model.sample(states[2], action, states[0]) == model.R[2, 1]


def test_pomdp_py_planners_run_on_converted_models():
    model = from_pomdp_py(*pomdp_py_tiger(), 0.95)
    agent, _ = to_pomdp_py(model, init_state=0, seed=0)
    agent.set_belief(pomdp_py.Particles.from_histogram(agent.belief, 200), prior=True)
    planner = pomdp_py.POMCP(
        max_depth=3,
        discount_factor=model.discount,
        num_sims=200,
        exploration_const=50,
        rollout_policy=agent.policy_model,
    )
    action = planner.plan(agent)
    assert action in agent.policy_model.get_all_actions()


def test_incomplete_state_list_is_reported():
    problem, states, actions, observations = pomdp_py_tiger()
    with pytest.raises(ModelError, match="is the list complete"):
        from_pomdp_py(problem, states[:1], actions, observations, 0.95)


def test_bad_sources_and_options():
    problem, states, actions, observations = pomdp_py_tiger()
    with pytest.raises(UsageError):
        from_pomdp_py(object(), states, actions, observations, 0.95)
    with pytest.raises(UsageError):
        from_pomdp_py((problem.agent.transition_model,), states, actions, observations, 0.95)
    with pytest.raises(UsageError):
        from_pomdp_py(problem, states + states, actions, observations, 0.95)
    with pytest.raises(UsageError):
        from_pomdp_py(problem, states, actions, observations, 0.95, reward_samples=0)
    with pytest.raises(ModelError):
        from_pomdp_py(problem, states, actions, observations, 1.5)
    with pytest.raises(UsageError):
        to_pomdp_py(random_model(0), init_state=7)
