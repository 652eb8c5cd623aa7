r"""Exact Bayesian belief updates for a :class:`~decide.pomdp.model.TabularPOMDP`.

After action a and observation o the belief b becomes

.. math::

    b'(s') = \frac{Z(o \mid s', a) \sum_s T(s' \mid s, a)\, b(s)}{P(o \mid b, a)},
    \qquad P(o \mid b, a) = \sum_{s'} Z(o \mid s', a) \sum_s T(s' \mid s, a)\, b(s).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from decide.errors import ImpossibleObservation, ModelError
from decide.pomdp.model import TabularPOMDP


def _index(labels: Sequence[str], value: int | str, field: str) -> int:
    """An index from an index or a label, checked against ``labels``."""
    if isinstance(value, str):
        try:
            return labels.index(value)
        except ValueError:
            raise ModelError(field, f"unknown label {value!r}") from None
    index = int(value)
    if not 0 <= index < len(labels):
        raise ModelError(field, f"index {index} outside [0, {len(labels) - 1}]")
    return index


def _belief(pomdp: TabularPOMDP, belief: np.ndarray) -> np.ndarray:
    belief = np.asarray(belief, dtype=np.float64)
    if belief.shape != (pomdp.n_states,):
        raise ModelError("belief", f"expected shape ({pomdp.n_states},), got {belief.shape}")
    return belief


def predict(pomdp: TabularPOMDP, belief: np.ndarray, action: int | str) -> np.ndarray:
    r"""The predicted state distribution :math:`\sum_s T(s' \mid s, a)\, b(s)` over s'."""
    a = _index(pomdp.actions, action, "action")
    return _belief(pomdp, belief) @ pomdp.transition(a)


def likelihood(pomdp: TabularPOMDP, action: int | str, observation: int | str) -> np.ndarray:
    r"""The vector over s' of :math:`Z(o \mid s', a)`."""
    a = _index(pomdp.actions, action, "action")
    o = _index(pomdp.observations, observation, "observation")
    return pomdp.observation(a)[:, [o]].toarray().ravel()


def observation_probability(
    pomdp: TabularPOMDP, belief: np.ndarray, action: int | str
) -> np.ndarray:
    r"""The vector over o of :math:`P(o \mid b, a) = \sum_{s'} Z(o \mid s', a) (bT_a)(s')`."""
    a = _index(pomdp.actions, action, "action")
    return predict(pomdp, belief, a) @ pomdp.observation(a)


def update_belief(
    pomdp: TabularPOMDP, belief: np.ndarray, action: int | str, observation: int | str
) -> np.ndarray:
    r"""The exact posterior :math:`b'(s') \propto Z(o \mid s', a) \sum_s T(s' \mid s, a) b(s)`.

    ``action`` and ``observation`` are indices or labels.

    Raises
    ------
    ImpossibleObservation
        When :math:`P(o \mid b, a) = 0`; the message names the action and the observation.
    """
    a = _index(pomdp.actions, action, "action")
    o = _index(pomdp.observations, observation, "observation")
    unnormalised = predict(pomdp, belief, a) * likelihood(pomdp, a, o)
    total = unnormalised.sum()
    if not total > 0.0:
        raise ImpossibleObservation(
            f"observation {pomdp.observations[o]!r} has probability 0 after action "
            f"{pomdp.actions[a]!r} from this belief (model {pomdp.name!r})"
        )
    return unnormalised / total


def update_beliefs(
    pomdp: TabularPOMDP,
    beliefs: np.ndarray,
    actions: np.ndarray,
    observations: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Vectorised :func:`update_belief` over N beliefs, without raising.

    Parameters
    ----------
    beliefs : array (N, S)
    actions, observations : int arrays (N,)

    Returns
    -------
    posteriors : array (N, S)
        The updated beliefs; where the observation is impossible, the normalised prediction
        :math:`\sum_s T(s' \mid s, a) b(s)` instead.
    possible : bool array (N,)
        False where :math:`P(o \mid b, a) = 0`.
    """
    beliefs = np.asarray(beliefs, dtype=np.float64)
    actions = np.asarray(actions, dtype=np.int64)
    observations = np.asarray(observations, dtype=np.int64)
    predicted = np.empty_like(beliefs)
    unnormalised = np.empty_like(beliefs)
    for a in np.unique(actions):
        rows = actions == a
        predicted[rows] = beliefs[rows] @ pomdp.transition(a)
        Z = pomdp.observation(a).tocsc()
        for o in np.unique(observations[rows]):
            pair = rows & (observations == o)
            unnormalised[pair] = predicted[pair] * Z[:, [o]].toarray().ravel()
    totals = unnormalised.sum(axis=1)
    possible = totals > 0.0
    posterior = np.where(possible[:, None], unnormalised, predicted)
    norms = np.where(possible, totals, predicted.sum(axis=1))
    return posterior / norms[:, None], possible
