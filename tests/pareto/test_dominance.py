"""Pareto dominance against an O(n²) brute force and against lower-dimensional reductions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from decide.errors import ModelError
from decide.pareto.dominance import _non_dominated_sweep, dominates, non_dominated


def brute_non_dominated(F: np.ndarray) -> np.ndarray:
    keep = np.ones(len(F), dtype=bool)
    for i in range(len(F)):
        for j in range(len(F)):
            if np.all(F[j] <= F[i]) and np.any(F[j] < F[i]):
                keep[i] = False
    return keep


def objective_arrays(m: int, max_n: int = 40):
    # Small integers give many ties and duplicate rows; floats give general position.
    values = st.one_of(
        st.integers(0, 3).map(float), st.floats(-10, 10, allow_nan=False, allow_subnormal=False)
    )
    shape = st.tuples(st.integers(0, max_n), st.just(m))
    return hnp.arrays(np.float64, shape, elements=values)


@pytest.mark.parametrize("m", [2, 3, 4])
@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_matches_brute_force(m, data):
    F = data.draw(objective_arrays(m))
    np.testing.assert_array_equal(non_dominated(F), brute_non_dominated(F))


@settings(max_examples=60, deadline=None)
@given(objective_arrays(3))
def test_block_sweep_matches_brute_force_in_three_objectives(F):
    np.testing.assert_array_equal(_non_dominated_sweep(F), brute_non_dominated(F))


def test_dominates():
    assert dominates([1, 2], [1, 3])
    assert dominates([0, 0, 0], [1, 1, 1])
    assert not dominates([1, 2], [1, 2])  # equal points
    assert not dominates([1, 3], [2, 2])  # incomparable
    assert not dominates([2, 2], [1, 3])
    with pytest.raises(ModelError):
        dominates([1, 2], [1, 2, 3])


def test_duplicates_are_kept_together():
    F = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 4.0], [0.0, 5.0, 5.0]])
    assert non_dominated(F).tolist() == [True, True, False, True]
    assert non_dominated(F[:, :2]).tolist() == [True, True, True, True]
    assert non_dominated(F[:, :1]).tolist() == [False, False, False, True]


def test_large_sets_reduce_to_fewer_objectives():
    # A constant extra objective changes nothing, which pits each method against the one below.
    rng = np.random.default_rng(5)
    F = rng.integers(0, 200, size=(20000, 3)).astype(float)
    mask2 = non_dominated(F[:, :2])
    mask3 = non_dominated(np.column_stack([F[:, :2], np.zeros(len(F))]))
    np.testing.assert_array_equal(mask3, mask2)
    mask3 = non_dominated(F)
    mask4 = non_dominated(np.column_stack([F, np.ones(len(F))]))
    np.testing.assert_array_equal(mask4, mask3)


def test_points_on_a_simplex_are_all_non_dominated():
    rng = np.random.default_rng(6)
    F = rng.random((100_000, 3))
    F /= F.sum(axis=1, keepdims=True)  # the plane f1 + f2 + f3 = 1: mutually incomparable
    F = np.vstack([F, F[:10] + 0.01])  # ten points each dominated by its original
    mask = non_dominated(F)
    assert mask[:100_000].all() and not mask[100_000:].any()


def test_bad_input_raises():
    with pytest.raises(ModelError, match="NaN"):
        non_dominated([[0.0, np.nan]])
    with pytest.raises(ModelError, match="shape"):
        non_dominated([1.0, 2.0])
    assert non_dominated(np.zeros((0, 3))).shape == (0,)
