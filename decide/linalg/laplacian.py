"""The 5-point Laplacian on a square grid, as MATLAB's ``delsq(numgrid('S', m + 2))``."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import scipy.sparse as sp

from decide.errors import ModelError


def poisson_2d(m: int) -> sp.csr_matrix:
    """The 5-point Laplacian on an ``m x m`` interior grid, ``n = m^2`` unknowns.

    .. math::
        A = I_m \\otimes T + T \\otimes I_m, \\qquad T = \\operatorname{tridiag}(-1, 2, -1),

    so each row has 4 on the diagonal and -1 for each grid neighbour, in natural (lexicographic)
    row order with x running fastest; this is the matrix of MATLAB's
    ``delsq(numgrid('S', m + 2))``. Its eigenvalues are
    ``4 - 2 cos(i pi / (m + 1)) - 2 cos(j pi / (m + 1))``, ``i, j = 1..m``.
    """
    if isinstance(m, bool) or not isinstance(m, Integral) or m < 1:
        raise ModelError("m", f"must be a positive integer, got {m!r}")
    m = int(m)
    off = -np.ones(m - 1)
    T = sp.diags_array([off, np.full(m, 2.0), off], offsets=[-1, 0, 1])
    I = sp.identity(m)
    A = sp.csr_matrix(sp.kron(I, T) + sp.kron(T, I))
    A.sum_duplicates()
    return A
