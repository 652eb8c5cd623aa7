"""The command line end to end: real files, real output, one-line errors, nothing half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from decide import results
from decide.cli import main
from decide.pomdp import memory
from decide.pomdp.policy import AlphaVectorPolicy
from decide.pomdp.policyx import load_policy
from decide.pomdp.problems import rock_sample, tiger


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_help_shows_every_option_with_its_default(capsys):
    for command, options in {
        "solve": [
            "--time-limit",
            "--max-iterations",
            "--target-gap",
            "--out",
            "--policyx",
            "--quiet",
        ],
        "simulate": ["--replicates", "--steps", "--seed", "--agent-model", "--out"],
        "bounds": ["--belief"],
        "tune": ["--methods", "--length", "--trials", "--seed", "--nx", "--out", "--plot"],
    }.items():
        with pytest.raises(SystemExit) as exit_:
            main([command, "--help"])
        assert exit_.value.code == 0
        text = capsys.readouterr().out
        for option in options:
            assert option in text
        assert "default: " in text


def test_bounds_of_tiger_match_the_reference_table(capsys):
    status, out, _ = run(capsys, "bounds", "tiger")
    assert status == 0
    values = {line[:20].strip(): float(line[20:]) for line in out.splitlines()[1:]}
    assert values["blind lower bound"] == pytest.approx(-20.0, rel=1e-3)
    assert values["FIB upper bound"] == pytest.approx(87.18, rel=1e-3)
    assert values["QMDP upper bound"] == pytest.approx(189.0, rel=1e-3)


def test_solve_writes_policy_and_xml_that_agree(capsys, tmp_path):
    out = tmp_path / "tiger.nc"
    xml = tmp_path / "tiger.policyx"
    status, text, _ = run(
        capsys,
        "solve",
        "tiger",
        "--max-iterations",
        "5000",
        "--out",
        str(out),
        "--policyx",
        str(xml),
    )
    assert status == 0
    ds = results.read(out)
    policy = load_policy(out)
    value = float(np.max(ds["alpha_vector"].values @ tiger().b0))
    assert ds.attrs["lower_bound"] == pytest.approx(value, rel=1e-12)
    assert value == pytest.approx(19.3711, abs=1e-3)
    assert ds.attrs["upper_bound"] >= ds.attrs["lower_bound"]
    np.testing.assert_array_equal(load_policy(xml).alpha, policy.alpha)
    assert "lower bound at b0" in text and "action at b0" in text and "listen" in text
    assert "trials (converged)" in text  # the 1e-3 gap, long before the budget or the clock
    assert 10 < ds.attrs["peak_rss_mb"] < 10_000 and "peak memory" in text  # MB, not KiB or B


def test_simulate_prints_and_writes(capsys, tmp_path, shared_file):
    sarsop = shared_file("pomdp/sarsop-policies/Tiger.policy")
    out = tmp_path / "sim.nc"
    status, text, _ = run(
        capsys,
        "simulate",
        "tiger",
        str(sarsop),
        "--replicates",
        "2000",
        "--steps",
        "150",
        "--seed",
        "3",
        "--out",
        str(out),
    )
    assert status == 0
    ds = results.read(out)
    assert ds.sizes == {"replicate": 2000, "step": 150}
    mean, se = ds.attrs["mean_discounted_return"], ds.attrs["standard_error"]
    assert abs(mean - 19.3711) <= 3 * se
    assert f"{mean:.6g}" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bounds", "no-such.pomdp"], "no-such.pomdp"),
        (["bounds", "rocksample-x"], "tiger"),
        (["bounds", "tiger", "--belief", "0.5"], "--belief: 1 values"),
        (["simulate", "tiger", "missing.nc"], "missing.nc"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(capsys, argv, message):
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("decide: error:")
    assert message in err


def test_bad_pomdp_names_file_and_line(capsys, tmp_path):
    path = tmp_path / "bad.pomdp"
    path.write_text("discount: 0.9\nstates: 2\nactions: 1\nobservations: 1\nT: 0\n1 0\n0.5 x\n")
    status, _, err = run(capsys, "solve", str(path), "--out", str(tmp_path / "p.nc"))
    assert status == 2
    assert f"{path}:7: T: expected a number, got 'x'" in err
    assert not (tmp_path / "p.nc").exists()


def test_policy_of_another_model_is_rejected(capsys, tmp_path, shared_file):
    policy = shared_file("pomdp/sarsop-policies/TigerGrid.policy")
    status, _, err = run(capsys, "simulate", "tiger", str(policy), "--out", str(tmp_path / "x.nc"))
    assert status == 2 and "36 entries" in err
    assert list(tmp_path.iterdir()) == []


def test_missing_output_directory_is_refused_before_solving(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        main(["solve", "tiger", "--out", str(tmp_path / "nowhere" / "p.nc")])
    assert exit_.value.code == 2
    assert "does not exist" in capsys.readouterr().err


def test_ctrl_c_keeps_the_best_policy_so_far(tmp_path):
    """SIGINT during a long solve: the policy found so far is written and the exit is clean."""
    assert main(["solve", "tiger", "--max-iterations", "50", "--out", str(tmp_path / "t.nc")]) == 0
    out = tmp_path / "rs.nc"
    command = [sys.executable, "-m", "decide", "solve", "rocksample-5-5", "--time-limit", "120"]
    process = subprocess.Popen(
        [*command, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        # A test runner started in the background inherits SIGINT ignored; the user at a
        # terminal that this test plays has it delivered.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert "RockSample_5_5" in process.stdout.readline()
        time.sleep(4.0)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert "interrupted" in stdout and "Traceback" not in stderr
    ds = results.read(out)
    assert ds.attrs["solve_time_s"] < 60
    policy = AlphaVectorPolicy.from_dataset(ds)  # vectors over the rocks, per robot cell
    assert policy.mixed and ds["alpha_vector"].shape[1] == 2**5
    assert ds.attrs["lower_bound"] == pytest.approx(policy.value(rock_sample(5, 5).b0), rel=1e-12)


def test_a_solve_too_large_for_memory_stops_before_writing(tmp_path, monkeypatch, capsys):
    """The solver's estimate (bounds, vector store, workspace, belief pool) is checked first."""
    main(["solve", "tiger", "--max-iterations", "5", "--out", str(tmp_path / "warm.nc"), "--quiet"])
    monkeypatch.setattr(memory, "available_bytes", lambda: 2**20)
    out = tmp_path / "rs.nc"
    assert main(["solve", "rocksample-5-5", "--max-iterations", "5", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "point-based solver on RockSample_5_5" in err and "1 MiB are available" in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == [tmp_path / "warm.nc"]
