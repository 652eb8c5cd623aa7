"""Conversion between :class:`TabularPOMDP` and pomdp-py (``pip install decide[interop]``).

:func:`from_pomdp_py` reads a pomdp-py problem with enumerable states, actions and observations
into arrays through its models' ``probability`` and ``sample`` methods; :func:`to_pomdp_py`
wraps a TabularPOMDP in pomdp-py models backed by its arrays, ready for pomdp-py's planners.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from decide.errors import ModelError, UsageError
from decide.pomdp.kernel_arrays import sampler
from decide.pomdp.model import ROW_SUM_TOLERANCE, TabularPOMDP

try:
    import pomdp_py
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "decide.pomdp.interop needs pomdp-py: pip install 'decide[interop]'"
    ) from error


def from_pomdp_py(
    agent_or_models: Any,
    states: Sequence | None,
    actions: Sequence | None,
    observations: Sequence | None,
    discount: float,
    b0: np.ndarray | Any | None = None,
    *,
    reward_samples: int = 1,
    name: str = "pomdp_py",
) -> TabularPOMDP:
    r"""A TabularPOMDP with the probabilities of a pomdp-py problem.

    .. math::
        T[a, s, s'] = \text{transition\_model.probability}(s', s, a), \quad
        Z[a, s', o] = \text{observation\_model.probability}(o, s', a),

        R[s, a] = \sum_{s'} T[a, s, s']\, \bar r(s, a, s') \,/\, \sum_{s'} T[a, s, s'],

    where :math:`\bar r` is the mean of ``reward_samples`` calls of ``reward_model.sample``
    (one suffices for deterministic rewards).

    Parameters
    ----------
    agent_or_models : pomdp_py.Agent, pomdp_py.POMDP, tuple or mapping
        An agent (or a problem holding one as ``.agent``), or the models as a tuple
        ``(transition_model, observation_model, reward_model)`` or a mapping with those keys.
    states, actions, observations : sequences or None
        The pomdp-py objects in index order; ``None`` asks the models' ``get_all_states``,
        ``get_all_actions`` (policy model) and ``get_all_observations``. Pass explicit lists
        when those return sets, whose order can change between runs.
    discount : float
        γ; pomdp-py models carry none.
    b0 : array, pomdp-py distribution or None
        Initial belief; default the agent's ``init_belief``, or uniform when there is no agent.
    reward_samples : int
        Samples averaged per (s, a, s') for stochastic rewards.
    name : str
        Name of the model.
    """
    models = _models(agent_or_models)
    states = _enumerate("states", states, models["transition_model"], "get_all_states")
    actions = _enumerate("actions", actions, models.get("policy_model"), "get_all_actions")
    observations = _enumerate(
        "observations", observations, models["observation_model"], "get_all_observations"
    )
    if not isinstance(reward_samples, int) or reward_samples < 1:
        raise UsageError(f"reward_samples: expected an integer >= 1, got {reward_samples!r}")
    T = _table(models["transition_model"], actions, states, states, "T")
    Z = _table(models["observation_model"], actions, states, observations, "Z")
    R = _rewards(models["reward_model"], T, states, actions, reward_samples)
    return TabularPOMDP(
        T=T,
        Z=Z,
        R=R,
        discount=discount,
        b0=_initial_belief(b0, models.get("init_belief"), states),
        states=tuple(str(s) for s in states),
        actions=tuple(str(a) for a in actions),
        observations=tuple(str(o) for o in observations),
        name=name,
    )


def _models(source: Any) -> dict[str, Any]:
    source = getattr(source, "agent", source)
    if isinstance(source, pomdp_py.Agent):
        return {
            "transition_model": source.transition_model,
            "observation_model": source.observation_model,
            "reward_model": source.reward_model,
            "policy_model": source.policy_model,
            "init_belief": source.init_belief,
        }
    keys = ("transition_model", "observation_model", "reward_model")
    if isinstance(source, Mapping):
        models = dict(source)
    elif isinstance(source, Sequence) and len(source) == 3:
        models = dict(zip(keys, source, strict=True))
    else:
        raise UsageError("agent_or_models: expected a pomdp_py Agent, POMDP, tuple or mapping")
    missing = [key for key in keys if models.get(key) is None]
    if missing:
        raise UsageError(f"agent_or_models: missing {', '.join(missing)}")
    return models


def _enumerate(field: str, given: Sequence | None, model: Any, method: str) -> list:
    if given is None:
        try:
            given = getattr(model, method)()
        except (AttributeError, NotImplementedError) as error:
            raise UsageError(f"{field}: not given and the model has no {method}()") from error
    values = list(given)
    if not values:
        raise UsageError(f"{field}: empty")
    if len(set(values)) != len(values):
        raise UsageError(f"{field}: contains duplicates")
    return values


def _table(model: Any, actions: list, rows: list, columns: list, field: str) -> np.ndarray:
    """``table[a, i, j] = model.probability(columns[j], rows[i], actions[a])``."""
    table = np.empty((len(actions), len(rows), len(columns)))
    for a, action in enumerate(actions):
        for i, row in enumerate(rows):
            for j, column in enumerate(columns):
                table[a, i, j] = model.probability(column, row, action)
            total = table[a, i].sum()
            if abs(total - 1.0) > ROW_SUM_TOLERANCE:
                raise ModelError(
                    f"{field}[{a}, {i}]",
                    f"pomdp-py probabilities for {row!r} under {action!r} sum to {total:.9g} over "
                    "the given list; is the list complete?",
                )
    return table


def _rewards(model: Any, T: np.ndarray, states: list, actions: list, samples: int) -> np.ndarray:
    """Expected rewards; exactly the sampled value when it does not depend on s'."""
    R = np.zeros((len(states), len(actions)))
    for a, action in enumerate(actions):
        for s, state in enumerate(states):
            successors = np.flatnonzero(T[a, s])
            means = np.array(
                [
                    np.mean([model.sample(state, action, states[s2]) for _ in range(samples)])
                    for s2 in successors
                ]
            )
            weights = T[a, s, successors]
            same = np.all(means == means[0])
            R[s, a] = means[0] if same else weights @ means / weights.sum()
    return R


def _initial_belief(b0: Any, agent_belief: Any, states: list) -> np.ndarray:
    source = agent_belief if b0 is None else b0
    if source is None:
        return np.full(len(states), 1.0 / len(states))
    if hasattr(source, "probability"):
        belief = np.array([source.probability(state) for state in states], dtype=float)
    elif isinstance(source, Mapping):
        belief = np.array([source.get(state, 0.0) for state in states], dtype=float)
    else:
        belief = np.asarray(source, dtype=float)
    if belief.shape != (len(states),):
        raise ModelError("b0", f"expected {len(states)} probabilities, got shape {belief.shape}")
    return belief


class _Indexed:
    """Hashable pomdp-py object identified by its index in the TabularPOMDP."""

    def __init__(self, index: int, label: str):
        self.index = index
        self.name = label

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.index))

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.index == self.index

    def __str__(self) -> str:
        return self.name

    def __reduce__(self):
        return type(self), (self.index, self.name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.index}, {self.name!r})"


