"""Built-in generators against the distributed files (Cassandra's Tiger, ZMDP's RockSample)."""

import math

import numpy as np
import pytest
from dense import dense

from decide.errors import ModelError, UsageError
from decide.pomdp.cassandra import read_pomdp
from decide.pomdp.model import TabularPOMDP
from decide.pomdp.problems import (
    BUILTIN,
    ROCKSAMPLE_INSTANCES,
    builtin_problem,
    rock_sample,
    tiger,
)


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
    assert builtin_problem("rocksample-7-8").n_states == 12545
    assert {"tiger", "rocksample-4-4", "rocksample-7-8", "rocksample-11-11"} <= set(BUILTIN)
    with pytest.raises(UsageError, match="rocksample-5-5"):
        builtin_problem("rocksample-9-9")


REFERENCE_CASES = {
    "4x4": dict(n=4, k=4),
    "5x5": dict(n=5, k=5),
    "5x5-exact": dict(n=5, k=5, decimals=None),
    "no-rocks": dict(n=3, k=0, rock_positions=[]),
    "one-cell": dict(n=1, k=1, rock_positions=[(0, 0)]),
    "shared-cell": dict(n=3, k=3, rock_positions=[(1, 1), (2, 0), (1, 1)], start=(1, 1)),
    "edges": dict(
        n=6, k=3, rock_positions=[(5, 5), (0, 0), (5, 0)], half_efficiency_distance=0.7, decimals=3
    ),
    "two-digit-cells": dict(n=12, k=2, rock_positions=[(11, 3), (0, 10)], start=(11, 11)),
}


