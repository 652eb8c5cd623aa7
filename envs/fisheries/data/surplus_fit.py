r"""A flexible growth model: surplus production piecewise linear in escapement, penalised.

The alternative to the logistic fit in the offline study
(:mod:`decide.envs.fisheries.studies.offline.run`, ``model="surplus"``): a model that assumes little
about the shape of growth, so it is wrong exactly where the records are thin.

**Data.** The n − 1 recorded transitions, harvest first as the logistic fit reads them:
escapement :math:`s_t = y_t - \min(y_t, c_t)` (y the survey records, c the catches) and surplus
:math:`z_t = y_{t+1} - s_t` (:func:`recorded_surplus`).

**Fit** (:func:`fit_surplus`). The surplus production :math:`g(s) = \mathbb E[x' | s] - s` is
piecewise linear on fixed knots :math:`0 = k_0 < \dots < k_m = 2` (spacing 0.2, :data:`KNOTS`),
:math:`g(s) = \sum_{j \ge 1} c_j\,\phi_j(s)` with hat functions :math:`\phi_j` and
:math:`g(0) = c_0 = 0` (constant beyond the last knot). With the design :math:`B_{tj} =
\phi_j(s_t)` and second differences :math:`(Dc)_i = c_{i} - 2c_{i+1} + c_{i+2}` of
:math:`(0, c_1, \dots, c_m)`, the penalised least squares

.. math::

    \hat c_\lambda = \arg\min_c \|z - Bc\|^2 + \lambda \|Dc\|^2 = (B^\top B + \lambda
    D^\top D)^{-1} B^\top z, \qquad H_\lambda = B (B^\top B + \lambda D^\top D)^{-1} B^\top,

has λ chosen by generalised cross-validation on the records, :math:`\mathrm{GCV}(\lambda) =
n\,\mathrm{RSS}_\lambda / (n - \mathrm{tr} H_\lambda)^2`, over the fixed grid
:data:`PENALTIES` (:math:`10^{-4} \dots 10^{4}`, 33 points); :math:`\hat\sigma_g^2 =
\mathrm{RSS} / (n - \mathrm{tr} H)`. The penalty's null space is the line :math:`g = a s`, so
the fit continues linearly where the history never went.

**Bootstrap** (:func:`bootstrap_surplus`): pairs-bootstrap refits (transitions resampled with
replacement) at the records' λ (GCV on resamples with duplicates would undersmooth), σg from
each refit's residuals; :func:`surplus_log_likelihood` scores a fit on the original transitions.

**MDP** (:func:`surplus_mdp`): ``build_pomdp`` with the growth :math:`s \mapsto s + \hat g(s)`,
σm = 0, normal process noise of sd σ̂g, harvest first, the study's grid; a non-positive
expectation and state 0 are absorbing, as in
:func:`~decide.envs.fisheries.studies.offline.history.fitted_mdp`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from decide.envs.fisheries.model.pomdp_builder import build_pomdp
from decide.errors import ModelError, UsageError
from decide.mdp import TabularMDP

__all__ = [
    "KNOTS",
    "PENALTIES",
    "PiecewiseSurplus",
    "bootstrap_surplus",
    "fit_surplus",
    "gcv_score",
    "penalised_fit",
    "recorded_surplus",
    "surplus_log_likelihood",
    "surplus_mdp",
]

#: Fixed knots of the surplus on [0, 2] (spacing 0.2).
KNOTS = np.linspace(0.0, 2.0, 11)
#: Penalties λ searched by GCV.
PENALTIES = np.logspace(-4.0, 4.0, 33)


@dataclass(frozen=True, eq=False)
class PiecewiseSurplus:
    """Growth :math:`s + g(s)` with g piecewise linear through ``(knots, values)``, g(0) = 0;
    ``sigma_g`` the residual sd, ``penalty`` λ, ``dof`` tr H."""

    knots: np.ndarray
    values: np.ndarray
    sigma_g: float
    penalty: float = 0.0
    dof: float = 0.0
    K: float = 1.0  # the GrowthModel protocol's K: names a grid only when no upper is given

    def surplus(self, s: np.ndarray) -> np.ndarray:
        return np.interp(np.asarray(s, dtype=float), self.knots, self.values)

    def recruit(self, s: np.ndarray) -> np.ndarray:
        return np.asarray(s, dtype=float) + self.surplus(s)


def recorded_surplus(records: np.ndarray, catches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Escapements :math:`s_t = y_t - \\min(y_t, c_t)` and surpluses :math:`y_{t+1} - s_t`."""
    y, c = np.asarray(records, dtype=float), np.asarray(catches, dtype=float)
    if y.ndim != 1 or y.shape != c.shape or y.size < 3:
        raise ModelError("records", "expected records and catches of equal length >= 3")
    s = y[:-1] - np.minimum(y[:-1], c[:-1])
    return s, y[1:] - s


