"""decide.tune on the Learning-to-Relax sequences, pinned to the reference page's totals."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from decide import results
from decide.cli import main
from decide.envs.pde.linear_sequences import make_sequence
from decide.errors import UsageError
from decide.linalg import SOR
from decide.tuning import summary, tune

# ../shared/reference/relax.md. The heat sequence is deterministic and iteration counts are
# integers, so its cg, SSOR(ω = 1) and best-fixed totals must equal the reference exactly.
HEAT_CG_SSOR_1 = {25: (85_422, 32_793), 50: (164_441, 60_733)}
HEAT_BEST_FIXED = {25: 29_413, 50: 42_908}
OFFSET_HIGH_YOUNG, OFFSET_HIGH_GAUSS_SEIDEL = 279_707, 3_026_701


def totals(ds: xr.Dataset) -> dict[str, float]:
    return {method: mean for method, mean, _ in summary(ds)}


@pytest.mark.parametrize("nx", [25, 50])
def test_heat_sequence_reproduces_the_published_cg_and_ssor_totals(nx):
    ds = tune(make_sequence("heat", length=5000, nx=nx), ["cg", "omega-1"])
    found = totals(ds)
    assert (found["cg"], found["omega-1"]) == HEAT_CG_SSOR_1[nx]


@pytest.mark.slow  # every one of the 20 arms over the 5000 systems: ~50 s (nx = 25), ~90 s (50)
@pytest.mark.parametrize("nx", [25, 50])
def test_heat_sequence_reproduces_the_published_best_fixed_total(nx):
    ds = tune(make_sequence("heat", length=5000, nx=nx), ["best-fixed"])
    assert totals(ds)["best-fixed"] == HEAT_BEST_FIXED[nx]


def test_offset_sequence_matches_the_published_young_and_gauss_seidel_rates():
    # 1000 of the 5000 systems: the per-system mean estimates the published total / 5000.
    ds = tune(make_sequence("offset-high", length=1000), ["omega-1", "young"], seed=7)
    found = totals(ds)
    assert 5 * found["young"] == pytest.approx(OFFSET_HIGH_YOUNG, rel=0.05)
    assert 5 * found["omega-1"] == pytest.approx(OFFSET_HIGH_GAUSS_SEIDEL, rel=0.08)


def test_learners_order_like_the_published_table_on_a_short_run():
    methods = ["omega-1", "best-fixed", "tsallis-inf", "chebcb", "tensor-chebcb", "young"]
    found = totals(tune(make_sequence("offset-high", length=1000), methods, seed=3))
    assert found["omega-1"] > 3 * found["tsallis-inf"]
    assert found["tsallis-inf"] > found["best-fixed"] > found["chebcb"] > found["young"]
    assert found["tensor-chebcb"] < min(found["chebcb"], 1.15 * found["young"])


def test_per_step_best_is_the_minimum_over_the_arms():
    sequence = make_sequence("offset-low", length=20)
    arms = np.array([1.2, 1.5, 1.7])
    ds = tune(sequence, ["per-step-best"], arms=arms, seed=2)
    sequence.reset(2)
    for t in range(sequence.length):
        A, b, x0 = sequence.system()
        best = min(SOR(omega=w).solve(A, b, x0).iterations for w in arms)
        assert ds["iterations"].values[0, 0, t] == best
        sequence.advance(np.zeros_like(b))


def test_trials_share_systems_and_deterministic_sequences_repeat(tmp_path):
    ds = tune(make_sequence("heat", length=40, nx=10), ["omega-1", "chebcb"], trials=2)
    fixed = ds["iterations"].sel(strategy="omega-1").values
    assert np.array_equal(fixed[0], fixed[1])
    assert np.array_equal(ds["context"].values[0], ds["context"].values[1])
    path = tmp_path / "tune.nc"
    results.write(ds, path)
    back = results.read(path)
    assert back["strategy"].values.tolist() == ["omega-1", "chebcb"]
    assert np.array_equal(back["total_iterations"], ds["iterations"].sum("instance"))


def test_bad_requests_are_usage_errors():
    with pytest.raises(UsageError, match="cg"):
        tune(make_sequence("offset-low", length=5), ["cg"])
    with pytest.raises(UsageError, match="unknown tuning method"):
        tune(make_sequence("offset-low", length=5), ["sor-magic"])


def test_cli_writes_dataset_and_plot(tmp_path, capsys):
    out, plot = tmp_path / "t.nc", tmp_path / "t.png"
    argv = ["tune", "offset-low", "--length", "60", "--methods", "omega-1", "chebcb"]
    assert main([*argv, "--out", str(out), "--plot", str(plot), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "chebcb" in printed and "omega-1" in printed
    assert out.is_file() and plot.stat().st_size > 10_000
    assert results.read(out).attrs["problem"] == "offset-low"
