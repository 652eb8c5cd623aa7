r"""Improving on historical decisions offline: the behaviour policy and an A2PR baseline.

The problems are the tabular MDPs of :mod:`decide.mdp`; the RPO-style max–min over
fitted models with a pull to the data is :func:`decide.robust.regularised.regularised_policy`.

**The behaviour policy** (:func:`behaviour_from_history`) comes from historical (state, action)
index pairs: counts :math:`N(s, a)` plus a Dirichlet prior of concentration α per action,
:math:`\pi_{\text{hist}}(a|s) = (N(s, a) + \alpha) / (N_s + A\alpha)`, uniform where a state
was never seen.

The average log-likelihood of the n records :math:`(s_i, a_i)` under a policy π
(:func:`log_likelihood`) is :math:`\ell(\pi) = \frac1n \sum_i \log \pi(a_i|s_i) =
\sum_{s,a} \frac{N(s,a)}{n} \log \pi(a|s)`.

**Advantage-guided imitation** (:func:`advantage_weighted_imitation`, a tabular A2PR baseline).
Under one fitted model, evaluate the behaviour policy exactly, :math:`Q = Q^{\pi_{\text{hist}}}`,
:math:`V(s) = \sum_a \pi_{\text{hist}}(a|s) Q(s, a)`; imitate only the historical actions with
positive advantage, :math:`\pi(a|s) \propto N(s, a)\,\mathbb 1\{Q(s, a) > V(s)\}`; in a state
where no historical action has a positive advantage (including every state never seen) play
the greedy action :math:`\arg\max_a Q(s, a)`, one step of policy improvement on the behaviour
policy under the fitted model. This is A2PR's actor without its generative model: the masked
imitation term keeps only the better-than-average records, and where nothing is kept the
:math:`-\lambda Q` term alone decides. Advantages within :math:`10^{-12}(1 + \max|Q|)` of 0 count
as ties, not as positive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from decide.errors import ModelError, UsageError
from decide.mdp import TabularMDP, greedy_policy, policy_evaluation, q_values
from decide.mdp.model import _real_array

__all__ = [
    "Behaviour",
    "advantage_weighted_imitation",
    "behaviour_from_history",
    "log_likelihood",
]


@dataclass(frozen=True, eq=False)
class Behaviour:
    r"""Historical counts ``N[s, a]`` and a Dirichlet prior α per action.

    ``policy`` is the posterior mean :math:`(N + \alpha)/(N_s + A\alpha)`;
    ``record_frequencies`` the empirical joint :math:`N(s, a)/n` of the n records and
    ``state_frequencies`` its state marginal :math:`N_s/n`.
    """

    counts: np.ndarray
    prior: float = 0.01

    def __post_init__(self) -> None:
        counts = _real_array(self.counts, "counts", 2)
        if np.any(counts < 0):
            raise ModelError("counts", "expected non-negative counts")
        if not (np.isfinite(self.prior) and self.prior > 0):
            raise UsageError(f"prior: expected a Dirichlet concentration > 0, got {self.prior}")
        counts.flags.writeable = False
        object.__setattr__(self, "counts", counts)
        object.__setattr__(self, "prior", float(self.prior))

    @property
    def policy(self) -> np.ndarray:
        """The posterior-mean behaviour policy (S, A)."""
        pseudo = self.counts + self.prior
        return pseudo / pseudo.sum(axis=1, keepdims=True)

    @property
    def record_frequencies(self) -> np.ndarray:
        """Empirical joint distribution :math:`N(s, a)/n` of the records (no prior)."""
        n = self.counts.sum()
        if n == 0:
            raise ModelError("counts", "no historical records")
        return self.counts / n

    @property
    def state_frequencies(self) -> np.ndarray:
        """Empirical distribution :math:`N_s/n` of the historical states (no prior)."""
        return self.record_frequencies.sum(axis=1)


def behaviour_from_history(
    states: ArrayLike, actions: ArrayLike, n_states: int, n_actions: int, *, prior: float = 0.01
) -> Behaviour:
    """Counts of historical (state index, action index) pairs, Dirichlet prior α = ``prior``."""
    s = np.asarray(states)
    a = np.asarray(actions)
    if s.shape != a.shape or s.ndim != 1:
        raise ModelError("history", f"expected equal 1-D index arrays, got {s.shape}, {a.shape}")
    for name, index, n in (("states", s, n_states), ("actions", a, n_actions)):
        if index.size and not np.issubdtype(index.dtype, np.integer):
            raise ModelError(name, f"expected integer indices, got dtype {index.dtype}")
        if index.size and (index.min() < 0 or index.max() >= n):
            raise ModelError(
                name, f"expected indices in [0, {n}), got [{index.min()}, {index.max()}]"
            )
    counts = np.zeros((n_states, n_actions))
    np.add.at(counts, (s, a), 1.0)
    return Behaviour(counts, prior)


def log_likelihood(behaviour: Behaviour, policy: ArrayLike) -> float:
    r"""Average log-likelihood of the records under π, :math:`\frac1n \sum_i \log \pi(a_i|s_i)
    = \sum_{s,a} \frac{N(s,a)}{n} \log \pi(a|s)` (``-inf`` if a record has probability 0)."""
    pi = np.asarray(policy, dtype=float)
    frequencies = behaviour.record_frequencies
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum(np.where(frequencies > 0, frequencies * np.log(pi), 0.0)))


def advantage_weighted_imitation(
    model: TabularMDP, behaviour: Behaviour
) -> tuple[np.ndarray, np.ndarray]:
    r"""A2PR-style baseline: imitate the historical actions with positive advantage.

    Under ``model``, :math:`Q = Q^{\pi_{\text{hist}}}` and :math:`V(s) = \sum_a
    \pi_{\text{hist}}(a|s) Q(s, a)` (exact evaluation of the behaviour policy); the policy is
    :math:`\pi(a|s) \propto N(s, a)\,\mathbb 1\{Q(s, a) > V(s)\}`, and the greedy action
    :math:`\arg\max_a Q(s, a)` in states where no historical action has a positive advantage.

    Returns
    -------
    policy : array (S, A)
    advantage : array (S, A)
        :math:`Q(s, a) - V(s)`.
    """
    if behaviour.counts.shape != (model.n_states, model.n_actions):
        raise ModelError(
            "behaviour", f"expected counts of shape {(model.n_states, model.n_actions)}"
        )
    pi_hist = behaviour.policy
    q = q_values(model, policy_evaluation(model, pi_hist))
    v = np.sum(pi_hist * q, axis=1)
    advantage = q - v[:, None]
    # a tolerance keeps exact ties (e.g. equally good actions) out of the positive set
    tolerance = 1e-12 * (1.0 + np.abs(q).max())
    kept = np.where(advantage > tolerance, behaviour.counts, 0.0)
    mass = kept.sum(axis=1, keepdims=True)
    policy = np.where(mass > 0, kept / np.where(mass > 0, mass, 1.0), greedy_policy(q))
    return policy, advantage
