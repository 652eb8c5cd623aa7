"""Iterative solvers for sparse ``A x = b``: SOR, SSOR-preconditioned CG and plain CG.

The conventions follow the MATLAB experiments of "Learning to Relax" (Khodak et al., ICLR 2024),
so that iteration counts are comparable with the published ones:

- SOR: ``x_{k+1} = x_k + M^{-1} (b - A x_k)`` with ``M = D/omega + L`` (D the diagonal, L the
  strict lower triangle), i.e. a forward sweep in natural row order; ``x_0 = 0`` by default; the
  true residual is computed after every sweep and iteration stops when
  ``||b - A x_k|| / ||b - A x_0|| < rtol`` (``= ||b||`` for ``x_0 = 0``).
- (P)CG: MATLAB ``pcg``'s rule, ``||b - A x_k|| / ||b|| <= rtol``, checked on the recursively
  updated residual and confirmed with the true one; ``x0`` is a warm start. The SSOR
  preconditioner is ``M = (D + omega L) D^{-1} (D + omega L)^T / (omega (2 - omega))``.

Both stop early, with ``diverged=True``, once the residual is non-finite or has grown past
``1e8`` times the initial one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from numbers import Integral
from typing import Self

import numpy as np
from numpy.typing import ArrayLike

from decide.errors import MatrixError, ModelError
from decide.linalg import _kernels
from decide.linalg.csr import CSRSystem, MatrixLike, as_vector, prepare


@dataclass(frozen=True)
class SolveResult:
    """Outcome of one solve.

    Attributes
    ----------
    x : np.ndarray
        The final iterate.
    iterations : int
        Sweeps (SOR) or CG iterations done.
    residual : float
        Final true relative residual ``||b - A x|| / ||b||``; for SOR the denominator is
        ``||b - A x0||``, which is ``||b||`` for the default ``x0 = 0``.
    converged : bool
        Whether the residual reached the tolerance.
    diverged : bool
        Whether iteration stopped because the residual became non-finite or grew past ``1e8``
        times the initial one.
    omega : float or None
        The relaxation parameter used (None for plain CG).
    """

    x: np.ndarray
    iterations: int
    residual: float
    converged: bool
    diverged: bool
    omega: float | None


def _check_omega(obj, omega) -> None:
    value = float(omega)
    if not 0.0 < value < 2.0:
        raise ModelError("omega", f"must lie in the open interval (0, 2), got {omega!r}")
    object.__setattr__(obj, "omega", value)


def _check_stopping(obj) -> None:
    if not (math.isfinite(obj.rtol) and obj.rtol > 0.0):
        raise ModelError("rtol", f"must be a positive number, got {obj.rtol!r}")
    if isinstance(obj.maxiter, bool) or not isinstance(obj.maxiter, Integral) or obj.maxiter < 0:
        raise ModelError("maxiter", f"must be a non-negative integer, got {obj.maxiter!r}")
    object.__setattr__(obj, "rtol", float(obj.rtol))
    object.__setattr__(obj, "maxiter", int(obj.maxiter))


@dataclass(frozen=True)
class _Relaxed:
    """Parameters shared by the relaxed solvers: ω in (0, 2), tolerance, iteration cap."""

    omega: float = 1.0
    rtol: float = 1e-8
    maxiter: int = 10_000

    def __post_init__(self) -> None:
        _check_omega(self, self.omega)
        _check_stopping(self)

    def with_omega(self, omega: float) -> Self:
        """This solver with another relaxation parameter."""
        return replace(self, omega=omega)


def _start(
    A: MatrixLike, b: ArrayLike, x0: ArrayLike | None
) -> tuple[CSRSystem, np.ndarray, np.ndarray]:
    system = prepare(A)
    b = as_vector(b, system.n, "b")
    x = np.zeros(system.n) if x0 is None else as_vector(x0, system.n, "x0")
    return system, b, x


@dataclass(frozen=True)
class SOR(_Relaxed):
    """Successive over-relaxation, ``x <- x + M^{-1} (b - A x)`` with ``M = D/omega + L``.

    Row by row in natural order,

    .. math::
        x_i \\leftarrow (1 - \\omega) x_i + \\frac{\\omega}{a_{ii}}
        \\Big(b_i - \\sum_{j < i} a_{ij} x_j^{new} - \\sum_{j > i} a_{ij} x_j\\Big).

    Stops when ``||b - A x_k|| / ||b - A x_0|| < rtol`` (true residual after every sweep), after
    ``maxiter`` sweeps, or on divergence. ``omega = 1`` is Gauss-Seidel.
    """

    def solve(self, A: MatrixLike, b: ArrayLike, x0: ArrayLike | None = None) -> SolveResult:
        """Solve ``A x = b`` from ``x0`` (default 0); A is sparse, dense or a prepared system."""
        system, b, x = _start(A, b, x0)
        if not np.any(b):
            return SolveResult(np.zeros(system.n), 0, 0.0, True, False, self.omega)
        arrays = (system.indptr, system.indices, system.data)
        r0 = _kernels.residual_norm(*arrays, x, b)
        if r0 == 0.0:
            return SolveResult(x, 0, 0.0, True, False, self.omega)
        sweeps, rel, status = _kernels.sor_solve(
            *arrays, system.inv_diag, x, b, self.omega, self.rtol, self.maxiter, r0
        )
        return SolveResult(
            x=x,
            iterations=int(sweeps),
            residual=float(rel),
            converged=status == _kernels.CONVERGED,
            diverged=status == _kernels.DIVERGED,
            omega=self.omega,
        )


def _pcg(
    A: MatrixLike,
    b: ArrayLike,
    x0: ArrayLike | None,
    omega: float,
    precondition: bool,
    rtol: float,
    maxiter: int,
) -> SolveResult:
    system, b, x = _start(A, b, x0)
    system.require_spd_candidate()
    reported = omega if precondition else None
    b_norm = float(np.linalg.norm(b))
    if b_norm == 0.0:
        return SolveResult(np.zeros(system.n), 0, 0.0, True, False, reported)
    tol = rtol * b_norm
    iterations, r_norm, status, curvature = _kernels.pcg_solve(
        system.indptr,
        system.indices,
        system.data,
        system.diag_pos,
        system.inv_diag,
        x,
        b,
        omega,
        precondition,
        tol,
        maxiter,
    )
    if status == _kernels.NOT_POSITIVE_DEFINITE:
        raise MatrixError(
            f"matrix is not positive definite: pᵀAp = {curvature:.6g} at iteration {iterations}"
        )
    converged = status == _kernels.CONVERGED or (status == _kernels.BREAKDOWN and r_norm <= tol)
    return SolveResult(
        x=x,
        iterations=int(iterations),
        residual=float(r_norm) / b_norm,
        converged=bool(converged),
        diverged=status == _kernels.DIVERGED,
        omega=reported,
    )


@dataclass(frozen=True)
class SSORPCG(_Relaxed):
    """Conjugate gradients preconditioned by SSOR(omega), for symmetric positive definite A.

    .. math::
        M = \\frac{(D + \\omega L)\\, D^{-1} (D + \\omega L)^T}{\\omega (2 - \\omega)},

    applied as a forward and a backward triangular sweep. Stops when
    ``||b - A x|| / ||b|| <= rtol``, confirmed with the true residual (MATLAB ``pcg``);
    ``x0`` is a warm start and ``iterations`` is 0 when it already meets the tolerance.

    Raises :class:`decide.errors.MatrixError` if A is not symmetric, has a non-positive diagonal
    entry, or CG meets a direction with ``p^T A p <= 0``.
    """

    def solve(self, A: MatrixLike, b: ArrayLike, x0: ArrayLike | None = None) -> SolveResult:
        """Solve ``A x = b`` warm-started from ``x0`` (default 0)."""
        return _pcg(A, b, x0, self.omega, True, self.rtol, self.maxiter)


@dataclass(frozen=True)
class CG:
    """Plain (unpreconditioned) conjugate gradients; same stopping rule as :class:`SSORPCG`."""

    rtol: float = 1e-8
    maxiter: int = 10_000

    def __post_init__(self) -> None:
        _check_stopping(self)

    def solve(self, A: MatrixLike, b: ArrayLike, x0: ArrayLike | None = None) -> SolveResult:
        """Solve ``A x = b`` warm-started from ``x0`` (default 0)."""
        return _pcg(A, b, x0, 1.0, False, self.rtol, self.maxiter)
