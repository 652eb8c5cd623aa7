"""decide fisheries plan: the fisheries constrained plan, by LP and by the Lagrangian method."""

from __future__ import annotations

import numpy as np
import pytest

from decide import results
from decide.cli import main
from decide.envs.fisheries.studies.constrained.plan import fisheries_cmdp, plan_quotas
from decide.robust.constrained import evaluate, least_failure_probability


def test_the_cli_plan_meets_the_constraint_and_the_lp_optimum(tmp_path, capsys):
    out, figure = tmp_path / "plan.nc", tmp_path / "plan.png"
    argv = ["fisheries", "plan", "--delta", "0.3", "--horizon", "20", "--grid", "30"]
    assert main([*argv, "--out", str(out), "--plot", str(figure)]) == 0
    assert "lagrangian" in capsys.readouterr().out and figure.stat().st_size > 0
    ds = results.read(out)
    npv, risk = ds["npv"], ds["collapse_probability"]
    assert risk.sel(plan="lagrangian") <= 0.3 + 0.01
    assert abs(npv.sel(plan="lagrangian") / npv.sel(plan="lp") - 1) <= 0.02
    assert risk.sel(plan="unconstrained") > 0.3 and npv.sel(plan="unconstrained") > npv.sel(
        plan="lp"
    )


def test_quotas_reproduce_the_plan_when_evaluated_again():
    """The stored expected quotas come from the plan's action distribution: re-evaluating the
    Lagrangian plan's mixture exactly gives the stored NPV and collapse probability."""
    options = {"n_grid": 25, "horizon": 15}
    ds = plan_quotas(0.3, methods=("lagrangian",), **options)
    cmdp = fisheries_cmdp(**options)
    assert least_failure_probability(cmdp) < 0.3
    reached = ds["stock_probability"].sel(plan="lagrangian")
    np.testing.assert_allclose(reached.isel(time=0).sum(), 1.0)
    quota = ds["expected_quota"].sel(plan="lagrangian")
    assert np.all(np.isnan(quota.values) == (reached.values <= 1e-6))
    from decide.robust.constrained import Lagrangian

    plan = Lagrangian().solve(cmdp, delta=0.3)
    value, risk = evaluate(cmdp, plan.action_probabilities(cmdp))
    assert value == pytest.approx(float(ds["npv"].sel(plan="lagrangian")), rel=1e-9)
    assert risk == pytest.approx(float(ds["collapse_probability"].sel(plan="lagrangian")), abs=1e-9)


def test_an_impossible_delta_is_a_clear_error(capsys, tmp_path):
    argv = ["fisheries", "plan", "--delta", "0", "--horizon", "10", "--grid", "20"]
    assert main([*argv, "--out", str(tmp_path / "p.nc")]) == 2
    assert "least" in capsys.readouterr().err
    assert not (tmp_path / "p.nc").exists()
