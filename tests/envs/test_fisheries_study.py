"""The paper's simulation study: reference NPVs, exact DP at σm = 0, common random numbers,
the protocol kernel against plain-Python references, the Dataset and the CLI.

Reference numbers: shared/reference/fisheries.md (σg = 0.15; SE ≈ 0.035 at 1000 replicates).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from decide import results
from decide.cli import main
from decide.envs.fisheries.model.pomdp_builder import build_pomdp, make_grids
from decide.envs.fisheries.model.reference import BeliefPolicy, reference_rules
from decide.envs.fisheries.studies.paper.run import (
    PAPER_NPV,
    StudySettings,
    paper_policy_path,
    run_study,
)
from decide.envs.fisheries.studies.simulation import common_uniforms, npv, rollouts, value_with_tail
from decide.errors import FormatError, UsageError
from decide.pomdp.pointbased import PointBased
from decide.pomdp.policy import AlphaVectorPolicy

#: The reference table's standard error at 1000 replicates; "within 2 SE" means within 2 × this.
REFERENCE_SE = 0.035
INDEX = "fisheries/paper-policies/index.csv"


@functools.cache
def paper_study(policyx_dir: str):
    """Rules and the published policies at σg = 0.15, 4000 replicates (our SE ≈ 0.018)."""
    settings = StudySettings(
        0.15,
        (0.0, 0.1, 0.15),
        replicates=4000,
        seed=2019,
        policyx_dir=policyx_dir,
        policies=("CE", "MSY", "TAC", "SARSOP"),
        trajectories=False,
    )
    return run_study(settings)


@pytest.fixture
def policyx_dir(shared_file):
    return str(shared_file(INDEX).parent)


@pytest.mark.parametrize("policy", ["CE", "TAC", "MSY", "SARSOP"])
def test_npv_reproduces_the_reference_table(policyx_dir, policy):
    ds = paper_study(policyx_dir)
    for i, sigma_m in enumerate(ds["sigma_m"].values):
        ours = float(ds["npv_mean"].isel(scenario=i).sel(policy=policy))
        assert abs(ours - PAPER_NPV[float(sigma_m)][policy]) < 2 * REFERENCE_SE, (sigma_m, ours)


def test_ce_loses_value_and_collapses_stocks_as_measurement_noise_grows(policyx_dir):
    """The paradox: CE's NPV falls and its collapses rise with σm; SARSOP's barely move."""
    ds = paper_study(policyx_dir)
    ce, sarsop = ds["npv_mean"].sel(policy="CE").values, ds["npv_mean"].sel(policy="SARSOP").values
    assert ce[0] - ce[2] > 0.4 > sarsop[0] - sarsop[2]
    collapse = ds["collapse_fraction"]
    assert collapse.sel(policy="CE")[2] > 2 * collapse.sel(policy="SARSOP")[2]


def value_iteration(pomdp, tol=1e-12):
    V = np.zeros(pomdp.n_states)
    while True:
        Q = pomdp.R + pomdp.discount * np.einsum("ast,t->sa", pomdp.dense_transitions(), V)
        if np.abs(Q.max(axis=1) - V).max() < tol:
            return Q
        V = Q.max(axis=1)


def test_pomdp_at_zero_measurement_noise_equals_dynamic_programming():
    pomdp = build_pomdp(sigma_g=0.15, sigma_m=0.0)
    # a work budget, not a clock: gap 1e-4 took 439 trials (2 s) when measured; the time limit
    # is only a cap that a loaded machine must not reach
    result = PointBased(time_limit=600, target_gap=1e-4, max_iterations=2000).solve(pomdp)
    assert result.stop_reason == "converged"
    Q = value_iteration(pomdp)
    exact = float((pomdp.b0 @ Q).max())  # the first action is blind, then the state is seen
    assert result.lower_bound - 1e-9 <= exact <= result.upper_bound + 1e-9
    assert result.upper_bound - result.lower_bound <= 1e-4
    u = common_uniforms(7, 1000, 99)
    ours = rollouts(pomdp, result.policy, u, 8)
    dp = rollouts(pomdp, Q.argmax(axis=1), u, 8)  # observation = state: act greedily on Q
    difference = npv(pomdp, ours["state"], ours["action"]) - npv(pomdp, dp["state"], dp["action"])
    assert abs(difference.mean()) <= max(difference.std() / np.sqrt(1000), 1e-12)


def test_same_seed_same_numbers_and_every_policy_sees_the_same_draws():
    # rules only: nothing is solved, so no time limit or trial budget enters these numbers
    first = run_study(StudySettings(0.15, (0.1,), 300, seed=11, policies=("CE", "TAC")))
    again = run_study(StudySettings(0.15, (0.1,), 300, seed=11, policies=("TAC",)))
    np.testing.assert_array_equal(first["npv"].sel(policy="TAC"), again["npv"].sel(policy="TAC"))
    obs = first["observation"].isel(scenario=0, year=0)  # same state, same uniform, same survey
    np.testing.assert_array_equal(obs.sel(policy="CE"), obs.sel(policy="TAC"))
    other = run_study(StudySettings(0.15, (0.1,), 300, seed=12, policies=("TAC",)))
    assert not np.array_equal(other["npv"], again["npv"])


def protocol_in_python(pomdp, choose, u, x0):
    """The protocol written out: observe with u[., 0], choose, move with u[., 1]."""

    def draw(p, v):
        return min(int(np.searchsorted(np.cumsum(p), v * p.sum(), side="right")), p.size - 1)

    T, Z = pomdp.dense_transitions(), pomdp.dense_observations()
    states, actions = np.zeros(u.shape[:2], int), np.zeros(u.shape[:2], int)
    for r in range(u.shape[0]):
        s, a = x0, 0
        choose.reset() if hasattr(choose, "reset") else None
        for t in range(u.shape[1]):
            o = draw(Z[a, s], u[r, t, 0])
            a = choose.step(o) if hasattr(choose, "step") else int(choose[o])
            states[r, t], actions[r, t] = s, a
            s = draw(T[a, s], u[r, t, 1])
    return states, actions


def test_kernel_matches_the_protocol_written_in_python():
    pomdp = build_pomdp(sigma_g=0.15, sigma_m=0.1)
    u = common_uniforms(3, 6, 25)
    table = reference_rules()["CE"].action_table(make_grids())
    out = rollouts(pomdp, table, u, 8)
    states, actions = protocol_in_python(pomdp, table, u, 8)
    np.testing.assert_array_equal(out["state"], states)
    np.testing.assert_array_equal(out["action"], actions)
    assert (out["vector"] == -1).all()
    rng = np.random.default_rng(1)
    policy = AlphaVectorPolicy(
        rng.random((9, 100)) + np.linspace(0, 1, 100), rng.integers(0, 40, 9)
    )
    out = rollouts(pomdp, policy, u, 8)
    states, actions = protocol_in_python(pomdp, BeliefPolicy(pomdp, policy), u, 8)
    np.testing.assert_array_equal(out["action"], actions)
    np.testing.assert_array_equal(out["state"], states)
    np.testing.assert_array_equal(policy.actions[out["vector"]], actions)


def mean_and_se(values: np.ndarray) -> tuple[float, float]:
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(values.size))


@pytest.mark.parametrize("kind", ["rule", "alpha vectors"])
def test_a_short_rollout_with_its_exact_tail_estimates_the_infinite_horizon(kind):
    # γ^300 < 1e-13: 300 plain years are the infinite horizon; the tail after 4 years must agree
    pomdp = build_pomdp(sigma_g=0.15, sigma_m=0.1, n_states=20, discount=0.9)
    if kind == "rule":
        policy = reference_rules(discount=0.9)["CE"].action_table(make_grids(n_states=20))
    else:
        policy = PointBased(time_limit=600, max_iterations=2000).solve(pomdp).policy
    long = rollouts(pomdp, policy, common_uniforms(1, 20_000, 300), 6)
    short = rollouts(pomdp, policy, common_uniforms(2, 20_000, 4), 6)
    exact, exact_se = mean_and_se(npv(pomdp, long["state"], long["action"]))
    tail, tail_se = mean_and_se(value_with_tail(pomdp, policy, short))
    plain = npv(pomdp, short["state"], short["action"]).mean()
    assert abs(tail - exact) < 4 * np.hypot(exact_se, tail_se), (tail, exact)
    assert abs(plain - exact) > 20 * np.hypot(exact_se, tail_se)  # the tail is what counts


def test_kernel_gives_the_same_numbers_without_jit():
    code = (
        "import json, numpy as np\n"
        "from decide.envs.fisheries.studies.simulation import common_uniforms, rollouts\n"
        "from decide.envs.fisheries.model.pomdp_builder import build_pomdp\n"
        "from decide.pomdp.policy import AlphaVectorPolicy\n"
        "p = build_pomdp(sigma_g=0.15, sigma_m=0.1, n_states=20)\n"
        "pol = AlphaVectorPolicy(np.random.default_rng(0).random((5, 20)), [0, 3, 7, 11, 19])\n"
        "out = rollouts(p, pol, common_uniforms(0, 3, 8), 2)\n"
        "print(json.dumps({k: v.tolist() for k, v in out.items()}))\n"
    )
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    pomdp = build_pomdp(sigma_g=0.15, sigma_m=0.1, n_states=20)
    policy = AlphaVectorPolicy(np.random.default_rng(0).random((5, 20)), [0, 3, 7, 11, 19])
    jitted = rollouts(pomdp, policy, common_uniforms(0, 3, 8), 2)
    assert json.loads(run.stdout) == {k: v.tolist() for k, v in jitted.items()}


def test_dataset_schema_definitions_and_round_trip(tmp_path, policyx_dir):
    # gap 1e-3 at σm = 0 took 271 trials (under 2 s) when measured: a budget of 1000 converges
    solver = PointBased(time_limit=600, max_iterations=1000)
    ds = run_study(StudySettings(0.15, (0.0,), 50, seed=1, solver=solver, policyx_dir=policyx_dir))
    assert list(ds["policy"].values) == ["CE", "MSY", "TAC", "POMDP", "SARSOP"]
    assert dict(ds.sizes) == {"scenario": 1, "policy": 5, "replicate": 50, "year": 99}
    assert ds["year"].values[0] == 2 and ds["year"].values[-1] == 100
    np.testing.assert_allclose(ds["stock"].isel(year=0), 16 / 99)  # x0 = K/6 → grid point 0.1616
    np.testing.assert_array_equal(ds["harvest"], np.minimum(ds["stock"], ds["quota"]))
    discounted = (ds["harvest"] * 0.95 ** (ds["year"] - 1)).sum("year")
    np.testing.assert_allclose(ds["npv"], discounted, rtol=1e-12)
    np.testing.assert_array_equal(ds["collapsed"], ds["final_stock"] < 0.1)
    assert ds["n_alpha"].sel(policy="CE").item() == 0 and ds["n_alpha"].sel(policy="SARSOP") == 45
    assert np.isfinite(ds["solve_time_s"].item()) and ds["stop_reason"].item() == "converged"
    path = results.write(ds, tmp_path / "study.nc")
    back = results.read(path, required_vars=("npv", "collapsed", "stock", "lower_bound"))
    np.testing.assert_array_equal(back["npv"], ds["npv"])
    assert results.parameters(back)["policyx_files"]["0"].endswith(".policyx")
    assert results.parameters(back)["solver"]["max_iterations"] == 1000
    assert ds.attrs["stop_reason"] == "iteration limit"  # every scenario ran
    rules = run_study(
        StudySettings(0.15, (0.0, 0.15), 20, policies=("CE", "MSY"), trajectories=False)
    )
    assert rules["sigma_m"].values.tolist() == [0.0, 0.15] and "stock" not in rules
    assert np.all(np.isnan(rules["lower_bound"])) and results.validate(rules) is rules


def test_policy_lookup_and_bad_arguments(tmp_path, policyx_dir):
    assert (
        paper_policy_path(policyx_dir, 0.15, 0.1).name == "2434d1a9c61c10090e06ac2a6548612e.policyx"
    )
    with pytest.raises(UsageError, match=r"sigma_m=0.05.*\(0.15, 0.1\)"):
        paper_policy_path(policyx_dir, 0.15, 0.05)
    (tmp_path / "index.csv").write_text("file,sigma\nx.policyx,0.1\n")
    with pytest.raises(FormatError, match=r"index\.csv:2"):
        paper_policy_path(tmp_path, 0.15, 0.1)
    with pytest.raises(FormatError, match="cannot read"):
        paper_policy_path(tmp_path / "missing", 0.15, 0.1)
    with pytest.raises(UsageError, match="policyx_dir"):
        StudySettings(policies=("SARSOP",))
    with pytest.raises(UsageError, match="policies"):
        StudySettings(policies=("CE", "QMDP"))
    with pytest.raises(UsageError, match="distinct"):
        StudySettings(sigma_ms=(0.1, 0.1), policies=("CE",))


def test_cli_writes_the_dataset_table_and_figure(tmp_path, capsys, policyx_dir):
    out, fig = tmp_path / "study.nc", tmp_path / "study.png"
    argv = ["fisheries", "study", "--sigma-m", "0", "--replicates", "100", "--seed", "2"]
    argv += [
        "--max-iterations",
        "1000",
        "--time-limit",
        "600",
    ]  # converges at 271 trials (see above)
    argv += ["--out", str(out), "--plot", str(fig), "--quiet"]
    assert main([*argv, "--policyx-dir", policyx_dir]) == 0
    text = capsys.readouterr().out
    assert "SARSOP" in text and "solve sigma_m=0: bounds at b0" in text and "(converged)" in text
    assert results.read(out)["npv"].shape == (1, 5, 100)
    assert fig.read_bytes()[:4] == b"\x89PNG"


def test_cli_errors_are_one_line_and_write_nothing(tmp_path, capsys, monkeypatch, policyx_dir):
    out = tmp_path / "study.nc"
    argv = ["fisheries", "study", "--sigma-m", "0.05", "--replicates", "10", "--out", str(out)]
    assert main([*argv, "--policyx-dir", policyx_dir]) == 2
    assert capsys.readouterr().err.count("\n") == 1 and not out.exists()
    monkeypatch.delenv("DECIDE_DATA_DIR", raising=False)
    assert main([*argv, "--paper-policies"]) == 2
    assert "DECIDE_DATA_DIR" in capsys.readouterr().err


#: Trial budgets of the match test, per σm. Measured (benchmarks/fisheries_solve.py, seed 2019,
#: 1000 replicates): the paired difference ours − paper first clears −2 SE at 150 trials at
#: σm = 0 (−0.0003 ± 0.0006; −0.0063 ± 0.0018 at 100) and at 100 trials at σm = 0.1 and 0.15
#: (−0.0020 ± 0.0018, +0.0001 ± 0.0014; −0.0090 ± 0.0037 and −0.0079 ± 0.0026 at 50).
MATCH_TRIALS = {0.0: 150, 0.1: 100, 0.15: 100}


@pytest.mark.slow
@pytest.mark.parametrize("sigma_m", sorted(MATCH_TRIALS))
def test_our_pomdp_matches_the_published_policies_on_common_random_numbers(policyx_dir, sigma_m):
    """Our policy under a trial budget vs the paper's SARSOP policy, paired replicate by
    replicate: both see the same random numbers, so the SE of the difference (0.001–0.002) is
    far below either NPV's own (0.034). A trial budget, not a clock, fixes our policy.

    The time to reach SARSOP's value, beside SARSOP's measured time: benchmarks/fisheries_solve.py.
    """
    solver = PointBased(time_limit=3600, max_iterations=MATCH_TRIALS[sigma_m])
    ds = run_study(StudySettings(0.15, (sigma_m,), 1000, seed=2019, solver=solver,
                                 policyx_dir=policyx_dir, trajectories=False))  # fmt: skip
    ds = ds.isel(scenario=0)
    assert ds["stop_reason"].item() == "iteration limit"  # the budget, not the cap
    difference = ds["npv"].sel(policy="POMDP") - ds["npv"].sel(policy="SARSOP")
    paired_se = float(difference.std("replicate", ddof=1)) / np.sqrt(difference.sizes["replicate"])
    assert paired_se < float(ds["npv_se"].sel(policy="SARSOP")) / 10  # pairing is what helps
    assert float(difference.mean("replicate")) >= -2 * paired_se


def test_scenarios_on_worker_processes_give_the_serial_numbers():
    """The Monte Carlo evaluations go through decide.parallel like every other batch of work."""
    from decide.parallel import Backend

    kwargs = {"replicates": 200, "seed": 5, "policies": ("CE", "MSY", "TAC"), "n_grid": 40}
    settings = StudySettings(0.15, (0.0, 0.1, 0.2), **kwargs)
    serial = run_study(settings)
    seen = []
    spread = run_study(settings, backend=Backend(workers=2), callback=seen.append)
    for name in ("npv", "collapsed", "stock", "quota"):
        np.testing.assert_array_equal(serial[name], spread[name])
    assert sorted(p.done for p in seen) == [1, 2, 3] and {p.method for p in seen} == {None}


def test_a_callback_stops_the_running_solve_and_the_scenarios_after_it():
    """True during the first scenario's solve: that solve stops, the study keeps its scenario."""
    solver = PointBased(time_limit=600, max_iterations=10**6, report_interval=1e-9)
    settings = StudySettings(0.15, (0.1, 0.15), 50, policies=("CE", "POMDP"), n_grid=20)
    seen = []
    ds = run_study(replace(settings, solver=solver), callback=lambda p: seen.append(p) or True)
    assert ds.attrs["stop_reason"] == "callback" and ds["sigma_m"].values.tolist() == [0.1]
    assert ds["stop_reason"].values.tolist() == ["callback"]
    assert seen[0].task == "sigma_m=0.1" and seen[0].method.iteration >= 0
