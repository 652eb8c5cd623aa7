"""Helpers shared by the test problems: integer checks, simplex grids, arc-length spacing."""

from __future__ import annotations

import math

import numpy as np

from decide.errors import ModelError

CURVE_POINTS = 20001  # polyline resolution when spreading points by arc length


def check_int(field: str, value: int, minimum: int) -> int:
    """``value`` as an ``int`` ≥ ``minimum``."""
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool) and value >= minimum
    if not ok:
        raise ModelError(field, f"need an integer ≥ {minimum}, got {value!r}")
    return int(value)


def box_around(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[-2, 2]^d, enlarged where needed so every point is at least 1 inside it."""
    return np.minimum(-2.0, points.min(axis=0) - 1.0), np.maximum(2.0, points.max(axis=0) + 1.0)


def simplex_grid(m: int, n: int) -> np.ndarray:
    """Das–Dennis weights ``W[k, m]`` (rows ≥ 0 summing to 1): the coarsest grid with ≥ n rows.

    The grid holds every ``c / H`` with non-negative integers ``c`` summing to ``H``; n = 1 gives
    the centroid.
    """
    if n == 1:
        return np.full((1, m), 1.0 / m)
    H = 1
    while math.comb(H + m - 1, m - 1) < n:
        H += 1
    counts = np.zeros((1, 0), dtype=int)
    left = np.array([H])
    for _ in range(m - 1):  # choose each coordinate in turn from 0..left
        reps = left + 1
        parent = np.repeat(np.arange(len(counts)), reps)
        value = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
        counts = np.column_stack([counts[parent], value])
        left = left[parent] - value
    return np.column_stack([counts, left])[::-1] / H  # starting at the first vertex


def cumulative_length(P: np.ndarray) -> np.ndarray:
    """Arc length from ``P[0]`` to each vertex of the polyline ``P[k]``."""
    return np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(P, axis=0), axis=1))])


def even_in_arc_length(t: np.ndarray, P: np.ndarray, n: int) -> np.ndarray:
    """Parameters of n points evenly spaced in arc length along the polyline ``P[k]`` at t[k]."""
    s = cumulative_length(P)
    return np.interp(np.linspace(0.0, s[-1], n), s, t)
