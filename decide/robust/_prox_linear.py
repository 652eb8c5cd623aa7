r"""The prox-linear solver of :func:`decide.robust.regularised.regularised_policy`.

*How it is solved* (a prox-linear, policy-mirror-ascent method). At the current policy
:math:`\pi_t` the performance-difference lemma with the visits frozen gives, for each model,

.. math::

    L_k(\pi) = V_k(\pi_t) + \sum_s \tilde d_k(s) \Big[\sum_a \pi(a|s) Q_k(s, a)
      - \beta\,\mathrm{KL}(\pi_s \| \rho_s) - v_k(s)\Big],

with :math:`\tilde d_k = (I - \gamma P_{\pi_t}^\top)^{-1}\mu_0` the discounted visits and
:math:`Q_k, v_k` those of the regularised reward; :math:`L_k` equals :math:`V_k` at
:math:`\pi_t`, with the same gradient. One step maximises
:math:`\min_k L_k(\pi) + \eta\,\ell(\pi) - \frac1\lambda \sum_s \hat d(s)\,
\mathrm{KL}(\pi_s \| \pi_{t,s})` (:math:`\hat d` the models' mean visits). This is concave
in π and, writing the minimum as :math:`\min_{\omega \in \Delta_k} \sum_k \omega_k L_k`, linear
in the model weights ω, so it is solved through its dual: :math:`\varphi(\omega) = \max_\pi
[\dots]` is convex with gradient :math:`L_k(\pi^*(\omega))` (Danskin) and is minimised over
the simplex by SLSQP. For given ω the maximisation separates by state into
:math:`\max_{\pi_s} \sum_a \pi_a b_a - \kappa \sum_a \pi_a \log \pi_a + c \sum_a \hat\pi_a
\log \pi_a`, solved with the Wright omega function (:func:`_proximal_policy`). The step is kept
when the exact J does not decrease, else λ is divided by 4; after a kept step λ is multiplied
by 4 (up to :math:`10^6/\beta`). The iteration starts from :math:`\pi_{\text{hist}}` and stops
when a kept step moves less than ``xtol`` in :math:`\max_s (d_\omega(s) + w(s))\,
\|\Delta\pi_s\|_1`. With one model and η = 0 a full step (λ → ∞) is soft policy iteration,
:math:`\pi \propto \rho\, e^{Q/\beta}`, and the fixed point is the soft-optimal policy of
:func:`~decide.mdp.bellman.soft_value_iteration`. J is not concave in π: the method finds a
stationary point (the tests compare it with brute force on small problems); the objective
reported uses the exact minimum over the models.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy.special import logsumexp, softmax, wrightomega

from decide.mdp import TabularMDP, q_values
from decide.robust.offline import Behaviour, log_likelihood


def _model_terms(
    mdp: TabularMDP, pi: np.ndarray, log_ratio: np.ndarray, beta: float, initial: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Regularised value μ0·v, discounted visits d̃ and regularised Q of one model."""
    P = np.matmul(pi[:, None, :], mdp.T.transpose(1, 0, 2))[:, 0, :]
    A = np.eye(mdp.n_states) - mdp.discount * P
    v = np.linalg.solve(A, np.sum(pi * (mdp.R - beta * log_ratio), axis=1))
    visits = np.linalg.solve(A.T, initial)
    return float(initial @ v), visits, q_values(mdp, v)


def _log_ratio(pi: np.ndarray, log_rho: np.ndarray) -> np.ndarray:
    """log(π/ρ) where π > 0, else 0 (the term π log(π/ρ) vanishes there)."""
    positive = pi > 0
    return np.where(positive, np.log(np.where(positive, pi, 1.0)) - log_rho, 0.0)


