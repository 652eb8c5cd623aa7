"""scikit-fem backend (the default): P1 operators on decide's mesh."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import skfem
from skfem.helpers import dot, grad

from decide.envs.pde.fem.base import Actuator, MeshSpec, Operators, Patch, mesh_arrays
from decide.envs.pde.fem.geometry import boundary_vertices, patch_cells, segment_facets


@skfem.BilinearForm
def _mass(u, v, w):
    return u * v


@skfem.BilinearForm
def _stiffness(u, v, w):
    return dot(grad(u), grad(v))


@skfem.LinearForm
def _load(v, w):
    return v


class SkfemBackend:
    """Assembles with scikit-fem (P1 Lagrange on lines or triangles)."""

    name = "skfem"

    def assemble(self, spec: MeshSpec, actuators: tuple[Actuator, ...] = ()) -> Operators:
        points, cells = mesh_arrays(spec)
        mesh_type, element = (
            (skfem.MeshLine, skfem.ElementLineP1())
            if spec.dim == 1
            else (skfem.MeshTri, skfem.ElementTriP1())
        )
        mesh = mesh_type(points.T.copy(), cells.T.copy())
        basis = skfem.Basis(mesh, element)
        dofs = boundary_vertices(spec, points)
        facets = {name: _facets_on(mesh, vertices) for name, vertices in dofs.items()}
        boundary_mass, boundary_load = {}, {}
        for name, f in facets.items():
            fb = skfem.FacetBasis(mesh, element, facets=f)
            boundary_mass[name] = _mass.assemble(fb).tocsr()
            boundary_load[name] = _load.assemble(fb)
        columns = [_actuator_column(spec, mesh, element, facets, a) for a in actuators]
        B = sp.csr_matrix(np.column_stack(columns)) if columns else None
        return Operators(
            points=points,
            mass=_mass.assemble(basis).tocsr(),
            stiffness=_stiffness.assemble(basis).tocsr(),
            boundary_mass=boundary_mass,
            boundary_load=boundary_load,
            boundary_dofs=dofs,
            actuators=B,
        )


def _facets_on(mesh, vertices: np.ndarray) -> np.ndarray:
    """Boundary facets all of whose vertices lie in ``vertices``."""
    boundary = mesh.boundary_facets()
    on = np.all(np.isin(mesh.facets[:, boundary], vertices), axis=0)
    return boundary[on]


def _actuator_column(spec, mesh, element, facets, actuator: Actuator) -> np.ndarray:
    points, cells = mesh.p.T, mesh.t.T
    if isinstance(actuator, Patch):
        basis = skfem.Basis(mesh, element, elements=patch_cells(points, cells, actuator))
        return _load.assemble(basis)
    f = segment_facets(spec, points, mesh.facets.T[facets[actuator.boundary]], actuator)
    return _load.assemble(skfem.FacetBasis(mesh, element, facets=facets[actuator.boundary][f]))
