"""The Pareto Dataset, its netCDF round trip, the plot and the ``decide pareto`` command."""

from __future__ import annotations

import numpy as np
import pytest

from decide import results
from decide.cli import main
from decide.pareto import pareto_set
from decide.pareto.plot import plot_levels, plot_pareto
from decide.pareto.testproblems import make_problem


@pytest.fixture(scope="module")
def found():
    return pareto_set(make_problem("zdt1", dim=2), "subdivision", seed=0, levels=10)


def test_dataset_follows_the_schema_and_round_trips(found, tmp_path):
    ds = results.validate(found.to_dataset())
    assert ds.sizes["box"] == len(found) and ds.sizes["dim"] == 2 and ds.sizes["objective"] == 2
    assert list(ds["boxes"].values) == list(found.history)
    attrs, (m, d) = ds.attrs, (2, 2)
    assert (attrs["f_evaluations"], attrs["jac_evaluations"]) == (found.counts.f, found.counts.jac)
    assert attrs["cost_adjoint"] == found.counts.f + m * found.counts.jac
    assert attrs["cost_fd"] == found.counts.f + d * found.counts.jac
    np.testing.assert_allclose(ds["centre"] - ds["radius"], found.boxes.centres - found.boxes.radii)
    back = results.read(results.write(ds, tmp_path / "pareto.nc"))
    np.testing.assert_array_equal(back["key"].values, found.boxes.keys)
    assert int(back["nondominated"].sum()) >= 1


def test_plots_are_written(found, tmp_path):
    problem = make_problem("zdt1", dim=2)
    assert plot_pareto(found, tmp_path / "front.png", problem=problem).stat().st_size > 10_000
    assert plot_levels([found.boxes], tmp_path / "levels.png").exists()


def test_cli_writes_dataset_and_plot(tmp_path, capsys):
    out, fig = tmp_path / "p.nc", tmp_path / "p.png"
    args = ["pareto", "quadratics", "--levels", "8", "--out", str(out), "--plot", str(fig)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "boxes of diameter" in printed and "Hausdorff distance" in printed
    assert results.read(out).attrs["method"] == "subdivision" and fig.exists()


def test_cli_rejects_a_bad_dimension_without_writing(tmp_path, capsys):
    out = tmp_path / "p.nc"
    assert main(["pareto", "zdt1", "--dim", "1", "--out", str(out)]) == 2
    assert "error" in capsys.readouterr().err and not out.exists()
