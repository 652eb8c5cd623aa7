r"""Regularised policy optimisation: pessimism over fitted models plus a pull to the data.

Tabular MDPs and policies as in :mod:`decide.mdp`; the historical records as in
:mod:`decide.robust.offline` (:class:`~decide.robust.offline.Behaviour`).

**Regularised policy optimisation** (:func:`regularised_policy`, after RPO: Liu et al. 2024,
"Your SFT loss is implicitly an adversarial regularizer"). With a confidence set of k fitted
models :math:`M_1, \dots, M_k` (e.g. the bootstrap fits inside the likelihood-ratio set of
:func:`decide.robust.confidence.likelihood_set`) and n historical records
:math:`(s_i, a_i)`, it maximises over stochastic policies

.. math::

    J(\pi) = \min_k V^\beta_{M_k}(\pi) + \eta\,\ell(\pi), \qquad
    \ell(\pi) = \frac1n \sum_i \log \pi(a_i|s_i) = \sum_s w(s) \sum_a \hat\pi(a|s) \log \pi(a|s),

where :math:`V^\beta_M(\pi) = \mathbb E_{\mu_0, \pi, M} \sum_t \gamma^t \big[R(s_t, a_t) - \beta
\log(\pi(a_t|s_t)/\rho(a_t|s_t))\big]` is the KL-regularised value (temperature β, reference ρ,
uniform by default), :math:`w(s) = N_s/n` and :math:`\hat\pi = N(s, a)/N_s` the
maximum-likelihood behaviour policy. ℓ is the average log-likelihood of the managers' actions
under π: a large η returns :math:`\hat\pi` in every recorded state (the Dirichlet-smoothed
:math:`\pi_{\text{hist}}` differs from it by at most :math:`A\alpha/(N_s + A\alpha)`); in states
with no record the policy is set by the values alone.

*Why this is RPO's max–min.* In one decision (a contextual bandit, RPO's setting) with an
uncertain reward :math:`r` in a confidence set :math:`\{r : L(r) \le \zeta\}` (L the fitting
loss), RPO solves :math:`\max_\pi \min_r\, \mathbb E_\pi r - \mathbb E_{\pi_{\text{hist}}} r -
\beta\,\mathrm{KL}(\pi\|\rho)`. Relax the constraint with a multiplier :math:`1/\eta` and swap
max and min (the payoff is linear in π apart from the concave −βKL, and convex in r): for fixed
r the inner maximum is attained by :math:`\pi_r \propto \rho\, e^{r/\beta}` and equals
:math:`\beta \log Z_r`; writing :math:`r = \beta \log(\pi_r/\rho) + \beta \log Z_r` gives
:math:`\beta \log Z_r - \mathbb E_{\pi_{\text{hist}}} r = -\beta\, \mathbb
E_{\pi_{\text{hist}}} \log(\pi_r/\rho)`, so the max–min is
:math:`\frac1\eta \min_\pi \big[L(r_\pi) - \eta\beta\, \mathbb E_{\pi_{\text{hist}}}
\log \pi\big] + \text{const}`: the fitting (preference) loss plus an imitation (log-likelihood)
loss on the historical actions. The two ingredients — pessimism over the confidence set and the
log-likelihood of what the managers did — are what we keep. In an MDP whose uncertainty is in T
the reparametrisation of r by π is not available (V is not linear in T), so neither term can
be derived from the other; :math:`J` keeps the pessimism as an explicit minimum over the fitted
models and the imitation as an explicit log-likelihood term, RPO's final form
"max–min value plus η × imitation".

The solver (a prox-linear, policy-mirror-ascent method) is described in
:mod:`decide.robust._prox_linear`; :func:`regularised_policy` drives it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from decide.errors import ModelError, UsageError
from decide.mdp.model import (
    TabularMDP,
    _distribution,
    _policy,
    _reference,
    _require_discounted,
)
from decide.robust._prox_linear import (
    _Linearisation,
    _linearise,
    _log_ratio,
    _model_terms,
    _prox_linear_step,
)
from decide.robust.offline import Behaviour, log_likelihood

__all__ = ["RegularisedPolicy", "regularised_objective", "regularised_policy"]


@dataclass(frozen=True, eq=False)
class RegularisedPolicy:
    """Result of :func:`regularised_policy`.

    ``objective`` is J(π) with the exact minimum; ``values`` the regularised values
    :math:`V^\\beta_{M_k}(\\pi)` per model; ``imitation`` the average log-likelihood ℓ(π) of
    the records (0 when η = 0); ``weights`` the model weights ω of the last step (which models
    are active in the minimum); ``iterations`` the steps kept; ``converged`` whether the last one
    moved less than ``xtol``.
    """

    policy: np.ndarray
    objective: float
    values: np.ndarray
    imitation: float
    weights: np.ndarray
    iterations: int
    converged: bool


def _check_models(models: Sequence[TabularMDP]) -> tuple[TabularMDP, ...]:
    models = tuple(models)
    if not models:
        raise UsageError("models: expected at least one model")
    first = models[0]
    for k, mdp in enumerate(models):
        if not isinstance(mdp, TabularMDP):
            raise UsageError(f"models[{k}]: expected a TabularMDP, got {type(mdp).__name__}")
        if mdp.T.shape != first.T.shape or mdp.discount != first.discount:
            raise ModelError(f"models[{k}]", "expected the same shape and discount as models[0]")
    _require_discounted(first)
    return models


def regularised_objective(
    models: Sequence[TabularMDP],
    behaviour: Behaviour,
    policy: ArrayLike,
    *,
    eta: float,
    beta: float,
    initial: ArrayLike | None = None,
    reference: ArrayLike | None = None,
) -> tuple[float, np.ndarray, float]:
    """J(π) of the module docstring with the exact minimum: ``(J, V^β per model, imitation)``."""
    models = _check_models(models)
    mdp = models[0]
    pi = _policy(policy, mdp)
    mu0 = _distribution(initial, mdp.n_states, "initial")
    log_ratio = _log_ratio(pi, np.log(_reference(reference, mdp)))
    values = np.array([_model_terms(m, pi, log_ratio, beta, mu0)[0] for m in models])
    imitation = log_likelihood(behaviour, pi) if eta > 0 else 0.0
    return float(values.min()) + eta * imitation, values, imitation


def regularised_policy(
    models: Sequence[TabularMDP],
    behaviour: Behaviour,
    *,
    eta: float,
    beta: float,
    initial: ArrayLike | None = None,
    reference: ArrayLike | None = None,
    xtol: float = 1e-7,
    max_iter: int = 500,
) -> RegularisedPolicy:
    r"""RPO-style policy: maximise :math:`J(\pi) = \min_k V^\beta_{M_k}(\pi) + \eta\,\ell(\pi)`.

    Parameters
    ----------
    models : sequence of TabularMDP
        The confidence set (e.g. bootstrap fits); same shapes and discount.
    behaviour : Behaviour
        Historical counts and prior (:func:`~decide.robust.offline.behaviour_from_history`); its
        policy is the start.
    eta : float
        Weight η ≥ 0 of the average log-likelihood of the historical actions.
    beta : float
        KL temperature β ≥ 0 (β = 0: no regularisation; the iterates then tend to a
        deterministic policy, so prefer a small β > 0).
    initial : array (S,), optional
        Start distribution :math:`\mu_0` (default uniform).
    reference : array (S, A), optional
        Reference ρ of the KL term (default uniform: an entropy bonus).
    xtol, max_iter : float, int
        Stop when a kept step moves the policy by less than ``xtol`` in
        :math:`\max_s (d_\omega(s) + w(s)) \|\Delta\pi_s\|_1` (converged), or after
        ``max_iter`` steps.

    Returns
    -------
    RegularisedPolicy
        The policy, J with the exact minimum, the values per model and the imitation term.
    """
    models = _check_models(models)
    mdp = models[0]
    for name, value in (("eta", eta), ("beta", beta)):
        if not (np.isfinite(value) and value >= 0):
            raise UsageError(f"{name}: expected a finite value >= 0, got {value}")
    if behaviour.counts.shape != (mdp.n_states, mdp.n_actions):
        raise ModelError("behaviour", f"expected counts of shape {(mdp.n_states, mdp.n_actions)}")
    mu0 = _distribution(initial, mdp.n_states, "initial")
    log_rho = np.log(_reference(reference, mdp))

    def objective(lin: _Linearisation, pi: np.ndarray) -> float:
        return float(lin.values.min()) + (eta * log_likelihood(behaviour, pi) if eta > 0 else 0.0)

    pi = behaviour.policy
    lin = _linearise(models, pi, log_rho, beta, mu0)
    value = objective(lin, pi)
    scale = 1.0 + abs(float(lin.values.min()))
    step = 1e3 / (beta if beta > 0 else scale)
    step_cap = 1e6 / (beta if beta > 0 else scale)
    omega = np.full(len(models), 1.0 / len(models))
    iterations, converged = 0, False
    record_weights = behaviour.state_frequencies
    for _ in range(max_iter):
        while True:
            candidate, new_omega = _prox_linear_step(
                lin, pi, step, beta, eta, log_rho, behaviour, omega
            )
            new_lin = _linearise(models, candidate, log_rho, beta, mu0)
            new_value = objective(new_lin, candidate)
            # a change of policy matters where the weighted models visit or there are records
            relevance = new_omega @ lin.visits + record_weights
            moved = float(np.max(relevance * np.abs(candidate - pi).sum(axis=1)))
            if new_value >= value - 1e-12 * (1.0 + abs(value)) or moved < xtol:
                break
            step *= 0.25
        iterations += 1
        pi, lin, value, omega = candidate, new_lin, new_value, new_omega
        step = min(4.0 * step, step_cap)
        if moved < xtol:
            converged = True
            break
    imitation = log_likelihood(behaviour, pi) if eta > 0 else 0.0
    return RegularisedPolicy(pi, value, lin.values, imitation, omega, iterations, converged)
