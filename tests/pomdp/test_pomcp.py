"""POMCP: tree invariants, sampling, decisions and closed-loop return on Tiger."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse, stats

from decide.errors import ImpossibleObservation, UsageError
from decide.pomdp._kernels import pomcp as kernels
from decide.pomdp.model import TabularPOMDP
from decide.pomdp.pomcp import POMCP, _cdf
from decide.pomdp.problems import tiger
from decide.pomdp.simulate import simulate

# Exact expected 60-step discounted return of the optimal Tiger policy (listen until the counts
# of the two observations differ by 2, then open the other door), from its Markov chain over
# (count difference, tiger side). Its infinite-horizon value, 19.3714, is SARSOP's 19.3711 at
# b0; the reference Monte-Carlo estimate is 18.25 ± 0.42 (95 %, 20,000 runs).
TIGER_60_STEP_OPTIMUM = 18.3728
LISTEN, OPEN_LEFT, OPEN_RIGHT = 0, 1, 2
HEAR_LEFT, HEAR_RIGHT = 0, 1
# Rollouts that keep listening: with random rollouts Tiger's values are too noisy for a budget
# of a few thousand simulations (random door opening costs ~30 per step).
TIGER_PLANNER = {"max_depth": 20, "rollout": LISTEN}


def sparse_distributions(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Random rows over the last axis with some zeros (at least one positive entry each)."""
    P = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]) * (rng.random(shape) < 0.7)
    P[..., 0] += P.sum(axis=-1) == 0
    return P / P.sum(axis=-1, keepdims=True)


@st.composite
def small_pomdps(draw) -> TabularPOMDP:
    S, A, O = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return TabularPOMDP(
        T=sparse_distributions(rng, (A, S, S)),
        Z=sparse_distributions(rng, (A, S, O)),
        R=rng.uniform(-5.0, 5.0, (S, A)),
        discount=0.9,
        b0=sparse_distributions(rng, (S,)),
    )


def node_depths(tree: kernels.Tree) -> np.ndarray:
    depth = np.zeros(tree.n_nodes, dtype=int)
    for v in subtree(tree):
        if tree.v_qbase[v] >= 0:
            for q in range(tree.v_qbase[v], tree.v_qbase[v] + tree.n_actions):
                depth[children(tree, q)] = depth[v] + 1
    return depth


def subtree(tree: kernels.Tree) -> np.ndarray:
    return kernels.subtree_order(
        0, tree.n_actions, tree.v_qbase, tree.v_next, tree.q_child, tree.n_nodes
    )


def children(tree: kernels.Tree, q: int) -> list[int]:
    out, v = [], tree.q_child[q]
    while v >= 0:
        out.append(int(v))
        v = tree.v_next[v]
    return out


def check_tree(tree: kernels.Tree, max_depth: int | None, fresh: bool) -> None:
    """The counting invariants of a search tree.

    A simulation through an action node continues into exactly one of its children; a node is
    expanded at its first visit above ``max_depth``, which ends in a rollout, except the root
    of a fresh tree, expanded before the search. A reused node may have been visited at the
    depth limit before it was expanded, hence only an inequality in a reused tree.
    """
    A, n_v = tree.n_actions, tree.n_nodes
    assert sorted(subtree(tree)) == list(range(n_v)), "every node is reachable exactly once"
    expanded = tree.v_qbase[:n_v] >= 0
    assert tree.n_qnodes == A * expanded.sum()
    depth = node_depths(tree)
    for v in range(n_v):
        if not expanded[v]:
            assert max_depth is None or tree.v_visits[v] <= 1 or depth[v] >= max_depth
            continue
        qs = range(tree.v_qbase[v], tree.v_qbase[v] + A)
        through = sum(tree.q_visits[q] for q in qs)
        if fresh:
            assert through == tree.v_visits[v] - (v != 0)
        else:
            assert through <= tree.v_visits[v] - 1
        for q in qs:
            kids = children(tree, q)
            assert tree.q_visits[q] == sum(tree.v_visits[k] for k in kids)
            observations = [tree.v_obs[k] for k in kids]
            assert len(set(observations)) == len(observations)


