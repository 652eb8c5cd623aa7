"""The RAM batch: stock selection, fits against the published ones, the later study's POMDP,
reproducible per-stock results, and the partial store that lets a run resume."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import xarray as xr

from decide import results
from decide.envs.fisheries.model.growth import Logistic
from decide.envs.fisheries.model.pomdp_builder import make_grids
from decide.envs.fisheries.model.reference import reference_rules
from decide.envs.fisheries.studies.batch import run as batch_run
from decide.envs.fisheries.studies.batch import stock
from decide.envs.fisheries.studies.batch.run import (
    RAM_FILE,
    PartialStore,
    ram_tasks,
    read_published_fits,
    run_batch,
)
from decide.envs.fisheries.studies.batch.stock import (
    ORDER,
    BatchSettings,
    fit_stock,
    pomdp_minus_best_rule,
    scores,
    solve_stock,
    stock_pomdp,
)
from decide.envs.fisheries.studies.simulation import common_uniforms, rollouts
from decide.errors import FormatError, UsageError
from decide.pomdp.belief import update_belief
from decide.pomdp.pointbased import PointBased
from decide.pomdp.reactive import reactive_vectors

#: Small and with a trial budget, so that every number is reproducible and a stock takes ~1 s.
FAST = BatchSettings(
    n_grid=31, solver=PointBased(time_limit=600, max_iterations=30), replicates=200
)
#: Stocks whose small solves are quick.
FEW = ["1", "2", "4"]


@pytest.fixture
def ram_dir(shared_file):
    return shared_file("fisheries/ram_v3_ssb_tc_211stocks.csv").parent


@pytest.fixture
def fast_tasks(ram_dir):
    return ram_tasks(ram_dir, FAST, FEW)[0]


def test_settings_name_the_bad_field():
    with pytest.raises(UsageError, match="sigma_ms"):
        BatchSettings(sigma_ms=(0.1, 0.1))
    with pytest.raises(UsageError, match="fit"):
        BatchSettings(fit="bayes")
    with pytest.raises(UsageError, match="discount"):
        BatchSettings(discount=1.0)


def test_every_stock_is_a_task_or_left_out_with_its_reason(ram_dir):
    tasks, skipped = ram_tasks(ram_dir, BatchSettings())
    with open(ram_dir / RAM_FILE, newline="") as handle:
        indices = {int(row["stock_index"]) for row in csv.DictReader(handle)}
    assert len(indices) == 211
    assert {t.index for t in tasks.values()} | {int(s) for s in skipped} == indices
    assert skipped and all("at least 5 are needed" in reason for reason in skipped.values())
    published, none_left = ram_tasks(ram_dir, BatchSettings(fit="published"))
    assert len(published) == 211 and not none_left


def test_stocks_are_selected_by_index_or_common_name(ram_dir):
    with open(ram_dir / RAM_FILE, newline="") as handle:
        rows = list(csv.DictReader(handle))
    albacore = {
        int(r["stock_index"]) for r in rows if r["commonname"].casefold() == "albacore tuna"
    }
    tasks, _ = ram_tasks(ram_dir, BatchSettings(), ["Albacore Tuna", "1"])
    indices = [t.index for t in tasks.values()]
    assert set(indices[:-1]) == albacore and indices[-1] == 1
    with pytest.raises(UsageError, match="did you mean"):
        ram_tasks(ram_dir, BatchSettings(), ["albacore tunna"])


def test_missing_data_and_bad_published_fits_are_named(tmp_path, ram_dir):
    with pytest.raises(UsageError, match=r"ram_v3_ssb_tc_211stocks\.csv"):
        ram_tasks(tmp_path, BatchSettings())
    bad = tmp_path / "fits.csv"
    bad.write_text("stock_index,r_mean,K_mean,sigma_g_mean\n1,0.5,0.9,0.1\n2,abc,0.9,0.1\n")
    with pytest.raises(FormatError, match=r"fits.csv:3"):
        read_published_fits(bad)


def test_ml_fits_agree_with_the_published_posteriors_on_long_series(ram_dir, shared_file):
    """On series of 40+ years the posterior concentrates, so the maximum-likelihood r and K of the
    same model (harvest before growth, the later study's prior box) lie within a few posterior
    sd of the published posterior means; the ML sd is the usual few per cent below the mean."""
    tasks, _ = ram_tasks(ram_dir, BatchSettings())
    path = shared_file("fisheries/ram_v3_211stocks_logistic_fits.csv")
    with open(path, newline="") as handle:
        published = {int(row["stock_index"]): row for row in csv.DictReader(handle)}
    long = [t for t in tasks.values() if t.series.n_years >= 40][::3]
    assert len(long) >= 20
    for task in long:
        fitted, row = fit_stock(task), published[task.index]
        for name in ("r", "K"):
            z = (fitted[name] - float(row[f"{name}_mean"])) / float(row[f"{name}_sd"])
            assert abs(z) < 3, (task.index, name, z)
        assert 0.85 < fitted["sigma_g"] / float(row["sigma_g_mean"]) < 1.02, task.index


def test_the_pomdp_is_the_later_studys():
    model = Logistic(0.6, 0.8)
    pomdp = stock_pomdp(model, 0.1, 0.2, BatchSettings())
    grid = np.linspace(0, 2, 101)
    assert pomdp.n_states == 101 and pomdp.discount == 0.99
    np.testing.assert_allclose(pomdp.R[0], -100.0)
    np.testing.assert_allclose(pomdp.R[1:], np.minimum(grid[1:, None], grid[None, :]))
    s = np.maximum(grid[60] - grid[10], 0)
    mean = s + 0.6 * s * (1 - s / 0.8)  # harvest before growth
    expected = float(grid @ pomdp.dense_transitions()[10, 60])
    assert expected == pytest.approx(mean, abs=0.02)
    no_penalty = stock_pomdp(model, 0.1, 0.2, BatchSettings(extinction_penalty=0))
    np.testing.assert_allclose(no_penalty.R[0], 0.0)


@pytest.mark.parametrize("sigma_g", [0.2, 0.001])
def test_the_reward_score_is_the_rules_exact_discounted_value(sigma_g):
    """At σm = 0 a rule sees the stock, so its expected reward over the infinite horizon is the
    Markov chain's Σ_k γ^(k+1) (P^k r)[x0] = γ [(I − γP)⁻¹ r][x0] (the first year is weighted γ,
    as the NPV). With almost no process noise the chain is deterministic and the check is exact
    to rounding."""
    settings = BatchSettings(sigma_ms=(0.0,), n_grid=31, replicates=4000, years=40)
    model = Logistic(0.6, 0.8)
    pomdp = stock_pomdp(model, sigma_g, 0.0, settings)
    grids = make_grids(model, settings.n_grid, upper=settings.upper)
    rule = reference_rules(model, settings.discount, "harvest_first", settings.upper)["MSY"]
    table = rule.action_table(grids)
    x0 = 4
    u = common_uniforms(3, settings.replicates, settings.years)
    outcome = {name: rollouts(pomdp, table, u, x0) for name in ("CE", "MSY", "TAC", "POMDP")}
    agents = dict.fromkeys(outcome, table)
    reward = scores(pomdp, grids, agents, outcome, settings, model.K)["reward"][1]
    states = np.arange(pomdp.n_states)
    chain = pomdp.dense_transitions()[table, states]  # (S, S) at a = table[s]
    r = pomdp.R[states, table]
    gamma = settings.discount
    exact = gamma * np.linalg.solve(np.eye(pomdp.n_states) - gamma * chain, r)[x0]
    se = reward.std(ddof=1) / np.sqrt(reward.size)
    assert abs(reward.mean() - exact) <= 4 * se + 1e-9 * abs(exact)
    if sigma_g > 0.1:
        assert reward.mean() < -100  # the penalty counts: the noisy stock goes extinct


def test_the_pomdp_is_compared_with_the_rule_of_highest_mean():
    reward = np.array([[1.0, 3.0], [5.0, 1.0], [2.0, 2.0], [4.0, 3.0]])  # CE, MSY, TAC, POMDP
    assert pomdp_minus_best_rule(reward) == pytest.approx((0.5, 1.5))  # vs MSY: (-1, 2)


def test_a_stock_gives_the_same_numbers_alone_or_in_a_batch(fast_tasks, tmp_path):
    alone = solve_stock(fast_tasks["stock-002"])
    together = run_batch(fast_tasks, FAST, tmp_path / "b.nc").dataset
    assert_same(alone, together.sel(stock=[2]))
    assert np.all(together["lower_bound"] <= together["upper_bound"])
    assert set(together["stop_reason"].values.ravel()) == {"iteration limit"}
    assert not (tmp_path / "b.nc.partial").exists()
    written = results.read(tmp_path / "b.nc")
    assert json.loads(written.attrs["failed_stocks"]) == {}


def test_the_ce_rule_uses_the_closed_form_escapement_target(fast_tasks, monkeypatch):
    """For logistic growth after harvest, g'(S*) = 1/γ gives S* = K (1 + r − 1/γ) / (2r)."""
    task = fast_tasks["stock-001"]
    fitted = fit_stock(task)
    r, K, gamma = fitted["r"], fitted["K"], FAST.discount
    s_star = K * (1 + r - 1 / gamma) / (2 * r)
    tables = []

    def spy(pomdp, policy, u, start):
        if isinstance(policy, np.ndarray):
            tables.append(policy)
        return rollouts(pomdp, policy, u, start)

    rollouts = stock.rollouts
    monkeypatch.setattr(stock, "rollouts", spy)
    solve_stock(task)
    grids = make_grids(Logistic(r, K), FAST.n_grid, upper=FAST.upper)
    ce = grids.snap_action(np.maximum(grids.observations - s_star, 0))
    np.testing.assert_array_equal(tables[0], ce)  # CE comes first in POLICIES


