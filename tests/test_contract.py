"""Every method keeps the contract of :mod:`decide.contract`: its callback stops it, its result
says why it stopped in the shared words, and a seed goes only to methods that draw numbers."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import decide
from decide import contract
from decide.errors import UsageError
from decide.pareto import METHODS as PARETO_METHODS
from decide.pomdp.solve import methods, takes_seed
from decide.robust.constrained import METHODS as CONSTRAINED_METHODS


def test_stop_reasons_outside_the_vocabulary_are_refused():
    assert contract.stop_reason("callback") == "callback"
    with pytest.raises(ValueError, match="time limit"):
        contract.stop_reason("timeout")


def test_task_seeds_repeat_for_a_seed_and_differ_between_tasks():
    first, again = contract.task_seeds(7, 3), contract.task_seeds(7, 3)
    draws = [np.random.default_rng(s).integers(2**62) for s in first]
    assert draws == [np.random.default_rng(s).integers(2**62) for s in again]
    assert len(set(draws)) == 3
    rng = np.random.default_rng(7)
    one, two = contract.task_seeds(rng, 1), contract.task_seeds(rng, 1)
    assert np.random.default_rng(one[0]).random() != np.random.default_rng(two[0]).random()


def test_a_callback_that_returns_true_stops_and_none_does_not():
    seen = []
    assert contract.stop_requested(lambda p: seen.append(p) or True, "progress")
    assert not contract.stop_requested(lambda p: None, "progress")
    assert not contract.stop_requested(None, "progress") and seen == ["progress"]


def test_the_pomdp_registry_holds_the_offline_and_the_online_method():
    assert set(methods()) == {"pointbased", "pomcp"}
    assert takes_seed(decide.POMCP()) and not takes_seed(decide.PointBased())


def test_the_point_based_solver_stops_on_its_callback_and_takes_no_seed(tmp_path):
    budget = {"max_iterations": 10**6, "time_limit": 600.0, "report_interval": 1e-9}
    result = decide.solve(decide.tiger(), "pointbased", callback=lambda p: True, **budget)
    assert result.stop_reason == "callback" and result.iterations < 10**6
    assert result.parameters["max_iterations"] == 10**6
    assert result.to_dataset().attrs["stop_reason"] == "callback"
    finished = decide.solve(decide.tiger(), "pointbased", max_iterations=10**6)
    assert finished.stop_reason == "converged"
    with pytest.raises(UsageError, match="takes no seed"):
        decide.solve(decide.tiger(), "pointbased", seed=1)


def test_a_pomcp_search_stops_on_its_callback_or_its_budget():
    pomdp = decide.tiger()
    calls = []
    stop = lambda info: calls.append(info) or True  # noqa: E731
    stopped = decide.solve(pomdp, "pomcp", seed=0, callback=stop, n_simulations=2000)
    stopped.action(pomdp.b0)
    assert stopped.last_search.stop_reason == "callback"
    assert stopped.last_search.simulations < 2000 and len(calls) == 1
    planner = decide.solve(pomdp, "pomcp", seed=0, n_simulations=2000)
    planner.action(pomdp.b0)
    assert planner.last_search.stop_reason == "iteration limit"
    assert planner.last_search.simulations == 2000


@pytest.mark.parametrize("method", ["subdivision", "sampling"])
def test_a_covering_stops_on_its_callback_after_the_level_it_saw(method):
    from decide.pareto import ParetoProgress, pareto_set
    from decide.pareto.testproblems import make_problem

    seen: list[ParetoProgress] = []
    stop = lambda p: seen.append(p) or p.level == 4  # noqa: E731
    found = pareto_set(make_problem("quadratics", dim=2), method, seed=0, levels=10, callback=stop)
    assert found.stop_reason == "callback" and len(found.history) == 4
    assert [p.level for p in seen] == [1, 2, 3, 4] and {p.levels for p in seen} == {10}
    assert seen[-1].counts.f == found.counts.f and len(seen[-1].boxes) == found.history[-1]
    full = pareto_set(make_problem("quadratics", dim=2), method, seed=0, levels=4)
    assert full.stop_reason == "iteration limit" and full.history == found.history


def test_recovery_converges_and_continuation_reports_each_start():
    from decide.pareto import pareto_set
    from decide.pareto.testproblems import make_problem

    problem = make_problem("quadratics", dim=2)
    recovered = pareto_set(problem, "sampling", seed=0, levels=8, recover=True)
    assert recovered.stop_reason == "converged"
    starts: list[int] = []
    traced = pareto_set(problem, "continuation", callback=lambda p: starts.append(p.level))
    assert traced.stop_reason == "converged" and starts and set(starts) <= {1, 2, 3}
    stopped = pareto_set(problem, "continuation", callback=lambda p: True)
    assert stopped.stop_reason in ("callback", "converged")  # converged if one start covers all
    assert len(stopped.points) <= len(traced.points)


def test_a_tuning_stopped_by_its_callback_keeps_its_finished_trials():
    from decide.envs.pde.linear_sequences import OffsetLaplacian
    from decide.tuning import TuneProgress, tune

    sequence = OffsetLaplacian(variance="high", m=4, length=5)
    seen: list[TuneProgress] = []
    stop = lambda p: seen.append(p) or (p.trial == 1 and p.solves == 13)  # noqa: E731
    ds = tune(sequence, ["omega-1", "chebcb"], trials=3, seed=0, callback=stop)
    assert ds.attrs["stop_reason"] == "callback" and ds.sizes["trial"] == 1
    assert [p.solves for p in seen] == list(range(1, 14)) and {p.total for p in seen} == {30}
    full = tune(sequence, ["omega-1", "chebcb"], trials=1, seed=0)
    assert full.attrs["stop_reason"] == "iteration limit"
    assert (full["iterations"].values == ds["iterations"].values).all()
    with pytest.raises(decide.errors.DecideError, match="first trial"):
        tune(sequence, ["omega-1"], callback=lambda p: True)


def test_every_tuning_strategy_runs_and_only_learners_draw_numbers():
    from decide.envs.pde.linear_sequences import HeatSequence
    from decide.tuning import LEARNERS, METHODS, tune

    sequence = HeatSequence(nx=6, length=3)
    ds = tune(sequence, list(METHODS), arms=[1.0, 1.5], trials=2, seed=0)
    assert ds.sizes == {"trial": 2, "strategy": len(METHODS), "instance": 3, "arm": 2}
    assert (ds["converged"] == 1).all()
    deterministic = [m for m in METHODS if m not in LEARNERS]
    first, second = (ds["iterations"].sel(strategy=deterministic, trial=t) for t in (0, 1))
    assert (first == second).all() and set(LEARNERS) < set(METHODS)


def test_the_lagrangian_plan_stops_on_its_callback_and_stays_feasible():
    from decide.envs.fisheries.studies.constrained.plan import fisheries_cmdp
    from decide.robust.constrained import METHODS, Lagrangian, least_failure_probability

    cmdp = fisheries_cmdp(n_grid=20, horizon=10)
    delta = least_failure_probability(cmdp) + 0.05
    steps = []
    stopped = Lagrangian().solve(cmdp, delta=delta, callback=lambda s: steps.append(s) or True)
    assert stopped.stop_reason == "callback" and len(stopped.history) == len(steps) == 1
    assert stopped.failure_probability <= delta + 1e-12
    plans = {name: method().solve(cmdp, delta=delta) for name, method in METHODS.items()}
    assert {plan.stop_reason for plan in plans.values()} == {"converged"}
    assert plans["lagrangian"].value == pytest.approx(plans["lp"].value, rel=1e-6)
    budget = Lagrangian(max_iterations=3).solve(cmdp, delta=delta)
    assert budget.stop_reason == "iteration limit" and len(budget.history) == 3


# ---------------------------------------------------------------- every registry, one walk


def _first_report_stops(progress) -> bool:
    return True


def _checked(result, dataset) -> None:
    """What every offline result has: a stop reason, its parameters, a valid Dataset."""
    from decide import results

    assert isinstance(result.parameters, dict) and result.parameters
    results.validate(dataset)
    assert dataset.attrs["stop_reason"] == result.stop_reason


@pytest.mark.parametrize("name", sorted(methods()))
def test_every_pomdp_method_stops_on_its_callback(name):
    pomdp = decide.tiger()
    budget = {"report_interval": 1e-9, "max_iterations": 10**6, "time_limit": 600.0}
    if name == "pomcp":  # online: each search is the run, and says why it stopped
        planner = decide.solve(pomdp, name, seed=0, callback=_first_report_stops)
        planner.action(pomdp.b0)
        assert planner.last_search.stop_reason == "callback"
        return
    result = decide.solve(pomdp, name, callback=_first_report_stops, **budget)
    assert result.stop_reason == "callback"
    _checked(result, result.to_dataset())


@pytest.mark.parametrize("name", sorted(PARETO_METHODS))
def test_every_pareto_method_stops_on_its_callback(name):
    from decide.pareto import pareto_set
    from decide.pareto.testproblems import make_problem

    found = pareto_set(make_problem("quadratics", dim=2), name, callback=_first_report_stops)
    assert found.stop_reason == "callback"
    _checked(found, found.to_dataset())


@pytest.mark.parametrize("name", sorted(CONSTRAINED_METHODS))
def test_every_constrained_method_keeps_the_contract(name):
    from decide.envs.fisheries.studies.constrained.plan import fisheries_cmdp
    from decide.robust.constrained import least_failure_probability

    cmdp = fisheries_cmdp(n_grid=12, horizon=6)
    delta = least_failure_probability(cmdp) + 0.05
    method = CONSTRAINED_METHODS[name]()
    if name == "lp":  # HiGHS reports nothing on the way: there is no callback to take
        assert "callback" not in inspect.signature(method.solve).parameters
        plan = method.solve(cmdp, delta=delta)
        assert plan.stop_reason == "converged"
    else:
        plan = method.solve(cmdp, delta=delta, callback=_first_report_stops)
        assert plan.stop_reason == "callback" and len(plan.history) == 1
    assert plan.parameters["delta"] == delta
    _checked(plan, plan.to_dataset())


def test_every_tuning_strategy_stops_on_its_callback():
    from decide.envs.pde.linear_sequences import HeatSequence, OffsetLaplacian
    from decide.tuning import LEARNERS, METHODS, tune

    for name in METHODS:
        # cg needs a PCG sequence; a learner beside a deterministic strategy makes trial 1 solve
        sequence = HeatSequence(nx=6, length=3) if name == "cg" else OffsetLaplacian(m=4, length=3)
        names = [name] if name in LEARNERS else [name, "chebcb"]
        ds = tune(sequence, names, arms=[1.0, 1.5], trials=2, callback=lambda p: p.trial == 1)
        assert ds.attrs["stop_reason"] == "callback" and ds.sizes["trial"] == 1, name
        assert ds.attrs["parameters"]