class TabularState(_Indexed, pomdp_py.State):
    """A state of a TabularPOMDP seen by pomdp-py."""


class TabularAction(_Indexed, pomdp_py.Action):
    """An action of a TabularPOMDP seen by pomdp-py."""


class TabularObservation(_Indexed, pomdp_py.Observation):
    """An observation of a TabularPOMDP seen by pomdp-py."""


class _Rows:
    """Sparse probability rows ``a * stride + i`` (stride S, or 0 for rows shared by all
    actions): sampled by bisection on their cumulative sums, and looked up by column."""

    def __init__(self, rows, stride: int, outcomes: list, rng: random.Random):
        ptr, idx, cdf = sampler(rows)
        self._ptr, self._idx, self._cdf = ptr.tolist(), idx.tolist(), cdf.tolist()
        self._val = rows.data.tolist()
        self._stride = stride
        self._outcomes = outcomes
        self._rng = rng

    def _bounds(self, a: int, i: int) -> tuple[int, int]:
        row = a * self._stride + i
        return self._ptr[row], self._ptr[row + 1]

    def sample(self, a: int, i: int) -> Any:
        lo, hi = self._bounds(a, i)
        j = bisect.bisect_right(self._cdf, self._rng.random() * self._cdf[hi - 1], lo, hi)
        return self._outcomes[self._idx[min(j, hi - 1)]]

    def probability(self, a: int, i: int, column: int) -> float:
        lo, hi = self._bounds(a, i)
        j = bisect.bisect_left(self._idx, column, lo, hi)
        return self._val[j] if j < hi and self._idx[j] == column else 0.0


