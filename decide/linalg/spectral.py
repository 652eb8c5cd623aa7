"""Spectral quantities behind SOR: the Jacobi spectral radius and Young's optimal omega."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import eigs, eigsh

from decide.errors import MatrixError
from decide.linalg.csr import MatrixLike, prepare

DENSE_LIMIT = 800  # up to this many unknowns the eigenvalues are computed densely


def jacobi_spectral_radius(A: MatrixLike) -> float:
    """Spectral radius ``beta = rho(I - D^{-1} A)`` of the Jacobi iteration matrix.

    When A is symmetric with a diagonal of one sign, ``I - D^{-1} A`` is similar to the symmetric
    ``I - |D|^{-1/2} (sign A) |D|^{-1/2}``, whose extreme eigenvalues come from ``eigsh``;
    otherwise ``eigs`` finds the eigenvalue of largest modulus. Up to ``DENSE_LIMIT`` unknowns
    all eigenvalues are computed densely instead.

    Parameters
    ----------
    A : scipy sparse matrix, 2-D array or CSRSystem
        Square, with a non-zero diagonal.
    """
    system = prepare(A)
    n = system.n
    if n == 0:
        return 0.0
    d = system.diagonal
    csr = system.to_scipy()
    identity = sp.identity(n, format="csr")
    if system.is_symmetric and (np.all(d > 0) or np.all(d < 0)):
        sign = 1.0 if d[0] > 0 else -1.0
        s = sp.diags_array(1.0 / np.sqrt(np.abs(d)))
        B = identity - sign * (s @ csr @ s)
        B = (B + B.T) * 0.5  # exact symmetry for eigsh
        if n <= DENSE_LIMIT:
            values = np.linalg.eigvalsh(B.toarray())
        else:
            values = eigsh(B, k=2, which="BE", tol=1e-12, return_eigenvectors=False)
    else:
        B = identity - sp.diags_array(system.inv_diag) @ csr
        if n <= DENSE_LIMIT:
            values = np.linalg.eigvals(B.toarray())
        else:
            values = eigs(B, k=1, which="LM", tol=1e-12, return_eigenvectors=False)
    return float(np.max(np.abs(values)))


def young_omega(A: MatrixLike) -> float:
    """Young's optimal SOR parameter for a consistently ordered matrix.

    .. math::
        \\omega^* = 1 + \\Big(\\frac{\\beta}{1 + \\sqrt{1 - \\beta^2}}\\Big)^2
                 = \\frac{2}{1 + \\sqrt{1 - \\beta^2}},

    with ``beta`` the Jacobi spectral radius (:func:`jacobi_spectral_radius`); SOR with
    ``omega*`` converges asymptotically by the factor ``omega* - 1`` per sweep.

    Raises
    ------
    MatrixError
        If ``beta >= 1`` (Jacobi does not converge and the formula does not apply).
    """
    beta = jacobi_spectral_radius(A)
    if beta >= 1.0:
        raise MatrixError(
            f"Jacobi spectral radius {beta:.6g} >= 1: Young's optimal omega does not apply"
        )
    return float(1.0 + (beta / (1.0 + np.sqrt(1.0 - beta * beta))) ** 2)
