"""Indicators against brute force, inclusion–exclusion, closed forms and pymoo."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from required import require_module

from decide.errors import ModelError
from decide.pareto.indicators import hausdorff, hypervolume, igd


def point_sets(d: int, min_n: int = 1, max_n: int = 12):
    coords = st.floats(-5, 5, allow_nan=False, allow_subnormal=False)
    return hnp.arrays(np.float64, st.tuples(st.integers(min_n, max_n), st.just(d)), elements=coords)


def objective_sets(m: int, max_n: int):
    # Quarter steps in [0, 2] give ties with each other and with the reference point 1.5.
    values = st.one_of(st.integers(0, 8).map(lambda k: k / 4), st.floats(0, 2))
    return hnp.arrays(np.float64, st.tuples(st.integers(0, max_n), st.just(m)), elements=values)


def inclusion_exclusion(F: np.ndarray, r: np.ndarray) -> float:
    total = 0.0
    for size in range(1, len(F) + 1):
        for subset in itertools.combinations(range(len(F)), size):
            corner = F[list(subset)].max(axis=0)
            total += (-1) ** (size + 1) * np.prod(np.clip(r - corner, 0, None))
    return float(total)


def grid_count(F: np.ndarray, r: np.ndarray) -> float:
    """Sum the cells of the coordinate-compressed grid whose lower corner some row dominates."""
    F = F[np.less(F, r).all(axis=1)]
    if len(F) == 0:
        return 0.0
    axes = [np.append(np.unique(F[:, j]), r[j]) for j in range(F.shape[1])]
    corners = np.stack(np.meshgrid(*[a[:-1] for a in axes], indexing="ij"), axis=-1)
    sizes = np.meshgrid(*[np.diff(a) for a in axes], indexing="ij")
    covered = np.any(np.all(F[:, None, :] <= corners.reshape(1, -1, F.shape[1]), axis=2), axis=0)
    return float(np.sum(np.prod(sizes, axis=0).reshape(-1)[covered]))


@pytest.mark.parametrize("m", [2, 3])
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_hypervolume_matches_inclusion_exclusion(m, data):
    F = data.draw(objective_sets(m, max_n=8))
    r = np.full(m, 1.5)
    assert hypervolume(F, r) == pytest.approx(inclusion_exclusion(F, r), abs=1e-12)


@pytest.mark.parametrize("m", [2, 3])
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_hypervolume_matches_grid_count(m, data):
    F = data.draw(objective_sets(m, max_n=30))
    r = np.array([1.5, 1.75, 2.0][:m])
    assert hypervolume(F, r) == pytest.approx(grid_count(F, r), abs=1e-12)


@pytest.mark.parametrize("m", [2, 3])
def test_hypervolume_matches_pymoo(m):
    hv = require_module("pymoo.indicators.hv")
    rng = np.random.default_rng(m)
    F = rng.random((400, m))
    F /= np.linalg.norm(F, axis=1, keepdims=True)
    r = np.full(m, 1.1)
    assert hypervolume(F, r) == pytest.approx(hv.HV(ref_point=r)(F), rel=1e-12)


def test_single_point_gives_the_product_of_its_extents():
    assert hypervolume([[0.25, 0.5]], [1.0, 1.0]) == pytest.approx(0.75 * 0.5)
    assert hypervolume([[0.25, 0.5, -1.0]], [1.0, 1.0, 1.0]) == pytest.approx(0.75 * 0.5 * 2.0)
    assert hypervolume([[3.0]], [5.0]) == pytest.approx(2.0)


def test_dominated_and_outside_points_change_nothing():
    F = np.array([[0.1, 0.7, 0.4], [0.5, 0.2, 0.3], [0.8, 0.6, 0.1]])
    base = hypervolume(F, [1.0, 1.0, 1.0])
    extra = np.array([[0.6, 0.7, 0.5], [0.1, 0.7, 0.4], [0.0, 1.0, 0.0], [-1.0, -1.0, 1.5]])
    assert hypervolume(np.vstack([F, extra]), [1.0, 1.0, 1.0]) == pytest.approx(base, abs=1e-15)
    assert hypervolume(np.zeros((0, 2)), [1.0, 1.0]) == 0.0


def test_zdt1_front_tends_to_two_thirds():
    # The region dominated by f2 = 1 - sqrt(f1) under (1, 1) has area ∫0^1 sqrt(x) dx = 2/3; a
    # staircase of n points with spacing h misses less than h (the front drops by 1 in total).
    for n in (101, 10_001):
        f1 = np.linspace(0.0, 1.0, n)
        value = hypervolume(np.column_stack([f1, 1.0 - np.sqrt(f1)]), [1.0, 1.0])
        assert 2 / 3 - 1 / (n - 1) < value <= 2 / 3


def test_simplex_front_tends_to_five_sixths():
    # Above the plane f1 + f2 + f3 = 1 the unit cube has volume 5/6. Grid points (i, j, N-i-j)/N
    # dominate everything with f1 + f2 + f3 ≥ 1 + 2/N, so at most a slab of volume < 1/N is missed.
    N = 60
    i, j = np.meshgrid(np.arange(N + 1), np.arange(N + 1), indexing="ij")
    keep = i + j <= N
    F = np.column_stack([i[keep], j[keep], N - i[keep] - j[keep]]) / N
    value = hypervolume(F, [1.0, 1.0, 1.0])
    assert 5 / 6 - 1 / N < value <= 5 / 6


def test_hypervolume_three_objectives_of_5000_points():
    rng = np.random.default_rng(9)
    F = rng.random((5000, 3))
    F /= np.linalg.norm(F, axis=1, keepdims=True)
    # A constant third objective reduces to the two-objective sweep times the slab height.
    flat = np.column_stack([F[:, :2], np.zeros(len(F))])
    assert hypervolume(flat, [1.0, 1.0, 0.5]) == pytest.approx(
        0.5 * hypervolume(F[:, :2], [1.0, 1.0]), rel=1e-12
    )


def test_hypervolume_bad_input():
    with pytest.raises(ModelError, match="m ≤ 3"):
        hypervolume(np.zeros((2, 4)), np.ones(4))
    with pytest.raises(ModelError, match="reference_point"):
        hypervolume(np.zeros((2, 2)), np.ones(3))
    with pytest.raises(ModelError, match="NaN"):
        hypervolume([[np.nan, 0.0]], [1.0, 1.0])


def brute_hausdorff(A: np.ndarray, B: np.ndarray) -> float:
    D = np.sqrt(((A[:, None, :] - B[None, :, :]) ** 2).sum(axis=2))
    return float(max(D.min(axis=1).max(), D.min(axis=0).max()))


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 3).flatmap(lambda d: st.tuples(point_sets(d), point_sets(d))))
def test_hausdorff_matches_brute_force(sets):
    A, B = sets
    assert hausdorff(A, B) == pytest.approx(brute_hausdorff(A, B), abs=1e-12)
    assert hausdorff(A, B) == hausdorff(B, A)
    assert hausdorff(A, A) == 0.0
    assert hausdorff(A, A[::-1]) == 0.0


def test_hausdorff_and_igd_closed_forms():
    assert hausdorff([[0.0, 0.0]], [[3.0, 4.0]]) == pytest.approx(5.0)
    assert hausdorff([[0.0], [1.0]], [[0.0], [3.0]]) == pytest.approx(2.0)
    assert igd([[0.0, 0.0]], [[3.0, 4.0], [0.0, 1.0]]) == pytest.approx(3.0)
    F = [[0.0, 0.0], [1.0, 0.0]]
    reference = [[0.0, 1.0], [1.0, 1.0], [2.0, 1.0]]
    assert igd(F, reference) == pytest.approx((2.0 + np.sqrt(2.0)) / 3.0)
    # A front sampled at spacing h, against a reference at the midpoints: every distance is h/2.
    x = np.linspace(0.0, 1.0, 11)
    front = np.column_stack([x, 1.0 - x])
    mid = (front[1:] + front[:-1]) / 2
    assert igd(front, mid) == pytest.approx(np.sqrt(2.0) * 0.1 / 2)
    assert igd(front, front) == 0.0


def test_indicator_bad_input():
    with pytest.raises(ModelError, match="non-empty"):
        hausdorff(np.zeros((0, 2)), np.zeros((1, 2)))
    with pytest.raises(ModelError, match="columns"):
        igd(np.zeros((2, 2)), np.zeros((2, 3)))
