"""Simulations per second: decide's POMCP vs pomdp-py's POMCP and POUCT on Tiger.

Both sides plan from the uniform belief of pomdp-py's own Tiger problem (decide reads it through
``decide.pomdp.interop.from_pomdp_py``, with γ = 0.95) with the same simulation budget, maximum
depth, UCB constant and a uniformly random rollout policy; every search starts from an empty
tree. numba compilation happens in a warm-up search that is not timed. Run::

    .venv/bin/python benchmarks/pomcp_vs_pomdp_py.py [--sims 5000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import platform
import random
import time
from importlib.metadata import version

import numpy as np
import pomdp_py
from pomdp_py.problems.tiger import tiger_problem as tp

from decide.pomdp.interop import from_pomdp_py
from decide.pomdp.pomcp import POMCP

DISCOUNT = 0.95
EXPLORATION = 50.0
PARTICLES = 1000


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


def time_pomdp_py(kind: str, depth: int, sims: int, repeats: int) -> tuple[float, float]:
    """Best seconds per simulation over ``repeats`` searches, and model steps per simulation."""
    problem = pomdp_py_problem(kind)
    best = np.inf
    for _ in range(repeats):
        planner = _pomdp_py_planner(kind, depth, sims, problem)
        problem.agent.tree = None
        start = time.perf_counter()
        planner.plan(problem.agent)
        best = min(best, (time.perf_counter() - start) / planner.last_num_sims)
    counted = pomdp_py_problem(kind, counting=True)
    _CountingReward.calls = 0
    _pomdp_py_planner(kind, depth, sims, counted).plan(counted.agent)
    return best, _CountingReward.calls / sims


def _pomdp_py_planner(kind: str, depth: int, sims: int, problem: tp.TigerProblem):
    return getattr(pomdp_py, kind)(
        max_depth=depth,
        discount_factor=DISCOUNT,
        num_sims=sims,
        exploration_const=EXPLORATION,
        rollout_policy=problem.agent.policy_model,
    )


def time_decide(depth: int, sims: int, repeats: int) -> tuple[float, float]:
    """Best seconds per simulation of decide's POMCP, and model steps per simulation."""
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
    best = np.inf
    for _ in range(repeats):
        planner.reset()
        start = time.perf_counter()
        planner.act()
        best = min(best, (time.perf_counter() - start) / planner.last_search.simulations)
    return best, planner.last_search.steps / planner.last_search.simulations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=5000, help="simulations per search")
    parser.add_argument("--repeats", type=int, default=5, help="searches per planner (best kept)")
    args = parser.parse_args()
    random.seed(0)
    print(
        f"Tiger: {args.sims} simulations per search, c = {EXPLORATION}, γ = {DISCOUNT}, random "
        f"rollouts, best of {args.repeats}\nPython {platform.python_version()}, "
        f"pomdp-py {version('pomdp-py')}, numba {version('numba')}\n"
    )
    print(
        f"{'depth':>5}  {'planner':<14} {'µs/sim':>8} {'sims/s':>12} {'steps/sim':>9} {'slower':>7}"
    )
    for depth in (3, 20):
        ours, our_steps = time_decide(depth, args.sims, args.repeats)
        rows = [("decide POMCP", ours, our_steps)]
        for kind in ("POMCP", "POUCT"):
            seconds, steps = time_pomdp_py(kind, depth, args.sims, args.repeats)
            rows.append((f"pomdp-py {kind}", seconds, steps))
        for name, seconds, steps in rows:
            print(
                f"{depth:>5}  {name:<14} {seconds * 1e6:>8.3f} {1 / seconds:>12,.0f} "
                f"{steps:>9.2f} {seconds / ours:>7.1f}"
            )
        print()


if __name__ == "__main__":
    main()