class TabularTransitionModel(pomdp_py.TransitionModel):
    """pomdp-py transition model backed by the sparse rows of ``T``."""

    def __init__(self, pomdp: TabularPOMDP, states: list[TabularState], rng: random.Random):
        self._states = states
        self._rows = _Rows(pomdp.T_rows, pomdp.n_states, states, rng)

    def probability(self, next_state, state, action) -> float:
        return self._rows.probability(action.index, state.index, next_state.index)

    def sample(self, state, action) -> TabularState:
        return self._rows.sample(action.index, state.index)

    def get_all_states(self) -> list[TabularState]:
        return list(self._states)


class TabularObservationModel(pomdp_py.ObservationModel):
    """pomdp-py observation model backed by the sparse rows of ``Z``."""

    def __init__(self, pomdp: TabularPOMDP, observations: list, rng: random.Random):
        self._observations = observations
        self._rows = _Rows(pomdp.Z_rows, pomdp.z_stride, observations, rng)

    def probability(self, observation, next_state, action) -> float:
        return self._rows.probability(action.index, next_state.index, observation.index)

    def sample(self, next_state, action) -> TabularObservation:
        return self._rows.sample(action.index, next_state.index)

    def get_all_observations(self) -> list[TabularObservation]:
        return list(self._observations)


class TabularRewardModel(pomdp_py.RewardModel):
    """pomdp-py reward model returning the expected reward ``R[s, a]`` (whatever s')."""

    def __init__(self, pomdp: TabularPOMDP):
        self.R = pomdp.R

    def sample(self, state, action, next_state) -> float:
        return float(self.R[state.index, action.index])

    def argmax(self, state, action, next_state) -> float:
        return self.sample(state, action, next_state)


class TabularPolicyModel(pomdp_py.RolloutPolicy):
    """Uniform random policy over all actions; also the rollout policy."""

    def __init__(self, actions: list[TabularAction], rng: random.Random):
        self._actions = actions
        self._rng = rng

    def sample(self, state) -> TabularAction:
        return self._actions[self._rng.randrange(len(self._actions))]

    def rollout(self, state, history=None) -> TabularAction:
        return self.sample(state)

    def get_all_actions(self, state=None, history=None) -> list[TabularAction]:
        return list(self._actions)


def to_pomdp_py(
    pomdp: TabularPOMDP, *, init_state: int | None = None, seed: int | None = None
) -> tuple[pomdp_py.Agent, pomdp_py.Environment]:
    """A pomdp-py agent (belief b0 as a Histogram) and environment for ``pomdp``.

    The models sample with one ``random.Random(seed)``. The environment starts in
    ``init_state`` (a state index), by default a draw from b0. pomdp-py's POMCP needs a particle
    belief: ``agent.set_belief(pomdp_py.Particles.from_histogram(agent.belief, n), prior=True)``.
    The discount is not part of pomdp-py's models; give ``pomdp.discount`` to its planners.
    """
    rng = random.Random(seed)
    states = [TabularState(i, label) for i, label in enumerate(pomdp.states)]
    actions = [TabularAction(i, label) for i, label in enumerate(pomdp.actions)]
    observations = [TabularObservation(i, label) for i, label in enumerate(pomdp.observations)]
    transition = TabularTransitionModel(pomdp, states, rng)
    reward = TabularRewardModel(pomdp)
    belief = pomdp_py.Histogram({s: float(p) for s, p in zip(states, pomdp.b0, strict=True)})
    agent = pomdp_py.Agent(
        belief,
        TabularPolicyModel(actions, rng),
        transition,
        TabularObservationModel(pomdp, observations, rng),
        reward,
    )
    if init_state is None:
        init_state = bisect.bisect_right(np.cumsum(pomdp.b0).tolist(), rng.random())
        init_state = min(init_state, pomdp.n_states - 1)
    if not 0 <= int(init_state) < pomdp.n_states:
        raise UsageError(f"init_state: expected 0..{pomdp.n_states - 1}, got {init_state}")
    env = pomdp_py.Environment(states[int(init_state)], transition, reward)
    return agent, env