def _design(s: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Hat functions of knots 1..m at s (knot 0 is pinned to g = 0)."""
    eye = np.eye(knots.size)
    return np.stack([np.interp(s, knots, eye[j]) for j in range(1, knots.size)], axis=1)


def _penalty_matrix(knots: np.ndarray) -> np.ndarray:
    """:math:`D^\\top D` of the second differences of (0, c_1, …, c_m), on c_1..c_m."""
    D = np.diff(np.eye(knots.size), n=2, axis=0)[:, 1:]
    return D.T @ D


def _solve(s: np.ndarray, z: np.ndarray, penalty: float, knots: np.ndarray) -> tuple:
    B = _design(s, knots)
    A = B.T @ B + penalty * _penalty_matrix(knots)
    # A is symmetric positive semi-definite: it is singular, in floating point, when its smallest
    # eigenvalue is below size · eps of its largest (LAPACK's solve need not raise then).
    eigenvalues = np.linalg.eigvalsh(A)
    if not eigenvalues[0] > A.shape[0] * np.finfo(float).eps * max(eigenvalues[-1], 0.0):
        why = "no escapement > 0, or penalty 0 with a knot interval without records"
        raise ModelError("transitions", f"the surplus is not determined ({why})")
    coef = np.linalg.solve(A, B.T @ z)
    dof = float(np.trace(np.linalg.solve(A, B.T @ B)))
    rss = float(np.sum((z - B @ coef) ** 2))
    return coef, dof, rss


def gcv_score(s: np.ndarray, z: np.ndarray, penalty: float, knots: np.ndarray = KNOTS) -> float:
    """:math:`n\\,\\mathrm{RSS}_\\lambda / (n - \\mathrm{tr} H_\\lambda)^2`."""
    _, dof, rss = _solve(np.asarray(s, float), np.asarray(z, float), float(penalty), knots)
    return z.size * rss / (z.size - dof) ** 2


def penalised_fit(
    s: np.ndarray, z: np.ndarray, penalty: float, knots: np.ndarray = KNOTS
) -> PiecewiseSurplus:
    """The penalised least-squares surplus at λ = ``penalty`` (module docstring)."""
    s, z = np.asarray(s, dtype=float), np.asarray(z, dtype=float)
    if s.ndim != 1 or s.shape != z.shape or s.size < 3:
        raise ModelError("transitions", "expected equal 1-D arrays of >= 3 escapements/surpluses")
    if not (np.isfinite(penalty) and penalty >= 0):
        raise UsageError(f"penalty: expected a finite value >= 0, got {penalty}")
    coef, dof, rss = _solve(s, z, float(penalty), knots)
    sigma = float(np.sqrt(rss / max(z.size - dof, 1.0)))
    values = np.concatenate([[0.0], coef])
    return PiecewiseSurplus(knots, values, max(sigma, 1e-6), float(penalty), dof)


def fit_surplus(
    s: np.ndarray,
    z: np.ndarray,
    *,
    knots: np.ndarray = KNOTS,
    penalties: Sequence[float] = tuple(PENALTIES),
) -> PiecewiseSurplus:
    """The fit at the λ of ``penalties`` with the smallest GCV (lowest λ on ties)."""
    scores = [gcv_score(s, z, lam, knots) for lam in penalties]
    return penalised_fit(s, z, float(penalties[int(np.argmin(scores))]), knots)


def bootstrap_surplus(
    s: np.ndarray, z: np.ndarray, fit: PiecewiseSurplus, n_bootstrap: int, rng: np.random.Generator
) -> list[PiecewiseSurplus]:
    """Pairs-bootstrap refits at the fit's λ (transitions resampled with replacement)."""
    rows = [rng.integers(0, s.size, s.size) for _ in range(n_bootstrap)]
    return [penalised_fit(s[r], z[r], fit.penalty, fit.knots) for r in rows]


def surplus_log_likelihood(fit: PiecewiseSurplus, s: np.ndarray, z: np.ndarray) -> float:
    """Gaussian log-likelihood :math:`\\sum_t \\log \\mathcal N(z_t; g(s_t), \\sigma_g^2)`."""
    r = (np.asarray(z) - fit.surplus(s)) / fit.sigma_g
    return float(-0.5 * np.sum(r * r) - r.size * np.log(fit.sigma_g * np.sqrt(2 * np.pi)))


def surplus_mdp(
    fit: PiecewiseSurplus, *, n_grid: int = 55, upper: float = 2.0, discount: float = 0.95
) -> TabularMDP:
    """The grid MDP on [0, ``upper``] of the fitted growth, harvest first (module docstring)."""
    pomdp = build_pomdp(
        fit, fit.sigma_g, 0.0, n_grid, upper=upper, discount=discount, order="harvest_first"
    )
    return TabularMDP(pomdp.dense_transitions(), pomdp.R, discount)
