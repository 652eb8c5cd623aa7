"""dolfinx (FEniCSx) backend: the same P1 operators as scikit-fem, assembled with UFL forms.

dolfinx renumbers cells and vertices when it builds a mesh; every operator is permuted back to
decide's vertex order (``mesh_arrays``) before it is returned, so it can be compared entry by
entry with the scikit-fem backend's. Actuator cells and facets are chosen by
``decide.envs.pde.fem.geometry`` on decide's own arrays, exactly as the scikit-fem backend does.
Version differences (dolfinx 0.5 to 0.10) live in ``_dolfinx_compat``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
import ufl
from dolfinx import fem
from dolfinx import mesh as dmesh
from mpi4py import MPI

from decide.envs.pde.fem import _dolfinx_compat as compat
from decide.envs.pde.fem.base import Actuator, MeshSpec, Operators, Patch, mesh_arrays
from decide.envs.pde.fem.geometry import boundary_vertices, patch_cells, segment_facets

_CELL = {1: "interval", 2: "triangle"}
_TAG = 1


class DolfinxBackend:
    """Assembles with dolfinx (P1 Lagrange on intervals or triangles, serial, no PETSc)."""

    name = "dolfinx"

    def assemble(self, spec: MeshSpec, actuators: tuple[Actuator, ...] = ()) -> Operators:
        """P1 operators of ``spec`` in decide's vertex order.

        Parameters
        ----------
        spec
            The structured mesh; dolfinx builds its mesh from ``mesh_arrays(spec)``.
        actuators
            Patches (cell indicators) and boundary segments, one column of ``B`` each.

        Returns
        -------
        Operators
            Mass, stiffness, per-boundary mass/load/dofs and actuators, as scipy CSR matrices
            and numpy arrays indexed like ``mesh_arrays(spec)[0]``.
        """
        points, cells = mesh_arrays(spec)
        mesh = compat.create_mesh(
            MPI.COMM_SELF, cells, points, compat.coordinate_domain(_CELL[spec.dim], spec.dim)
        )
        V = compat.function_space(mesh, "Lagrange", 1)
        order = _Ordering(mesh, V, points, cells)
        u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
        dx = ufl.Measure("dx", domain=mesh)

        fdim = spec.dim - 1
        mesh.topology.create_connectivity(fdim, spec.dim)
        facets = {name: _facets_on(mesh, spec, name) for name in boundary_vertices(spec, points)}
        boundary_mass, boundary_load = {}, {}
        for name, f in facets.items():
            ds = _facet_measure(mesh, f)
            boundary_mass[name] = order.matrix(compat.assemble_csr(fem.form(u * v * ds)))
            boundary_load[name] = order.vector(compat.assemble_array(fem.form(v * ds)))

        columns = [_column(spec, points, cells, mesh, v, order, facets, a) for a in actuators]
        return Operators(
            points=points,
            mass=order.matrix(compat.assemble_csr(fem.form(u * v * dx))),
            stiffness=order.matrix(
                compat.assemble_csr(fem.form(ufl.inner(ufl.grad(u), ufl.grad(v)) * dx))
            ),
            boundary_mass=boundary_mass,
            boundary_load=boundary_load,
            boundary_dofs=boundary_vertices(spec, points),
            actuators=sp.csr_matrix(np.column_stack(columns)) if columns else None,
        )


class _Ordering:
    """The map between dolfinx's P1 dofs and cells and decide's vertices and cells.

    For P1 on an affine mesh a cell's dofs and geometry nodes come in the same local (reference
    vertex) order, so ``dofmap[c, k]`` is the input vertex ``input_global_indices[x_dofmap[c, k]]``.
    The map is checked against the dof coordinates and the cells' vertex sets before use.
    """

    def __init__(self, mesh: Any, V: Any, points: np.ndarray, cells: np.ndarray) -> None:
        dofs = compat.rows(V.dofmap.list)
        nodes = compat.geometry_dofmap(mesh)
        original = np.asarray(mesh.geometry.input_global_indices, dtype=np.int64)
        n = len(points)
        vertex_of_dof = np.full(n, -1, dtype=np.int64)
        vertex_of_dof[dofs] = original[nodes]
        coordinates = V.tabulate_dof_coordinates()[:, : points.shape[1]]
        tol = 1e-9 * max(1.0, np.abs(points).max())  # far below any cell size
        if (vertex_of_dof < 0).any() or not np.allclose(
            coordinates, points[vertex_of_dof], rtol=0.0, atol=tol
        ):
            raise RuntimeError("dolfinx backend: could not map dolfinx dofs to decide's vertices")
        self.cell_of = compat.original_cell_index(mesh)[: len(dofs)]
        if not np.array_equal(
            np.sort(vertex_of_dof[dofs], axis=1), np.sort(cells[self.cell_of], axis=1)
        ):
            raise RuntimeError("dolfinx backend: could not map dolfinx cells to decide's cells")
        self.dof_of_vertex = np.empty(n, dtype=np.int64)
        self.dof_of_vertex[vertex_of_dof] = np.arange(n)

    def matrix(self, A: sp.csr_matrix) -> sp.csr_matrix:
        """``A`` (dolfinx dof order) in decide's vertex order."""
        p = self.dof_of_vertex
        return sp.csr_matrix(A[p][:, p])

    def vector(self, b: np.ndarray) -> np.ndarray:
        """``b`` (dolfinx dof order) in decide's vertex order."""
        return b[self.dof_of_vertex]

    def dolfinx_cells(self, decide_cells: np.ndarray) -> np.ndarray:
        """The dolfinx indices of decide's cells ``decide_cells``."""
        return np.flatnonzero(np.isin(self.cell_of, decide_cells)).astype(np.int32)


