"""BoxSet against brute force over boxes and Python sets of key tuples.

Domains are dyadic (integer lower corner, power-of-two extents) and test points lie on a finer
dyadic grid, so every coordinate below is exact in floating point and points on faces are
tested exactly.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decide.errors import ModelError
from decide.pareto.boxes import BoxSet, _canonical, _lookup

FINE = 6  # test points lie on a grid 2**FINE times finer than the domain


@st.composite
def grids(draw, max_dim: int = 3, max_depth: int = 4, min_dim: int = 1):
    d = draw(st.integers(min_dim, max_dim))
    ints = st.lists(st.integers(-4, 4), min_size=d, max_size=d)
    lower = np.array(draw(ints), dtype=float)
    span = np.exp2(draw(st.lists(st.integers(-2, 2), min_size=d, max_size=d)))
    depth = np.array(draw(st.lists(st.integers(0, max_depth), min_size=d, max_size=d)))
    return lower, lower + span, depth


@st.composite
def box_sets(draw, max_dim: int = 3, max_depth: int = 4, min_dim: int = 1):
    lower, upper, depth = draw(grids(max_dim, max_depth, min_dim))
    key = st.tuples(*[st.integers(0, 2 ** int(k) - 1) for k in depth])
    keys = draw(st.lists(key, max_size=30))
    return BoxSet(lower, upper, depth, np.array(keys, dtype=np.int64).reshape(-1, len(depth)))


@st.composite
def box_sets_like(draw, boxes: BoxSet):
    key = st.tuples(*[st.integers(0, 2 ** int(k) - 1) for k in boxes.depth])
    keys = draw(st.lists(key, max_size=30))
    return boxes.like(np.array(keys, dtype=np.int64).reshape(-1, boxes.dim))


@st.composite
def dyadic_points(draw, boxes: BoxSet, max_n: int = 40):
    """Points on a grid finer than the boxes, including faces and a margin outside Q."""
    res = 2 ** (FINE + 4)
    ticks = st.lists(st.integers(-2, res + 2), min_size=boxes.dim, max_size=boxes.dim)
    k = np.array(draw(st.lists(ticks, min_size=1, max_size=max_n)), dtype=float)
    return boxes.lower + (boxes.upper - boxes.lower) * k / res


def brute_locate(boxes: BoxSet, points: np.ndarray) -> np.ndarray:
    """Loop over the boxes; a box is half-open except on the upper face of Q."""
    w = (boxes.upper - boxes.lower) / 2.0**boxes.depth
    last = 2**boxes.depth - 1
    found = np.full(len(points), -1)
    for p, x in enumerate(points):
        for i, k in enumerate(boxes.keys):
            lo, hi = boxes.lower + k * w, boxes.lower + (k + 1) * w
            upper_ok = (x < hi) | ((x == boxes.upper) & (k == last))
            if np.all(lo <= x) and np.all(upper_ok):
                found[p] = i
    return found


def as_set(boxes: BoxSet) -> set[tuple[int, ...]]:
    return {tuple(k) for k in boxes.keys.tolist()}


@settings(max_examples=60, deadline=None)
@given(grids(), st.data())
def test_cover_contains_its_points(grid, data):
    lower, upper, depth = grid
    u = data.draw(st.lists(st.floats(0, 1), min_size=len(lower) * 3, max_size=len(lower) * 30))
    u = np.array(u[: len(u) // len(lower) * len(lower)]).reshape(-1, len(lower))
    points = np.clip(lower + u * (upper - lower), lower, upper)
    outside = np.vstack([lower - 1.0, upper + 0.5])
    boxes = BoxSet.cover(lower, upper, depth, np.vstack([points, outside]))
    assert boxes.contains(points).all()
    assert not boxes.contains(outside).any()
    assert set(boxes.locate(points)) == set(range(len(boxes)))  # no box without a point


def test_cover_puts_the_upper_face_in_the_last_cell():
    boxes = BoxSet.cover([0.0, 0.0], [1.0, 1.0], 2, [[1.0, 1.0], [0.0, 1.0], [0.5, 0.25]])
    assert as_set(boxes) == {(3, 3), (0, 3), (2, 1)}


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_locate_matches_brute_force(data):
    boxes = data.draw(box_sets())
    points = data.draw(dyadic_points(boxes))
    np.testing.assert_array_equal(boxes.locate(points), brute_locate(boxes, points))
    np.testing.assert_array_equal(boxes.contains(points), brute_locate(boxes, points) >= 0)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_bisect_preserves_the_covered_region(data):
    boxes = data.draw(box_sets())
    axis = data.draw(st.integers(0, boxes.dim - 1))
    points = data.draw(dyadic_points(boxes))
    halves = boxes.bisect(axis)
    assert len(halves) == 2 * len(boxes)
    assert halves.depth[axis] == boxes.depth[axis] + 1
    assert halves.volume == pytest.approx(boxes.volume, rel=1e-12)
    np.testing.assert_array_equal(halves.contains(points), boxes.contains(points))


def test_subdivide_cycles_axes():
    boxes = BoxSet.domain([0.0, 0.0, 0.0], [1.0, 2.0, 3.0])
    axes = []
    for _ in range(7):
        before = boxes.depth.copy()
        boxes = boxes.subdivide()
        axes.append(int(np.flatnonzero(boxes.depth != before)[0]))
    assert axes == [0, 1, 2, 0, 1, 2, 0]
    assert len(boxes) == 2**7
    assert boxes.volume == pytest.approx(6.0)


def test_subdivide_picks_the_least_bisected_axis():
    boxes = BoxSet([0, 0, 0], [1, 1, 1], [2, 0, 1], [[0, 0, 0]])
    depths = []
    for _ in range(3):
        boxes = boxes.subdivide()
        depths.append(boxes.depth.tolist())
    assert depths == [[2, 1, 1], [2, 2, 1], [2, 2, 2]]


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_set_operations_match_python_sets(data):
    a = data.draw(box_sets())
    b = data.draw(box_sets_like(a))
    for result, expected in [
        (a | b, as_set(a) | as_set(b)),
        (a & b, as_set(a) & as_set(b)),
        (a - b, as_set(a) - as_set(b)),
        (b - a, as_set(b) - as_set(a)),
    ]:
        assert list(map(tuple, result.keys.tolist())) == sorted(expected)  # canonical order
    assert as_set(a.union(b).difference(b)) == as_set(a.difference(b))
    assert len(a | b) == len(a) + len(b) - len(a & b)


@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_neighbours_of_one_box(d):
    grid = BoxSet(np.zeros(d), np.ones(d), np.full(d, 3), np.zeros((0, d), dtype=np.int64))
    interior = grid.like(np.full((1, d), 3))
    corner = grid.like(np.full((1, d), 7))
    assert len(interior.neighbours()) == 3**d - 1
    assert len(corner.neighbours()) == 2**d - 1


@settings(max_examples=40, deadline=None)
@given(box_sets(max_dim=3, max_depth=3))
def test_neighbours_match_brute_force(boxes):
    mine = as_set(boxes)
    every = itertools.product(*[range(2 ** int(k)) for k in boxes.depth])
    expected = {
        k
        for k in every
        if k not in mine
        and any(max(abs(a - b) for a, b in zip(k, s, strict=True)) == 1 for s in mine)
    }
    assert as_set(boxes.neighbours()) == expected


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.data())
def test_encoded_and_row_wise_paths_agree(d, data):
    depth = np.array(data.draw(st.lists(st.integers(0, 15), min_size=d, max_size=d)))
    key = st.tuples(*[st.integers(0, 2 ** int(k) - 1) for k in depth])
    keys = np.array(data.draw(st.lists(key, max_size=40)), dtype=np.int64).reshape(-1, d)
    query = np.array(data.draw(st.lists(key, max_size=40)), dtype=np.int64).reshape(-1, d)
    unique = _canonical(keys, depth, encoded=True)
    np.testing.assert_array_equal(unique, _canonical(keys, depth, encoded=False))
    assert list(map(tuple, unique.tolist())) == sorted({tuple(k) for k in keys.tolist()})
    expected = [unique.tolist().index(q) if q in unique.tolist() else -1 for q in query.tolist()]
    np.testing.assert_array_equal(_lookup(unique, query, depth, encoded=True), expected)
    np.testing.assert_array_equal(_lookup(unique, query, depth, encoded=False), expected)


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_deep_grid_mirrors_a_shallow_one(data):
    # Scaling keys by 2**40 along each axis maps a grid onto a deep one (level > 62, row-wise
    # path) preserving the order and the set operations.
    a = data.draw(box_sets(max_dim=3, max_depth=4, min_dim=2))
    b = data.draw(box_sets_like(a))
    deep = BoxSet(a.lower, a.upper, a.depth + 40, np.zeros((0, a.dim), dtype=np.int64))
    assert deep.level > 62
    scale = 2**40
    da, db = deep.like(a.keys * scale), deep.like(b.keys * scale)
    for shallow, deep_result in [(a | b, da | db), (a & b, da & db), (a - b, da - db)]:
        np.testing.assert_array_equal(deep_result.keys, shallow.keys * scale)
    np.testing.assert_array_equal(da.locate(a.centres - 0.5 * a.widths), np.arange(len(a)))


def test_twenty_bisections_per_coordinate_in_six_dimensions():
    rng = np.random.default_rng(3)
    points = rng.random((2000, 6))
    boxes = BoxSet.cover(np.zeros(6), np.ones(6), 20, points)
    assert boxes.level == 120
    expected = {tuple(k) for k in np.floor(points * 2**20).astype(np.int64).tolist()}
    assert as_set(boxes) == expected
    index = boxes.locate(points)
    np.testing.assert_array_equal(boxes.keys[index], np.floor(points * 2**20).astype(np.int64))
    half = boxes.select(np.arange(len(boxes)) % 2 == 0)
    assert as_set(boxes - half) == as_set(boxes) - as_set(half)
    assert as_set(half & boxes) == as_set(half)
    assert len(boxes.like(boxes.keys[:1]).neighbours()) == 3**6 - 1


@settings(max_examples=40, deadline=None)
@given(box_sets(), st.integers(1, 5), st.integers(0, 2**32))
def test_sample_and_grid_points_land_in_their_own_box(boxes, k, seed):
    lo = boxes.lower + boxes.keys * boxes.widths
    for points, per_box in [
        (boxes.sample(k, np.random.default_rng(seed)), k),
        (boxes.grid_points(k), k**boxes.dim),
    ]:
        assert points.shape == (len(boxes) * per_box, boxes.dim)
        owner = np.repeat(np.arange(len(boxes)), per_box)
        np.testing.assert_array_equal(boxes.locate(points), owner)
        assert np.all(points >= lo[owner]) and np.all(points < lo[owner] + boxes.widths)


def test_grid_points_are_cell_centred():
    boxes = BoxSet([0.0, 0.0], [2.0, 4.0], [1, 1], [[1, 0]])
    expected = [[1.25, 0.5], [1.25, 1.5], [1.75, 0.5], [1.75, 1.5]]
    np.testing.assert_allclose(boxes.grid_points(2), expected)


def test_geometry_of_a_known_grid():
    boxes = BoxSet([0.0, -1.0], [2.0, 1.0], [1, 2], [[1, 3], [0, 0]])
    assert boxes.dim == 2 and len(boxes) == 2 and boxes.level == 3
    assert boxes.keys.tolist() == [[0, 0], [1, 3]]  # canonical order
    np.testing.assert_allclose(boxes.widths, [1.0, 0.5])
    np.testing.assert_allclose(boxes.centres, [[0.5, -0.75], [1.5, 0.75]])
    np.testing.assert_allclose(boxes.radii, [[0.5, 0.25], [0.5, 0.25]])
    assert boxes.diameter == pytest.approx(np.sqrt(1.25))
    assert boxes.volume == pytest.approx(1.0)
    assert boxes.select([True, False]).keys.tolist() == [[0, 0]]
    assert boxes.select([1, 1]).keys.tolist() == [[1, 3]]
    assert len(BoxSet.domain([0, 0], [1, 1]).locate(np.zeros((0, 2)))) == 0


def test_bad_input_raises():
    with pytest.raises(ModelError, match="lower < upper"):
        BoxSet.domain([0.0, 1.0], [1.0, 1.0])
    with pytest.raises(ModelError):
        BoxSet.domain([0.0], [1.0, 2.0])
    a = BoxSet.domain([0, 0], [1, 1]).subdivide()
    with pytest.raises(ModelError, match="different grid"):
        a | BoxSet.domain([0, 0], [1, 1])
    with pytest.raises(ModelError, match="different grid"):
        a - BoxSet.domain([0, 0], [1, 2]).subdivide()
    with pytest.raises(ModelError, match="outside the grid"):
        a.like([[2, 0]])
    with pytest.raises(ModelError, match="points"):
        a.locate(np.zeros((3, 3)))
    with pytest.raises(ModelError, match="axis"):
        a.bisect(2)
    with pytest.raises(ModelError, match="per_box"):
        a.sample(0, np.random.default_rng(0))
    with pytest.raises(ModelError, match="depth"):
        BoxSet([0], [1], [-1], [[0]])
    with pytest.raises(ModelError, match="mask"):
        a.select([True])
    with pytest.raises(ModelError, match="index"):
        a.select([-1])  # locate's "in no box" must not wrap to the last box
    assert len(a.select([])) == 0
