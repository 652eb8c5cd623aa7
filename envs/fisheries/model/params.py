"""Parameters of the fisheries environments, as one frozen dataclass.

The defaults are the simulation study of Memarzadeh & Boettiger (2019, appendix A): logistic growth
with r = 0.75, K = 1, harvest before growth, additive normal process noise σg = 0.15, survey noise
σm = 0.1, γ = 0.95, start at K/6, 100 years, and 100-point grids on [0, 2K].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from decide.envs._shared import check_choice, check_real, is_real, override
from decide.envs.fisheries.model.growth import GrowthModel, Logistic, NoiseKind, Order
from decide.errors import ModelError

Initial = Literal["fixed", "uniform"]

_NOISE = ("normal", "lognormal")
_ORDER = ("harvest_first", "recruit_first")
_INITIAL = ("fixed", "uniform")


@dataclass(frozen=True)
class FisheriesParams:
    r"""Everything that defines a fisheries environment.

    Parameters
    ----------
    model : GrowthModel
        Growth model ``g`` with ``recruit(s)`` and carrying capacity ``K`` (default
        ``Logistic(r=0.75, K=1)``).
    sigma_g : float
        Process noise: the sd of :math:`x'` around its expectation (absolute for ``"normal"``,
        log-scale for ``"lognormal"``).
    sigma_m : float
        Survey noise: :math:`y \sim \mathrm{Normal}(x, \sigma_m)`, censored to ``[0, x_max]``.
    noise : {"normal", "lognormal"}
        Kind of process noise (see :func:`decide.envs.fisheries.model.growth.add_process_noise`).
    order : {"harvest_first", "recruit_first"}
        Order of harvest and growth within a year (see :mod:`decide.envs.fisheries.model.growth`).
    x0 : float or None
        Starting stock; ``None`` means K/6.
    initial : {"fixed", "uniform"}
        ``"fixed"`` starts every episode at ``x0``; ``"uniform"`` draws the start uniformly on
        ``[0, x_max]`` (on the grid for the discrete env, like the paper's uniform prior belief).
    horizon : int
        Number of years (decisions) before the episode is truncated.
    discount : float
        γ in (0, 1], reported for agents; the env's rewards are undiscounted.
    h_max : float or None
        Largest quota; ``None`` means ``x_max``.
    x_max : float or None
        Upper end of the modelled range: the survey is censored to ``[0, x_max]`` and the discrete
        grids span ``[0, x_max]``; ``None`` means 2K.
    grid_size : int
        Number of grid points of the discrete env (states = actions = observations).
    """

    model: GrowthModel = field(default_factory=Logistic)
    sigma_g: float = 0.15
    sigma_m: float = 0.1
    noise: NoiseKind = "normal"
    order: Order = "harvest_first"
    x0: float | None = None
    initial: Initial = "fixed"
    horizon: int = 100
    discount: float = 0.95
    h_max: float | None = None
    x_max: float | None = None
    grid_size: int = 100

    def __post_init__(self) -> None:
        if not callable(getattr(self.model, "recruit", None)):
            raise ModelError(_field("model"), f"expected a growth model, got {self.model!r}")
        _check_real("model.K", self.model.K, positive=True)
        _check_real("sigma_g", self.sigma_g)
        _check_real("sigma_m", self.sigma_m)
        _check_choice("noise", self.noise, _NOISE)
        _check_choice("order", self.order, _ORDER)
        _check_choice("initial", self.initial, _INITIAL)
        if self.x0 is not None:
            _check_real("x0", self.x0)
        for name in ("h_max", "x_max"):
            if getattr(self, name) is not None:
                _check_real(name, getattr(self, name), positive=True)
        _check_int("horizon", self.horizon, 1)
        _check_int("grid_size", self.grid_size, 2)
        if not (is_real(self.discount) and 0.0 < self.discount <= 1.0):
            expected = f"expected 0 < discount <= 1, got {self.discount!r}"
            raise ModelError(_field("discount"), expected)

    @property
    def stock0(self) -> float:
        """The starting stock for ``initial="fixed"``: ``x0``, or K/6 when unset."""
        return float(self.model.K) / 6.0 if self.x0 is None else float(self.x0)

    @property
    def stock_max(self) -> float:
        """Upper end of the survey range and of the grids: ``x_max``, or 2K when unset."""
        return 2.0 * float(self.model.K) if self.x_max is None else float(self.x_max)

    @property
    def quota_max(self) -> float:
        """Largest quota: ``h_max``, or ``stock_max`` when unset."""
        return self.stock_max if self.h_max is None else float(self.h_max)

    def grid(self) -> np.ndarray:
        """The discrete env's grid: ``grid_size`` equally spaced points on ``[0, stock_max]``."""
        return np.linspace(0.0, self.stock_max, self.grid_size)


def make_params(params: FisheriesParams | None = None, **overrides: object) -> FisheriesParams:
    """``params`` (default :class:`FisheriesParams`) with the fields in ``overrides`` replaced.

    Raises
    ------
    TypeError
        For a name that is not a field of :class:`FisheriesParams`.
    decide.errors.ModelError
        For an invalid value, naming the field.
    """
    return override(FisheriesParams, params, overrides)


def _field(name: str) -> str:
    return f"FisheriesParams.{name}"


def _check_real(name: str, value: object, *, positive: bool = False) -> None:
    check_real(_field(name), value, least=0.0, strict=positive)


def _check_int(name: str, value: object, least: int) -> None:
    if not (isinstance(value, int | np.integer) and not isinstance(value, bool) and value >= least):
        raise ModelError(_field(name), f"expected an integer >= {least}, got {value!r}")


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    check_choice(_field(name), value, choices)