def assert_same(a: xr.Dataset, b: xr.Dataset) -> None:
    """Equal in everything but the measured solve times and the creation time."""
    keep = [v for v in a.data_vars if v != "solve_time_s"]
    a, b = a[keep].copy(), b[keep].copy()
    a.attrs, b.attrs = {}, {}
    xr.testing.assert_identical(a, b)


class Interrupt:
    """Stands in for solve_stock: counts the stocks it solves, Ctrl-C on the ``stop_at``-th."""

    def __init__(self, stop_at: int | None = None):
        self.names, self.stop_at = [], stop_at

    def __call__(self, task):
        if self.stop_at is not None and len(self.names) + 1 == self.stop_at:
            raise KeyboardInterrupt
        self.names.append(task.name)
        return solve_stock(task)


def test_resume_redoes_nothing_that_finished(fast_tasks, tmp_path, monkeypatch):
    out = tmp_path / "study.nc"
    first = Interrupt(stop_at=3)
    monkeypatch.setattr(batch_run, "solve_stock", first)
    with pytest.raises(KeyboardInterrupt):
        run_batch(fast_tasks, FAST, out)
    assert not out.exists()
    kept = sorted(p.name for p in (tmp_path / "study.nc.partial").glob("*.nc"))
    assert kept == ["stock-001.nc", "stock-002.nc"]
    with pytest.raises(UsageError, match="--resume"):
        run_batch(fast_tasks, FAST, out)
    other = dataclasses.replace(FAST, replicates=10)
    with pytest.raises(UsageError, match="replicates"):
        run_batch(fast_tasks, other, out, resume=True)
    second = Interrupt()
    monkeypatch.setattr(batch_run, "solve_stock", second)
    resumed = run_batch(fast_tasks, FAST, out, resume=True)
    assert second.names == ["stock-004"]
    assert resumed.reused == ["stock-001", "stock-002"] and resumed.computed == ["stock-004"]
    uninterrupted = run_batch(fast_tasks, FAST, tmp_path / "whole.nc").dataset
    assert_same(results.read(out), uninterrupted)


