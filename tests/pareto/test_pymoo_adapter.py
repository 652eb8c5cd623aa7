"""Our benchmark problems against pymoo's, and decide problems run by pymoo's algorithms."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from required import require_module
from scipy.spatial import cKDTree

require_module("pymoo")  # fails under CI=true; the imports below need it
# ruff: noqa: E402

from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.optimize import minimize
from pymoo.problems import get_problem
from pymoo.util.ref_dirs import get_reference_directions

from decide.errors import UsageError
from decide.pareto.problem import Evaluator, Problem
from decide.pareto.pymoo_adapter import to_pymoo
from decide.pareto.testproblems import DTLZ2, Quadratics
from decide.pareto.zdt import ZDT1, ZDT2, ZDT3, zdt3_pareto_intervals

PAIRS = [
    (ZDT1(dim=6), ("zdt1", {"n_var": 6})),
    (ZDT2(dim=6), ("zdt2", {"n_var": 6})),
    (ZDT3(dim=6), ("zdt3", {"n_var": 6})),
    (ZDT1(dim=30), ("zdt1", {"n_var": 30})),
    (DTLZ2(dim=6, n_obj=3), ("dtlz2", {"n_var": 6, "n_obj": 3})),
    (DTLZ2(dim=7, n_obj=4), ("dtlz2", {"n_var": 7, "n_obj": 4})),
]


def hausdorff(A, B):
    return max(cKDTree(B).query(A)[0].max(), cKDTree(A).query(B)[0].max())


@pytest.mark.parametrize(("ours", "theirs"), PAIRS, ids=[f"{n}-{k}" for _, (n, k) in PAIRS])
def test_objectives_equal_pymoo(ours, theirs):
    name, kwargs = theirs
    reference = get_problem(name, **kwargs)
    X = np.random.default_rng(3).random((200, ours.dim))
    np.testing.assert_allclose(ours.f(X), reference.evaluate(X), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(reference.xl, ours.lower)
    np.testing.assert_array_equal(reference.xu, ours.upper)


@pytest.mark.parametrize(("ours", "name"), [(ZDT1(), "zdt1"), (ZDT2(), "zdt2"), (ZDT3(), "zdt3")])
def test_zdt_fronts_match_pymoo(ours, name):
    reference = get_problem(name, n_var=6).pareto_front(5000, use_cache=False)
    mine = ours.pareto_front(500)
    # within a few spacings of ours (arc length ≤ 2.1 / 499) and of pymoo's x1-grid near x1 = 0
    assert hausdorff(mine, reference) < 0.01


def test_zdt3_intervals_match_pymoo_regions():
    pieces = get_problem("zdt3").pareto_front(n_points=50, flatten=False, use_cache=False)
    regions = np.column_stack([pieces[:, 0, 0], pieces[:, -1, 0]])
    np.testing.assert_allclose(zdt3_pareto_intervals(), regions, atol=1e-6)


def test_dtlz2_front_matches_pymoo():
    reference = get_problem("dtlz2", n_var=6, n_obj=3)
    # the same Das–Dennis grid (15 partitions, 136 directions) as pymoo's default front
    assert hausdorff(DTLZ2().pareto_front(136), reference.pareto_front(use_cache=False)) < 1e-12
    dense = get_reference_directions("das-dennis", 3, n_partitions=40)
    fine = reference.pareto_front(ref_dirs=dense, use_cache=False)
    assert hausdorff(DTLZ2().pareto_front(300), fine) < np.pi / 2 / 23  # one arc step of H = 23


def test_adapter_hands_the_problem_over_unchanged():
    problem = Quadratics.default(dim=3, n_obj=3)
    adapted = to_pymoo(problem)
    assert (adapted.n_var, adapted.n_obj) == (3, 3)
    np.testing.assert_array_equal(adapted.xl, problem.lower)
    np.testing.assert_array_equal(adapted.xu, problem.upper)
    X = np.random.default_rng(0).uniform(-2, 2, (7, 3))
    np.testing.assert_array_equal(adapted.evaluate(X), problem.f(X))
    front = adapted.pareto_front(20, use_cache=False)
    np.testing.assert_array_equal(front, problem.pareto_front(20))
    assert adapted.decide_problem is problem


class NoKnownSet(Problem):
    name = "no-set"
    lower, upper = np.zeros(2), np.ones(2)

    def f(self, X):
        return np.column_stack([X[:, 0], 1 - X[:, 0] + X[:, 1]])


def test_pareto_front_is_none_without_a_known_set():
    assert to_pymoo(NoKnownSet()).pareto_front(use_cache=False) is None


def test_evaluator_must_wrap_the_same_problem():
    with pytest.raises(UsageError):
        to_pymoo(Quadratics.default(), Evaluator(Quadratics.default()))


def test_nsga2_run_counts_evaluations_through_the_evaluator():
    problem = Quadratics.default()
    evaluator = Evaluator(problem)
    result = minimize(to_pymoo(problem, evaluator), NSGA2(pop_size=20), ("n_gen", 5), seed=1)
    assert evaluator.counts.f == result.algorithm.evaluator.n_eval == 20 * 5
    assert evaluator.counts.jac == 0
    assert evaluator.counts.cost_adjoint == evaluator.counts.cost_fd == 20 * 5
    np.testing.assert_allclose(result.F, problem.f(result.X), rtol=1e-15)
    np.testing.assert_array_equal(problem.lower, [-2, -2])


def test_modules_import_without_pymoo_or_the_pde_problem():
    code = (
        "import sys; sys.modules['pymoo'] = None\n"
        "import decide.pareto.pymoo_adapter, decide.pareto.testproblems\n"
        "assert 'decide.envs.pde.heat.tradeoff' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