@settings(max_examples=40, deadline=None)
@given(
    pomdp=small_pomdps(),
    n_sims=st.integers(1, 300),
    max_depth=st.integers(1, 6),
    exploration=st.floats(0.0, 50.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_tree_invariants(pomdp, n_sims, max_depth, exploration, seed):
    config = POMCP(
        n_simulations=n_sims, max_depth=max_depth, exploration=exploration, n_particles=50
    )
    planner = config.solve(pomdp, seed=seed)
    action = planner.act()
    tree, info = planner._tree, planner.last_search
    assert info.simulations == n_sims == tree.v_visits[0]
    assert tree.n_nodes <= n_sims + 1
    assert info.root_visits.sum() == n_sims
    assert info.root_visits[action] > 0
    bound = np.abs(pomdp.R).max() * max_depth
    visited = info.root_visits > 0
    assert np.all(np.abs(info.root_values[visited]) <= bound + 1e-9)
    assert np.all(np.isnan(info.root_values[~visited]))
    check_tree(tree, max_depth, fresh=True)
    # States recorded below the root are possible successors with the child's observation.
    n = int(tree.sizes[kernels.N_REC])
    assert n == n_sims
    for a in range(pomdp.n_actions):
        for child in children(tree, tree.v_qbase[0] + a):
            arrived = tree.rec_state[:n][tree.rec_node[:n] == child]
            assert arrived.size == tree.v_visits[child]
            assert np.all(pomdp.dense_observations()[a, arrived, tree.v_obs[child]] > 0)
    # Re-rooting keeps a consistent subtree, rooted at node 0.
    o = int(
        np.argmax(
            pomdp.dense_observations()[action].T @ (pomdp.b0 @ pomdp.dense_transitions()[action])
        )
    )
    child = tree.child(action, o)
    visits = tree.v_visits[child] if child >= 0 else 0
    planner.update(action, o)
    if child >= 0:
        assert tree.v_visits[0] == visits
        check_tree(tree, max_depth - 1, fresh=False)


def test_tree_grows_between_kernel_calls():
    planner = POMCP(n_simulations=6000, max_depth=8, n_particles=100).solve(tiger(), seed=1)
    planner.act()
    assert planner._tree.n_nodes > 1024
    check_tree(planner._tree, 8, fresh=True)
    for _ in range(3):
        planner.update(LISTEN, HEAR_LEFT)
        planner.act()
        check_tree(planner._tree, None, fresh=False)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 12), seed=st.integers(0, 2**32 - 1))
def test_sampled_transitions_follow_the_model(n, seed):
    rng = np.random.default_rng(seed)
    T = sparse_distributions(rng, (1, 1, n))
    cdf = _cdf(sparse.csr_array(T[0]), n)
    draws = kernels.sample_transitions(np.array([seed], dtype=np.uint64), cdf, 0, 0, 20_000)
    counts = np.bincount(draws, minlength=n)
    assert np.all(counts[T[0, 0] == 0] == 0), "zero-probability successors are never drawn"
    support = T[0, 0] > 0
    if support.sum() > 1:
        expected = 20_000 * T[0, 0, support]
        assert stats.chisquare(counts[support], expected).pvalue > 1e-6


def test_depth_one_values_are_mean_rewards():
    model = tiger()
    planner = POMCP(n_simulations=30_000, max_depth=1, exploration=1000.0).solve(model, seed=2)
    planner.action(np.array([0.7, 0.3]))
    info = planner.last_search
    rewards = model.R[planner.particles]  # start states are drawn uniformly from the particles
    tolerance = 5 * rewards.std(axis=0) / np.sqrt(info.root_visits)
    assert np.all(np.abs(info.root_values - rewards.mean(axis=0)) <= tolerance)
    assert info.root_values[LISTEN] == -1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tiger_decisions(seed):
    planner = POMCP(n_simulations=20_000, **TIGER_PLANNER).solve(tiger(), seed=seed)
    assert planner.action(np.array([0.5, 0.5])) == LISTEN
    assert planner.action(np.array([0.99, 0.01])) == OPEN_RIGHT  # tiger behind the left door
    assert planner.action(np.array([0.01, 0.99])) == OPEN_LEFT


def closed_loop(model: TabularPOMDP, config: POMCP, episodes: int, steps: int, seed: int):
    """Discounted returns of the planner in particle mode against the true model."""
    rng = np.random.default_rng(seed)
    planner = config.solve(model, seed=seed)
    returns = np.empty(episodes)
    for episode in range(episodes):
        planner.reset()
        s = rng.choice(model.n_states, p=model.b0)
        total = 0.0
        for t in range(steps):
            a = planner.act()
            total += model.discount**t * model.R[s, a]
            s = rng.choice(model.n_states, p=model.dense_transitions()[a, s])
            planner.update(a, rng.choice(model.n_observations, p=model.dense_observations()[a, s]))
        returns[episode] = total
    return returns


def test_closed_loop_tiger_return_matches_the_optimum():
    config = POMCP(n_simulations=2000, n_particles=500, **TIGER_PLANNER)
    returns = closed_loop(tiger(), config, episodes=250, steps=60, seed=7)
    standard_error = returns.std(ddof=1) / np.sqrt(returns.size)
    assert abs(returns.mean() - TIGER_60_STEP_OPTIMUM) <= 3 * standard_error


def test_same_seed_same_search():
    config = POMCP(n_simulations=500, max_depth=10)
    runs = []
    for seed in (5, 5, 6):
        planner = config.solve(tiger(), seed=seed)
        actions = [planner.act()]
        planner.update(LISTEN, HEAR_LEFT)
        actions.append(planner.act())
        runs.append((actions, planner.last_search.root_values, planner.particles))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    np.testing.assert_array_equal(runs[0][2], runs[1][2])
    assert not np.array_equal(runs[0][1], runs[2][1])


