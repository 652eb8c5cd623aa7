r"""Overoptimisation curves: gold score against optimisation pressure, their fits and peaks.

An optimiser that pushes a policy :math:`\pi` away from a reference :math:`\pi_{\text{ref}}` to
raise a *proxy* score (a fitted model) first raises, then lowers, the *gold* score (the true
model). Gao, Schulman and Hilton (2023) measure the pressure by
:math:`d = \sqrt{\mathrm{KL}(\pi \,\|\, \pi_{\text{ref}})}` and find two functional forms for the
gold score relative to the reference,
:math:`R(d) = \text{gold}(\pi) - \text{gold}(\pi_{\text{ref}})`:

.. math::

    R_{\text{bon}}(d) = d\,(\alpha - \beta d), \qquad
    R_{\text{po}}(d) = d\,(\alpha - \beta \log d),

for best-of-n sampling and for policy optimisation (reinforcement learning) respectively. Both
pass through :math:`R(0) = 0` and are linear in :math:`(\alpha, \beta)`, so they are fitted by
ordinary least squares. With :math:`\beta > 0` they peak at

.. math::

    d^*_{\text{bon}} = \frac{\alpha}{2\beta}, \qquad
    d^*_{\text{po}} = \exp\!\left(\frac{\alpha}{\beta} - 1\right),

and :class:`EarlyStopping` uses the fitted :math:`d^*` to decide when more pressure stops paying.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from decide.errors import UsageError

#: The functional forms: best-of-n sampling and policy optimisation.
FORMS = ("bon", "po")


def best_of_n_kl(n: ArrayLike) -> float | np.ndarray:
    r"""KL divergence of the best-of-n policy from the policy it samples from.

    Drawing n candidates from :math:`\pi_{\text{ref}}` and keeping the one with the highest
    (continuous, tie-free) score gives a score whose quantile :math:`u = F(x)` has density
    :math:`n u^{n-1}` on (0, 1), hence

    .. math::

        \mathrm{KL}(\pi_{\text{bon}} \,\|\, \pi_{\text{ref}})
        = \int_0^1 n u^{n-1} \log\left(n u^{n-1}\right) du = \log n - \frac{n - 1}{n}.

    With ties (a discrete score or few distinct candidates) this is an upper bound on the KL.

    Parameters
    ----------
    n : int, float or array_like
        Number of candidates, each ≥ 1 (non-integer values follow the same formula).

    Returns
    -------
    float or numpy.ndarray
        The KL in nats, a float for a scalar ``n``, otherwise an array of ``n``'s shape.
    """
    message = f"n: expected finite numbers of candidates ≥ 1, got {n!r}"
    try:
        values = np.asarray(n, dtype=float)
    except (TypeError, ValueError):
        raise UsageError(message) from None
    if isinstance(n, bool) or not (np.all(np.isfinite(values)) and np.all(values >= 1)):
        raise UsageError(message)
    kl = np.log(values) - (values - 1.0) / values
    return float(kl) if kl.ndim == 0 else kl


def _pressure(d: ArrayLike) -> np.ndarray:
    values = np.asarray(d, dtype=float)
    if not (np.all(np.isfinite(values)) and np.all(values >= 0)):
        raise UsageError("d: expected finite values ≥ 0 (d = sqrt(KL))")
    return values


def bon_gold(d: ArrayLike, alpha: float, beta: float) -> float | np.ndarray:
    r"""Best-of-n gold score :math:`R(d) = d\,(\alpha - \beta d)` at pressure :math:`d \ge 0`."""
    values = _pressure(d)
    score = values * (alpha - beta * values)
    return float(score) if score.ndim == 0 else score


def po_gold(d: ArrayLike, alpha: float, beta: float) -> float | np.ndarray:
    r"""Policy-optimisation gold score :math:`R(d) = d\,(\alpha - \beta \log d)`, with R(0) = 0.

    The value at d = 0 is the limit :math:`d \log d \to 0`.
    """
    values = _pressure(d)
    safe = np.where(values > 0, values, 1.0)
    score = np.where(values > 0, values * (alpha - beta * np.log(safe)), 0.0)
    return float(score) if score.ndim == 0 else score


def bon_peak(alpha: float, beta: float) -> float:
    r"""Pressure :math:`d^* = \arg\max_{d \ge 0} d(\alpha - \beta d)`.

    :math:`d^* = \max(\alpha / 2\beta, 0)` for :math:`\beta > 0`. With :math:`\beta \le 0` there
    is no interior peak: the curve rises for ever (``inf``) unless :math:`\beta = 0` and
    :math:`\alpha \le 0`, when it never rises above R(0) = 0 (``0.0``).
    """
    if beta > 0:
        return max(alpha / (2.0 * beta), 0.0)
    return 0.0 if beta == 0 and alpha <= 0 else math.inf


def po_peak(alpha: float, beta: float) -> float:
    r"""Pressure :math:`d^* = \arg\max_{d \ge 0} d(\alpha - \beta \log d)`.

    :math:`R'(d) = \alpha - \beta(\log d + 1)` vanishes at :math:`d^* = \exp(\alpha / \beta - 1)`,
    a maximum when :math:`\beta > 0` (``inf`` if it overflows). With :math:`\beta < 0`, or
    :math:`\beta = 0 < \alpha`, the curve rises for ever (``inf``); with :math:`\beta = 0` and
    :math:`\alpha \le 0` it never rises above R(0) = 0 (``0.0``).
    """
    if beta > 0:
        exponent = alpha / beta - 1.0
        return math.exp(exponent) if exponent < 709.0 else math.inf
    return 0.0 if beta == 0 and alpha <= 0 else math.inf


_GOLD = {"bon": bon_gold, "po": po_gold}
_PEAK = {"bon": bon_peak, "po": po_peak}


def _check_form(form: str) -> str:
    if form not in FORMS:
        raise UsageError(f"form: expected one of {', '.join(FORMS)}, got {form!r}")
    return form


@dataclass(frozen=True)
class CurveFit:
    """Least-squares fit of one functional form.

    Attributes
    ----------
    form : str
        ``"bon"`` (best-of-n) or ``"po"`` (policy optimisation).
    alpha, beta : float
        Fitted coefficients.
    peak_d : float
        Fitted peak :math:`d^*` (``inf`` when the fit has no peak, see :func:`bon_peak`).
    peak_score : float
        Fitted score at the peak (``inf`` when the fitted curve rises for ever).
    rmse : float
        Root mean squared residual of the fit.
    n : int
        Number of points fitted.
    """

    form: str
    alpha: float
    beta: float
    peak_d: float
    peak_score: float
    rmse: float
    n: int

    def predict(self, d: ArrayLike) -> float | np.ndarray:
        """Fitted gold score at pressure ``d`` (≥ 0)."""
        return _GOLD[self.form](d, self.alpha, self.beta)


def _design(d: np.ndarray, form: str) -> np.ndarray:
    """Columns multiplying (α, β): (d, −d²) for best-of-n, (d, −d log d) for policy optimisation."""
    curvature = d * d if form == "bon" else d * np.log(d)
    return np.column_stack([d, -curvature])


def _check_points(d: ArrayLike, score: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    d = np.asarray(d, dtype=float)
    score = np.asarray(score, dtype=float)
    if d.ndim != 1:
        raise UsageError(f"d: expected a 1-D array, got shape {d.shape}")
    if score.shape != d.shape:
        raise UsageError(
            f"score: expected the same length as d ({d.size}), got shape {score.shape}"
        )
    if d.size < 3:
        raise UsageError(f"d: expected at least 3 points, got {d.size}")
    if not (np.all(np.isfinite(d)) and np.all(d > 0)):
        raise UsageError("d: expected finite values > 0 (d = sqrt(KL))")
    if not np.all(np.isfinite(score)):
        raise UsageError("score: expected finite values")
    if np.unique(d).size < 2:
        raise UsageError("d: expected at least 2 distinct values to separate alpha from beta")
    return d, score


def fit_curve(d: ArrayLike, score: ArrayLike, form: str = "bon") -> CurveFit:
    r"""Fit :math:`R(d)` of one form to gold scores by ordinary least squares.

    Both forms are linear in the coefficients, :math:`R(d) = \alpha\, d - \beta\, g(d)` with
    :math:`g(d) = d^2` (``"bon"``) or :math:`g(d) = d \log d` (``"po"``), so

    .. math::

        (\hat\alpha, \hat\beta)
        = \arg\min_{\alpha, \beta} \sum_i \left(s_i - \alpha d_i + \beta g(d_i)\right)^2

    is solved by :func:`numpy.linalg.lstsq` on the design matrix with unit-norm columns (the
    scaling only improves conditioning). The curve has no intercept: ``score`` must be measured
    relative to the reference policy, so that R(0) = 0.

    Parameters
    ----------
    d : array_like, shape (m,)
        Pressures :math:`\sqrt{\mathrm{KL}}`, finite and > 0, at least 2 distinct values.
    score : array_like, shape (m,)
        Gold (or validation) scores minus the reference policy's score, finite.
    form : {"bon", "po"}
        Functional form.

    Returns
    -------
    CurveFit
    """
    form = _check_form(form)
    d, score = _check_points(d, score)
    design = _design(d, form)
    norms = np.linalg.norm(design, axis=0)  # both > 0: d > 0 and at least two distinct d
    scaled, *_ = np.linalg.lstsq(design / norms, score, rcond=None)
    alpha, beta = (float(c) for c in scaled / norms)
    residual = score - design @ np.array([alpha, beta])
    peak_d = _PEAK[form](alpha, beta)
    peak_score = math.inf if math.isinf(peak_d) else float(_GOLD[form](peak_d, alpha, beta))
    return CurveFit(
        form=form,
        alpha=alpha,
        beta=beta,
        peak_d=peak_d,
        peak_score=peak_score,
        rmse=float(np.sqrt(np.mean(residual**2))),
        n=int(d.size),
    )


@dataclass(frozen=True)
class StopDecision:
    """What :meth:`EarlyStopping.update` concluded after one more point.

    Attributes
    ----------
    stop : bool
        True once ``patience`` consecutive points lie beyond the fitted peak.
    peak_d : float
        Fitted :math:`d^*` used for the decision (``nan`` before ``min_points`` points).
    fit : CurveFit or None
        The fit behind ``peak_d`` (None before ``min_points`` points).
    past_peak : int
        Number of consecutive points, ending with this one, with d > fitted :math:`d^*`.
    """

    stop: bool
    peak_d: float
    fit: CurveFit | None
    past_peak: int


class EarlyStopping:
    r"""Stop raising the optimisation pressure once it has passed the fitted peak of the gold curve.

    Feed the checkpoints in the order they are produced, each as its pressure
    :math:`d = \sqrt{\mathrm{KL}(\pi \| \pi_{\text{ref}})}` and an estimate of its gold score
    relative to the reference. After each point (from ``min_points`` on) the curve of ``form`` is
    refitted to all points so far (:func:`fit_curve`); the point is *past the peak* when its d
    exceeds the fitted :math:`d^*`, and the rule says stop when the last ``patience`` points are
    all past the peak (the fitted :math:`d^*` may move between them). The checkpoint to keep is
    then the one nearest :math:`d^*`.

    Notes
    -----
    Assumptions:

    * Some estimate of the gold score is available along the way — a held-out model, a validation
      set or a small budget of true evaluations — never the proxy being optimised, whose score
      keeps rising by construction.
    * That estimate follows the chosen functional form with R(0) = 0 (scores minus the reference
      policy's), and its noise is independent between checkpoints.
    * Pressure grows from one checkpoint to the next (d itself need not be monotone, but the rule
      is only meaningful when it roughly is).
    * With few points on the rising side the fitted peak is uncertain; ``min_points`` and
      ``patience`` trade a late stop against a premature one. A fit with no peak (β ≤ 0) never
      stops the run.

    Parameters
    ----------
    form : {"bon", "po"}
        Functional form of the gold curve.
    min_points : int
        Points needed before the first fit (≥ 3).
    patience : int
        Consecutive past-peak points needed to stop (≥ 1).
    """

    def __init__(self, form: str = "bon", min_points: int = 4, patience: int = 2):
        self.form = _check_form(form)
        if isinstance(min_points, bool) or not isinstance(min_points, int) or min_points < 3:
            raise UsageError(f"min_points: expected an integer ≥ 3, got {min_points!r}")
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise UsageError(f"patience: expected an integer ≥ 1, got {patience!r}")
        self.min_points = min_points
        self.patience = patience
        self._d: list[float] = []
        self._score: list[float] = []
        self._past_peak = 0

    @property
    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """The (d, score) pairs fed so far, as two arrays."""
        return np.array(self._d), np.array(self._score)

    def update(self, d: float, score: float) -> StopDecision:
        """Add the checkpoint at pressure ``d`` (> 0) with gold-score estimate ``score``."""
        d, score = float(d), float(score)
        if not (math.isfinite(d) and d > 0):
            raise UsageError(f"d: expected a finite value > 0 (d = sqrt(KL)), got {d!r}")
        if not math.isfinite(score):
            raise UsageError(f"score: expected a finite value, got {score!r}")
        self._d.append(d)
        self._score.append(score)
        if len(self._d) < self.min_points:
            return StopDecision(stop=False, peak_d=math.nan, fit=None, past_peak=0)
        fit = fit_curve(self._d, self._score, self.form)
        self._past_peak = self._past_peak + 1 if d > fit.peak_d else 0
        return StopDecision(
            stop=self._past_peak >= self.patience,
            peak_d=fit.peak_d,
            fit=fit,
            past_peak=self._past_peak,
        )
