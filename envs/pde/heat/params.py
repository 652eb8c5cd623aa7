"""Parameters of ``decide/HeatControl-v0``, as one frozen dataclass.

The defaults: the unit square on a 32×32 P1 mesh, four square heater patches, insulated
boundaries, κ = 0.1, backward Euler with dt = 0.01 for 100 steps (T = 1), a Gaussian bump as the
target, y0 = 0, and a 3×3 grid of point sensors with noise sd 0.01.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from decide.envs._shared import check_choice, check_real, override
from decide.envs.pde.fem.base import BOUNDARIES, Actuator, MeshSpec, Patch, Segment
from decide.errors import ModelError

#: A field over the vertices: a number, an array of one value per vertex, or a function of the
#: vertex coordinates ``points[n, dim]`` returning ``n`` values.
FieldLike = float | np.ndarray | Callable[[np.ndarray], np.ndarray]
Scheme = Literal["backward_euler", "crank_nicolson"]
Observation = Literal["sensors", "field"]

THETA = {"backward_euler": 1.0, "crank_nicolson": 0.5}
_OBSERVATION = ("sensors", "field")
_BACKENDS = ("skfem", "dolfinx")
_KAPPA_NAMES = ("oscillating",)


@dataclass(frozen=True, eq=False)
class HeatParams:
    r"""Everything that defines a heat-control environment.

    Parameters
    ----------
    mesh : MeshSpec
        The structured P1 mesh (default 32×32 cells on the unit square; an interval also works).
    backend : {"skfem", "dolfinx"}
        Finite-element library that assembles the operators.
    actuators : tuple of Patch or Segment, or None
        The controls :math:`\chi_j`: a :class:`Patch` is a heat source :math:`u_j` per unit area on
        its cells, a :class:`Segment` a boundary flux :math:`\kappa\,\partial_n y = u_j`. ``None``
        means one square patch of side a quarter of the extent centred at each of 1/4 and 3/4 of
        every axis (four patches on a rectangle).
    dirichlet : tuple of str
        Boundaries ("left", "right", "bottom", "top", or "all") with :math:`y = y_D`.
    y_dirichlet : float
        The Dirichlet value :math:`y_D`.
    robin : tuple of str
        Boundaries with :math:`\kappa\,\partial_n y = \alpha (y_{ext} - y)`. Boundaries in neither
        tuple are insulated (:math:`\partial_n y = 0`) apart from any segment actuator on them.
    robin_alpha, y_ext : float
        The heat-transfer coefficient :math:`\alpha > 0` and outside temperature.
    kappa : float, "oscillating" or callable
        Diffusivity :math:`\kappa(t) \ge 0`: a constant, ``"oscillating"`` for
        :math:`\kappa(t) = \max(0.1 \sin 2\pi t, -10 \sin 2\pi t)`, or a function of t.
    scheme : {"backward_euler", "crank_nicolson"}
        The θ-scheme: θ = 1 or θ = 1/2.
    dt : float
        Time step (one env step).
    horizon : int
        Number of steps before the episode is truncated.
    u_max : float
        Bound of every control: actions are clipped to :math:`[-u_{max}, u_{max}]`.
    control_cost : float
        λ ≥ 0, the weight of :math:`\|u\|^2` in the cost.
    target : "bump", float, array or callable
        Target profile :math:`y_d`; ``"bump"`` is :math:`0.5 \exp(-|x - c|^2 / (2 s^2))` with c the
        centre of the domain and s = 0.15 times its mean side.
    y0 : float, array or callable
        Initial temperature (Dirichlet vertices are set to :math:`y_D`).
    observation : {"sensors", "field"}
        Noisy point values at ``sensors``, or the whole field in vertex order.
    sensors : array of shape (k, dim) or None
        Sensor locations; ``None`` means the 3×3 grid at 1/4, 1/2, 3/4 of every axis.
    sensor_noise : float or None
        Sd of the Gaussian sensor noise; ``None`` means 0.01 for sensors and 0 for the field.
    y_max : float
        Observations are clipped to :math:`[-y_{max}, y_{max}]` (the observation box).
    info_field : bool
        Whether ``info["y"]`` carries a copy of the true field after each step.
    """

    mesh: MeshSpec = field(default_factory=MeshSpec)
    backend: str = "skfem"
    actuators: tuple[Actuator, ...] | None = None
    dirichlet: tuple[str, ...] = ()
    y_dirichlet: float = 0.0
    robin: tuple[str, ...] = ()
    robin_alpha: float = 1.0
    y_ext: float = 0.0
    kappa: float | str | Callable[[float], float] = 0.1
    scheme: Scheme = "backward_euler"
    dt: float = 0.01
    horizon: int = 100
    u_max: float = 1.0
    control_cost: float = 1e-3
    target: str | FieldLike = "bump"
    y0: FieldLike = 0.0
    observation: Observation = "sensors"
    sensors: np.ndarray | None = None
    sensor_noise: float | None = None
    y_max: float = 10.0
    info_field: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.mesh, MeshSpec):
            raise ModelError(_field("mesh"), f"expected a MeshSpec, got {self.mesh!r}")
        _check_choice("backend", self.backend, _BACKENDS)
        self._set("dirichlet", _boundaries("dirichlet", self.dirichlet, self.mesh.dim))
        self._set("robin", _boundaries("robin", self.robin, self.mesh.dim))
        both = sorted(set(self.dirichlet) & set(self.robin))
        if both:
            raise ModelError(_field("robin"), f"boundary {both[0]!r} is also a Dirichlet boundary")
        if self.actuators is not None:
            self._set("actuators", _actuators(self.actuators, self.dirichlet))
        _check_real("y_dirichlet", self.y_dirichlet, least=None)
        _check_real("robin_alpha", self.robin_alpha, least=0.0, strict=True)
        _check_real("y_ext", self.y_ext, least=None)
        if isinstance(self.kappa, str):
            _check_choice("kappa", self.kappa, _KAPPA_NAMES)
        elif not callable(self.kappa):
            _check_real("kappa", self.kappa)
        _check_choice("scheme", self.scheme, tuple(THETA))
        _check_real("dt", self.dt, strict=True)
        if not (isinstance(self.horizon, int | np.integer) and not isinstance(self.horizon, bool)):
            raise ModelError(_field("horizon"), f"expected an integer >= 1, got {self.horizon!r}")
        if self.horizon < 1:
            raise ModelError(_field("horizon"), f"expected an integer >= 1, got {self.horizon!r}")
        _check_real("u_max", self.u_max, strict=True)
        _check_real("control_cost", self.control_cost)
        if isinstance(self.target, str):
            _check_choice("target", self.target, ("bump",))
        _check_choice("observation", self.observation, _OBSERVATION)
        if self.sensors is not None:
            self._set("sensors", _sensors(self.sensors, self.mesh))
        if self.sensor_noise is not None:
            _check_real("sensor_noise", self.sensor_noise)
        _check_real("y_max", self.y_max, strict=True)
        if not isinstance(self.info_field, bool | np.bool_):
            raise ModelError(_field("info_field"), f"expected a bool, got {self.info_field!r}")

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    @property
    def theta(self) -> float:
        """θ of the scheme: 1 for backward Euler, 1/2 for Crank–Nicolson."""
        return THETA[self.scheme]

    @property
    def noise(self) -> float:
        """The sensor noise sd in effect (``sensor_noise`` or its default)."""
        if self.sensor_noise is not None:
            return float(self.sensor_noise)
        return 0.01 if self.observation == "sensors" else 0.0

    def control_actuators(self) -> tuple[Actuator, ...]:
        """``actuators``, or the default patches at 1/4 and 3/4 of every axis."""
        if self.actuators is not None:
            return self.actuators
        per_axis = [
            [(lo + (c - 0.125) * (hi - lo), lo + (c + 0.125) * (hi - lo)) for c in (0.25, 0.75)]
            for lo, hi in self.mesh.extent
        ]
        boxes = itertools.product(*per_axis)
        return tuple(Patch(tuple(b[0] for b in box), tuple(b[1] for b in box)) for box in boxes)

    def sensor_points(self) -> np.ndarray:
        """``sensors``, or the grid at 1/4, 1/2, 3/4 of every axis (x fastest)."""
        if self.sensors is not None:
            return self.sensors
        axes = [lo + np.array([0.25, 0.5, 0.75]) * (hi - lo) for lo, hi in self.mesh.extent]
        grids = np.meshgrid(*axes)
        return np.stack([g.ravel() for g in grids], axis=1)


def make_params(params: HeatParams | None = None, **overrides: object) -> HeatParams:
    """``params`` (default :class:`HeatParams`) with the fields in ``overrides`` replaced.

    Raises
    ------
    TypeError
        For a name that is not a field of :class:`HeatParams`.
    decide.errors.ModelError
        For an invalid value, naming the field.
    """
    return override(HeatParams, params, overrides)


def _field(name: str) -> str:
    return f"HeatParams.{name}"


def _check_real(
    name: str, value: object, *, least: float | None = 0.0, strict: bool = False
) -> None:
    check_real(_field(name), value, least=least, strict=strict)


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    check_choice(_field(name), value, choices)


def _boundaries(name: str, value: object, dim: int) -> tuple[str, ...]:
    names = BOUNDARIES[dim]
    if isinstance(value, str):
        value = names if value == "all" else (value,)
    if not isinstance(value, tuple | list) or any(v not in names for v in value):
        expected = f"a tuple of boundary names from {', '.join(names)} (or 'all')"
        raise ModelError(_field(name), f"expected {expected}, got {value!r}")
    return tuple(dict.fromkeys(value))


def _actuators(value: object, dirichlet: tuple[str, ...]) -> tuple[Actuator, ...]:
    if isinstance(value, Patch | Segment):
        value = (value,)
    if not isinstance(value, tuple | list) or not value:
        raise ModelError(_field("actuators"), f"expected Patch/Segment actuators, got {value!r}")
    for actuator in value:
        if not isinstance(actuator, Patch | Segment):
            raise ModelError(_field("actuators"), f"expected a Patch or Segment, got {actuator!r}")
        if isinstance(actuator, Segment) and actuator.boundary in dirichlet:
            message = f"segment {actuator} lies on a Dirichlet boundary"
            raise ModelError(_field("actuators"), message)
    return tuple(value)


def _sensors(value: object, mesh: MeshSpec) -> np.ndarray:
    try:
        points = np.array(value, dtype=float, ndmin=2)
    except (TypeError, ValueError) as error:
        raise ModelError(
            _field("sensors"), f"expected an array of points, got {value!r}"
        ) from error
    if points.ndim != 2 or points.shape[1] != mesh.dim or points.shape[0] == 0:
        message = f"expected an array of shape (k, {mesh.dim}), got shape {points.shape}"
        raise ModelError(_field("sensors"), message)
    lo = np.array([e[0] for e in mesh.extent])
    hi = np.array([e[1] for e in mesh.extent])
    if not np.all(np.isfinite(points)) or np.any(points < lo) or np.any(points > hi):
        raise ModelError(_field("sensors"), f"sensor locations must lie in {mesh.extent}")
    points.flags.writeable = False
    return points
