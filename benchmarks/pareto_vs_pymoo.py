"""decide's continuation against pymoo's NSGA-II on the same seeds, counting f and jac apart.

For every smooth test problem (d = 6; heat d = 4) NSGA-II (population 100) runs for ``--budget``
evaluations on each seed; its mean IGD at the end is the target, and its cost is the first
evaluation count at which its IGD, averaged over the seeds generation by generation, reaches
that target. NSGA-II evaluates only f, so its n_f is its cost under every convention.

decide's continuation runs on the same seeds with one parameter set per problem class
(``PARAMETERS``, fixed before the run). It is charged n_f (points at which f was evaluated) and
n_jac (points at which the m × d Jacobian was evaluated), priced two ways:

- ``cost_adjoint = n_f + m * n_jac``: each objective's gradient costs one evaluation of f (the
  adjoint convention; on the heat problem this is exactly its PDE solves);
- ``cost_fd = n_f + d * n_jac``: a Jacobian by forward differences, d extra evaluations of
  f(X) -> F, which gives all m objectives at once.

The ratios are our mean cost over NSGA-II's evaluations to its target.

    .venv/bin/python benchmarks/pareto_vs_pymoo.py [--seeds 5] [--first-seed 0] [--budget 20000]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

from decide.pareto import Evaluator, igd, pareto_set
from decide.pareto.pymoo_adapter import to_pymoo
from decide.pareto.testproblems import make_problem

#: One continuation parameter set per problem class (the three ZDT problems share one), fixed
#: before the reported run on seeds 0-4; ``--first-seed 100`` checks them on other seeds.
PARAMETERS = {
    "quadratics": {"front_step": 0.1, "tol": 1e-7},
    "zdt": {"front_step": 0.015, "starts": 8, "tol": 1e-7},
    "dtlz": {"depth": 4},
    "heat": {"front_step": 0.015, "tol": 1e-7},
}

#: (problem, d, class)
PROBLEMS = [
    ("quadratics", 6, "quadratics"),
    ("zdt1", 6, "zdt"),
    ("zdt2", 6, "zdt"),
    ("zdt3", 6, "zdt"),
    ("dtlz2", 6, "dtlz"),
    ("heat", 4, "heat"),
]


@dataclass(frozen=True)
class Theirs:
    """NSGA-II over the seeds: final IGDs, evaluations to the mean IGD, mean time."""

    igd: np.ndarray
    evaluations: int
    seconds: float


@dataclass(frozen=True)
class Ours:
    """Continuation over the seeds, one row per seed."""

    igd: np.ndarray
    n_f: np.ndarray
    n_jac: np.ndarray
    cost_adjoint: np.ndarray
    cost_fd: np.ndarray
    seconds: float


def nsga2_curve(problem, budget: int, seed: int, reference: np.ndarray):
    """NSGA-II's IGD after every generation and the evaluations spent by then; the time."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.callback import Callback
    from pymoo.optimize import minimize

    class Record(Callback):
        def notify(self, algorithm) -> None:
            self.data.setdefault("curve", []).append(
                (algorithm.evaluator.n_eval, igd(algorithm.opt.get("F"), reference))
            )

    ev, record = Evaluator(problem), Record()
    start = time.perf_counter()
    minimize(
        to_pymoo(problem, ev), NSGA2(pop_size=100), ("n_evals", budget), seed=seed,
        callback=record,
    )  # fmt: skip
    curve = np.array(record.data["curve"])
    assert curve[-1, 0] == ev.counts.f  # pymoo's count is the Evaluator's
    return curve, time.perf_counter() - start


def nsga2(problem, budget: int, seeds: range, reference: np.ndarray) -> Theirs:
    """Target IGD (the mean at the end) and the evaluations the mean curve needs to reach it."""
    runs = [nsga2_curve(problem, budget, seed, reference) for seed in seeds]
    length = min(len(curve) for curve, _ in runs)
    evals = runs[0][0][:length, 0]
    mean = np.mean([curve[:length, 1] for curve, _ in runs], axis=0)
    finals = np.array([curve[-1, 1] for curve, _ in runs])
    reached = np.flatnonzero(mean <= finals.mean() * (1 + 1e-12))
    spent = int(evals[reached[0]]) if reached.size else int(evals[-1])
    return Theirs(finals, spent, float(np.mean([s for _, s in runs])))


def ours(problem, options: dict, seeds: range, reference: np.ndarray) -> Ours:
    """Continuation on the same seeds."""
    rows, start = [], time.perf_counter()
    for seed in seeds:
        found = pareto_set(problem, "continuation", seed=seed, **options)
        c = found.counts
        rows.append((igd(found.front()[1], reference), c.f, c.jac, c.cost_adjoint, c.cost_fd))
    columns = [np.array(column) for column in zip(*rows, strict=True)]
    return Ours(*columns, seconds=(time.perf_counter() - start) / len(seeds))


HEADER = (
    f"{'problem':<11}{'NSGA IGD mean/med':>19}{'NSGA evals':>11}{'ours IGD mean/med':>19}"
    f"{'reached':>8}{'n_f':>7}{'n_jac':>7}{'adjoint':>9}{'fd':>8}"
    f"{'n_f/':>7}{'adj/':>7}{'fd/':>7}{'s ours':>8}{'s NSGA':>8}"
)


def row(name: str, theirs: Theirs, us: Ours) -> str:
    """One line of the table: means over the seeds (IGD also median), ratios of means."""
    target = theirs.igd.mean()
    reached = f"{int(np.sum(us.igd <= target))}/{len(us.igd)}"
    reached += "*" if us.igd.mean() <= target else " "
    costs = [us.n_f.mean(), us.cost_adjoint.mean(), us.cost_fd.mean()]
    ratios = "".join(f"{c / theirs.evaluations:>7.3f}" for c in costs)
    return (
        f"{name:<11}{target:>10.5f}/{np.median(theirs.igd):<8.5f}{theirs.evaluations:>11,}"
        f"{us.igd.mean():>10.5f}/{np.median(us.igd):<8.5f}{reached:>8}"
        f"{us.n_f.mean():>7.0f}{us.n_jac.mean():>7.0f}{costs[1]:>9,.0f}{costs[2]:>8,.0f}"
        f"{ratios}{us.seconds:>8.2f}{theirs.seconds:>8.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds, both sides")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds from this one on")
    parser.add_argument("--budget", type=int, default=20_000, help="NSGA-II evaluations")
    parser.add_argument("--only", nargs="*", help="problems to run (default: all)")
    args = parser.parse_args()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    print(f"seeds {seeds.start}-{seeds.stop - 1} on both sides")
    print(f"continuation parameters per problem class: {PARAMETERS}")
    print(HEADER)
    for name, dim, kind in PROBLEMS:
        if args.only and name not in args.only:
            continue
        problem = make_problem(name, dim=dim)
        reference = problem.pareto_front(2000)
        theirs = nsga2(problem, args.budget, seeds, reference)
        us = ours(problem, PARAMETERS[kind], seeds, reference)
        print(row(name, theirs, us), flush=True)
    print(
        "means over the seeds; reached: seeds at or below NSGA-II's mean IGD (* the mean is); "
        "ratios: our mean n_f, cost_adjoint, cost_fd over NSGA-II's evaluations"
    )


if __name__ == "__main__":
    main()
