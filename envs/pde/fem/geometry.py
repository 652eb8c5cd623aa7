"""Backend-independent geometry on decide's mesh: boundaries, actuator cells and point sensors."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from decide.envs.pde.fem.base import BOUNDARIES, MeshSpec, Patch, Segment
from decide.errors import ModelError


def boundary_vertices(spec: MeshSpec, points: np.ndarray) -> dict[str, np.ndarray]:
    """Vertex indices on each named boundary (left/right: x = lo/hi; bottom/top: y = lo/hi)."""
    out = {}
    for axis, (lo, hi) in enumerate(spec.extent):
        names = BOUNDARIES[spec.dim][2 * axis : 2 * axis + 2]
        tol = 1e-9 * (hi - lo)
        out[names[0]] = np.flatnonzero(np.abs(points[:, axis] - lo) < tol)
        out[names[1]] = np.flatnonzero(np.abs(points[:, axis] - hi) < tol)
    return out


def along(boundary: str, points: np.ndarray) -> np.ndarray:
    """The coordinate that runs along ``boundary``: y on left/right, x on bottom/top."""
    return points[:, 1] if boundary in ("left", "right") else points[:, 0]


def patch_cells(points: np.ndarray, cells: np.ndarray, patch: Patch) -> np.ndarray:
    """Indices of the cells whose centroid lies in the patch's box (closed)."""
    centroids = points[cells].mean(axis=1)
    lower, upper = np.asarray(patch.lower), np.asarray(patch.upper)
    if lower.shape != (points.shape[1],) or upper.shape != lower.shape:
        raise ModelError("actuator", f"patch corners need {points.shape[1]} coordinates each")
    inside = np.all((centroids >= lower) & (centroids <= upper), axis=1)
    if not inside.any():
        raise ModelError("actuator", f"patch {patch} contains no cell centroid of the mesh")
    return np.flatnonzero(inside)


def segment_facets(
    spec: MeshSpec, points: np.ndarray, facets: np.ndarray, segment: Segment
) -> np.ndarray:
    """Positions in ``facets[k, 2]`` (edges of ``segment.boundary``) of the edges whose midpoint
    lies in [start, end] along that boundary."""
    if spec.dim != 2 or segment.boundary not in BOUNDARIES[2]:
        raise ModelError("actuator", f"a segment needs a rectangle and one of {BOUNDARIES[2]}")
    middle = along(segment.boundary, points[facets].mean(axis=1))
    chosen = np.flatnonzero((middle >= segment.start) & (middle <= segment.end))
    if chosen.size == 0:
        raise ModelError("actuator", f"segment {segment} contains no boundary edge of the mesh")
    return chosen


def sensor_matrix(spec: MeshSpec, points: np.ndarray, locations: np.ndarray) -> sp.csr_matrix:
    """Rows of P1 interpolation weights: ``(C @ u)[k]`` is u at ``locations[k]``.

    Uses the structured layout of ``mesh_arrays``; a location outside the domain is an error.
    """
    locations = np.atleast_2d(np.asarray(locations, dtype=float))
    if locations.shape[1] != spec.dim:
        raise ModelError("sensors", f"expected points with {spec.dim} coordinates")
    lo = np.array([e[0] for e in spec.extent])
    hi = np.array([e[1] for e in spec.extent])
    if np.any(locations < lo - 1e-12) or np.any(locations > hi + 1e-12):
        raise ModelError("sensors", f"sensor locations must lie in the domain {spec.extent}")
    cells = np.array(spec.cells)
    h = (hi - lo) / cells
    local = (locations - lo) / h
    index = np.minimum(np.floor(local).astype(int), cells - 1)
    t = local - index
    rows, cols, vals = [], [], []
    for k, (idx, frac) in enumerate(zip(index, t, strict=True)):
        for vertex, weight in _weights(spec, idx, frac):
            rows.append(k)
            cols.append(vertex)
            vals.append(weight)
    return sp.csr_matrix((vals, (rows, cols)), shape=(len(locations), len(points)))


def _weights(spec: MeshSpec, idx: np.ndarray, t: np.ndarray) -> list[tuple[int, float]]:
    if spec.dim == 1:
        return [(idx[0], 1.0 - t[0]), (idx[0] + 1, t[0])]
    stride = spec.cells[0] + 1
    v00 = idx[1] * stride + idx[0]
    v10, v01, v11 = v00 + 1, v00 + stride, v00 + stride + 1
    s, r = t
    if s >= r:  # lower triangle (v00, v10, v11)
        return [(v00, 1.0 - s), (v10, s - r), (v11, r)]
    return [(v00, 1.0 - r), (v11, s), (v01, r - s)]