def failing_for_stock_2(task):
    if task.index == 2:
        raise RuntimeError("solver blew up")
    return solve_stock(task)


def test_a_failing_stock_is_named_and_the_others_are_kept(fast_tasks, tmp_path, monkeypatch):
    out = tmp_path / "study.nc"
    monkeypatch.setattr(batch_run, "solve_stock", failing_for_stock_2)
    outcome = run_batch(fast_tasks, FAST, out)
    assert list(outcome.failures) == ["stock-002"]
    assert "RuntimeError: solver blew up" in outcome.failures["stock-002"]
    assert list(results.read(out)["stock"].values) == [1, 4]
    assert PartialStore(out, FAST, resume=True).finished() == {"stock-001", "stock-004"}
    retry = Interrupt()
    monkeypatch.setattr(batch_run, "solve_stock", retry)
    outcome = run_batch(fast_tasks, FAST, out, resume=True)
    assert retry.names == ["stock-002"] and not outcome.failures
    assert list(results.read(out)["stock"].values) == [1, 2, 4]


def test_a_callback_stops_the_batch_and_resume_finishes_it(fast_tasks, tmp_path):
    out = tmp_path / "study.nc"
    stopped = run_batch(fast_tasks, FAST, out, callback=lambda p: p.done == 1)
    assert stopped.stop_reason == "callback" and stopped.computed == ["stock-001"]
    assert list(results.read(out)["stock"].values) == [1]  # the finished stock, written
    resumed = run_batch(fast_tasks, FAST, out, resume=True)
    assert resumed.stop_reason == "iteration limit" and resumed.reused == ["stock-001"]
    assert list(results.read(out)["stock"].values) == [1, 2, 4]
    assert not (tmp_path / "study.nc.partial").exists()


