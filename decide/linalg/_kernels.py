"""numba kernels on compressed-sparse-row arrays: SOR sweeps, SSOR preconditioning, (P)CG.

Every kernel takes the raw CSR arrays ``indptr, indices, data`` of a square matrix with sorted
column indices, summed duplicates and a stored, non-zero diagonal (``decide.linalg.csr.prepare``
guarantees this), plus ``inv_diag[i] = 1 / a_ii`` and, where needed, ``diag_pos[i]``, the position
of ``a_ii`` in ``data``.

Speed notes (one SOR sweep is latency-bound by the dependency of ``x_i`` on the freshly updated
``x_{i-1}``, not bandwidth-bound):

- Array positions are cast to ``np.uint64`` before indexing, so numba emits no negative-index
  wraparound test on each access; this alone makes the sweep ~1.6x faster.
- The term ``a_{i,i-1} x_{i-1}`` is kept out of the row sum and applied last, from a register
  (``prev``) rather than from memory, so the loop-carried chain from ``x_{i-1}`` to ``x_i`` is a
  single fused multiply-add; everything else in the row can start before ``x_{i-1}`` is known.
"""

from __future__ import annotations

import numpy as np
from numba import njit

CONVERGED = 0
MAXITER = 1
DIVERGED = 2
NOT_POSITIVE_DEFINITE = 3
BREAKDOWN = 4

GROWTH_LIMIT = 1e8


@njit(cache=True)
def sor_sweep(indptr, indices, data, inv_diag, x, b, omega):
    """One forward SOR sweep in place: ``x <- x + M^{-1} (b - A x)``, ``M = D/omega + L``.

    Row by row, ``x_i <- (1 - omega) x_i + omega / a_ii (b_i - sum_{j != i} a_ij x_j)`` where
    ``x_j`` for ``j < i`` already holds its new value.
    """
    one_minus = 1.0 - omega
    prev = 0.0  # new x_{i-1}
    for row in range(x.size):
        i = np.uint64(row)
        s = b[i]
        c = 0.0
        for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + np.uint64(1)])):
            j = indices[k]
            if j == row - 1:
                c = data[k]
            elif j != row:
                s -= data[k] * x[np.uint64(j)]
        w = omega * inv_diag[i]
        xi = (one_minus * x[i] + w * s) - (w * c) * prev
        x[i] = xi
        prev = xi


@njit(cache=True)
def residual_norm(indptr, indices, data, x, b):
    """``||b - A x||_2`` without storing the residual."""
    total = 0.0
    for row in range(x.size):
        i = np.uint64(row)
        s = b[i]
        for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + np.uint64(1)])):
            s -= data[k] * x[np.uint64(indices[k])]
        total += s * s
    return np.sqrt(total)


@njit(cache=True)
def residual(indptr, indices, data, x, b, r):
    """``r <- b - A x``; returns ``||r||_2``."""
    total = 0.0
    for row in range(x.size):
        i = np.uint64(row)
        s = b[i]
        for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + np.uint64(1)])):
            s -= data[k] * x[np.uint64(indices[k])]
        r[i] = s
        total += s * s
    return np.sqrt(total)


@njit(cache=True)
def matvec_dot(indptr, indices, data, p, q):
    """``q <- A p``; returns ``p^T A p``."""
    total = 0.0
    for row in range(p.size):
        i = np.uint64(row)
        s = 0.0
        for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + np.uint64(1)])):
            s += data[k] * p[np.uint64(indices[k])]
        q[i] = s
        total += p[i] * s
    return total


@njit(cache=True)
def sor_solve(indptr, indices, data, inv_diag, x, b, omega, rtol, maxiter, r0_norm):
    """SOR sweeps on ``x`` in place until ``||b - A x|| / r0_norm < rtol``.

    The true residual is computed after every sweep. Returns ``(sweeps, relative residual,
    status)``; status is DIVERGED as soon as the relative residual is non-finite or exceeds
    ``GROWTH_LIMIT``, MAXITER after ``maxiter`` sweeps.
    """
    rel = 1.0
    for sweep in range(1, maxiter + 1):
        sor_sweep(indptr, indices, data, inv_diag, x, b, omega)
        rel = residual_norm(indptr, indices, data, x, b) / r0_norm
        if not np.isfinite(rel) or rel > GROWTH_LIMIT:
            return sweep, rel, DIVERGED
        if rel < rtol:
            return sweep, rel, CONVERGED
    return maxiter, rel, MAXITER