def _facets_on(mesh: Any, spec: MeshSpec, name: str) -> np.ndarray:
    """Boundary facets all of whose vertices lie on boundary ``name`` (decide's tolerance)."""

    def on(x: np.ndarray) -> np.ndarray:
        mask = np.zeros(x.shape[1], dtype=bool)
        mask[boundary_vertices(spec, x[: spec.dim].T)[name]] = True
        return mask

    return np.sort(dmesh.locate_entities_boundary(mesh, spec.dim - 1, on)).astype(np.int32)


def _facet_measure(mesh: Any, facets: np.ndarray) -> ufl.Measure:
    """``ds`` restricted to ``facets`` (through a facet meshtags object)."""
    facets = np.unique(facets).astype(np.int32)
    tags = dmesh.meshtags(
        mesh, mesh.topology.dim - 1, facets, np.full(len(facets), _TAG, dtype=np.int32)
    )
    return ufl.Measure("ds", domain=mesh, subdomain_data=tags)(_TAG)


def _column(
    spec: MeshSpec,
    points: np.ndarray,
    cells: np.ndarray,
    mesh: Any,
    v: Any,
    order: _Ordering,
    facets: dict[str, np.ndarray],
    actuator: Actuator,
) -> np.ndarray:
    """One actuator column: ``∫ χ φ_i`` (patch, DG0 indicator χ) or ``∫_segment φ_i``."""
    if isinstance(actuator, Patch):
        chosen = order.dolfinx_cells(patch_cells(points, cells, actuator))
        W = compat.function_space(mesh, "DG", 0)
        chi = fem.Function(W)
        chi.x.array[compat.rows(W.dofmap.list)[chosen, 0]] = 1.0
        form = fem.form(chi * v * ufl.Measure("dx", domain=mesh))
    else:
        if actuator.boundary not in facets:  # let geometry raise its ModelError
            segment_facets(spec, points, np.zeros((0, 2), dtype=np.int64), actuator)
        candidates = facets[actuator.boundary]
        middle = dmesh.compute_midpoints(mesh, spec.dim - 1, candidates)[:, : spec.dim]
        index = np.arange(len(candidates))[:, None]  # each "facet" is its own midpoint
        chosen = candidates[segment_facets(spec, middle, index, actuator)]
        form = fem.form(v * _facet_measure(mesh, chosen))
    return order.vector(compat.assemble_array(form))
