"""Every dolfinx API difference the dolfinx backend meets, in one place (dolfinx 0.5 to 0.10).

Switches test for features (an attribute, an importable module, a parameter's position), not
for version numbers, so a release in between takes whichever branch its API has:

=====================  =======================================  =================================
what                   0.5 / 0.6                                0.7 and later
=====================  =======================================  =================================
coordinate element     ``ufl.VectorElement``                    ``basix.ufl.element(shape=...)``
function space         ``fem.FunctionSpace(mesh, (f, k))``      ``fem.functionspace(mesh, (f, k))``
``create_mesh``        ``(comm, cells, x, domain)``             0.10: ``(comm, cells, e, x)``
dofmaps                ``AdjacencyList`` (``.array``)           ``ndarray[n_cells, k]``
``assemble_matrix``    ``MatrixCSR`` (``.data/.indices/...``)   ``MatrixCSR.to_scipy()``
finalising a matrix    ``.finalize()``                          ``.scatter_reverse()``
=====================  =======================================  =================================

Everything here is serial (``MPI.COMM_SELF``): there are no ghost rows or entries.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import dolfinx
import numpy as np
import scipy.sparse as sp
import ufl
from dolfinx import fem

try:  # basix >= 0.7 (dolfinx >= 0.7)
    import basix.ufl as _basix_ufl
except ImportError:  # dolfinx 0.5 / 0.6: UFL's own elements
    _basix_ufl = None

VERSION: str = dolfinx.__version__


def coordinate_domain(cell: str, gdim: int) -> ufl.Mesh:
    """The UFL domain of a P1 (affine) mesh of ``cell`` ("interval", "triangle") in ``gdim``-D."""
    if _basix_ufl is not None:
        return ufl.Mesh(_basix_ufl.element("Lagrange", cell, 1, shape=(gdim,)))
    return ufl.Mesh(ufl.VectorElement("Lagrange", cell, 1, dim=gdim))


def create_mesh(comm: Any, cells: np.ndarray, x: np.ndarray, domain: ufl.Mesh) -> Any:
    """``dolfinx.mesh.create_mesh`` with the vertex array ``x[n, gdim]`` wherever it goes."""
    cells = np.ascontiguousarray(cells, dtype=np.int64)
    x = np.ascontiguousarray(x, dtype=np.float64)
    parameters = list(inspect.signature(dolfinx.mesh.create_mesh).parameters)
    if parameters.index("x") == 2:  # 0.5 to 0.9: (comm, cells, x, domain | e)
        return dolfinx.mesh.create_mesh(comm, cells, x, domain)
    return dolfinx.mesh.create_mesh(comm, cells, domain, x)  # 0.10: (comm, cells, e, x)


def function_space(mesh: Any, family: str, degree: int) -> Any:
    """A scalar function space, e.g. ``("Lagrange", 1)`` or ``("DG", 0)``."""
    if hasattr(fem, "functionspace"):
        return fem.functionspace(mesh, (family, degree))
    return fem.FunctionSpace(mesh, (family, degree))


def rows(adjacency: Any) -> np.ndarray:
    """A dofmap as ``ndarray[n_cells, k]``, from an ``AdjacencyList`` (0.5) or an array."""
    if hasattr(adjacency, "offsets"):
        offsets = np.asarray(adjacency.offsets)
        return np.asarray(adjacency.array).reshape(len(offsets) - 1, -1)
    return np.asarray(adjacency)


def geometry_dofmap(mesh: Any) -> np.ndarray:
    """Geometry node indices of each cell, ``ndarray[n_cells, k]``."""
    geometry = mesh.geometry
    dofmaps = getattr(geometry, "dofmaps", None)  # newest: one dofmap per cell type
    if dofmaps is not None:
        return rows(dofmaps(0) if callable(dofmaps) else dofmaps[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return rows(geometry.dofmap)


def original_cell_index(mesh: Any) -> np.ndarray:
    """For each dolfinx cell, the index of the input cell it came from."""
    return np.asarray(mesh.topology.original_cell_index, dtype=np.int64)


def assemble_csr(form: Any) -> sp.csr_matrix:
    """Assemble a bilinear form into a scipy CSR matrix in dolfinx's dof order (no PETSc)."""
    A = fem.assemble_matrix(form)
    if hasattr(A, "scatter_reverse"):
        A.scatter_reverse()
    elif hasattr(A, "finalize"):
        A.finalize()
    if hasattr(A, "to_scipy"):
        return sp.csr_matrix(A.to_scipy(), copy=True)
    indptr = np.array(A.indptr, dtype=np.int64)
    n = len(indptr) - 1
    data, indices = np.array(A.data, dtype=float), np.array(A.indices, dtype=np.int64)
    return sp.csr_matrix((data, indices, indptr), shape=(n, n))


def assemble_array(form: Any) -> np.ndarray:
    """Assemble a linear form into a numpy array in dolfinx's dof order."""
    return np.array(fem.assemble_vector(form).array, dtype=float)