@pytest.mark.parametrize("case", REFERENCE_CASES.values(), ids=REFERENCE_CASES.keys())
def test_rock_sample_equals_dense_reference(case):
    model = rock_sample(**case)
    n, k = case["n"], case["k"]
    instance = ROCKSAMPLE_INSTANCES.get((n, k))
    rocks = case.get("rock_positions", instance and instance.rocks)
    start = case.get("start", instance.start if instance else (0, n // 2))
    d0 = case.get("half_efficiency_distance", instance.half_efficiency_distance if instance else 20)
    reference = _dense_reference(n, k, rocks, start, d0, case.get("decimals", 6))
    assert np.array_equal(model.dense_transitions(), reference["T"])
    assert np.array_equal(model.dense_observations(), reference["Z"])
    for name in ("R", "b0", "states"):
        assert np.array_equal(getattr(model, name), reference[name]), name
    from_dense = TabularPOMDP(
        T=reference["T"], Z=reference["Z"], R=reference["R"], discount=0.95, b0=reference["b0"]
    )
    for rows in ("T_rows", "Z_rows"):
        ours, theirs = getattr(model, rows), getattr(from_dense, rows)
        for part in ("data", "indices", "indptr"):
            a, b = getattr(ours, part), getattr(theirs, part)
            assert a.dtype == b.dtype and np.array_equal(a, b), (rows, part)


def test_rock_sample_11_11_is_built_sparse():
    model = builtin_problem("rocksample-11-11")
    S, A = 11 * 11 * 2**11 + 1, 16
    assert (model.n_states, model.n_actions, model.n_observations) == (S, A, 2)
    assert model.T_rows.shape == (A * S, S) and model.T_rows.nnz == A * S
    assert model.Z_rows.shape == (A * S, 2) and model.nbytes < 250e6
    index = {label: i for i, label in enumerate(model.states)}
    action = {label: i for i, label in enumerate(model.actions)}
    assert model.states[-1] == "st" and len(index) == S
    start = index["s0_5_00000000000"]
    assert np.array_equal(np.flatnonzero(model.b0), np.arange(start, start + 2**11))
    on_rock = index["s2_4_00010000000"]  # rock 3 sits at (2, 4) and is good
    sample = action["as"] * S + on_rock
    assert model.T_rows[[sample]].indices.tolist() == [index["s2_4_00000000000"]]
    assert model.R[on_rock, action["as"]] == 10
    check = model.Z_rows[[action["ac3"] * S + on_rock]].toarray().ravel()
    assert check.tolist() == [1.0, 0.0]  # on the rock the sensor is exact


def test_too_large_is_a_usage_error():
    with pytest.raises(UsageError, match="3211265 states"):
        rock_sample(14, 14, rock_positions=[(0, i) for i in range(14)])


# Today's dense construction (before rock_sample built sparse rows), kept as the reference.
_MOVES = ((0, 1), (1, 0), (0, -1), (-1, 0))


def _dense_reference(n, k, rocks, start, d0, decimals):
    """T (A, S, S), Z (A, S, 2), R (S, A), b0 and state labels, built densely."""
    rocks = np.array(rocks, dtype=np.int64).reshape(-1, 2)
    S, A = n * n * 2**k + 1, k + 5
    T, Z, R = np.zeros((A, S, S)), np.zeros((A, S, 2)), np.zeros((S, A))
    _reference_dynamics(T, R, n, k, rocks)
    _reference_observations(Z, n, k, rocks, d0, decimals)
    b0 = np.zeros(S)
    b0[(start[0] * n + start[1]) * 2**k : (start[0] * n + start[1] + 1) * 2**k] = 1.0 / 2**k
    return {"T": T, "Z": Z, "R": R, "b0": b0, "states": _reference_labels(n, k)}


def _reference_grid(n, k):
    index = np.arange(n * n * 2**k)
    cell, bits = np.divmod(index, 2**k)
    x, y = np.divmod(cell, n)
    return x, y, bits


def _reference_dynamics(T, R, n, k, rocks):
    x, y, bits = _reference_grid(n, k)
    s = np.arange(x.size)
    terminal = T.shape[1] - 1
    for a, (dx, dy) in enumerate(_MOVES):
        xp, yp = x + dx, y + dy
        exits = xp >= n
        illegal = ~exits & ((xp < 0) | (yp < 0) | (yp >= n))
        target = np.where(exits | illegal, terminal, (xp * n + yp) * 2**k + bits)
        T[a, s, target] = 1.0
        R[s, a] = np.where(exits, 10.0, np.where(illegal, -100.0, 0.0))
    for i in range(k):
        T[4 + i, s, s] = 1.0
    sample = 4 + k
    rock_at = np.full((n, n), -1)
    for i in reversed(range(k)):
        rock_at[rocks[i, 0], rocks[i, 1]] = i
    rock = rock_at[x, y]
    on_rock = rock >= 0
    mask = np.where(on_rock, 1 << np.where(on_rock, k - 1 - rock, 0), 0)
    good = (bits & mask) != 0
    T[sample, s, np.where(on_rock, s - (bits & mask), terminal)] = 1.0
    R[s, sample] = np.where(on_rock, np.where(good, 10.0, -10.0), -100.0)
    T[:, terminal, terminal] = 1.0


def _reference_observations(Z, n, k, rocks, d0, decimals):
    Z[:, :, 0] = 1.0
    x, y, bits = _reference_grid(n, k)
    s = np.arange(x.size)
    for i in range(k):
        distance = np.hypot(x - rocks[i, 0], y - rocks[i, 1])
        efficiency = np.exp(-distance * math.log(2.0) / d0)
        good = ((bits >> (k - 1 - i)) & 1).astype(np.float64)
        positive = efficiency * good + (1.0 - efficiency) * 0.5
        negative = 1.0 - positive
        Z[4 + i, s, 0] = _reference_round(positive, decimals)
        Z[4 + i, s, 1] = _reference_round(negative, decimals)


def _reference_round(values, decimals):
    if decimals is None:
        return values
    unique, inverse = np.unique(values, return_inverse=True)
    rounded = np.array([float(f"{v:.{decimals}f}") for v in unique])
    return rounded[inverse]


def _reference_labels(n, k):
    sep = "" if n <= 10 else "_"
    labels = [
        f"s{x}{sep}{y}{sep}{r:0{k}b}" if k else f"s{x}{sep}{y}"
        for x in range(n)
        for y in range(n)
        for r in range(2**k)
    ]
    return (*labels, "st")
