r"""Choosing among candidates scored by an ensemble of imperfect models.

Each of k models scores each of n candidates; the scores form an array :math:`v` of shape
(k, n). Following Coste, Anwar, Kirk and Krueger (2023), the ensemble is reduced to one
objective per candidate :math:`c`, after (optionally) standardising every model's scores over
the candidates,

.. math::

    z_{mc} = \frac{v_{mc} - \bar v_m}{s_m}, \qquad
    \bar v_m = \frac1n \sum_c v_{mc}, \qquad
    s_m^2 = \frac1n \sum_c (v_{mc} - \bar v_m)^2,

so that no model dominates by its scale and the penalty weight λ below means the same thing
whatever the units:

* ``"mean"``: :math:`J_c = \frac1k \sum_m z_{mc}`;
* ``"wco"`` (worst-case optimisation): :math:`J_c = \min_m z_{mc}`;
* ``"uwo"`` (uncertainty-weighted optimisation): :math:`J_c = \frac1k \sum_m z_{mc}
  - \lambda \frac1k \sum_m (z_{mc} - \frac1k \sum_{m'} z_{m'c})^2`, the mean minus λ times the
  (population, ``ddof = 0``) variance over models.

The default :data:`DEFAULT_LAM` = 0.5 is the paper's weight for best-of-n selection on
standardised scores (they use 0.1 for policy-gradient training, where the penalty acts at every
step). :func:`best_of_n` then keeps the best of the first n candidates in a given order.

Nothing here knows about the models: scores arrive as arrays.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from decide.errors import ModelError, UsageError

#: Ensemble objectives accepted by :func:`ensemble_objective`.
METHODS = ("mean", "wco", "uwo")
#: Default UWO weight λ: Coste et al.'s value for best-of-n on standardised scores.
DEFAULT_LAM = 0.5
#: A model whose sd over candidates is at most this times its largest |score| has no spread.
SPREAD_TOLERANCE = 1e-12


def _scores(scores: ArrayLike) -> np.ndarray:
    try:
        values = np.asarray(scores, dtype=float)
    except (TypeError, ValueError):
        raise ModelError("scores", "expected a numeric array of shape (k, n)") from None
    if values.ndim != 2 or values.shape[0] < 1 or values.shape[1] < 1:
        raise ModelError(
            "scores", f"expected shape (k ≥ 1 models, n ≥ 1 candidates), got {values.shape}"
        )
    if not np.all(np.isfinite(values)):
        raise ModelError("scores", "expected finite values")
    return values


def standardise(scores: ArrayLike) -> np.ndarray:
    r"""Each model's scores minus their mean over candidates, divided by their sd (``ddof = 0``).

    :math:`z_{mc} = (v_{mc} - \bar v_m) / s_m`; the result is unchanged when a model's scores are
    replaced by :math:`a v_m + b` with :math:`a > 0`.

    Parameters
    ----------
    scores : array_like, shape (k, n)
        Finite scores of n ≥ 2 candidates under k models.

    Returns
    -------
    numpy.ndarray, shape (k, n)

    Raises
    ------
    ModelError
        If a model gives every candidate the same score (sd ≤ ``SPREAD_TOLERANCE`` × its largest
        absolute score): such a model cannot rank candidates and has no scale to divide by. The
        field names the model, e.g. ``scores[2]``.
    """
    return _standardised(_scores(scores))


def _standardised(values: np.ndarray) -> np.ndarray:
    if values.shape[1] < 2:
        raise ModelError("scores", "expected at least 2 candidates to standardise over")
    centred = values - values.mean(axis=1, keepdims=True)
    sd = np.sqrt(np.mean(centred**2, axis=1))
    size = np.max(np.abs(values), axis=1)
    for model in np.flatnonzero(sd <= SPREAD_TOLERANCE * size):
        raise ModelError(f"scores[{model}]", "the same score for every candidate: no spread")
    return centred / sd[:, None]


def _check_lam(lam: float) -> float:
    if isinstance(lam, bool) or not isinstance(lam, int | float) or not math.isfinite(lam):
        raise UsageError(f"lam: expected a finite number ≥ 0, got {lam!r}")
    if lam < 0:
        raise UsageError(f"lam: expected a finite number ≥ 0, got {lam!r}")
    return float(lam)


def ensemble_objective(
    scores: ArrayLike,
    method: str = "mean",
    *,
    lam: float = DEFAULT_LAM,
    standardise: bool = True,
) -> np.ndarray:
    r"""One objective per candidate from the scores of k models.

    Parameters
    ----------
    scores : array_like, shape (k, n)
        Score of candidate c under model m (higher is better), finite.
    method : {"mean", "wco", "uwo"}
        Mean over models; worst case :math:`\min_m`; or mean − λ·variance over models (ddof 0).
    lam : float
        λ ≥ 0 of ``"uwo"`` (ignored otherwise), in squared standardised units when
        ``standardise`` (the default 0.5 assumes that).
    standardise : bool
        Standardise each model's scores over the candidates first (:func:`standardise`).

    Returns
    -------
    numpy.ndarray, shape (n,)
        :math:`J_c`, in standardised units (or in the scores' units when not standardising).
    """
    if method not in METHODS:
        raise UsageError(f"method: expected one of {', '.join(METHODS)}, got {method!r}")
    lam = _check_lam(lam)
    values = _scores(scores)
    if standardise:
        values = _standardised(values)
    if method == "mean":
        return values.mean(axis=0)
    if method == "wco":
        return values.min(axis=0)
    return values.mean(axis=0) - lam * values.var(axis=0)


def _order(order: ArrayLike | int | np.random.Generator | None, size: int) -> np.ndarray:
    if order is None:
        return np.arange(size)
    if isinstance(order, np.random.Generator):
        return order.permutation(size)
    if isinstance(order, int | np.integer) and not isinstance(order, bool):
        return np.random.default_rng(int(order)).permutation(size)
    indices = np.asarray(order)
    if indices.ndim != 1 or indices.size == 0 or not np.issubdtype(indices.dtype, np.integer):
        raise UsageError("order: expected None, a seed, a Generator or a 1-D array of indices")
    if indices.min() < 0 or indices.max() >= size or np.unique(indices).size != indices.size:
        raise UsageError(f"order: expected distinct indices in [0, {size}), got {indices!r}")
    return indices


def best_of_n(
    objective: ArrayLike,
    n: int | Sequence[int] | np.ndarray,
    order: ArrayLike | int | np.random.Generator | None = None,
) -> int | np.ndarray:
    r"""Index of the best candidate among the first n of ``order`` (for one n or several).

    With :math:`o` the order, returns :math:`o_j` with :math:`j = \arg\max_{i < n} J_{o_i}`
    (the first such i on a tie, as :func:`numpy.argmax`). All n are answered from one running
    maximum, so a whole pressure sequence costs one pass over the candidates.

    Parameters
    ----------
    objective : array_like, shape (N,)
        Finite objective of every candidate (e.g. from :func:`ensemble_objective`).
    n : int or sequence of int
        How many candidates to look at, each in [1, len(order)].
    order : None, int, numpy.random.Generator or array of int
        The order candidates are drawn in: ``None`` for 0, 1, …; a seed or Generator for a
        uniformly random permutation of all N; or distinct indices into ``objective``.

    Returns
    -------
    int or numpy.ndarray of int
        Index into ``objective`` of the chosen candidate, an int for a scalar ``n``.
    """
    values = np.asarray(objective, dtype=float)
    if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)):
        raise ModelError("objective", "expected a non-empty 1-D array of finite values")
    indices = _order(order, values.size)
    counts = np.asarray(n)
    if (
        not np.issubdtype(counts.dtype, np.integer)
        or counts.dtype == bool
        or counts.size == 0
        or counts.min() < 1
        or counts.max() > indices.size
    ):
        raise UsageError(f"n: expected integers in [1, {indices.size}], got {n!r}")
    drawn = values[indices]
    previous_best = np.maximum.accumulate(drawn)
    new_best = np.concatenate([[True], drawn[1:] > previous_best[:-1]])
    position = np.maximum.accumulate(np.where(new_best, np.arange(drawn.size), 0))
    chosen = indices[position[counts - 1]]
    return int(chosen) if chosen.ndim == 0 else chosen
