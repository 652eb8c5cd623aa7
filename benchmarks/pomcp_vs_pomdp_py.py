"""Simulations per second: decide's POMCP vs pomdp-py's POMCP and POUCT on Tiger.

Both sides plan from the uniform belief of pomdp-py's own Tiger problem (decide reads it through
``decide.pomdp.interop.from_pomdp_py``, with γ = 0.95) with the same simulation budget, maximum
depth, UCB constant and a uniformly random rollout policy; every search starts from an empty
tree. numba compilation happens in a warm-up search that is not timed.

The planners are interleaved: each repeat runs one search of every planner, decide's first on
even repeats and last on odd ones, so a change of machine load hits all of them alike. Reported
are the median seconds per simulation over the repeats (with the quartiles), the ratio of the
medians, and the median of the per-repeat ratios (each pomdp-py search against decide's search
of the same repeat). Run::

    .venv/bin/python benchmarks/pomcp_vs_pomdp_py.py [--sims 5000] [--repeats 21]
"""

from __future__ import annotations

import argparse
import platform
import random
import time
from collections.abc import Callable
from importlib.metadata import version

import numpy as np
import pomdp_py
from pomdp_py.problems.tiger import tiger_problem as tp

from decide.pomdp.interop import from_pomdp_py
from decide.pomdp.pomcp import POMCP

DISCOUNT = 0.95
EXPLORATION = 50.0
PARTICLES = 1000
KINDS = ("POMCP", "POUCT")


class _CountingReward(tp.RewardModel):
    """pomdp-py's Tiger reward model, counting calls (one per simulated step)."""

    calls = 0

    def sample(self, state, action, next_state):
        _CountingReward.calls += 1
        return super().sample(state, action, next_state)


def pomdp_py_problem(kind: str, counting: bool = False) -> tp.TigerProblem:
    problem = tp.TigerProblem.create("tiger-left", 0.5, 0.15)
    if counting:
        problem.agent.set_models(reward_model=_CountingReward())
    if kind == "POMCP":
        particles = pomdp_py.Particles.from_histogram(problem.agent.belief, PARTICLES)
        problem.agent.set_belief(particles, prior=True)
    return problem


def _pomdp_py_planner(kind: str, depth: int, sims: int, problem: tp.TigerProblem):
    return getattr(pomdp_py, kind)(
        max_depth=depth,
        discount_factor=DISCOUNT,
        num_sims=sims,
        exploration_const=EXPLORATION,
        rollout_policy=problem.agent.policy_model,
    )


def pomdp_py_search(kind: str, depth: int, sims: int) -> tuple[Callable[[], float], float]:
    """A function timing one fresh pomdp-py search (s per simulation), and steps/simulation."""
    problem = pomdp_py_problem(kind)

    def search() -> float:
        planner = _pomdp_py_planner(kind, depth, sims, problem)
        problem.agent.tree = None
        start = time.perf_counter()
        planner.plan(problem.agent)
        return (time.perf_counter() - start) / planner.last_num_sims

    counted = pomdp_py_problem(kind, counting=True)
    _CountingReward.calls = 0
    _pomdp_py_planner(kind, depth, sims, counted).plan(counted.agent)
    return search, _CountingReward.calls / sims


def decide_search(depth: int, sims: int) -> tuple[Callable[[], float], float]:
    """A function timing one search of decide's POMCP from an empty tree, and steps/simulation."""
    problem = pomdp_py_problem("POUCT")
    states = [tp.TigerState("tiger-left"), tp.TigerState("tiger-right")]
    actions = [tp.TigerAction(a) for a in ("listen", "open-left", "open-right")]
    observations = [tp.TigerObservation(o) for o in ("tiger-left", "tiger-right")]
    model = from_pomdp_py(problem, states, actions, observations, DISCOUNT)
    config = POMCP(
        n_simulations=sims, max_depth=depth, exploration=EXPLORATION, n_particles=PARTICLES
    )
    planner = config.solve(model, seed=0)
    planner.act()  # compiles (or loads) the kernels
    steps = planner.last_search.steps / planner.last_search.simulations

    def search() -> float:
        planner.reset()
        start = time.perf_counter()
        planner.act()
        return (time.perf_counter() - start) / planner.last_search.simulations

    return search, steps


def interleaved(searches: dict[str, Callable[[], float]], repeats: int) -> dict[str, np.ndarray]:
    """Seconds per simulation of every search, one of each per repeat, the order alternating."""
    names = list(searches)
    times = {name: np.empty(repeats) for name in names}
    for r in range(repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            times[name][r] = searches[name]()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=5000, help="simulations per search")
    parser.add_argument("--repeats", type=int, default=21, help="searches per planner (median)")
    args = parser.parse_args()
    random.seed(0)
    print(
        f"Tiger: {args.sims} simulations per search, c = {EXPLORATION}, γ = {DISCOUNT}, random "
        f"rollouts, median of {args.repeats} interleaved searches\nPython "
        f"{platform.python_version()}, pomdp-py {version('pomdp-py')}, numba {version('numba')}\n"
    )
    print(
        f"{'depth':>5}  {'planner':<14} {'µs/sim':>8} {'quartiles':>17} {'sims/s':>11} "
        f"{'steps/sim':>9} {'ratio of medians':>16} {'median ratio':>12}"
    )
    for depth in (3, 20):
        searches, steps = {}, {}
        searches["decide POMCP"], steps["decide POMCP"] = decide_search(depth, args.sims)
        for kind in KINDS:
            name = f"pomdp-py {kind}"
            searches[name], steps[name] = pomdp_py_search(kind, depth, args.sims)
        times = interleaved(searches, args.repeats)
        ours = times["decide POMCP"]
        for name, seconds in times.items():
            median = np.median(seconds)
            q1, q3 = np.percentile(seconds, [25, 75]) * 1e6
            print(
                f"{depth:>5}  {name:<14} {median * 1e6:>8.3f} {f'{q1:.3f}–{q3:.3f}':>17} "
                f"{1 / median:>11,.0f} {steps[name]:>9.2f} {median / np.median(ours):>15.1f}× "
                f"{np.median(seconds / ours):>11.1f}×"
            )
        print()


if __name__ == "__main__":
    main()
