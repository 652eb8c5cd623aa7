"""Sequences of linear systems from the "Learning to Relax" experiments (Khodak et al., 2024).

Each sequence hands out one system at a time (``system()``) and moves on once it has been
solved (``advance(x)``), so a system may depend on the previous solution (time stepping).

- :class:`OffsetLaplacian`: ``A_t = A + c_t I`` with ``A`` the 5-point Laplacian on an m×m grid
  (diagonal 4, MATLAB's ``delsq(numgrid('S', m + 2))``), ``c_t = -0.15 + 0.6 Beta(a, b)``
  ("high" variance: Beta(0.5, 1.5), "low": Beta(2, 6)), ``b_t`` a standard normal vector
  truncated to the ball of radius √n, ``x0 = 0``; context ``c_t``.
- :class:`HeatSequence`: the 2-D heat equation ``y_t = κ(t) Δy + f(t, x)`` on the unit square,
  zero Dirichlet boundary, finite differences on an nx × nx grid (n = (nx − 1)² unknowns),
  Crank–Nicolson with κ at the half step, dt = 0.001 (5000 steps to t = 5),
  ``κ(t) = max(0.1 sin 2πt, −10 sin 2πt)``, forcing a bump of radius 1/8 circling the centre,
  initial state a bump of radius 1/4; warm start from the previous step; context ``κ``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from decide.errors import ModelError, UsageError
from decide.linalg import CSRSystem, poisson_2d, prepare
from decide.tuning import LEARNERS

OFFSET_BETA = {"high": (0.5, 1.5), "low": (2.0, 6.0)}


@dataclass
class OffsetLaplacian:
    """Shifted Laplacians with random right-hand sides (SOR, x0 = 0)."""

    variance: str = "high"
    m: int = 10
    length: int = 5000
    random: bool = field(default=True, init=False)
    solver: str = "sor"
    context_range: tuple[float, float] = (-0.15, 0.45)
    _rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.variance not in OFFSET_BETA:
            raise ModelError("variance", f"expected one of {sorted(OFFSET_BETA)}")
        self._laplacian = prepare(poisson_2d(self.m))
        self.reset(0)

    @property
    def name(self) -> str:
        return f"offset-{self.variance}"

    def reset(self, seed: int) -> None:
        self._rng = np.random.default_rng(seed)
        self._next()

    def _next(self) -> None:
        a, b = OFFSET_BETA[self.variance]
        self.context = -0.15 + 0.6 * self._rng.beta(a, b)
        self._A = self._laplacian.shifted(self.context)
        self._b = _truncated_normal(self._rng, self._laplacian.n)

    def system(self) -> tuple[CSRSystem, np.ndarray, np.ndarray]:
        return self._A, self._b, np.zeros_like(self._b)

    def advance(self, x: np.ndarray) -> None:
        self._next()


def _truncated_normal(rng: np.random.Generator, n: int) -> np.ndarray:
    while True:
        b = rng.standard_normal(n)
        if b @ b <= n:
            return b


def heat_diffusion(t: float | np.ndarray) -> float | np.ndarray:
    """κ(t) = max(0.1 sin 2πt, −10 sin 2πt): slow diffusion half the period, fast the other."""
    s = np.sin(2.0 * np.pi * t)
    return np.maximum(0.1 * s, -10.0 * s)


def _bump(points: np.ndarray, centre: tuple[float, float], radius: float) -> np.ndarray:
    r2 = np.minimum(((points - np.asarray(centre)) ** 2).sum(axis=1) / radius**2, 1.0)
    with np.errstate(divide="ignore"):
        return np.exp(1.0 - 1.0 / (1.0 - r2))


@dataclass
class HeatSequence:
    """Crank–Nicolson steps of the 2-D heat equation with time-varying diffusion (SSOR-PCG)."""

    nx: int = 25
    length: int = 5000
    dt: float = 0.001
    random: bool = field(default=False, init=False)
    solver: str = "ssor-pcg"
    context_range: tuple[float, float] = (0.0, 10.0)

    def __post_init__(self) -> None:
        if self.nx < 3:
            raise ModelError("nx", f"expected at least 3 grid intervals, got {self.nx}")
        m, h = self.nx - 1, 1.0 / self.nx
        grid = np.arange(1, self.nx) * h
        gx, gy = np.meshgrid(grid, grid)
        self._points = np.stack([gx.ravel(), gy.ravel()], axis=1)
        self._laplacian = (-poisson_2d(m) / h**2).tocsr()
        self._identity = sp.identity(m * m, format="csr")
        self.reset(0)

    @property
    def name(self) -> str:
        return f"heat-{self.nx}"

    def reset(self, seed: int) -> None:
        self.t = 0.0
        self._u = _bump(self._points, (0.5, 0.5), 0.25)

    @property
    def context(self) -> float:
        return float(heat_diffusion(self.t + 0.5 * self.dt))

    def _forcing(self, t: float) -> np.ndarray:
        centre = (0.5 + np.cos(16 * np.pi * t) / 4, 0.5 + np.sin(16 * np.pi * t) / 4)
        return 32.0 * _bump(self._points, centre, 0.125)

    def system(self) -> tuple[CSRSystem, np.ndarray, np.ndarray]:
        half = self.t + 0.5 * self.dt
        step = 0.5 * self.context * self.dt * self._laplacian
        A = prepare(self._identity - step)
        b = self._u + step @ self._u + self.dt * self._forcing(half)
        return A, b, self._u

    def advance(self, x: np.ndarray) -> None:
        self._u = x
        self.t += self.dt


#: The experiments of the paper: offset systems at high or low context variance, and heat.
EXPERIMENTS = ("offset-high", "offset-low", "heat")
#: The strategies of the published table of each experiment.
PUBLISHED_METHODS = {
    "offset-high": ("omega-1", "best-fixed", *LEARNERS, "young"),
    "offset-low": ("omega-1", "best-fixed", *LEARNERS, "young"),
    "heat": ("cg", "omega-1", "best-fixed", *LEARNERS, "per-step-best"),
}


def make_sequence(experiment: str, *, length: int, grid: int = 10, nx: int = 25):
    """The sequence of linear systems of ``experiment``."""
    if experiment.startswith("offset-"):
        return OffsetLaplacian(variance=experiment.removeprefix("offset-"), m=grid, length=length)
    if experiment == "heat":
        return HeatSequence(nx=nx, length=length)
    raise UsageError(f"unknown experiment {experiment!r}; expected one of {EXPERIMENTS}")
