r"""Tracking error against control effort for the heat model of ``decide/HeatControl-v0``.

The control is piecewise constant: the horizon of N steps is cut into ``n_w`` windows of equal
length (lengths differ by one step when N is not a multiple), and actuator j holds the value
:math:`c_{k,j}` over window k; the coefficient vector is window-major, :math:`d = n_w m`, on the
box :math:`[-u_{max}, u_{max}]^d`. With :math:`\tau_k` the length of window k the objectives are

.. math:: f_1(c) = \sum_{n=1}^{N} \Delta t\, (y^n - y_d)^\top M (y^n - y_d), \qquad
          f_2(c) = \sum_k \tau_k |c_k|^2 \ (\text{"l2"}) \ \text{ or } \
          \sum_k \tau_k |c_k| \ (\text{"l1"}),

:math:`f_1` being the env's summed tracking term and :math:`f_2` the :math:`L^2(0,T)` norm squared
or the :math:`L^1(0,T)` norm of u (non-smooth; its subgradient uses sign(c) with 0 at 0).

**Forward.** With constant κ one θ-step (:mod:`decide.envs.pde.heat.dynamics`, Dirichlet rows
eliminated) is :math:`A y^{n+1} = E y^n + \Delta t B u_n + s`, with
:math:`A = M + \theta\Delta t(\kappa K + R)` (identity on Dirichlet rows),
:math:`E = P_F (M - (1 - \theta)\Delta t(\kappa K + R))`, :math:`B` the actuators with Dirichlet
rows zeroed (:math:`P_F`) and s the constant part (Robin load, Dirichlet lift and values).
:math:`A` is factorised once; every row of X is one column of a multi-column solve.

**Adjoint.** :math:`f_1` is a function of :math:`y^1..y^N`, each an affine function of the
previous one and of :math:`u_n`. Its exact derivative (of the discrete :math:`f_1`) comes from
:math:`\lambda^n` with

.. math:: A^\top \lambda^N = 2\Delta t M (y^N - y_d), \qquad
          A^\top \lambda^n = 2\Delta t M (y^n - y_d) + E^\top \lambda^{n+1} \ (n < N),

so that :math:`\partial f_1 / \partial u_n = \Delta t B^\top \lambda^{n+1}` and
:math:`\partial f_1 / \partial c_k = \sum_{n \in \text{window } k} \Delta t B^\top \lambda^{n+1}`:
one forward and one backward sweep per row.

**Reference set.** The state is affine in c, so :math:`f_1(c) = c^\top H c + 2 g^\top c + r`
exactly (:meth:`HeatTradeoff.quadratic_form`, from d + 1 forward solves). Both objectives are
convex on the box, so every Pareto-optimal point minimises :math:`f_1 + w f_2` for some
:math:`w \in [0, \infty]`; the reference set solves these box-constrained QPs (ℓ1-regularised for
"l1") on a dense geometric grid of w, polishes each on its active set to machine precision and
keeps n points spread evenly by arc length along the normalised front.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.optimize import minimize

from decide.envs.pde.fem import get_backend
from decide.envs.pde.fem.base import MeshSpec, Patch
from decide.envs.pde.heat.dynamics import (
    build_system,
    bump,
    fix_dirichlet,
    step_matrix,
    vertex_field,
)
from decide.envs.pde.heat.params import HeatParams, make_params
from decide.errors import ModelError
from decide.pareto.problem import Problem, check_points

#: The defaults: one patch heater on [0.3, 0.7] of the unit interval (64 cells), Robin heat loss
#: to 0 at both ends, κ = 0.1, backward Euler with dt = 1/60 for 60 steps (T = 1), u_max = 2.
DEFAULTS: dict[str, Any] = {
    "mesh": MeshSpec((64,), ((0.0, 1.0),)),
    "actuators": (Patch((0.3,), (0.7,)),),
    "robin": ("left", "right"),
    "kappa": 0.1,
    "dt": 1.0 / 60.0,
    "horizon": 60,
    "u_max": 2.0,
    "observation": "field",
}
COSTS = {"l2": "heat", "l1": "heat-l1"}
_MAX_FLOATS = 4_000_000  # states kept in one backward sweep (32 MB; rows go in chunks)
_BLOCK = 64  # right-hand sides per SuperLU call: wider blocks make BLAS threads thrash


class HeatTradeoff(Problem):
    """Tracking error ``f1`` against control effort ``f2`` of the heat-control model.

    Parameters
    ----------
    dim : int
        Number of coefficients d = windows × actuators (1 ≤ windows ≤ horizon).
    cost : {"l2", "l1"}
        ``f2`` is Σ τ_k c_k² (smooth) or Σ τ_k |c_k| (non-smooth).
    params : HeatParams, optional
        The heat model; default :data:`DEFAULTS`. ``overrides`` replace its fields as in
        :func:`decide.envs.pde.heat.params.make_params`. κ must be a constant; ``control_cost``
        and the observation fields are not used.
    """

    n_obj = 2
    solves_per_f = 1
    solves_per_jac = 2

    def __init__(
        self, dim: int = 4, cost: str = "l2", params: HeatParams | None = None, **overrides: Any
    ) -> None:
        if cost not in COSTS:
            raise ModelError("cost", f"expected one of {', '.join(COSTS)}; got {cost!r}")
        base = make_params(None, **DEFAULTS) if params is None else params
        self.params = p = make_params(base, **overrides)
        if isinstance(p.kappa, str) or callable(p.kappa):
            raise ModelError("HeatParams.kappa", f"expected a constant κ, got {p.kappa!r}")
        self.name, self.cost, self.smooth = COSTS[cost], cost, cost == "l2"
        ops = get_backend(p.backend).assemble(p.mesh, p.control_actuators())
        self.system = system = build_system(
            ops,
            dirichlet=p.dirichlet,
            y_dirichlet=p.y_dirichlet,
            robin=p.robin,
            robin_alpha=p.robin_alpha,
            y_ext=p.y_ext,
        )
        self.n_actuators = m = system.actuators.shape[1]
        self.n_windows = _windows(dim, m, p.horizon)
        self.lower, self.upper = np.full(dim, -p.u_max), np.full(dim, p.u_max)
        steps = np.array_split(np.arange(p.horizon), self.n_windows)
        self.window_of_step = np.concatenate([np.full(s.size, k) for k, s in enumerate(steps)])
        self.tau = np.repeat([s.size * p.dt for s in steps], m)
        target = bump(ops.points, p.mesh.extent) if isinstance(p.target, str) else p.target
        self.target = vertex_field("target", target, ops.points)
        self.y0 = fix_dirichlet(system, vertex_field("y0", p.y0, ops.points))
        self._build_step(float(p.kappa))
        self._quadratic: tuple[np.ndarray, np.ndarray, float] | None = None
        self._reference: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _build_step(self, kappa: float) -> None:
        p, system = self.params, self.system
        theta, dt = p.theta, p.dt
        keep = np.ones(system.size)
        keep[system.fixed] = 0.0
        free = sp.diags(keep)
        flux = kappa * system.stiffness + system.robin
        self._E = (free @ (system.mass - (1.0 - theta) * dt * flux)).tocsr()
        self._Et = self._E.T.tocsr()
        self._B = (free @ system.actuators).tocsr()
        lift = system.mass_lift + theta * dt * (kappa * system.stiffness_lift + system.robin_lift)
        self._s = keep * (dt * system.load - lift)
        self._s[system.fixed] = system.fixed_values
        self._kappa = kappa
        self._factorise()

    def _factorise(self) -> None:
        p = self.params
        matrix = step_matrix(self.system, self._kappa, p.dt, p.theta)
        self._lu = spla.splu(matrix.tocsc())

    def __getstate__(self) -> dict:
        """Pickled without the LU factors (SuperLU does not pickle): for decide.parallel."""
        return {key: value for key, value in self.__dict__.items() if key != "_lu"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._factorise()

    # -- objectives --------------------------------------------------------------------------

    def f(self, X: np.ndarray) -> np.ndarray:
        X = check_points(self, X)
        return np.column_stack([self._forward(X)[0], self._f2(X)])

    def jac(self, X: np.ndarray) -> np.ndarray:
        X = check_points(self, X)
        J = np.empty((len(X), 2, self.dim))
        chunk = max(1, _MAX_FLOATS // (self.params.horizon * self.system.size))
        for start in range(0, len(X), chunk):
            J[start : start + chunk, 0] = self._adjoint_gradient(X[start : start + chunk])
        J[:, 1] = 2.0 * self.tau * X if self.smooth else self.tau * np.sign(X)
        return J

    def _f2(self, X: np.ndarray) -> np.ndarray:
        return (X**2 if self.smooth else np.abs(X)) @ self.tau

    def _forward(self, X: np.ndarray, keep: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
        """``f1`` of every row, and the states y^1..y^N (vertices × rows) when ``keep``."""
        dt, M = self.params.dt, self.system.mass
        U = X.reshape(len(X), self.n_windows, self.n_actuators)
        Y = np.repeat(self.y0[:, None], len(X), axis=1)
        f1, states = np.zeros(len(X)), []
        for window in self.window_of_step:
            rhs = self._E @ Y + dt * (self._B @ U[:, window].T) + self._s[:, None]
            Y = _block_solve(self._lu, rhs, "N")
            error = Y - self.target[:, None]
            f1 += dt * np.einsum("ij,ij->j", error, M @ error)
            if keep:
                states.append(Y)
        return f1, states

    def _adjoint_gradient(self, X: np.ndarray) -> np.ndarray:
        """∇f1 of every row: the forward sweep, then the λ recursion backwards in time."""
        dt, M = self.params.dt, self.system.mass
        _, states = self._forward(X, keep=True)
        G = np.zeros((len(X), self.n_windows, self.n_actuators))
        lam = None
        for n in reversed(range(self.params.horizon)):
            rhs = 2.0 * dt * (M @ (states[n] - self.target[:, None]))
            if lam is not None:
                rhs += self._Et @ lam
            lam = _block_solve(self._lu, rhs, "T")  # λ^{n+1}, belonging to y^{n+1}
            G[:, self.window_of_step[n]] += dt * (self._B.T @ lam).T
        return G.reshape(len(X), self.dim)

    # -- reference set -----------------------------------------------------------------------

    def quadratic_form(self) -> tuple[np.ndarray, np.ndarray, float]:
        """``(H, g, r)`` with f1(c) = cᵀHc + 2gᵀc + r exactly, from d + 1 forward solves."""
        if self._quadratic is None:
            dt, M = self.params.dt, self.system.mass
            _, states = self._forward(np.vstack([np.zeros(self.dim), np.eye(self.dim)]), True)
            H, g, r = np.zeros((self.dim, self.dim)), np.zeros(self.dim), 0.0
            for Y in states:
                error, Z = Y[:, 0] - self.target, Y[:, 1:] - Y[:, :1]
                H += dt * (Z.T @ (M @ Z))
                g += dt * (Z.T @ (M @ error))
                r += dt * float(error @ (M @ error))
            self._quadratic = (H, g, r)
        H, g, r = self._quadratic
        return H.copy(), g.copy(), r

    def pareto_set(self, n: int) -> np.ndarray:
        """``n`` Pareto-optimal controls evenly spread along the front, from the best tracking
        control on the box to c = 0 (fewer if some coincide). Uses the quadratic form only."""
        return self._reference_set(n)[0].copy()

    def pareto_weights(self, n: int) -> np.ndarray:
        """The weight w for which each point of :meth:`pareto_set` minimises f1 + w f2 on the
        box (``inf`` for c = 0 under the l2 cost)."""
        return self._reference_set(n)[1].copy()

    def _reference_set(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if not (isinstance(n, int | np.integer) and n >= 2):
            raise ModelError("n", f"expected an integer >= 2, got {n!r}")
        if n not in self._reference:
            H, g, r = self.quadratic_form()
            qp = WeightedSum(H, g, self.tau, self.params.u_max, self.cost)
            C, w = qp.path(20 * n + 200)
            F = np.column_stack([np.einsum("ij,jk,ik->i", C, H, C) + 2 * C @ g + r, self._f2(C)])
            keep = _spread(F, n)
            self._reference[n] = (C[keep], w[keep])
        return self._reference[n]


def _block_solve(lu: spla.SuperLU, rhs: np.ndarray, trans: str) -> np.ndarray:
    """``A⁻¹ rhs`` (``A⁻ᵀ rhs`` for trans "T") in Fortran-ordered blocks of ``_BLOCK`` columns."""
    rhs = np.asfortranarray(rhs)
    out = np.empty_like(rhs, order="F")
    for start in range(0, rhs.shape[1], _BLOCK):
        out[:, start : start + _BLOCK] = lu.solve(rhs[:, start : start + _BLOCK], trans=trans)
    return out


def _windows(dim: object, m: int, horizon: int) -> int:
    """The number of windows of ``dim`` coefficients for ``m`` actuators, or a ModelError."""
    ok = isinstance(dim, int | np.integer) and not isinstance(dim, bool)
    if not (ok and dim >= m and dim % m == 0 and dim // m <= horizon):
        message = f"expected a multiple of the {m} actuator(s) from {m} to {m * horizon}"
        raise ModelError("dim", f"{message} (one window per step at most), got {dim!r}")
    return int(dim) // m


def _spread(F: np.ndarray, n: int) -> np.ndarray:
    """Indices of at most ``n`` distinct, mutually non-dominated rows of the front ``F`` (sorted
    by f2), nearest to n evenly spaced arc lengths of the front scaled to the unit square."""
    order = np.argsort(F[:, 1], kind="stable")
    F = F[order]
    kept = [0]
    for i in range(1, len(F)):  # along increasing f2, f1 must strictly fall
        if F[i, 1] > F[kept[-1], 1] and F[i, 0] < F[kept[-1], 0]:
            kept.append(i)
    G = F[kept]
    scaled = (G - G.min(axis=0)) / np.maximum(np.ptp(G, axis=0), np.finfo(float).tiny)
    arc = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(scaled, axis=0).T))])
    picks = np.abs(arc[:, None] - np.linspace(0.0, arc[-1], n)[None, :]).argmin(axis=0)
    return order[np.asarray(kept)[np.unique(picks)]]


@dataclass(frozen=True)
class WeightedSum:
    """The box QPs min cᵀHc + 2gᵀc + w f2(c) over [-bound, bound]^d (f2 of ``cost``)."""

    H: np.ndarray
    g: np.ndarray
    tau: np.ndarray
    bound: float
    cost: str

    def path(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Minimisers for w = 0, ``count`` geometric weights and the w where c = 0 becomes
        optimal (``inf`` for l2), each warm-started from the last; returns (C, w)."""
        if self.cost == "l1":  # c = 0 is optimal once |2 g_k| <= w τ_k for every k
            w_zero = float(np.max(np.abs(2.0 * self.g) / self.tau))
            weights = np.concatenate([[0.0], np.geomspace(1e-6 * w_zero, w_zero, count)])
        else:
            scale = np.linalg.norm(self.H, 2) / self.tau.min()
            inner = np.geomspace(1e-6 * scale, 1e6 * scale, count)
            weights = np.concatenate([[0.0], inner, [np.inf]])
        C, c = np.zeros((len(weights), len(self.g))), np.zeros(len(self.g))
        for i, w in enumerate(weights[:-1]):
            C[i] = c = self.solve(w, c)
        return C, weights

    def solve(self, w: float, guess: np.ndarray) -> np.ndarray:
        """Re-solve on the active set of ``guess``; if that is not optimal, L-BFGS-B and the
        same polish (the better of the two by :meth:`violation`)."""
        H, g, b = self.H, self.g, self.bound
        tol = 1e-11 * (np.abs(2.0 * g).max() + 2.0 * b * np.abs(H).sum(axis=1).max())
        polished = self.polish(w, guess)
        if self.violation(w, polished) <= tol:
            return polished
        rough = self.lbfgsb(w, guess)
        return min((rough, self.polish(w, rough)), key=lambda c: self.violation(w, c))

    def violation(self, w: float, c: np.ndarray) -> float:
        """Largest distance of −∇(smooth part) from w ∂(τ|c|) + N_box(c) over the coordinates
        (the KKT residual; ``inf`` outside the box)."""
        b, l1 = self.bound, self.cost == "l1"
        if np.any(np.abs(c) > b):
            return np.inf
        a = w * self.tau if l1 else np.zeros_like(self.tau)
        minus_grad = -2.0 * (self.H @ c + self.g) - (0.0 if l1 else 2.0 * w * self.tau * c)
        lo = np.where(c == b, a, np.where(c == -b, -np.inf, np.where(c == 0, -a, a * np.sign(c))))
        hi = np.where(c == b, np.inf, np.where(c == -b, -a, np.where(c == 0, a, a * np.sign(c))))
        return float(np.max(np.maximum(np.maximum(lo - minus_grad, minus_grad - hi), 0.0)))

    def polish(self, w: float, guess: np.ndarray) -> np.ndarray:
        """The stationary point for the active set of ``guess``: coordinates at ±b (and at 0
        for l1) stay there, the others solve the linear optimality conditions."""
        b, l1, near = self.bound, self.cost == "l1", 1e-9 * self.bound
        c = np.where(guess >= b - near, b, np.where(guess <= -b + near, -b, guess))
        c = np.where(np.abs(c) <= near, 0.0, c) if l1 else c
        free = (np.abs(c) < b) & ((c != 0) | (not l1))
        Q = self.H if l1 else self.H + np.diag(w * self.tau)
        shift = 0.5 * w * self.tau * np.sign(c) if l1 else np.zeros_like(c)
        if free.any():
            rhs = -(self.g + shift)[free] - Q[np.ix_(free, ~free)] @ c[~free]
            c[free] = np.linalg.lstsq(Q[np.ix_(free, free)], rhs, rcond=None)[0]
        return c

    def lbfgsb(self, w: float, guess: np.ndarray) -> np.ndarray:
        """L-BFGS-B on the box (l2), or on c = p − q with p, q ∈ [0, b] (l1)."""
        b, d, l1 = self.bound, len(self.g), self.cost == "l1"
        Q = self.H if l1 else self.H + np.diag(w * self.tau)
        a = w * self.tau if l1 else np.zeros(0)

        def fun(z: np.ndarray) -> tuple[float, np.ndarray]:
            c = z[:d] - z[d:] if l1 else z
            grad = 2.0 * (Q @ c + self.g)
            value = c @ Q @ c + 2.0 * self.g @ c
            if not l1:
                return value, grad
            return value + a @ (z[:d] + z[d:]), np.concatenate([grad + a, a - grad])

        x0 = np.clip(np.concatenate([guess, -guess]), 0.0, b) if l1 else np.clip(guess, -b, b)
        bounds = [(0.0, b)] * (2 * d) if l1 else [(-b, b)] * d
        options = {"ftol": 1e-16, "gtol": 1e-14, "maxiter": 10_000}
        z = minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bounds, options=options).x
        return z[:d] - z[d:] if l1 else z
