r"""Cheap bounds on the optimal value function of a POMDP.

Lower bound (blind policies, Hauskrecht 2000): the value of always playing action ``a`` whatever
is observed is the alpha vector

.. math:: \alpha_a = R_{:,a} + \gamma T_a \alpha_a ,

and :math:`V^*(b) \ge \max_a b \cdot \alpha_a`.

Upper bounds: QMDP assumes the state becomes observable after one step,

.. math:: Q(s,a) = R(s,a) + \gamma \sum_{s'} T(s'|s,a) \max_{a'} Q(s',a'),

and the Fast Informed Bound (FIB, Hauskrecht 2000) lets the maximisation see the observation only,

.. math:: Q(s,a) = R(s,a) + \gamma \sum_o \max_{a'} \sum_{s'} T(s'|s,a) Z(o|s',a) Q(s',a').

Both give :math:`V^*(b) \le \max_a \sum_s b(s) Q(s,a)`, with FIB never above QMDP.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from scipy import sparse

from decide.errors import ModelError
from decide.pomdp._kernels import bounds as kernels
from decide.pomdp.kernel_arrays import SparseModel, sparse_model
from decide.pomdp.model import TabularPOMDP
from decide.pomdp.policy import AlphaVectorPolicy

#: Iterate until the distance to the fixed point is below this, relative to max|R| / (1 - γ).
TOLERANCE = 1e-13
MAX_ITERATIONS = 1_000_000
#: FIB sweeps per kernel call; the time budget is checked between calls.
FIB_SWEEPS_PER_CALL = 4
#: Observations shared by the actions with S·O·A at most this many entries: FIB sweeps are one
#: dense matrix product per block of row classes (BLAS), ~10x the sparse kernel on the fisheries
#: models, whose observation rows are nearly full.
DENSE_FIB_ENTRIES = 1 << 22


class QValueBound(np.ndarray):
    """Q-values ``Q[s, a]`` of an upper bound (a plain ``(S, A)`` array with :meth:`value`)."""

    def value(self, belief: np.ndarray) -> float:
        r"""The bound at ``belief``, :math:`\max_a \sum_s b(s) Q(s, a)`."""
        return upper_bound_value(np.asarray(self), belief)


def _tol(model: SparseModel) -> float:
    """Largest change of an iteration that leaves the bound within TOLERANCE of the fixed point.

    A γ-contraction that moved by Δ is within Δ γ / (1 - γ) of its fixed point.
    """
    gamma = model.discount
    scale = max(1.0, float(np.abs(model.R).max()) / (1.0 - gamma))
    return TOLERANCE * scale * (1.0 - gamma) / gamma


def _model(pomdp: TabularPOMDP | SparseModel) -> SparseModel:
    return pomdp if isinstance(pomdp, SparseModel) else sparse_model(pomdp)


def blind_lower_bound(pomdp: TabularPOMDP | SparseModel) -> AlphaVectorPolicy:
    r"""The blind-policy lower bound: one alpha vector per action.

    ``alpha[a]`` solves :math:`\alpha_a = R_{:,a} + \gamma T_a \alpha_a` (iterated up from
    :math:`\min R / (1-\gamma)`, so every iterate is a lower bound); the bound at ``b`` is
    ``policy.value(b)`` :math:`= \max_a b \cdot \alpha_a`.
    """
    m = _model(pomdp)
    alpha = kernels.blind_alphas(
        m.R, m.t_ptr, m.t_idx, m.t_val, m.discount, _tol(m), MAX_ITERATIONS
    )
    return AlphaVectorPolicy(alpha, np.arange(m.n_actions))


def qmdp_upper_bound(pomdp: TabularPOMDP | SparseModel) -> QValueBound:
    r"""QMDP Q-values ``Q[s, a]``, iterated down from :math:`\max R / (1-\gamma)`.

    The result is an ``(S, A)`` array; ``Q.value(b)`` is the bound at a belief ``b``.
    """
    return _qmdp(_model(pomdp), None).view(QValueBound)


def _qmdp(m: SparseModel, deadline: float | None) -> np.ndarray:
    """QMDP Q-values, iterated until converged or, each iterate being an upper bound, until
    ``deadline`` (checked every ``FIB_SWEEPS_PER_CALL`` sweeps)."""
    v = np.full(m.n_states, float(m.R.max()) / (1.0 - m.discount))
    sweeps = MAX_ITERATIONS if deadline is None else FIB_SWEEPS_PER_CALL
    while True:
        Q, converged = kernels.qmdp_values(
            m.R, m.t_ptr, m.t_idx, m.t_val, m.discount, v, _tol(m), sweeps
        )
        if converged or deadline is None or time.perf_counter() >= deadline:
            return Q


def fib_upper_bound(
    pomdp: TabularPOMDP | SparseModel,
    qmdp: np.ndarray | None = None,
    *,
    time_budget: float | None = None,
    max_calls: int | None = None,
) -> QValueBound:
    r"""Fast Informed Bound Q-values ``Q[s, a]``, iterated down from the QMDP values.

    The FIB operator :math:`H_F` is monotone and :math:`H_F Q \le H_{QMDP} Q`, so from the QMDP
    fixed point every iterate decreases and stays above the FIB fixed point, hence above
    :math:`V^*`. Stopping early (``time_budget`` seconds, QMDP's iterations included, or
    ``max_calls`` kernel calls of ``FIB_SWEEPS_PER_CALL`` sweeps after QMDP has converged)
    therefore still gives a valid, if looser, upper bound; this
    matters on dense models (100 states × 100 actions × 100 observations cost
    ~1e10 operations a sweep). The result is an ``(S, A)`` array; ``Q.value(b)`` is the bound at
    a belief ``b``.
    """
    m = _model(pomdp)
    deadline = None if time_budget is None else time.perf_counter() + time_budget
    Q = _qmdp(m, deadline) if qmdp is None else qmdp
    Q = np.ascontiguousarray(Q, dtype=np.float64)
    sweeps = _fib_sweeps(m)
    converged, calls = False, 0
    while not converged and (deadline is None or time.perf_counter() < deadline):
        if max_calls is not None and calls >= max_calls:
            break
        calls += 1
        Q, converged = sweeps(Q, FIB_SWEEPS_PER_CALL)
    return Q.view(QValueBound)


FibSweeps = Callable[[np.ndarray, int], tuple[np.ndarray, bool]]


def _fib_sweeps(m: SparseModel) -> FibSweeps:
    """``sweeps(Q, n) -> (Q', converged)``: up to ``n`` FIB sweeps from ``Q``."""
    reps, classes = transition_classes(m)
    S, A, O = m.n_states, m.n_actions, m.n_observations
    tol = _tol(m)
    if m.z_stride == 0 and S * O * A <= DENSE_FIB_ENTRIES:
        rows = sparse.csr_array((m.t_val, m.t_idx, m.t_ptr), shape=(A * S, S))[reps].toarray()
        Z = sparse.csr_array((m.z_val, m.z_obs, m.z_ptr), shape=(S, O)).toarray()
        by_state = classes.reshape(A, S).T
        return lambda Q, n: _dense_fib(m, rows, Z, by_state, tol, Q, n)
    z = (m.z_ptr, m.z_obs, m.z_val, m.z_stride, reps, classes)
    return lambda Q, n: kernels.fib_values(
        m.R, m.t_ptr, m.t_idx, m.t_val, *z, m.discount, Q, tol, n
    )


def _dense_fib(m, rows, Z, by_state, tol, Q, n):
    r"""FIB sweeps with observations shared by the actions: for each class row :math:`u`,
    :math:`\sum_o \max_{a'} \sum_{s'} T(s'|u)\, Z(o|s')\, Q(s', a')` is row :math:`u` of
    ``rows @ G`` with :math:`G[s', (o, a')] = Z(o|s') Q(s', a')`, taken in blocks of classes."""
    S, A, O = m.n_states, m.n_actions, m.n_observations
    block = max(1, DENSE_FIB_ENTRIES // (O * A))
    future = np.empty(rows.shape[0])
    for _ in range(n):
        G = (Z[:, :, None] * Q[:, None, :]).reshape(S, O * A)
        for start in range(0, rows.shape[0], block):
            product = rows[start : start + block] @ G
            future[start : start + block] = product.reshape(-1, O, A).max(axis=2).sum(axis=1)
        new = m.R + m.discount * future[by_state]
        change = float(np.abs(new - Q).max())
        Q = new
        if change <= tol:
            return Q, True
    return Q, False


def transition_classes(m: SparseModel) -> tuple[np.ndarray, np.ndarray]:
    """Classes of identical transition rows (within an action when Z depends on the action):
    ``(one row of each class, the class of every row)``."""
    by_action = m.z_stride != 0
    hashes = kernels.row_hashes(m.t_ptr, m.t_idx, m.t_val.view(np.uint64), m.n_states, by_action)
    order = np.argsort(hashes, kind="stable")
    return kernels.row_classes(m.t_ptr, m.t_idx, m.t_val, m.n_states, by_action, hashes, order)


def upper_bound_value(Q: np.ndarray, belief: np.ndarray) -> float:
    r"""Value of a Q-value upper bound at a belief, :math:`\max_a \sum_s b(s) Q(s, a)`."""
    Q = np.asarray(Q, dtype=np.float64)
    belief = np.asarray(belief, dtype=np.float64)
    if Q.ndim != 2 or belief.shape != (Q.shape[0],):
        raise ModelError("belief", f"expected shape ({Q.shape[0]},), got {belief.shape}")
    return float(np.max(belief @ Q))


def bound_values(pomdp: TabularPOMDP, belief: np.ndarray | None = None) -> dict[str, float]:
    """Blind, QMDP and FIB bounds at ``belief`` (default ``pomdp.b0``), keyed by name."""
    m = sparse_model(pomdp)
    belief = pomdp.b0 if belief is None else np.asarray(belief, dtype=np.float64)
    qmdp = qmdp_upper_bound(m)
    return {
        "blind": blind_lower_bound(m).value(belief),
        "qmdp": upper_bound_value(qmdp, belief),
        "fib": upper_bound_value(fib_upper_bound(m, qmdp), belief),
    }
