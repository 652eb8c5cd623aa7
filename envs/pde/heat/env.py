"""``decide/HeatControl-v0``: steer a temperature field to a target profile with heaters."""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import scipy.sparse as sp
from gymnasium import spaces

from decide.envs._shared import clipped_action
from decide.envs.pde.fem import get_backend
from decide.envs.pde.fem.geometry import sensor_matrix
from decide.envs.pde.heat.dynamics import (
    build_system,
    bump,
    fix_dirichlet,
    kappa_at,
    step_matrix,
    step_rhs,
    tracking_error,
    vertex_field,
)
from decide.envs.pde.heat.params import HeatParams, make_params
from decide.envs.pde.heat.solve import DirectSolve, IterativeSolve, StepSolve
from decide.errors import UsageError


class HeatControlEnv(gym.Env[np.ndarray, np.ndarray]):
    r"""
    ## Description

    Control of the heat equation on a rectangle Ω (default the unit square)

    .. math:: \partial_t y = \nabla\cdot(\kappa(t) \nabla y) + \sum_{j=1}^m u_j \chi_j(x)

    with m actuators: a *patch* :math:`\chi_j` is the indicator of the mesh cells whose centroid
    lies in a box (a heat source of :math:`u_j` per unit area), a *segment* is a boundary flux
    :math:`\kappa \partial_n y = u_j` on part of a side. The other boundary conditions: Dirichlet
    :math:`y = y_D` on the ``dirichlet`` sides, Robin :math:`\kappa \partial_n y = \alpha(y_{ext}
    - y)` on the ``robin`` sides, insulated (:math:`\partial_n y = 0`) elsewhere. With P1 finite
    elements (mass M, stiffness K, boundary mass :math:`M_\Gamma`, boundary load :math:`b_\Gamma`,
    actuators :math:`B_{ij} = \int \chi_j \varphi_i`) the weak form is

    .. math:: M \dot y = -\kappa(t) K y - \alpha M_\Gamma y + \alpha y_{ext} b_\Gamma + B u,

    stepped by backward Euler (θ = 1) or Crank–Nicolson (θ = 1/2) with κ evaluated at
    :math:`t_n + \theta \Delta t`, the control held over the step
    (:mod:`decide.envs.pde.heat.dynamics`). The implicit systems are solved by a sparse LU,
    factorised once per distinct κ, or by ``linear_solver``.

    ## Action Space

    ``Box(-u_max, u_max, (m,), float64)``: one control per actuator (default u_max = 1, which
    is the [-1, 1] box Gymnasium recommends). Values outside are clipped.

    ## Observation Space

    ``observation="sensors"`` (default): ``Box(-y_max, y_max, (k,), float64)``, the field at k
    points (default the 3×3 grid at 1/4, 1/2, 3/4 of each side) plus independent
    :math:`\mathrm{Normal}(0, \sigma)` noise (σ = 0.01), clipped to the box.
    ``observation="field"``: ``Box(-y_max, y_max, (n,), float64)``, the nodal values in vertex
    order (x fastest), noise-free unless ``sensor_noise`` is set. Default y_max = 10.

    ## Rewards

    After the step from :math:`y^n` to :math:`y^{n+1}` with control u,

    .. math:: r = -\left(\Delta t\, (y^{n+1} - y_d)^\top M (y^{n+1} - y_d)
                  + \lambda\, \Delta t \sum_j u_j^2\right),

    i.e. :math:`-\Delta t (\|y^{n+1} - y_d\|^2_{L^2(\Omega)} + \lambda |u|^2)` for the P1 fields,
    with u the clipped control and λ = ``control_cost`` (default 1e-3). The default target
    :math:`y_d` is the bump :math:`0.5 \exp(-|x - c|^2 / (2 \cdot 0.15^2))` at the centre c.

    ## Starting State

    :math:`y^0` = ``y0`` (default 0) on the vertices, :math:`y_D` on Dirichlet vertices, t = 0;
    ``reset(options={"y0": field})`` overrides it. There is no randomness in the state, only in
    the sensor noise (``self.np_random``).

    ## Episode End

    - Termination: never.
    - Truncation: after ``horizon`` steps (default 100, so T = 1 with dt = 0.01).

    ## Info

    ``t`` the time after the step, ``kappa`` the κ of the step, ``tracking_error``
    :math:`\|y - y_d\|_M^2`, ``control_cost`` :math:`\lambda |u|^2` (the reward is
    :math:`-\Delta t` times their sum), ``iterations`` of the linear solver (0 for the direct
    solve), ``omega`` the relaxation it used (None when it reports none), ``converged``, and with
    ``info_field=True`` the true field ``y``.

    ## Arguments

    ```python
    import gymnasium as gym
    import decide.envs
    env = gym.make("decide/HeatControl-v0", kappa="oscillating", scheme="crank_nicolson")
    ```

    Keyword arguments are the fields of :class:`decide.envs.pde.heat.params.HeatParams`
    (``mesh``, ``backend``, ``actuators``, ``dirichlet``, ``y_dirichlet``, ``robin``,
    ``robin_alpha``, ``y_ext``, ``kappa``, ``scheme``, ``dt``, ``horizon``, ``u_max``,
    ``control_cost``, ``target``, ``y0``, ``observation``, ``sensors``, ``sensor_noise``,
    ``y_max``, ``info_field``), or a whole ``params=HeatParams(...)`` plus overrides; an invalid
    value raises :class:`decide.errors.ModelError` naming the field. ``linear_solver`` is any
    object with ``solve(A, b, x0)`` returning an array or a result with ``x`` (e.g. the solvers
    of :mod:`decide.linalg`); when its ``solve`` takes ``context=`` (a ``TunedSolver``), it gets
    the κ of the step. It is warm-started from :math:`y^n`.

    ## Version History

    - v0: Initial version.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(
        self,
        params: HeatParams | None = None,
        linear_solver: Any = None,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        self.params = p = make_params(params, **overrides)
        if render_mode is not None:
            raise UsageError(f"render_mode: the heat env does not render, got {render_mode!r}")
        self.render_mode = render_mode
        self.operators = get_backend(p.backend).assemble(p.mesh, p.control_actuators())
        self.system = build_system(
            self.operators,
            dirichlet=p.dirichlet,
            y_dirichlet=p.y_dirichlet,
            robin=p.robin,
            robin_alpha=p.robin_alpha,
            y_ext=p.y_ext,
        )
        points = self.operators.points
        target = bump(points, p.mesh.extent) if isinstance(p.target, str) else p.target
        self.target = vertex_field("target", target, points)
        self._y0 = vertex_field("y0", p.y0, points)
        self.sensors = None
        if p.observation == "sensors":
            self.sensors = sensor_matrix(p.mesh, points, p.sensor_points())
        n_obs = self.sensors.shape[0] if self.sensors is not None else self.system.size
        self.observation_space = spaces.Box(-p.y_max, p.y_max, (n_obs,), np.float64)
        m = self.system.actuators.shape[1]
        self.action_space = spaces.Box(-p.u_max, p.u_max, (m,), np.float64)
        self._direct = DirectSolve()
        self._iterative = None if linear_solver is None else IterativeSolve(linear_solver)
        self._last_matrix: tuple[float, sp.csr_matrix] | None = None
        self._y = fix_dirichlet(self.system, self._y0)
        self._t = 0.0
        self._steps = 0

    @property
    def y(self) -> np.ndarray:
        """A copy of the current true field (vertex order)."""
        return self._y.copy()

    @property
    def t(self) -> float:
        """The current time."""
        return self._t

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode at t = 0; ``options={"y0": field}`` overrides the initial field."""
        super().reset(seed=seed)
        y0 = self._y0
        if options and "y0" in options:
            y0 = vertex_field("y0", options["y0"], self.operators.points)
        self._y = fix_dirichlet(self.system, y0)
        self._t = 0.0
        self._steps = 0
        u = np.zeros(self.action_space.shape)
        return self._observe(), self._info(u, kappa_at(self.params.kappa, 0.0), StepSolve(self._y))

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """One θ-step of length dt with the control held at the clipped ``action``."""
        p = self.params
        u = clipped_action(action, self.action_space.shape[0], -p.u_max, p.u_max, "control")
        kappa = kappa_at(p.kappa, self._t + p.theta * p.dt)
        b = step_rhs(self.system, self._y, u, kappa, p.dt, p.theta)
        if self._iterative is None:
            result = self._direct.solve(kappa, lambda: self._matrix(kappa), b)
        else:
            result = self._iterative.solve(self._matrix(kappa), b, self._y.copy(), context=kappa)
        self._y = result.x
        self._steps += 1
        self._t = self._steps * p.dt
        info = self._info(u, kappa, result)
        reward = -p.dt * (info["tracking_error"] + info["control_cost"])
        truncated = self._steps >= p.horizon
        return self._observe(), float(reward), False, truncated, info

    def _matrix(self, kappa: float) -> sp.csr_matrix:
        """The step matrix for ``kappa``; the last one is kept (a constant κ builds it once)."""
        if self._last_matrix is None or self._last_matrix[0] != kappa:
            A = step_matrix(self.system, kappa, self.params.dt, self.params.theta)
            self._last_matrix = (kappa, A)
        return self._last_matrix[1]

    def _observe(self) -> np.ndarray:
        values = self._y if self.sensors is None else self.sensors @ self._y
        sd = self.params.noise
        if sd > 0.0:
            values = values + sd * self.np_random.standard_normal(values.shape)
        y_max = self.params.y_max
        return np.clip(values, -y_max, y_max).astype(np.float64)

    def _info(self, u: np.ndarray, kappa: float, result: StepSolve) -> dict[str, Any]:
        info = {
            "t": self._t,
            "kappa": kappa,
            "tracking_error": tracking_error(self.system, self._y, self.target),
            "control_cost": self.params.control_cost * float(u @ u),
            "iterations": result.iterations,
            "omega": result.omega,
            "converged": result.converged,
        }
        if self.params.info_field:
            info["y"] = self._y.copy()
        return info
