"""Pareto sets of the heat-control problem against its dense weighted-sum reference."""

from __future__ import annotations

import pytest

from decide.pareto import hausdorff, pareto_set
from decide.pareto.testproblems import make_problem


@pytest.mark.parametrize(("name", "dim", "levels"), [("heat", 2, 12), ("heat", 3, 15)])
def test_subdivision_covers_the_weighted_sum_reference(name, dim, levels):
    problem = make_problem(name, dim=dim)
    reference = problem.pareto_set(400)
    found = pareto_set(problem, "subdivision", seed=1, levels=levels)
    assert found.boxes.contains(reference).all()
    assert hausdorff(found.boxes.centres, reference) <= 2 * found.boxes.diameter
    assert found.counts.pde_solves == found.counts.f + 2 * found.counts.jac
    assert found.counts.cost_adjoint == found.counts.pde_solves  # m = 2, 2 solves per jac


def test_non_smooth_l1_cost_is_covered_by_eps_descent():
    problem = make_problem("heat-l1", dim=2)
    reference = problem.pareto_set(400)
    found = pareto_set(problem, "subdivision", seed=1, levels=10, points_per_box=4)
    assert found.boxes.contains(reference).all()
    assert hausdorff(found.boxes.centres, reference) <= 2 * found.boxes.diameter


def test_continuation_lands_on_the_reference_front():
    problem = make_problem("heat", dim=4)
    found = pareto_set(problem, "continuation", seed=1)
    reference = problem.pareto_set(400)
    assert hausdorff(found.points, reference) < 0.05
