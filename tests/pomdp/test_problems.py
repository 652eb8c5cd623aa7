"""Built-in generators against the distributed files (Cassandra's Tiger, ZMDP's RockSample)."""

import math

import numpy as np
import pytest
from dense import dense

from decide.errors import ModelError, UsageError
from decide.pomdp.cassandra import read_pomdp
from decide.pomdp.problems import BUILTIN, builtin_problem, rock_sample, tiger


def assert_same_model(generated, parsed):
    assert generated.states == parsed.states
    assert generated.actions == parsed.actions
    assert generated.observations == parsed.observations
    assert generated.discount == parsed.discount
    for name in ("T", "Z", "R", "b0"):
        np.testing.assert_allclose(dense(generated, name), dense(parsed, name), rtol=0, atol=1e-12)


def test_tiger_equals_cassandra_file(shared_file):
    assert_same_model(tiger(), read_pomdp(shared_file("pomdp/Tiger.pomdp")))


def test_tiger_by_hand():
    model = tiger(noise=0.2, discount=0.9)
    assert model.dense_observations()[0].tolist() == [[0.8, 0.2], [0.2, 0.8]]
    assert model.R.tolist() == [[-1, -100, 10], [-1, 10, -100]]
    assert np.all(model.dense_transitions()[1:] == 0.5) and np.all(
        model.dense_observations()[1:] == 0.5
    )
    with pytest.raises(ModelError, match="noise"):
        tiger(noise=1.5)


@pytest.mark.parametrize(("n", "k"), [(4, 4), (5, 5)])
def test_rock_sample_equals_zmdp_file(shared_file, n, k):
    parsed = read_pomdp(shared_file(f"pomdp/RockSample_{n}_{k}.pomdp"))
    assert_same_model(rock_sample(n, k), parsed)


@pytest.mark.parametrize(("n", "k"), [(4, 4), (5, 5)])
def test_unrounded_sensor_within_file_precision(shared_file, n, k):
    parsed = read_pomdp(shared_file(f"pomdp/RockSample_{n}_{k}.pomdp"))
    exact = rock_sample(n, k, decimals=None)
    assert np.abs(exact.dense_observations() - parsed.dense_observations()).max() <= 5e-7
    assert np.array_equal(exact.dense_transitions(), parsed.dense_transitions()) and np.array_equal(
        exact.R, parsed.R
    )


def eta_of(x, y, rx, ry, d0=4.0):
    """Sensor efficiency 2^(-d/d0) of Smith & Simmons (2004)."""
    return 2.0 ** (-math.hypot(x - rx, y - ry) / d0)


def test_rock_sample_conventions_by_hand():
    model = rock_sample(5, 5, decimals=None)  # rocks (2,4) (0,4) (3,3) (2,2) (4,1), d0 = 4
    index = {label: i for i, label in enumerate(model.states)}
    action = {label: i for i, label in enumerate(model.actions)}
    s = index["s0210110"]  # x=0, y=2; rocks 0, 2 and 3 good
    eta0, eta1 = eta_of(0, 2, 2, 4), eta_of(0, 2, 0, 4)
    assert model.dense_observations()[action["ac0"], s].tolist() == pytest.approx(
        [(1 + eta0) / 2, (1 - eta0) / 2]
    )
    assert model.dense_observations()[action["ac1"], s].tolist() == pytest.approx(
        [(1 - eta1) / 2, (1 + eta1) / 2]
    )
    assert model.dense_observations()[action["amn"], s].tolist() == [1.0, 0.0]
    assert model.dense_transitions()[action["amn"], s, index["s0310110"]] == 1.0
    assert (
        model.dense_transitions()[action["amw"], s, index["st"]] == 1.0
        and model.R[s, action["amw"]] == -100
    )
    on_rock = index["s2210110"]  # rock 3 at (2,2), good: sampling pays 10 and spoils it
    assert model.dense_transitions()[action["as"], on_rock, index["s2210100"]] == 1.0
    assert model.R[on_rock, action["as"]] == 10
    east_edge = index["s4010110"]
    assert model.dense_transitions()[action["ame"], east_edge, index["st"]] == 1.0
    assert model.R[east_edge, action["ame"]] == 10
    assert model.b0[index["s0200000"] : index["s0211111"] + 1].tolist() == [1 / 32] * 32


def test_rock_sample_custom_instance():
    model = rock_sample(3, 1, rock_positions=[(1, 1)], start=(0, 0), half_efficiency_distance=2)
    assert model.n_states == 3 * 3 * 2 + 1 and model.n_actions == 6
    assert model.states[:2] == ("s000", "s001") and model.b0[:2].tolist() == [0.5, 0.5]
    with pytest.raises(UsageError, match="rock_positions"):
        rock_sample(6, 3)
    with pytest.raises(ModelError, match="rock_positions"):
        rock_sample(3, 1, rock_positions=[(3, 0)])
    with pytest.raises(ModelError, match="start"):
        rock_sample(3, 1, rock_positions=[(1, 1)], start=(0, 5))


def test_builtin_names():
    assert builtin_problem("tiger").name == "Tiger"
    assert builtin_problem("RockSample_4_4").n_states == 257
    assert {"tiger", "rocksample-4-4", "rocksample-7-8"} <= set(BUILTIN)
    with pytest.raises(UsageError, match="rocksample-5-5"):
        builtin_problem("rocksample-9-9")


def test_too_large_for_dense_arrays_is_a_usage_error():
    with pytest.raises(UsageError, match="12545 states"):
        builtin_problem("rocksample-7-8")
