r"""The discrete heat equation of ``decide/HeatControl-v0``, as pure functions on arrays.

With P1 mass :math:`M`, stiffness :math:`K`, Robin matrix
:math:`R = \alpha \sum_{\Gamma_R} M_\Gamma`, Robin load
:math:`f = \alpha\, y_{ext} \sum_{\Gamma_R} b_\Gamma` and actuators :math:`B`, the semi-discrete
system is

.. math:: M \dot y = -(\kappa(t) K + R)\, y + f + B u .

One θ-step of length :math:`\Delta t` from :math:`t_n`, with :math:`\kappa = \kappa(t_n + \theta
\Delta t)` and the control held over the step, solves

.. math:: (M + \theta \Delta t (\kappa K + R))\, y^{n+1}
          = (M - (1 - \theta) \Delta t (\kappa K + R))\, y^n + \Delta t (f + B u),

θ = 1 being backward Euler and θ = 1/2 Crank–Nicolson (κ at the half step: second order). Dirichlet
vertices :math:`D` (value :math:`y_D`) are eliminated symmetrically: their rows and columns become
the identity, their right-hand side :math:`y_D`, and :math:`A_{FD}\, y_D` moves to the right.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from decide.envs.pde.fem.base import Operators
from decide.envs.pde.fem.conditions import robin_terms
from decide.errors import ModelError


@dataclass(frozen=True, eq=False)
class HeatSystem:
    """The matrices of one heat problem, with the Dirichlet vertices already eliminated.

    ``mass``, ``stiffness``, ``robin`` are the full :math:`M, K, R` (for costs and diagnostics);
    the ``*_free`` matrices are :math:`D_F X D_F` (rows and columns of the Dirichlet vertices
    zeroed) and the ``*_lift`` vectors :math:`D_F X g`, with :math:`g` the Dirichlet values on
    the Dirichlet vertices and 0 elsewhere.
    """

    mass: sp.csr_matrix
    stiffness: sp.csr_matrix
    robin: sp.csr_matrix
    load: np.ndarray
    actuators: sp.csr_matrix
    fixed: np.ndarray
    fixed_values: np.ndarray
    mass_free: sp.csr_matrix
    stiffness_free: sp.csr_matrix
    robin_free: sp.csr_matrix
    mass_lift: np.ndarray
    stiffness_lift: np.ndarray
    robin_lift: np.ndarray

    @property
    def size(self) -> int:
        return self.mass.shape[0]


def build_system(
    ops: Operators,
    *,
    dirichlet: tuple[str, ...] = (),
    y_dirichlet: float = 0.0,
    robin: tuple[str, ...] = (),
    robin_alpha: float = 1.0,
    y_ext: float = 0.0,
) -> HeatSystem:
    """The :class:`HeatSystem` of ``ops`` with the given boundary conditions.

    Boundaries named in neither ``dirichlet`` nor ``robin`` are insulated (natural condition).
    The Robin terms come from :func:`decide.envs.pde.fem.conditions.robin_terms`; the Dirichlet
    elimination is the symmetric one of :func:`decide.envs.pde.fem.conditions.apply_dirichlet`,
    split into its κ-independent parts so that each step only adds them up.
    """
    n = ops.mass.shape[0]
    robin_matrix = sp.csr_matrix((n, n))
    load = np.zeros(n)
    for name in robin:
        matrix, rhs = robin_terms(ops, name, robin_alpha, y_ext)
        robin_matrix = robin_matrix + matrix
        load = load + rhs
    fixed = np.unique(np.concatenate([ops.boundary_dofs[name] for name in dirichlet] or [[]]))
    fixed = fixed.astype(np.int64)
    free = np.ones(n)
    free[fixed] = 0.0
    keep = sp.diags(free)
    g = np.zeros(n)
    g[fixed] = y_dirichlet
    B = ops.actuators if ops.actuators is not None else sp.csr_matrix((n, 0))
    matrices = (ops.mass.tocsr(), ops.stiffness.tocsr(), robin_matrix.tocsr())
    eliminated = [(keep @ X @ keep).tocsr() for X in matrices]
    for X in eliminated:
        X.eliminate_zeros()
    lifts = [free * (X @ g) for X in matrices]
    return HeatSystem(
        *matrices,
        load=load,
        actuators=sp.csr_matrix(B),
        fixed=fixed,
        fixed_values=np.full(fixed.size, float(y_dirichlet)),
        mass_free=eliminated[0],
        stiffness_free=eliminated[1],
        robin_free=eliminated[2],
        mass_lift=lifts[0],
        stiffness_lift=lifts[1],
        robin_lift=lifts[2],
    )


def step_matrix(system: HeatSystem, kappa: float, dt: float, theta: float) -> sp.csr_matrix:
    r"""The eliminated :math:`A = M + \theta \Delta t (\kappa K + R)` (identity on Dirichlet
    rows and columns)."""
    A = system.mass_free + theta * dt * (kappa * system.stiffness_free + system.robin_free)
    identity = np.zeros(system.size)
    identity[system.fixed] = 1.0
    return (A + sp.diags(identity)).tocsr()


def step_rhs(
    system: HeatSystem, y: np.ndarray, u: np.ndarray, kappa: float, dt: float, theta: float
) -> np.ndarray:
    r"""The eliminated right-hand side of one θ-step from ``y`` with control ``u``.

    :math:`b = (M - (1-\theta)\Delta t(\kappa K + R))\, y + \Delta t (f + B u)`, then
    :math:`b_F \mathrel{-}= A_{FD}\, y_D` and :math:`b_D = y_D`.
    """
    flux = kappa * (system.stiffness @ y) + system.robin @ y
    b = system.mass @ y - (1.0 - theta) * dt * flux + dt * (system.load + system.actuators @ u)
    lift = system.mass_lift + theta * dt * (kappa * system.stiffness_lift + system.robin_lift)
    b = b - lift
    b[system.fixed] = system.fixed_values
    return b


def theta_step(
    system: HeatSystem,
    y: np.ndarray,
    u: np.ndarray,
    kappa: float,
    dt: float,
    theta: float,
    solve: Callable[[sp.csr_matrix, np.ndarray], np.ndarray],
) -> np.ndarray:
    """:math:`y^{n+1}` of one θ-step, with ``solve(A, b)`` solving the linear system."""
    return solve(step_matrix(system, kappa, dt, theta), step_rhs(system, y, u, kappa, dt, theta))


def tracking_error(system: HeatSystem, y: np.ndarray, target: np.ndarray) -> float:
    r""":math:`\|y - y_d\|_M^2 = (y - y_d)^\top M (y - y_d) = \int (y_h - y_{d,h})^2\,dx`."""
    e = y - target
    return float(e @ (system.mass @ e))


def fix_dirichlet(system: HeatSystem, y: np.ndarray) -> np.ndarray:
    """A copy of ``y`` with the Dirichlet values on the Dirichlet vertices."""
    y = np.array(y, dtype=float)
    y[system.fixed] = system.fixed_values
    return y


def oscillating_kappa(t: float) -> float:
    r""":math:`\kappa(t) = \max(0.1 \sin 2\pi t, -10 \sin 2\pi t)`: slow diffusion for half of
    each period, fast for the other half."""
    s = np.sin(2.0 * np.pi * t)
    return float(max(0.1 * s, -10.0 * s))


def kappa_at(kappa: float | str | Callable[[float], float], t: float) -> float:
    """κ(t) of the ``kappa`` parameter (a constant, ``"oscillating"`` or a function of t)."""
    if isinstance(kappa, str):
        value = oscillating_kappa(t)
    elif callable(kappa):
        value = kappa(t)
    else:
        value = kappa
    try:
        value = float(value)
    except (TypeError, ValueError) as error:
        raise ModelError("HeatParams.kappa", f"κ({t:g}) is not a number: {value!r}") from error
    if not (np.isfinite(value) and value >= 0.0):
        raise ModelError("HeatParams.kappa", f"expected κ(t) >= 0, got κ({t:g}) = {value!r}")
    return value


def bump(points: np.ndarray, extent: tuple[tuple[float, float], ...]) -> np.ndarray:
    r"""The default target :math:`0.5 \exp(-|x - c|^2 / (2 s^2))`: c the centre of ``extent``,
    s = 0.15 times its mean side."""
    lo, hi = np.array(extent, dtype=float).T
    s = 0.15 * float(np.mean(hi - lo))
    r2 = ((points - 0.5 * (lo + hi)) ** 2).sum(axis=1)
    return 0.5 * np.exp(-r2 / (2.0 * s**2))


def vertex_field(name: str, value: object, points: np.ndarray) -> np.ndarray:
    """``value`` (a number, one value per vertex, or a function of ``points``) on the vertices.

    Raises
    ------
    decide.errors.ModelError
        Naming ``HeatParams.<name>`` for a wrong shape or a non-finite value.
    """
    n = points.shape[0]
    try:
        if callable(value):
            value = value(points.copy())
        array = np.array(value, dtype=float)
        if array.ndim == 0:
            array = np.full(n, float(array))
    except (TypeError, ValueError) as error:
        raise ModelError(
            f"HeatParams.{name}", f"expected a field over the vertices: {error}"
        ) from error
    if array.shape != (n,):
        message = f"expected a number or {n} vertex values, got shape {array.shape}"
        raise ModelError(f"HeatParams.{name}", message)
    if not np.all(np.isfinite(array)):
        raise ModelError(f"HeatParams.{name}", "expected finite values")
    return array
