import pytest

import decide
from decide.errors import UsageError


def test_every_export_resolves():
    for name in decide.__all__:
        assert getattr(decide, name) is not None
    with pytest.raises(AttributeError):
        decide.no_such_thing  # noqa: B018


def test_solve_dispatches_by_name_and_rejects_unknown_options():
    result = decide.solve(decide.tiger(), method="pointbased", max_iterations=5000)
    assert result.stop_reason == "converged"  # at 192 trials when measured
    assert result.lower_bound == pytest.approx(19.3711, abs=1e-3)
    with pytest.raises(TypeError, match="time_limt"):
        decide.solve(decide.tiger(), time_limt=1.0)
    with pytest.raises(UsageError, match="pointbased"):
        decide.solve(decide.tiger(), method="sarsop")


def test_load_problem_reads_files_and_builtins(shared_file):
    assert decide.load_problem(shared_file("pomdp/Tiger.pomdp")).n_states == 2
    assert decide.load_problem("rocksample-4-4").n_states == 257
    with pytest.raises(UsageError, match="tiger"):
        decide.load_problem("tigre")