def test_particles_follow_bayes():
    planner = POMCP(n_simulations=3000, n_particles=2000, max_depth=5).solve(tiger(), seed=3)
    planner.act()
    planner.update(LISTEN, HEAR_LEFT)
    np.testing.assert_allclose(planner.exact_belief, [0.85, 0.15])
    share = np.mean(planner.particles == 0)
    n = planner.particles.size
    assert abs(share - 0.85) <= 5 * np.sqrt(0.85 * 0.15 / n) + 0.03  # + error of the b0 sample
    assert planner.last_update.tree_reused and planner.last_update.kept > 0


def test_refill_by_rejection_without_a_search():
    planner = POMCP(n_simulations=10, n_particles=300).solve(tiger(), seed=4)
    planner.update(LISTEN, HEAR_RIGHT)
    info = planner.last_update
    assert (info.kept, info.rejection, info.exact, info.tree_reused) == (0, 300, 0, False)
    assert abs(np.mean(planner.particles == 1) - 0.85) < 0.1


def test_exact_belief_is_the_last_resort():
    # Identity dynamics, perfect observations; the particles (all state 0) cannot explain o = 1.
    T = np.tile(np.eye(3), (1, 1, 1))
    model = TabularPOMDP(T, T.copy(), np.zeros((3, 1)), 0.9, np.array([1 - 1e-9, 1e-9, 0.0]))
    planner = POMCP(n_simulations=10, n_particles=50).solve(model, seed=0)
    assert np.all(planner.particles == 0)
    planner.update(0, 1)
    assert planner.last_update.exact == 50
    assert np.all(planner.particles == 1)
    with pytest.raises(ImpossibleObservation):
        planner.update(0, 2)


def test_time_limit_and_callback_stop_the_search():
    planner = POMCP(n_simulations=None, time_limit=0.05).solve(tiger(), seed=0)
    start = time.perf_counter()
    planner.act()
    assert planner.last_search.simulations > 0
    assert time.perf_counter() - start < 0.5
    seen = []
    planner = POMCP(n_simulations=100_000).solve(
        tiger(), seed=0, callback=lambda info: seen.append(info) or True
    )
    planner.act()
    assert len(seen) == 1
    assert planner.last_search.simulations == seen[0].simulations < 100_000


def test_discount_horizon_limits_depth():
    planner = POMCP(n_simulations=200, max_depth=100, epsilon=0.5).solve(tiger(), seed=0)
    planner.act()
    assert planner.depth == 14  # 0.95**14 < 0.5 <= 0.95**13
    assert planner.last_search.steps == 14 * 200


def test_runs_in_the_simulator():
    planner = POMCP(n_simulations=300, max_depth=10).solve(tiger(), seed=0)
    ds = simulate(tiger(), planner, replicates=2, steps=5, seed=0)
    assert ds["action"].shape == (2, 5)


@pytest.mark.parametrize(
    "options",
    [
        {"n_simulations": 0},
        {"n_simulations": 1.5},
        {"n_simulations": None},
        {"max_depth": 0},
        {"n_particles": -1},
        {"exploration": -1.0},
        {"epsilon": 1.5},
        {"time_limit": 0.0},
        {"rollout": "greedy"},
    ],
)
def test_bad_parameters(options):
    with pytest.raises(UsageError):
        POMCP(**options)


def test_bad_arguments():
    model = tiger()
    with pytest.raises(UsageError):
        POMCP(rollout=(0, 1, 2)).solve(model)
    with pytest.raises(UsageError):
        POMCP(rollout=3).solve(model)
    planner = POMCP(n_simulations=10).solve(model)
    for belief in ([0.5, 0.6], [1.0], [-0.5, 1.5]):
        with pytest.raises(UsageError):
            planner.action(np.array(belief))
    with pytest.raises(UsageError):
        planner.update(3, 0)
    with pytest.raises(UsageError):
        planner.update(0, 2)


NO_JIT_SCRIPT = """
import json, warnings
warnings.simplefilter("ignore")  # SplitMix64 wraps around in NumPy scalar arithmetic
from decide.pomdp.pomcp import POMCP
from decide.pomdp.problems import tiger
planner = POMCP(n_simulations=200, max_depth=6, n_particles=50).solve(tiger(), seed=3)
first = planner.act()
planner.update(first, 0)
print(json.dumps([first, planner.act(), planner.last_search.root_values.tolist()]))
"""


def test_pure_python_kernels_match_the_compiled_ones():
    runs = []
    for disable in ("1", "0"):
        env = {**os.environ, "NUMBA_DISABLE_JIT": disable}
        out = subprocess.run(
            [sys.executable, "-c", NO_JIT_SCRIPT], env=env, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        runs.append(json.loads(out.stdout))
    assert runs[0] == runs[1]
