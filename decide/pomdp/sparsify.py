r"""Drop near-zero probabilities from a tabular POMDP, with a bound on what it costs.

:func:`drop_small` removes every transition and observation entry below a threshold ε and
renormalises each row; a row whose entries are all below ε keeps the entries equal to its largest.
It reports the largest mass removed from any row (:class:`DroppedMass`). The pruned model is a
POMDP in its own right: a solver's values and bounds for it are exact statements about *it*;
what they say about the original model is what the bound below allows.

The bound
---------
Let :math:`p` be a row, :math:`D` the entries dropped, :math:`m = \sum_{j \in D} p_j` the mass
removed and :math:`q_j = p_j / (1 - m)` off :math:`D` (0 on it) the renormalised row. Then
:math:`\|p - q\|_1 = m + \sum_{j \notin D} p_j \,\tfrac{m}{1 - m} = 2m`, so the total variation
distance is exactly :math:`\mathrm{TV}(p, q) = m` (also when only the largest entries are kept:
then :math:`m = 1 - \max_j p_j`). Let :math:`\delta_T` and :math:`\delta_Z` be the largest
:math:`m` over transition rows and over observation rows.

*One step.* The joint kernel of (s', o) after (s, a) is :math:`P(s', o) = T(s'|s,a)\,Z(o|a,s')`.
From :math:`P - \tilde P = (T - \tilde T) Z + \tilde T (Z - \tilde Z)`,

.. math:: \mathrm{TV}(P, \tilde P) \le \mathrm{TV}(T, \tilde T)
          + \max_{s'} \mathrm{TV}(Z_{s'}, \tilde Z_{s'}) \le \delta_T + \delta_Z =: \varepsilon .

*Any policy.* Fix a policy π mapping action–observation histories to actions (the same set of
policies in both models). The pair (state, history) is a Markov chain whose kernel, from
(s, h), moves to (s', h a o) with :math:`a = \pi(h)` and probability :math:`P(s', o | s, a)`;
that map is one-to-one, so the two models' kernels are within ε in TV from every point. Both
chains start from the same :math:`s_0 \sim b`, and :math:`\mu_{t+1} - \tilde\mu_{t+1} =
(\mu_t - \tilde\mu_t) K + \tilde\mu_t (K - \tilde K)` gives :math:`\mathrm{TV}(\mu_t,
\tilde\mu_t) \le t\varepsilon`. The reward at step t, :math:`R(s_t, \pi(h_t))`, lies in
:math:`[R_{\min}, R_{\max}]`, so its expectations differ by at most
:math:`t\varepsilon (R_{\max} - R_{\min})`, and summing :math:`\gamma^t` times that over
:math:`t \ge 1` (step 0 is the same in both models) gives

.. math:: |V^\pi(b) - \tilde V^\pi(b)| \le
          \frac{\gamma\,(\delta_T + \delta_Z)\,(R_{\max} - R_{\min})}{(1 - \gamma)^2}

for every policy and every belief b; the optimal values, suprema over the same policies, obey
the same bound (:meth:`DroppedMass.value_bound`). The constant cannot be improved in general:
a rewarded state that leaks mass p to an absorbing unrewarded one has value
:math:`1 / (1 - \gamma(1 - p))`, against :math:`1 / (1 - \gamma)` once p is dropped, a gap of
:math:`\gamma p / (1 - \gamma)^2` to first order in p. (Both values also lie in
:math:`[R_{\min}, R_{\max}] / (1 - \gamma)`, so :math:`(R_{\max} - R_{\min}) / (1 - \gamma)`
bounds the gap too.) The same bound, for every policy, says that a policy solved on the pruned
model loses at most twice it plus its own gap when used in the original model.

The rewards ``R[s, a]`` are kept as they are. The derivation takes each row as a distribution;
the model accepts rows whose sums are off 1 by up to
:data:`decide.pomdp.model.ROW_SUM_TOLERANCE`, which the bound does not account for (pruned rows
sum to 1 to rounding).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from decide.errors import UsageError
from decide.pomdp.model import TabularPOMDP

__all__ = ["DroppedMass", "check_threshold", "drop_small"]


@dataclass(frozen=True)
class DroppedMass:
    """What :func:`drop_small` removed.

    Attributes
    ----------
    threshold : float
        Entries below this were dropped.
    transition, observation : float
        δ_T and δ_Z: the largest probability mass removed from one transition row, and from one
        observation row (before renormalising; the rows' TV distance to the pruned rows).
    entries_dropped : int
        Stored entries removed, transitions and observations together (an observation table
        shared by every action counts once).
    """

    threshold: float
    transition: float
    observation: float
    entries_dropped: int

    def value_bound(self, r_min: float, r_max: float, discount: float) -> float:
        r"""The bound :math:`\gamma(\delta_T + \delta_Z)(R_{\max} - R_{\min})/(1 - \gamma)^2` on
        :math:`|V^*(b) - \tilde V^*(b)|` at every belief (see the module docstring)."""
        if not 0.0 < discount < 1.0:
            raise UsageError(f"discount: expected a value in (0, 1), got {discount}")
        if not r_min <= r_max:
            raise UsageError(f"r_max: expected a value >= r_min = {r_min}, got {r_max}")
        mass = self.transition + self.observation
        return discount * mass * (r_max - r_min) / (1.0 - discount) ** 2

    def bound_for(self, pomdp: TabularPOMDP) -> float:
        """:meth:`value_bound` with the rewards' range and the discount of ``pomdp``."""
        return self.value_bound(float(pomdp.R.min()), float(pomdp.R.max()), pomdp.discount)


def check_threshold(threshold: float, name: str = "threshold") -> float:
    """``threshold`` as a float in [0, 1); a :class:`~decide.errors.UsageError` naming ``name``
    otherwise."""
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        raise UsageError(f"{name}: expected a number in [0, 1), got {threshold!r}") from None
    if not 0.0 <= value < 1.0:  # also rejects NaN
        raise UsageError(f"{name}: expected a value in [0, 1), got {threshold!r}")
    return value


def drop_small(pomdp: TabularPOMDP, threshold: float) -> tuple[TabularPOMDP, DroppedMass]:
    """``pomdp`` without its transition and observation entries below ``threshold``, rows
    renormalised, and the mass removed.

    A row whose entries are all below ``threshold`` keeps the entries equal to its largest.
    Rows that lose nothing are not touched; when nothing is dropped at all the same (immutable)
    model is returned. Rewards, initial belief, labels, name and a MOMDP's observed part (which
    stays valid: only possible transitions and observations go) are unchanged. See the module
    docstring for the bound on the change of the optimal value.
    """
    threshold = check_threshold(threshold)
    T, removed_T, dropped_T = _prune_rows(pomdp.T_rows, threshold)
    Z, removed_Z, dropped_Z = _prune_rows(pomdp.Z_rows, threshold)
    report = DroppedMass(
        threshold=threshold,
        transition=_largest(removed_T),
        observation=_largest(removed_Z),
        entries_dropped=dropped_T + dropped_Z,
    )
    if report.entries_dropped == 0:
        return pomdp, report
    return pomdp.replace(T=T, Z=Z), report


def _largest(values: np.ndarray) -> float:
    return float(values.max()) if values.size else 0.0


def _prune_rows(
    rows: sparse.csr_array, threshold: float
) -> tuple[sparse.csr_array, np.ndarray, int]:
    """Pruned, renormalised ``rows``, the mass removed from each row and the entries dropped."""
    n_rows = rows.shape[0]
    row_of = np.repeat(np.arange(n_rows), np.diff(rows.indptr))
    keep = rows.data >= threshold
    keep |= _row_maxima(rows, row_of, keep)
    if keep.all():
        return rows, np.zeros(n_rows), 0
    removed = np.bincount(row_of[~keep], weights=rows.data[~keep], minlength=n_rows)
    kept_rows = row_of[keep]
    kept_data = rows.data[keep]
    # rows that lost nothing stay bit for bit as they were
    scale = np.where(removed > 0, np.bincount(kept_rows, weights=kept_data, minlength=n_rows), 1.0)
    indptr = np.zeros(n_rows + 1, dtype=rows.indptr.dtype)
    np.cumsum(np.bincount(kept_rows, minlength=n_rows), out=indptr[1:])
    pruned = sparse.csr_array(
        (kept_data / scale[kept_rows], rows.indices[keep], indptr), shape=rows.shape
    )
    return pruned, removed, int(keep.size - np.count_nonzero(keep))


def _row_maxima(rows: sparse.csr_array, row_of: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Mask of the entries equal to their row's largest, in rows where ``keep`` holds none."""
    counts = np.diff(rows.indptr)
    bare = (np.bincount(row_of[keep], minlength=rows.shape[0]) == 0) & (counts > 0)
    if not bare.any():
        return np.zeros(rows.data.size, dtype=bool)
    maxima = np.full(rows.shape[0], math.inf)
    # reduceat over the non-empty rows only: an empty segment would return its neighbour's entry
    maxima[counts > 0] = np.maximum.reduceat(rows.data, rows.indptr[:-1][counts > 0])
    return bare[row_of] & (rows.data == maxima[row_of])
