r"""Calibrating the logistic model to survey records some of which are grossly wrong.

The formulation is *output error*: the model stock is the deterministic trajectory driven by the
recorded catches :math:`h_t` from an estimated initial stock :math:`x_0`, with the conventions of
:mod:`decide.envs.fisheries.model.growth` (``"harvest_first"``, the default)

.. math::

    s_t = x_t - \min(x_t, h_t), \qquad x_{t+1} = \max\bigl(s_t + r s_t (1 - s_t/K),\ 0\bigr),

or :math:`x_{t+1} = \max(x_t + r x_t (1 - x_t/K) - \min(x_t, h_t), 0)` (``"recruit_first"``),
and the residuals compare it with every survey record, :math:`e_t = x_t(\theta) - y_t`,
:math:`t = 0, …, N-1`. A wrong record :math:`y_t` enters its own residual only; in the one-step
(process-error) formulation of :mod:`decide.envs.fisheries.data.fitting` it would enter two, once
as the response and once as the regressor, and would set the starting point of a step.

The parameters are :math:`\theta = (r, K, d_0)` with the initial depletion
:math:`d_0 = x_0 / K` (box :math:`0 \le d_0 \le 1` by default: the series starts at or below the
carrying capacity). With :math:`x_0` free, a single wrong first record can be fitted by starting
far above K and crashing in one step, which costs the other residuals little.

:func:`l1_calibrate` minimises :math:`\frac1N\sum_t |e_t|` by the sub-gradient method of
:func:`decide.robust.l1fit.l1_fit`; :func:`least_squares_calibrate` minimises
:math:`\frac12\sum_t e_t^2` with :func:`scipy.optimize.least_squares` on the same residuals,
Jacobian, box and starts, so the two differ only in the loss.

The Jacobian is exact, by forward-mode sensitivities :math:`S_t = \partial x_t / \partial \theta`.
Harvest first: :math:`S_0 = (0, d_0, K)`; :math:`\partial s_t = S_t` if :math:`x_t > h_t`, else 0;

.. math::

    S_{t+1} = \bigl(1 + r - 2 r s_t / K\bigr)\,\partial s_t
              + \bigl(s_t (1 - s_t/K),\ r s_t^2 / K^2,\ 0\bigr),

and :math:`S_{t+1} = 0` where the floor at 0 is active (one-sided derivatives at the kinks).
Recruit first replaces :math:`s_t` by :math:`x_t` and subtracts :math:`S_t` where
:math:`x_t < h_t`.

The output-error trajectory is only as well conditioned as the dynamics with *fixed* catches:
:math:`\partial x_{t+1}/\partial x_t = 1 + r - 2 r s_t/K` exceeds 1 wherever :math:`s_t < K/2`,
so long stretches of heavy depletion make the fit ill-conditioned for either loss.

Both fits work on records divided by their median, a scale that gross errors in fewer than half
of the records cannot move far, so the step sizes and the default box are in units of a typical
record; K and :math:`x_0` are returned in the records' units.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize

from decide.envs.fisheries.model.growth import Logistic, Order
from decide.errors import ModelError, UsageError
from decide.robust.l1fit import l1_fit

#: Parameters of the fit, in order; K in units of the median record.
NAMES = ("r", "K", "x0/K")
#: Default box (K in units of the median record).
DEFAULT_BOUNDS: dict[str, tuple[float, float]] = {
    "r": (0.0, 2.0),
    "K": (0.05, 50.0),
    "x0/K": (0.0, 1.0),
}
#: Default starts (r, K, x0/K), K in units of the median record; every fit runs from each.
DEFAULT_STARTS: tuple[tuple[float, float, float], ...] = (
    (0.3, 1.0, 0.5),
    (0.3, 2.0, 0.5),
    (1.0, 1.0, 0.5),
    (1.0, 2.0, 0.5),
)


def simulate(
    theta: ArrayLike, catch: ArrayLike, n: int, order: Order = "harvest_first"
) -> tuple[np.ndarray, np.ndarray]:
    """Trajectory :math:`x_0, …, x_{n-1}` from :math:`\\theta = (r, K, x_0/K)`, with sensitivities.

    ``catch[t]`` is taken from :math:`x_t` (only ``catch[:n-1]`` is used). Returns the trajectory
    (n,) and :math:`\\partial x_t / \\partial \\theta` (n, 3).
    """
    r, k, d0 = (float(v) for v in np.asarray(theta, dtype=float))
    if order not in ("harvest_first", "recruit_first"):
        raise ModelError("order", f"expected 'harvest_first' or 'recruit_first', got {order!r}")
    if not k > 0:
        raise ModelError("K", f"expected > 0, got {k}")
    h = np.asarray(catch, dtype=float)[: n - 1].tolist()
    if len(h) < n - 1:
        raise ModelError("catch", f"expected at least {n - 1} catches, got {len(h)}")
    x, dr, dk, dd = d0 * k, 0.0, d0, k
    path, sens = [x], [(dr, dk, dd)]
    for ht in h:
        if order == "harvest_first":
            # escapement s and its sensitivity (0 when the catch takes everything)
            if x > ht:
                s, sr, sk, sd = x - ht, dr, dk, dd
            else:
                s, sr, sk, sd = 0.0, 0.0, 0.0, 0.0
            slope = 1.0 + r - 2.0 * r * s / k
            x = s + r * s * (1.0 - s / k)
            dr, dk, dd = (
                slope * sr + s * (1.0 - s / k),
                slope * sk + r * s * s / (k * k),
                slope * sd,
            )
        else:
            # d min(x, h)/dx is 1 when the catch takes everything
            slope = 1.0 + r - 2.0 * r * x / k - (1.0 if x < ht else 0.0)
            dr, dk, dd = (
                slope * dr + x * (1.0 - x / k),
                slope * dk + r * x * x / (k * k),
                slope * dd,
            )
            x = x + r * x * (1.0 - x / k) - min(x, ht)
        if x <= 0.0:
            x, dr, dk, dd = 0.0, 0.0, 0.0, 0.0
        path.append(x)
        sens.append((dr, dk, dd))
    return np.array(path), np.array(sens)


def _series(records: ArrayLike, catch: ArrayLike) -> tuple[np.ndarray, np.ndarray, float]:
    y = np.asarray(records, dtype=float)
    h = np.asarray(catch, dtype=float)
    if y.ndim != 1 or y.size < 4:
        raise ModelError("records", f"expected a 1-D series of length >= 4, got shape {y.shape}")
    if h.ndim != 1 or h.size not in (y.size - 1, y.size):
        raise ModelError("catch", f"expected {y.size - 1} or {y.size} catches, got {h.shape}")
    if not np.all(np.isfinite(y)):
        raise ModelError("records", "expected finite survey records")
    if not (np.all(np.isfinite(h)) and h.min() >= 0):
        raise ModelError("catch", "expected finite, non-negative catches")
    scale = float(np.median(np.abs(y)))
    if not scale > 0:
        raise ModelError("records", "expected a positive median record")
    return y / scale, h / scale, scale


def _scaled_box(bounds: dict[str, tuple[float, float]] | None, scale: float) -> np.ndarray:
    if bounds is None:
        return np.array([DEFAULT_BOUNDS[name] for name in NAMES], dtype=float)
    try:
        box = np.array([bounds[name] for name in NAMES], dtype=float)
    except KeyError as error:
        raise UsageError(f"bounds: missing {error}; expected (low, high) for {NAMES}") from None
    except (TypeError, ValueError):
        raise UsageError(f"bounds: expected (low, high) pairs for {NAMES}, got {bounds}") from None
    if box.shape != (3, 2) or not (np.all(box[:, 0] >= 0) and np.all(box[:, 1] > box[:, 0])):
        raise UsageError(f"bounds: expected 0 <= low < high for each of {NAMES}, got {bounds}")
    if box[1, 0] <= 0:
        raise UsageError(f"bounds: expected a lower bound on K > 0, got {box[1, 0]}")
    box[1] /= scale
    return box


def _scaled_starts(
    starts: Sequence[dict[str, float]] | None, scale: float, box: np.ndarray
) -> np.ndarray:
    if starts is None:
        points = np.array(DEFAULT_STARTS, dtype=float)
    else:
        try:
            points = np.array([[s["r"], s["K"], s["x0"] / s["K"]] for s in starts], dtype=float)
        except (KeyError, TypeError, ZeroDivisionError) as error:
            raise UsageError(f"starts: expected dicts with keys r, K > 0, x0 ({error!r})") from None
        if points.size == 0 or not np.all(np.isfinite(points)):
            raise UsageError("starts: expected at least one start with finite values")
        points[:, 1] /= scale
    return np.clip(points, box[:, 0], box[:, 1])


class _Problem:
    """Residuals :math:`x_t(\\theta) - y_t` and their Jacobian, simulated once per θ."""

    def __init__(self, y: np.ndarray, h: np.ndarray, order: Order):
        self.y, self.h, self.order = y, h, order
        self._theta: np.ndarray | None = None

    def _evaluate(self, theta: np.ndarray) -> None:
        if self._theta is None or not np.array_equal(theta, self._theta):
            self._path, self._sens = simulate(theta, self.h, self.y.size, self.order)
            self._theta = np.array(theta, dtype=float)

    def residual(self, theta: np.ndarray) -> np.ndarray:
        self._evaluate(theta)
        return self._path - self.y

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        self._evaluate(theta)
        return self._sens.copy()


def _result(theta: np.ndarray, scale: float) -> dict[str, float]:
    k = float(theta[1] * scale)
    return {"r": float(theta[0]), "K": k, "x0": float(theta[2]) * k}


def l1_calibrate(
    records: ArrayLike,
    catch: ArrayLike,
    *,
    order: Order = "harvest_first",
    bounds: dict[str, tuple[float, float]] | None = None,
    starts: Sequence[dict[str, float]] | None = None,
    step: float = 0.1,
    decay: float = 0.985,
    iterations: int = 1200,
    polish: int = 2000,
) -> dict[str, float]:
    """Least absolute deviations fit of the logistic model in the output-error formulation.

    Parameters
    ----------
    records : array (N,)
        Survey records :math:`y_t` of the stock at the start of year t.
    catch : array (N,) or (N - 1,)
        Recorded catch of year t (taken from :math:`x_t`); a last catch is not used.
    order : {"harvest_first", "recruit_first"}
        Order of events (:mod:`decide.envs.fisheries.model.growth`).
    bounds : dict or None
        ``{"r": (low, high), "K": (low, high), "x0/K": (low, high)}``, K in the records' units;
        default :data:`DEFAULT_BOUNDS` (K's box times the median record).
    starts : list of dict or None
        Starts ``{"r", "K", "x0"}`` in the records' units; default :data:`DEFAULT_STARTS`. The fit
        of least objective over all starts is returned.
    step, decay, iterations : float, float, int
        Schedule of :func:`decide.robust.l1fit.l1_fit` from each start: normalised steps
        :math:`\\eta_k = \\eta_0 q^k` in the scaled parameters (K in median records).
    polish : int
        Steps of a second run from the best iterate with :math:`\\eta_0/10` and
        :math:`q = 0.995` (0: none). A geometric schedule that decays faster than the problem's
        conditioning allows freezes short of the minimum; the restart resumes from there.

    Returns
    -------
    dict
        ``{"r", "K", "x0"}``, K and x0 in the records' units.
    """
    if isinstance(polish, bool) or not isinstance(polish, int) or polish < 0:
        raise UsageError(f"polish: expected an integer >= 0, got {polish!r}")
    y, h, scale = _series(records, catch)
    box = _scaled_box(bounds, scale)
    problem = _Problem(y, h, order)
    best = None
    for start in _scaled_starts(starts, scale, box):
        fit = l1_fit(
            problem.residual,
            problem.jacobian,
            start,
            step=step,
            decay=decay,
            iterations=iterations,
            bounds=(box[:, 0], box[:, 1]),
        )
        if best is None or fit.objective < best.objective:
            best = fit
    if polish:
        fit = l1_fit(
            problem.residual,
            problem.jacobian,
            best.theta,
            step=step / 10,
            decay=0.995,
            iterations=polish,
            bounds=(box[:, 0], box[:, 1]),
        )
        best = fit if fit.objective < best.objective else best
    return _result(best.theta, scale)


def least_squares_calibrate(
    records: ArrayLike,
    catch: ArrayLike,
    *,
    order: Order = "harvest_first",
    bounds: dict[str, tuple[float, float]] | None = None,
    starts: Sequence[dict[str, float]] | None = None,
) -> dict[str, float]:
    """Least-squares counterpart of :func:`l1_calibrate`: the same residuals, box and starts.

    Minimises :math:`\\frac12 \\sum_t (x_t(\\theta) - y_t)^2` with
    :func:`scipy.optimize.least_squares` (trust-region reflective, the exact Jacobian) from each
    start and returns the fit of least cost as ``{"r", "K", "x0"}``.
    """
    y, h, scale = _series(records, catch)
    box = _scaled_box(bounds, scale)
    problem = _Problem(y, h, order)
    best = None
    for start in _scaled_starts(starts, scale, box):
        # trust-region reflective needs a start strictly inside the box
        inside = start + 1e-6 * (box[:, 1] - box[:, 0]) * np.sign(box.mean(axis=1) - start)
        fit = optimize.least_squares(
            problem.residual,
            inside,
            jac=problem.jacobian,
            bounds=(box[:, 0], box[:, 1]),
            method="trf",
        )
        if best is None or fit.cost < best.cost:
            best = fit
    return _result(best.x, scale)


#: Parameters of the stock of :func:`demo_series`.
DEMO_TRUTH: dict[str, float] = {"r": 0.6, "K": 1.0, "x0": 0.3}


def demo_series(
    seed: int, survey_sd: float = 0.005, corrupted: float = 0.3, years: int = 60
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Records of a stock with known parameters, a share of them grossly wrong.

    The stock has :data:`DEMO_TRUTH` (r, K, x0) = (0.6, 1, 0.3), harvest first and no process
    noise, :math:`x_{t+1} = s_t + r s_t (1 - s_t/K)` with :math:`s_t = x_t - h_t`. The catch
    follows a proportional rule :math:`h_t = F_t x_t`: :math:`F_t = 0.05` while the fishery
    develops (10 years), then :math:`F_t = 0.15 + 0.05 \sin(2\pi t/12)`; the escapement stays
    above K/2, where the trajectory driven by fixed catches is stable. A survey is
    :math:`x_t + \text{survey\_sd}\,\varepsilon_t`; ``round(corrupted * years)`` of them,
    chosen at random, are multiplied by a factor uniform on [3, 10].

    Parameters
    ----------
    seed : int
        Seed of the survey errors and the corruption.
    survey_sd : float
        Survey error sd (≥ 0).
    corrupted : float
        Share of grossly wrong records, in [0, 1).
    years : int
        Length of the series (≥ 4).

    Returns
    -------
    catch, clean, records : numpy.ndarray
        The catches (years,), the surveys without gross errors and with them.
    """
    if not (math.isfinite(survey_sd) and survey_sd >= 0):
        raise UsageError(f"survey_sd: expected a finite sd >= 0, got {survey_sd!r}")
    if not 0 <= corrupted < 1:
        raise UsageError(f"corrupted: expected a share in [0, 1), got {corrupted!r}")
    if isinstance(years, bool) or not isinstance(years, int) or years < 4:
        raise UsageError(f"years: expected an integer >= 4, got {years!r}")
    rng = np.random.default_rng(seed)
    t = np.arange(years)
    rate = np.where(t < 10, 0.05, 0.15 + 0.05 * np.sin(2 * np.pi * t / 12))
    model = Logistic(r=DEMO_TRUTH["r"], K=DEMO_TRUTH["K"])
    stock, catch = np.empty(years), np.empty(years)
    stock[0] = DEMO_TRUTH["x0"]
    for year in range(years):
        catch[year] = rate[year] * stock[year]
        if year < years - 1:
            stock[year + 1] = model.recruit(stock[year] - catch[year])
    clean = stock + survey_sd * rng.standard_normal(years)
    records = clean.copy()
    bad = rng.choice(years, round(corrupted * years), replace=False)
    records[bad] *= rng.uniform(3.0, 10.0, bad.size)
    return catch, clean, records