def _proximal_policy(
    b: np.ndarray, kappa: float, c: np.ndarray, p: np.ndarray, max_iter: int = 200
) -> np.ndarray:
    r"""Per state, :math:`\arg\max_{\pi \in \Delta} \sum_a \pi_a b_a - \kappa \sum_a \pi_a
    \log \pi_a + c \sum_a p_a \log \pi_a` (κ > 0, c ≥ 0; c = ∞ returns p).

    Stationarity gives :math:`\kappa \log \pi_a - c p_a/\pi_a = b_a - \mu`, solved in closed form
    by the Wright omega function, :math:`\log \pi_a = u_a + \omega(\log(c p_a/\kappa) - u_a)`
    with :math:`u_a = (b_a - \mu)/\kappa`; each :math:`\pi_a` decreases in μ, and μ is found by
    safeguarded Newton steps on :math:`\sum_a \pi_a(\mu) = 1` from
    :math:`\mu = \kappa \log\sum_a e^{b_a/\kappa}` (the c = 0 solution, where the sum is ≥ 1).
    """
    out = np.array(p, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _solve_proximal(out, b, kappa, c, p, max_iter)


def _solve_proximal(
    out: np.ndarray, b: np.ndarray, kappa: float, c: np.ndarray, p: np.ndarray, max_iter: int
) -> np.ndarray:
    """The body of :func:`_proximal_policy` (rows with c = ∞ keep ``out = p``)."""
    plain = c == 0
    out[plain] = softmax(b[plain] / kappa, axis=1)
    free = np.isfinite(c) & ~plain
    if not free.any():
        return out
    b, c, p = b[free], c[free][:, None], p[free]
    mu = kappa * logsumexp(b / kappa, axis=1, keepdims=True)
    log_pull = np.log(c * p / kappa)
    low, high = mu.copy(), np.full_like(mu, np.inf)
    for _ in range(max_iter):
        u = (b - mu) / kappa
        pi = np.exp(u + wrightomega(log_pull - u))
        excess = pi.sum(axis=1, keepdims=True) - 1.0
        if np.max(np.abs(excess)) < 1e-12:
            break
        low = np.where(excess > 0, mu, low)
        high = np.where(excess < 0, mu, high)
        denominator = kappa * pi + c * p
        slope = np.sum(np.where(denominator > 0, pi * pi / denominator, 0.0), axis=1, keepdims=True)
        step = mu + excess / slope
        bisect = np.isfinite(high) & ~((step > low) & (step < high))
        mu = np.where(bisect, 0.5 * (low + high), step)
    out[free] = pi / pi.sum(axis=1, keepdims=True)
    return out


@dataclass(frozen=True, eq=False)
class _Linearisation:
    """Per model at the current policy: values (K,), visits d̃ (K, S), regularised Q (K, S, A)
    and v (K, S)."""

    values: np.ndarray
    visits: np.ndarray
    q: np.ndarray
    v: np.ndarray


def _linearise(
    models: tuple[TabularMDP, ...], pi: np.ndarray, log_rho: np.ndarray, beta: float, mu0
) -> _Linearisation:
    log_ratio = _log_ratio(pi, log_rho)
    terms = [_model_terms(m, pi, log_ratio, beta, mu0) for m in models]
    q = np.array([t[2] for t in terms])
    v = np.sum(pi * (q - beta * log_ratio), axis=2)
    return _Linearisation(np.array([t[0] for t in terms]), np.array([t[1] for t in terms]), q, v)


def _kl_rows(pi: np.ndarray, log_other: np.ndarray) -> np.ndarray:
    """Σ_a π log(π/other) per row, with 0 log 0 = 0."""
    positive = pi > 0
    logs = np.log(np.where(positive, pi, 1.0)) - np.where(positive, log_other, 0.0)
    return np.sum(np.where(positive, pi * logs, 0.0), axis=1)


def _prox_linear_step(
    lin: _Linearisation,
    pi: np.ndarray,
    step: float,
    beta: float,
    eta: float,
    log_rho: np.ndarray,
    behaviour: Behaviour,
    omega0: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Maximise :math:`\min_k L_k(\pi') + \eta \ell(\pi') - \sum_s \frac{\hat d(s)}{\lambda}
    \mathrm{KL}(\pi'_s \| \pi_s)` via its dual over the model weights ω (see
    :func:`~decide.robust.regularised.regularised_policy`); returns the maximiser and ω."""
    frequencies = behaviour.record_frequencies
    weights = frequencies.sum(axis=1)
    p = frequencies / np.where(weights > 0, weights, 1.0)[:, None]
    log_pi = np.log(np.maximum(pi, 1e-300))
    d_hat = lin.visits.mean(axis=0)
    constants = lin.values - np.sum(lin.visits * lin.v, axis=1)

    def inner(omega: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        d_omega = omega @ lin.visits
        linear = np.einsum("k,ks,ksa->sa", omega, lin.visits, lin.q)
        entropy = beta * d_omega + d_hat / step
        active = entropy > 0
        scale = np.where(active, entropy, 1.0)[:, None]
        b = np.where(active[:, None],
                     (linear + beta * d_omega[:, None] * log_rho + d_hat[:, None] / step * log_pi)
                     / scale, log_pi)  # fmt: skip
        c = np.where(active, eta * weights / scale[:, 0], np.where(weights > 0, np.inf, 0.0))
        new = _proximal_policy(b, 1.0, c, p)
        per_state = np.einsum("sa,ksa->ks", new, lin.q) - beta * _kl_rows(new, log_rho)[None, :]
        gains = constants + np.sum(lin.visits * per_state, axis=1)
        dual = float(omega @ gains) - float(d_hat @ _kl_rows(new, log_pi)) / step
        if eta > 0:
            dual += eta * log_likelihood(behaviour, new)
        return dual, gains, new

    if lin.values.size == 1:
        return inner(np.ones(1))[2], np.ones(1)
    result = optimize.minimize(
        lambda omega: inner(omega)[:2], omega0, jac=True, method="SLSQP",
        bounds=[(0.0, 1.0)] * omega0.size,
        constraints=({"type": "eq", "fun": lambda w: w.sum() - 1.0,
                      "jac": lambda w: np.ones_like(w)},),
        options={"ftol": 1e-14, "maxiter": 200},
    )  # fmt: skip
    omega = np.clip(result.x, 0.0, None)
    omega = omega / omega.sum()
    return inner(omega)[2], omega