def _spawn(*args: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "dask", *args, "--host", "127.0.0.1", "--no-dashboard"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture
def loopback_cluster(tmp_path):
    """A dask scheduler and two one-thread worker processes, started with the dask CLI as on
    a real cluster (see docs/scale.md), on loopback; yields a client and ``{address: process}``."""
    from distributed import Client

    file = str(tmp_path / "scheduler.json")
    processes = [_spawn("scheduler", "--port", "0", "--scheduler-file", file)]
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(file) and time.monotonic() < deadline:
            time.sleep(0.1)
        for name in ("w1", "w2"):
            worker = ("worker", "--scheduler-file", file, "--nthreads", "1", "--no-nanny")
            processes.append(_spawn(*worker, "--name", name))
        client = Client(scheduler_file=file, timeout=60, set_as_default=False)
        client.wait_for_workers(2, timeout=60)
        pids = client.run(os.getpid)
        workers = {a: next(p for p in processes if p.pid == pid) for a, pid in pids.items()}
        yield client, workers
        client.close()
    finally:
        for process in processes:
            process.kill()
            process.wait()


def test_a_batch_on_dask_survives_a_killed_worker_with_the_serial_numbers(
    loopback_cluster, ram_dir, tmp_path
):
    client, workers = loopback_cluster
    stocks = ["1", "2", "4", "5", "6", "7"]
    out = tmp_path / "dask.nc"
    command = [
        sys.executable, "-m", "decide", "fisheries", "batch", "--data-dir", str(ram_dir),
        "--stocks", *stocks, "--grid", "31", "--max-iterations", "30", "--time-limit", "600",
        "--replicates", "200", "--out", str(out), "--quiet",
        "--scheduler", client.scheduler.address,
    ]  # fmt: skip
    cli = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim = None
    while victim is None and cli.poll() is None:
        busy = [address for address, keys in client.processing().items() if keys]
        if busy:
            victim = workers[busy[0]]
            victim.kill()
        time.sleep(0.05)
    stdout, stderr = cli.communicate(timeout=600)
    assert cli.returncode == 0, stderr
    assert victim is not None and victim.wait(timeout=10) != 0  # killed mid-run
    assert len(client.scheduler_info()["workers"]) == 1
    assert "6 solved now" in stdout
    serial = run_batch(ram_tasks(ram_dir, FAST, stocks)[0], FAST, tmp_path / "serial.nc")
    assert_same(results.read(out), serial.dataset)


def test_ctrl_c_keeps_finished_stocks_and_resume_completes_the_batch(ram_dir, tmp_path):
    """Enough replicates that each stock after the first takes seconds, so that the interrupt
    lands mid-batch however fast the machine."""
    out = tmp_path / "study.nc"
    command = [
        sys.executable, "-m", "decide", "fisheries", "batch", "--data-dir", str(ram_dir),
        "--stocks", *FEW, "--grid", "31", "--max-iterations", "30", "--time-limit", "600",
        "--replicates", "50000", "--out", str(out), "--quiet",
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as at a terminal
    )
    first = tmp_path / "study.nc.partial" / "stock-001.nc"
    while not first.exists() and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130 and "--resume" in stderr and "Traceback" not in stderr
    assert not out.exists() and first.exists()
    resumed = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    solved, reused = map(
        int, re.search(r"(\d+) solved now, (\d+) resumed", resumed.stdout).groups()
    )
    assert reused >= 1 and solved + reused == 3
    assert list(results.read(out)["stock"].values) == [1, 2, 4]


def test_cli_help_and_bad_input(capsys, tmp_path):
    from decide.cli import main

    with pytest.raises(SystemExit):
        main(["fisheries", "batch", "--help"])
    text = capsys.readouterr().out
    for option in ("--sigma-m", "--stocks", "--fit", "--max-iterations", "--resume", "--scheduler"):
        assert option in text
    assert "(default: 0.99)" in text and "(default: [0.05, 0.1, 0.2])" in text
    argv = ["fisheries", "batch", "--data-dir", str(tmp_path), "--out", str(tmp_path / "o.nc")]
    status = main(argv)
    assert status == 2 and "ram_v3_ssb_tc_211stocks.csv" in capsys.readouterr().err


def test_ctrl_c_during_a_solve_leaves_the_stock_unfinished(fast_tasks, tmp_path, monkeypatch):
    """The solver takes Ctrl-C as "stop and keep the best policy"; in a batch that would store a
    cut-short solve as finished and carry on, so the stock must be abandoned instead."""
    from decide.pomdp.pointbased import solver as pointbased

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    pointbased.compile_kernels()  # the warm-up is not what this test interrupts
    monkeypatch.setattr(pointbased, "run_trials", ctrl_c)  # Ctrl-C inside a solve's trials
    with pytest.raises(KeyboardInterrupt):
        run_batch(fast_tasks, FAST, tmp_path / "study.nc")
    assert PartialStore(tmp_path / "study.nc", FAST, resume=True).finished() == set()


def test_the_policy_is_worth_each_rule_after_any_first_survey(fast_tasks, monkeypatch):
    """Started from the rules (as the batch starts every solve), the policy after one trial is
    worth at least every rule at the belief after each first survey; from the blind policies
    alone it is not."""
    task = fast_tasks["stock-004"]
    fitted = fit_stock(task)
    model = Logistic(r=fitted["r"], K=fitted["K"])
    pomdp = stock_pomdp(model, min(fitted["sigma_g"], FAST.sigma_g_cap), 0.1, FAST)
    grids = make_grids(model, FAST.n_grid, upper=FAST.upper)
    rules = reference_rules(model, FAST.discount, ORDER, FAST.upper).values()
    tables = [rule.action_table(grids) for rule in rules]
    solver = PointBased(max_iterations=1, time_limit=600)
    warm, cold = solver.solve(pomdp, warm_start=tables).policy, solver.solve(pomdp).policy
    beliefs = [update_belief(pomdp, pomdp.b0, 0, o) for o in range(pomdp.n_observations)]
    shortfall = {"warm": 0.0, "cold": 0.0}
    for table in tables:
        rule = reactive_vectors(pomdp, table)
        for o, b in enumerate(beliefs):
            value = b @ rule.alpha[rule.child[o]]
            shortfall["warm"] = max(shortfall["warm"], value - warm.value(b))
            shortfall["cold"] = max(shortfall["cold"], value - cold.value(b))
    assert shortfall["warm"] <= 1e-9 and shortfall["cold"] > 1.0
    started, solve = [], PointBased.solve

    def spy(self, p, **options):
        started.append(options["warm_start"])
        return solve(self, p, **options)

    monkeypatch.setattr(PointBased, "solve", spy)
    solve_stock(task)
    assert len(started) == len(FAST.sigma_ms)
    for given, table in zip(started[0], tables, strict=True):
        np.testing.assert_array_equal(given, table)
