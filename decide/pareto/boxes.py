r"""Boxes on a dyadic grid: the data structure of set-oriented multiobjective optimisation.

The subdivision methods of Dellnitz, Schütze and Hestermeyer cover the Pareto set of a problem on
:math:`Q = [l, u] \subset \mathbb{R}^d` by boxes that are refined step by step. After
``depth[j]`` bisections along coordinate j the grid has :math:`2^{\text{depth}_j}` cells of width
:math:`w_j = (u_j - l_j) / 2^{\text{depth}_j}` along j, and the box with integer key k is

.. math:: B_k = \{x : l + k w \le x < l + (k + 1) w\}

(half-open; the last cell along j also holds the upper face), so the boxes of one grid are
disjoint and cover Q. A :class:`BoxSet` holds unique keys in lexicographic order.

When the level :math:`L = \sum_j \text{depth}_j` is at most 62 a key is encoded as the single
integer :math:`\sum_j k_j 2^{s_j}` with :math:`s_j = \sum_{i > j} \text{depth}_i` (mixed radix,
order preserving), so set operations are sorts and binary searches on int64; deeper grids use
row-wise :func:`numpy.unique` instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from decide.errors import ModelError

#: Deepest level whose keys are encoded as one int64.
MAX_ENCODED_LEVEL = 62
#: Most bisections along one coordinate (a key entry is an int64).
MAX_DEPTH = 62


def _shifts(depth: np.ndarray) -> np.ndarray:
    """Bit offset of each coordinate in the code: the depths of the coordinates after it."""
    after = np.cumsum(depth[::-1])[::-1]
    return np.append(after[1:], 0).astype(np.int64)


def _encode(keys: np.ndarray, depth: np.ndarray) -> np.ndarray:
    return np.left_shift(keys, _shifts(depth)).sum(axis=1)


def _use_codes(depth: np.ndarray, encoded: bool | None) -> bool:
    return int(depth.sum()) <= MAX_ENCODED_LEVEL if encoded is None else encoded


def _canonical(keys: np.ndarray, depth: np.ndarray, encoded: bool | None = None) -> np.ndarray:
    """Unique rows of ``keys`` in lexicographic order (``encoded`` forces a path, for tests)."""
    if len(keys) == 0:
        return keys.reshape(0, len(depth))
    if _use_codes(depth, encoded):
        _, first = np.unique(_encode(keys, depth), return_index=True)
        return keys[first]
    return np.unique(keys, axis=0)


def _lookup(
    keys: np.ndarray, query: np.ndarray, depth: np.ndarray, encoded: bool | None = None
) -> np.ndarray:
    """Index of each row of ``query`` in the canonical ``keys``; -1 where it is absent."""
    if len(keys) == 0 or len(query) == 0:
        return np.full(len(query), -1, dtype=np.intp)
    if _use_codes(depth, encoded):
        codes, wanted = _encode(keys, depth), _encode(query, depth)
        pos = np.minimum(np.searchsorted(codes, wanted), len(codes) - 1)
        return np.where(codes[pos] == wanted, pos, -1)
    _, inverse = np.unique(np.concatenate([keys, query]), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    table = np.full(inverse.max() + 1, -1, dtype=np.intp)
    table[inverse[: len(keys)]] = np.arange(len(keys))
    return table[inverse[len(keys) :]]


def _check_domain(lower: ArrayLike, upper: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    lower = np.array(lower, dtype=float, ndmin=1)
    upper = np.array(upper, dtype=float, ndmin=1)
    if lower.ndim != 1 or lower.shape != upper.shape or lower.size == 0:
        raise ModelError(
            "lower", f"need vectors of equal length d ≥ 1, got {lower.shape}, {upper.shape}"
        )
    if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
        raise ModelError("lower", "the domain bounds must be finite")
    if not np.all(lower < upper):
        raise ModelError(
            "upper", f"need lower < upper in every coordinate, got {lower} and {upper}"
        )
    return lower, upper


def _check_depth(depth: ArrayLike, d: int) -> np.ndarray:
    depth = np.asarray(depth)
    if depth.size and not np.issubdtype(depth.dtype, np.integer):
        raise ModelError("depth", f"need integers, got dtype {depth.dtype}")
    try:
        depth = np.broadcast_to(depth, (d,)).astype(np.int64)
    except ValueError:
        raise ModelError(
            "depth", f"need a scalar or {d} entries, got shape {depth.shape}"
        ) from None
    if np.any(depth < 0) or np.any(depth > MAX_DEPTH):
        raise ModelError("depth", f"need 0 ≤ depth ≤ {MAX_DEPTH}, got {depth}")
    return depth


def _check_keys(keys: ArrayLike, depth: np.ndarray) -> np.ndarray:
    keys = np.asarray(keys)
    d = len(depth)
    if keys.size == 0:
        return np.zeros((0, d), dtype=np.int64)
    if keys.ndim != 2 or keys.shape[1] != d or not np.issubdtype(keys.dtype, np.integer):
        raise ModelError("keys", f"need integers of shape (n, {d}), got {keys.dtype} {keys.shape}")
    keys = keys.astype(np.int64)
    if np.any(keys < 0) or np.any(keys >= np.left_shift(1, depth)):
        raise ModelError("keys", "a key lies outside the grid: need 0 ≤ keys[:, j] < 2**depth[j]")
    return keys


def _check_count(field: str, value: int) -> int:
    if isinstance(value, bool | float) or not isinstance(value, int | np.integer) or value < 1:
        raise ModelError(field, f"need an integer ≥ 1, got {value!r}")
    return int(value)


@dataclass(frozen=True, eq=False)
class BoxSet:
    """A set of boxes of one dyadic grid over ``[lower, upper]``; arrays are read-only.

    The constructor validates and canonicalises ``keys`` (unique rows, lexicographic order).
    """

    lower: np.ndarray
    upper: np.ndarray
    depth: np.ndarray
    keys: np.ndarray

    def __post_init__(self) -> None:
        lower, upper = _check_domain(self.lower, self.upper)
        depth = _check_depth(self.depth, len(lower))
        keys = _canonical(_check_keys(self.keys, depth), depth)
        for name, value in (("lower", lower), ("upper", upper), ("depth", depth), ("keys", keys)):
            value = np.array(value)
            value.setflags(write=False)
            object.__setattr__(self, name, value)

    @classmethod
    def domain(cls, lower: ArrayLike, upper: ArrayLike) -> BoxSet:
        """The single box Q (depth 0 along every coordinate)."""
        lower, upper = _check_domain(lower, upper)
        return cls(lower, upper, 0, np.zeros((1, len(lower)), dtype=np.int64))

    @classmethod
    def cover(
        cls, lower: ArrayLike, upper: ArrayLike, depth: ArrayLike, points: ArrayLike
    ) -> BoxSet:
        """The boxes of the grid of ``depth`` holding ``points``; points outside Q are ignored."""
        grid = cls(lower, upper, depth, np.zeros((0, np.size(lower)), dtype=np.int64))
        keys, inside = grid._point_keys(points)
        return grid.like(keys[inside])

    def like(self, keys: ArrayLike) -> BoxSet:
        """The boxes ``keys`` of the same grid."""
        return BoxSet(self.lower, self.upper, self.depth, keys)

    def __repr__(self) -> str:
        bounds = f"lower={self.lower.tolist()}, upper={self.upper.tolist()}"
        return f"BoxSet(n={len(self)}, depth={self.depth.tolist()}, {bounds})"

    @property
    def dim(self) -> int:
        return len(self.lower)

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def level(self) -> int:
        """Total number of bisections, ``depth.sum()``."""
        return int(self.depth.sum())

    @property
    def widths(self) -> np.ndarray:
        return (self.upper - self.lower) / np.exp2(self.depth)

    @property
    def centres(self) -> np.ndarray:
        return self._corners() + 0.5 * self.widths

    @property
    def radii(self) -> np.ndarray:
        return np.broadcast_to(0.5 * self.widths, self.keys.shape).copy()

    @property
    def diameter(self) -> float:
        """Euclidean diameter of one box."""
        return float(np.linalg.norm(self.widths))

    @property
    def volume(self) -> float:
        """Total volume of the boxes."""
        return float(len(self) * np.prod(self.widths))

    def same_grid(self, other: BoxSet) -> bool:
        """Whether ``other`` lives on the same grid (same domain and depth)."""
        return (
            isinstance(other, BoxSet)
            and np.array_equal(self.lower, other.lower)
            and np.array_equal(self.upper, other.upper)
            and np.array_equal(self.depth, other.depth)
        )

    def bisect(self, axis: int) -> BoxSet:
        """Every box split in two along ``axis``."""
        if (
            not isinstance(axis, int | np.integer)
            or isinstance(axis, bool)
            or not 0 <= axis < self.dim
        ):
            raise ModelError("axis", f"need an integer in [0, {self.dim}), got {axis!r}")
        axis = int(axis)
        depth = self.depth.copy()
        depth[axis] += 1
        if depth[axis] > MAX_DEPTH:
            raise ModelError("depth", f"cannot bisect axis {axis} more than {MAX_DEPTH} times")
        children = np.repeat(self.keys, 2, axis=0)
        children[:, axis] *= 2
        children[1::2, axis] += 1
        return BoxSet(self.lower, self.upper, depth, children)

    def subdivide(self) -> BoxSet:
        """Bisect along the least bisected coordinate (the lowest on ties): cyclic from Q."""
        return self.bisect(int(np.argmin(self.depth)))

    def locate(self, points: ArrayLike) -> np.ndarray:
        """Index into ``self`` of the box holding each point; -1 for a point in no box."""
        keys, inside = self._point_keys(points)
        index = np.full(len(keys), -1, dtype=np.intp)
        index[inside] = _lookup(self.keys, keys[inside], self.depth)
        return index

    def contains(self, points: ArrayLike) -> np.ndarray:
        """Whether each point lies in one of the boxes."""
        return self.locate(points) >= 0

    def select(self, mask_or_index: ArrayLike) -> BoxSet:
        """The boxes picked by a boolean mask of length n or by integer indices."""
        pick = np.asarray(mask_or_index)
        if pick.dtype == bool:
            if pick.shape != (len(self),):
                raise ModelError(
                    "mask", f"need a boolean mask of length {len(self)}, got {pick.shape}"
                )
        elif pick.size == 0:
            pick = pick.astype(np.intp)
        elif not np.issubdtype(pick.dtype, np.integer) or pick.min() < 0 or pick.max() >= len(self):
            # -1 is locate's "in no box", so negative indices are refused rather than wrapped.
            raise ModelError("index", f"need integer indices in [0, {len(self)}), got {pick}")
        return self.like(self.keys[pick])

    def union(self, other: BoxSet) -> BoxSet:
        self._require_same_grid(other)
        return self.like(np.concatenate([self.keys, other.keys]))

    def intersection(self, other: BoxSet) -> BoxSet:
        self._require_same_grid(other)
        return self.like(self.keys[_lookup(other.keys, self.keys, self.depth) >= 0])

    def difference(self, other: BoxSet) -> BoxSet:
        self._require_same_grid(other)
        return self.like(self.keys[_lookup(other.keys, self.keys, self.depth) < 0])

    __or__ = union
    __and__ = intersection
    __sub__ = difference

    def neighbours(self) -> BoxSet:
        """Boxes of the grid sharing at least a corner with a box of ``self``, not in ``self``."""
        # Dilate one coordinate at a time: d steps of {-1, 0, 1} give the 3**d - 1 neighbours.
        cells = np.left_shift(1, self.depth)
        grown = self.keys
        for axis in range(self.dim):
            moved = [grown]
            for step in (-1, 1):
                shifted = grown.copy()
                shifted[:, axis] += step
                on_grid = (shifted[:, axis] >= 0) & (shifted[:, axis] < cells[axis])
                moved.append(shifted[on_grid])
            grown = _canonical(np.concatenate(moved), self.depth)
        return self.like(grown) - self

    def sample(self, per_box: int, rng: np.random.Generator) -> np.ndarray:
        """``per_box`` uniform points per box; box i owns rows ``i*per_box … (i+1)*per_box - 1``."""
        per_box = _check_count("per_box", per_box)
        unit = rng.random((len(self), per_box, self.dim))
        return (self._corners()[:, None, :] + unit * self.widths).reshape(-1, self.dim)

    def grid_points(self, per_axis: int) -> np.ndarray:
        """A cell-centred grid of ``per_axis**d`` points per box, grouped as in :meth:`sample`."""
        per_axis = _check_count("per_axis", per_axis)
        ticks = (np.arange(per_axis) + 0.5) / per_axis
        mesh = np.meshgrid(*([ticks] * self.dim), indexing="ij")
        unit = np.stack(mesh, axis=-1).reshape(-1, self.dim)
        return (self._corners()[:, None, :] + unit * self.widths).reshape(-1, self.dim)

    def _corners(self) -> np.ndarray:
        return self.lower + self.keys * self.widths

    def _require_same_grid(self, other: BoxSet) -> None:
        if not self.same_grid(other):
            raise ModelError("other", f"boxes on a different grid: {other!r} vs {self!r}")

    def _point_keys(self, points: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Grid key of each point and whether it lies in Q (the upper face joins the last cell)."""
        pts = np.asarray(points, dtype=float)
        if pts.ndim != 2 or pts.shape[1] != self.dim:
            raise ModelError("points", f"need shape (n, {self.dim}), got {pts.shape}")
        inside = np.all((pts >= self.lower) & (pts <= self.upper), axis=1)
        cells = np.left_shift(1, self.depth)
        scaled = (pts[inside] - self.lower) / (self.upper - self.lower) * cells
        keys = np.zeros(pts.shape, dtype=np.int64)
        keys[inside] = np.minimum(np.floor(scaled).astype(np.int64), cells - 1)
        return keys, inside