@njit(cache=True)
def ssor_apply(indptr, indices, data, diag_pos, inv_diag, r, z, omega):
    """``z <- M^{-1} r`` for ``M = (D + omega L) D^{-1} (D + omega L)^T / (omega (2 - omega))``.

    Forward sweep ``(D + omega L) y = r``, then backward sweep ``(D + omega U) z = s D y`` with
    ``s = omega (2 - omega)`` and ``U`` the strict upper triangle (``= L^T`` for symmetric A);
    ``y`` lives in ``z``, overwritten in place by the backward sweep.
    """
    n = r.size
    prev = 0.0  # y_{i-1}
    for row in range(n):
        i = np.uint64(row)
        s = 0.0
        c = 0.0
        for k in range(np.uint64(indptr[i]), np.uint64(diag_pos[i])):
            j = indices[k]
            if j == row - 1:
                c = data[k]
            else:
                s += data[k] * z[np.uint64(j)]
        w = omega * inv_diag[i]
        yi = (inv_diag[i] * r[i] - w * s) - (w * c) * prev
        z[i] = yi
        prev = yi
    scale = omega * (2.0 - omega)
    nxt = 0.0  # z_{i+1}
    for row in range(n - 1, -1, -1):
        i = np.uint64(row)
        s = 0.0
        c = 0.0
        for k in range(np.uint64(diag_pos[i]) + np.uint64(1), np.uint64(indptr[i + np.uint64(1)])):
            j = indices[k]
            if j == row + 1:
                c = data[k]
            else:
                s += data[k] * z[np.uint64(j)]
        w = omega * inv_diag[i]
        zi = (scale * z[i] - w * s) - (w * c) * nxt
        z[i] = zi
        nxt = zi


@njit(cache=True)
def pcg_solve(indptr, indices, data, diag_pos, inv_diag, x, b, omega, precondition, tol, maxiter):
    """(SSOR-preconditioned) conjugate gradients on ``x`` in place, MATLAB ``pcg``'s stopping rule.

    Stops when ``||b - A x|| <= tol`` (an absolute tolerance, ``rtol ||b||``): the recursively
    updated residual triggers a check of the true residual ``b - A x``, which replaces it; CG
    continues if the true residual is not yet small enough. Without ``precondition`` the
    preconditioner is the identity. Returns ``(iterations, ||b - A x||, status, p^T A p)``; the
    last is the offending curvature when status is NOT_POSITIVE_DEFINITE.
    """
    n = x.size
    r = np.empty(n)
    z = np.empty(n)
    p = np.empty(n)
    q = np.empty(n)
    normr = residual(indptr, indices, data, x, b, r)
    normr0 = normr
    if normr <= tol:
        return 0, normr, CONVERGED, 0.0
    rho = 1.0
    for it in range(1, maxiter + 1):
        if precondition:
            ssor_apply(indptr, indices, data, diag_pos, inv_diag, r, z, omega)
        else:
            z[:] = r
        rho_old = rho
        rho = 0.0
        for i in range(n):
            rho += r[i] * z[i]
        if not np.isfinite(rho):
            return it - 1, residual(indptr, indices, data, x, b, r), DIVERGED, 0.0
        if rho == 0.0:
            return it - 1, residual(indptr, indices, data, x, b, r), BREAKDOWN, 0.0
        if it == 1:
            p[:] = z
        else:
            beta = rho / rho_old
            for i in range(n):
                p[i] = z[i] + beta * p[i]
        pq = matvec_dot(indptr, indices, data, p, q)
        if not np.isfinite(pq):
            return it, residual(indptr, indices, data, x, b, r), DIVERGED, pq
        if pq <= 0.0:
            return it, normr, NOT_POSITIVE_DEFINITE, pq
        alpha = rho / pq
        total = 0.0
        for i in range(n):
            x[i] += alpha * p[i]
            r[i] -= alpha * q[i]
            total += r[i] * r[i]
        normr = np.sqrt(total)
        if not np.isfinite(normr) or normr > GROWTH_LIMIT * normr0:
            return it, residual(indptr, indices, data, x, b, r), DIVERGED, pq
        if normr <= tol:
            normr = residual(indptr, indices, data, x, b, r)
            if normr <= tol:
                return it, normr, CONVERGED, pq
    return maxiter, residual(indptr, indices, data, x, b, r), MAXITER, 0.0
