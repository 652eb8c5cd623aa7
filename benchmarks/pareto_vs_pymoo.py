"""decide's set-oriented methods against pymoo's NSGA-II, in one run, counting evaluations.

For every smooth test problem (d = 6) NSGA-II (population 100) runs for 20,000 evaluations on a
few seeds; its mean IGD at the end is the target. decide's continuation then runs once and is
charged every evaluation it makes (function values plus gradients, a gradient counting as one
evaluation; on the PDE problem every forward and adjoint solve). The ratio is decide's count over
NSGA-II's, printed when decide reaches the target IGD.

    .venv/bin/python benchmarks/pareto_vs_pymoo.py [--seeds 3] [--budget 20000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from decide.pareto import Evaluator, igd, pareto_set
from decide.pareto.pymoo_adapter import to_pymoo
from decide.pareto.testproblems import make_problem

#: Our method and its parameters on each problem (d = 6 for the test problems, 4 for the PDE).
CASES = {
    "quadratics": (6, {"front_step": 0.1}),
    "zdt1": (6, {"front_step": 0.01}),
    "zdt2": (6, {"front_step": 0.01}),
    "zdt3": (6, {"front_step": 0.02, "starts": 8}),
    "dtlz2": (6, {"depth": 4}),
    "heat": (4, {"front_step": 0.015}),
}


def nsga2(problem, budget: int, seed: int, reference: np.ndarray) -> tuple[float, int, float]:
    """NSGA-II's IGD after ``budget`` evaluations, the PDE solves it spent, and its time."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.optimize import minimize

    ev = Evaluator(problem)
    start = time.perf_counter()
    result = minimize(to_pymoo(problem, ev), NSGA2(pop_size=100), ("n_evals", budget), seed=seed)
    return igd(result.F, reference), ev.counts.pde_solves, time.perf_counter() - start


def ours(problem, options: dict) -> tuple[float, int, int, float]:
    """Our IGD, evaluations, PDE solves and time."""
    start = time.perf_counter()
    found = pareto_set(problem, "continuation", seed=0, **options)
    elapsed = time.perf_counter() - start
    return (
        igd(found.front()[1], reference_of(problem)),
        found.counts.evaluations,
        found.counts.pde_solves,
        elapsed,
    )


def reference_of(problem) -> np.ndarray:
    return problem.pareto_front(2000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="NSGA-II seeds")
    parser.add_argument("--budget", type=int, default=20_000, help="NSGA-II evaluations")
    args = parser.parse_args()
    print(f"{'problem':<11}{'NSGA-II IGD':>13}{'ours IGD':>11}{'ours evals':>12}{'ratio':>8}  note")
    for name, (dim, options) in CASES.items():
        problem = make_problem(name, dim=dim)
        reference = reference_of(problem)
        runs = [nsga2(problem, args.budget, seed, reference) for seed in range(args.seeds)]
        target = float(np.mean([r[0] for r in runs]))
        value, evaluations, solves, seconds = ours(problem, options)
        pde = problem.solves_per_f > 0
        spent, theirs = (
            (solves, np.mean([r[1] for r in runs])) if pde else (evaluations, args.budget)
        )
        ratio = spent / theirs
        reached = "reached" if value <= target else "NOT reached"
        unit = "PDE solves" if pde else "evaluations"
        print(
            f"{name:<11}{target:>13.5f}{value:>11.5f}{spent:>12,}{ratio:>8.3f}  {reached}; "
            f"{unit} vs {theirs:,.0f}; {seconds:.1f} s vs {np.mean([r[2] for r in runs]):.1f} s"
        )


if __name__ == "__main__":
    main()
