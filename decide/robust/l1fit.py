r"""Robust ℓ1 calibration by the sub-gradient method with geometrically decaying steps.

For a residual function :math:`r: \mathbb R^p \to \mathbb R^m` with Jacobian :math:`J(\theta)`,
:func:`l1_fit` minimises

.. math:: f(\theta) = \frac1m \lVert r(\theta) \rVert_1 = \frac1m \sum_{i=1}^m |r_i(\theta)|

over :math:`\theta` in an optional box :math:`[l, u]`. A sub-gradient of :math:`f` is
:math:`g = J(\theta)^\top \operatorname{sign}(r(\theta)) / m` (with :math:`\operatorname{sign}
0 = 0`, a valid choice since :math:`0 \in \partial|0|`), and the iteration is

.. math::

    \theta_{k+1} = \Pi_{[l, u]}\bigl(\theta_k - \eta_k d_k\bigr), \qquad
    \eta_k = \eta_0 q^k, \quad 0 < q < 1,

with :math:`d_k = g_k / \lVert g_k \rVert_2` (``normalise=True``) or :math:`d_k = g_k`, and
:math:`\Pi` the Euclidean projection onto the box (a coordinate-wise clip). Components of
:math:`g_k` that push against an active bound (:math:`\theta_j = l_j`, :math:`g_j > 0` or
:math:`\theta_j = u_j`, :math:`g_j < 0`) are set to 0 first, so that a normalised step is not
spent on a wall; the method stops when nothing is left, i.e. when :math:`-g_k` lies in the normal
cone of the box (for convex f, a minimiser). With normalised steps the iterates travel at most
:math:`\eta_0 / (1 - q)` from the start and the last step is :math:`\eta_0 q^{K-1}`, so
:math:`\eta_0` sets the reach and :math:`q` the final resolution; for a sharp problem the
schedule must decay no faster than the conditioning allows (roughly :math:`q \ge
\sqrt{1 - \mu^2/L^2}` with L the Lipschitz constant), or the iterates freeze short of the
minimiser.

Geometrically decaying steps are what make the method converge linearly on *sharp* problems,
:math:`f(\theta) - f^\star \ge \mu\,\mathrm{dist}(\theta, \Theta^\star)`, without knowing
:math:`f^\star` (no Polyak step): Goffin (1977) for convex functions, Ma & Fattahi (2022) for the
non-convex robust matrix recovery objective, where the ℓ1 loss recovers the truth even when a
constant fraction of the measurements carry arbitrarily large errors. The sub-gradient method is
not a descent method, so the best iterate by objective is returned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from decide.errors import UsageError

Residual = Callable[[np.ndarray], ArrayLike]
Jacobian = Callable[[np.ndarray], ArrayLike]


@dataclass(frozen=True, eq=False)
class L1Fit:
    """Result of :func:`l1_fit`.

    ``theta`` is the best iterate by objective, ``objective`` its :math:`\\lVert r \\rVert_1 / m`,
    ``history[k]`` the objective at iterate :math:`\\theta_k` (``history[0]`` at the start, so
    ``len(history) == iterations + 1``) and ``iterations`` the number of steps taken (fewer than
    asked when a zero (box-feasible) sub-gradient stopped the method).
    """

    theta: np.ndarray
    objective: float
    history: np.ndarray
    iterations: int


def _box(bounds: tuple[ArrayLike, ArrayLike] | None, p: int) -> tuple[np.ndarray, np.ndarray]:
    if bounds is None:
        return np.full(p, -np.inf), np.full(p, np.inf)
    try:
        lower, upper = bounds
    except (TypeError, ValueError):
        raise UsageError("bounds: expected a pair (lower, upper) or None") from None
    lower = np.broadcast_to(np.asarray(lower, dtype=float), (p,)).copy()
    upper = np.broadcast_to(np.asarray(upper, dtype=float), (p,)).copy()
    if np.any(np.isnan(lower)) or np.any(np.isnan(upper)) or np.any(lower > upper):
        raise UsageError(f"bounds: expected lower <= upper, got {lower} and {upper}")
    return lower, upper


def _check_settings(step: float, decay: float, iterations: int) -> None:
    if not (np.isfinite(step) and step > 0):
        raise UsageError(f"step: expected a finite initial step size > 0, got {step}")
    if not 0 < decay < 1:
        raise UsageError(f"decay: expected the step-size ratio q in (0, 1), got {decay}")
    if isinstance(iterations, bool) or not isinstance(iterations, int | np.integer):
        raise UsageError(f"iterations: expected an integer >= 0, got {iterations!r}")
    if iterations < 0:
        raise UsageError(f"iterations: expected an integer >= 0, got {iterations}")


def _residual(residual: Residual, theta: np.ndarray) -> np.ndarray:
    value = np.asarray(residual(theta), dtype=float)
    if value.ndim != 1 or value.size == 0 or not np.all(np.isfinite(value)):
        raise UsageError(
            f"residual: expected a non-empty, finite 1-D array, got shape {value.shape} "
            f"at theta = {theta}"
        )
    return value


def _jacobian(jacobian: Jacobian, theta: np.ndarray, m: int) -> np.ndarray:
    value = np.asarray(jacobian(theta), dtype=float)
    if value.shape != (m, theta.size) or not np.all(np.isfinite(value)):
        raise UsageError(
            f"jacobian: expected a finite ({m}, {theta.size}) array, got shape {value.shape} "
            f"at theta = {theta}"
        )
    return value


def step_sizes(step: float, decay: float, iterations: int) -> np.ndarray:
    """The schedule :math:`\\eta_k = \\eta_0 q^k`, :math:`k = 0, …, K - 1`."""
    _check_settings(step, decay, iterations)
    return step * decay ** np.arange(iterations, dtype=float)


def l1_fit(
    residual: Residual,
    jacobian: Jacobian,
    theta0: ArrayLike,
    *,
    step: float = 0.1,
    decay: float = 0.99,
    iterations: int = 1000,
    bounds: tuple[ArrayLike, ArrayLike] | None = None,
    normalise: bool = True,
) -> L1Fit:
    """Minimise :math:`\\lVert r(\\theta) \\rVert_1 / m` by projected sub-gradient steps.

    Parameters
    ----------
    residual : callable
        ``residual(theta) -> (m,)``, the residuals :math:`r(\\theta)`; finite everywhere in the box.
    jacobian : callable
        ``jacobian(theta) -> (m, p)``, :math:`\\partial r_i / \\partial \\theta_j` (any element of
        the Clarke generalised Jacobian where :math:`r` has kinks).
    theta0 : array (p,)
        Start; projected onto the box first.
    step : float
        :math:`\\eta_0 > 0`. With ``normalise=True`` it is a length in θ-units.
    decay : float
        :math:`q \\in (0, 1)`, the ratio of successive step sizes.
    iterations : int
        Most sub-gradient steps :math:`K`; the method stops earlier at a zero sub-gradient.
    bounds : (lower, upper) or None
        Box constraints, arrays broadcastable to (p,) (``±inf`` for a free side).
    normalise : bool
        Step along :math:`g_k / \\lVert g_k \\rVert_2` (scale-free, the default) or along
        :math:`g_k`.

    Returns
    -------
    L1Fit
        The best iterate by objective, its objective, the objective history and the step count.
    """
    steps = step_sizes(step, decay, iterations)
    theta = np.array(theta0, dtype=float, ndmin=1)
    if theta.ndim != 1 or not np.all(np.isfinite(theta)):
        raise UsageError(f"theta0: expected a finite 1-D array, got {theta0!r}")
    lower, upper = _box(bounds, theta.size)
    theta = np.clip(theta, lower, upper)

    r = _residual(residual, theta)
    m = r.size
    history = [float(np.abs(r).mean())]
    best_theta, best = theta.copy(), history[0]
    taken = 0
    for eta in steps:
        g = _jacobian(jacobian, theta, m).T @ np.sign(r) / m
        # drop the components that push against an active bound (outside the box's tangent cone)
        g[((theta <= lower) & (g > 0)) | ((theta >= upper) & (g < 0))] = 0.0
        norm = float(np.linalg.norm(g))
        if norm == 0.0:
            break
        direction = g / norm if normalise else g
        theta = np.clip(theta - eta * direction, lower, upper)
        taken += 1
        r = _residual(residual, theta)
        if r.size != m:
            raise UsageError(f"residual: expected {m} residuals at every theta, got {r.size}")
        history.append(float(np.abs(r).mean()))
        if history[-1] < best:
            best_theta, best = theta.copy(), history[-1]
    return L1Fit(theta=best_theta, objective=best, history=np.array(history), iterations=taken)
