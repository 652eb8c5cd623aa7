r"""POMCP: online Monte-Carlo tree search over histories with a particle belief.

Silver & Veness (2010), "Monte-Carlo Planning in Large POMDPs". From the root belief each
simulation samples a state, descends the tree choosing actions by UCB1,

.. math:: a^* = \arg\max_a Q(h, a) + c \sqrt{\log N(h) / N(h, a)},

samples :math:`s' \sim T(\cdot \mid s, a)` and :math:`o \sim Z(\cdot \mid s', a)`, adds one new
history node per simulation and estimates its value with a rollout; the discounted return is
averaged into every :math:`Q(h, a)` on the path. The tree lives in arrays
(:mod:`decide.pomdp._kernels.pomcp`) that grow between kernel calls.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from decide.contract import stop_requested
from decide.errors import ImpossibleObservation, UsageError
from decide.pomdp._kernels import pomcp as kernels
from decide.pomdp.belief import likelihood, predict
from decide.pomdp.kernel_arrays import sampler
from decide.pomdp.model import TabularPOMDP

#: Rejection-sampling attempts per missing particle before falling back to the exact belief.
REJECTION_TRIES = 20
#: Largest number of simulations run by one kernel call.
MAX_CHUNK = 1 << 16


@dataclass(frozen=True, eq=False)
class SearchInfo:
    """Diagnostics of one search: ``root_values``/``root_visits`` are per action (NaN unvisited);
    ``stop_reason`` is "iteration limit" (the simulation budget), "time limit" or "callback"."""

    simulations: int
    steps: int
    time: float
    tree_size: int
    root_values: np.ndarray
    root_visits: np.ndarray
    n_particles: int
    stop_reason: str = "iteration limit"


@dataclass(frozen=True)
class UpdateInfo:
    """Where the particles of the last update came from."""

    kept: int
    rejection: int
    exact: int
    tree_reused: bool


@dataclass(frozen=True)
class POMCP:
    """Parameters of the POMCP online planner.

    Parameters
    ----------
    n_simulations : int or None
        Simulations per decision; ``None`` runs until ``time_limit``.
    max_depth : int
        Model steps per simulation (tree descent plus rollout).
    exploration : float or None
        UCB1 constant ``c``; ``None`` uses the reward range ``max R − min R``.
    rollout : "random", int or sequence of int
        Rollout policy: uniform random actions, one fixed action, or an action per state (for
        example the greedy action of the fully observable MDP).
    n_particles : int
        Particles of a fresh belief, and the minimum kept after each update.
    epsilon : float or None
        Discount horizon: simulations also stop at depth ``d`` with ``γ^d < epsilon``.
    time_limit : float or None
        Seconds per decision; the search stops at whichever of the budgets comes first. Only
        searches bounded by ``n_simulations`` alone repeat exactly for a given seed.
    """

    n_simulations: int | None = 1000
    max_depth: int = 100
    exploration: float | None = None
    rollout: str | int | Sequence[int] = "random"
    n_particles: int = 1000
    epsilon: float | None = None
    time_limit: float | None = None

    def __post_init__(self) -> None:
        if self.n_simulations is None and self.time_limit is None:
            raise UsageError("n_simulations: give a simulation budget, a time_limit, or both")
        _check_positive("n_simulations", self.n_simulations, integer=True)
        _check_positive("max_depth", self.max_depth, integer=True)
        _check_positive("n_particles", self.n_particles, integer=True)
        _check_positive("time_limit", self.time_limit)
        if self.exploration is not None and not self.exploration >= 0:
            raise UsageError(f"exploration: expected a number >= 0, got {self.exploration!r}")
        if self.epsilon is not None and not 0 < self.epsilon < 1:
            raise UsageError(f"epsilon: expected a value in (0, 1), got {self.epsilon!r}")
        rollout = self.rollout
        if not isinstance(rollout, str | int | np.integer):
            object.__setattr__(self, "rollout", tuple(int(a) for a in rollout))
        elif isinstance(rollout, str) and rollout != "random":
            raise UsageError(f'rollout: expected "random", an action or actions, got {rollout!r}')

    def solve(
        self,
        pomdp: TabularPOMDP,
        *,
        seed: int | np.random.Generator | None = None,
        callback: Callable[[SearchInfo], bool | None] | None = None,
    ) -> POMCPPlanner:
        """Prepare a planner for ``pomdp``; searching happens in its ``action``/``act``.

        ``callback(info)`` is called between chunks of simulations of every search; a truthy
        return stops that search.
        """
        return POMCPPlanner(pomdp, self, seed=seed, callback=callback)


def _check_positive(name: str, value: object, *, integer: bool = False) -> None:
    if value is None:
        return
    if integer and not isinstance(value, int | np.integer):
        raise UsageError(f"{name}: expected an integer, got {value!r}")
    if not value > 0:
        raise UsageError(f"{name}: expected a positive value, got {value!r}")


def _cdf(rows, stride: int) -> tuple:
    """The kernels' sparse cumulative table of ``rows`` (see :mod:`._kernels.pomcp`)."""
    ptr, idx, cdf = sampler(rows)
    last = ptr[1:] - 1
    cdf /= np.repeat(cdf[last], np.diff(ptr))
    cdf[last] = 1.0
    return ptr, idx, cdf, stride, np.asarray(rows.data, dtype=np.float64)


def _rollout_actions(rollout: str | int | tuple[int, ...], pomdp: TabularPOMDP) -> np.ndarray:
    S, A = pomdp.n_states, pomdp.n_actions
    if isinstance(rollout, str):
        return np.full(S, -1, dtype=np.int64)
    actions = np.array(rollout, dtype=np.int64, ndmin=1)
    if actions.shape not in ((1,), (S,)):
        raise UsageError(f"rollout: expected one action or {S} actions (one per state)")
    if actions.min() < 0 or actions.max() >= A:
        raise UsageError(f"rollout: actions must lie in 0..{A - 1}")
    return np.broadcast_to(actions, (S,)).copy()


class POMCPPlanner:
    """A POMCP planner bound to one model; made by :meth:`POMCP.solve`.

    Two ways to use it:

    * ``action(belief)``: a fresh search from particles drawn from ``belief`` (a probability
      vector over states); it also resets the particle belief to ``belief``.
    * Particle mode: ``reset()``, then alternately ``act()`` and ``update(action, observation)``.
      The update keeps the subtree under (action, observation) and the states that reached it
      during the search. If fewer than ``n_particles`` remain, new ones are made by rejection
      sampling from the previous particles (s ~ particles, s' ~ T, kept with probability
      Z(o | s', a)); if that still falls short (after ``REJECTION_TRIES`` attempts per missing
      particle), the rest are drawn from the exact Bayes belief, which the planner tracks
      alongside. ``last_update`` tells which sources were used.

    ``last_search`` holds the diagnostics of the latest search.
    """

    def __init__(
        self,
        pomdp: TabularPOMDP,
        config: POMCP,
        *,
        seed: int | np.random.Generator | None = None,
        callback: Callable[[SearchInfo], bool | None] | None = None,
    ):
        self.pomdp = pomdp
        self.config = config
        self.callback = callback
        self._rng = np.random.default_rng(seed)
        self._stream = self._rng.integers(2**63, size=1).astype(np.uint64)
        self._T_cdf = _cdf(pomdp.T_rows, pomdp.n_states)
        self._Z_cdf = _cdf(pomdp.Z_rows, pomdp.z_stride)
        self._R = np.ascontiguousarray(pomdp.R)
        self._rollout = _rollout_actions(config.rollout, pomdp)
        self.exploration = (
            float(pomdp.R.max() - pomdp.R.min())
            if config.exploration is None
            else config.exploration
        )
        self.depth = config.max_depth
        if config.epsilon is not None:
            horizon = math.ceil(math.log(config.epsilon) / math.log(pomdp.discount))
            self.depth = max(1, min(self.depth, horizon))
        self._tree = kernels.Tree(pomdp.n_actions)
        self.last_search: SearchInfo | None = None
        self.last_update: UpdateInfo | None = None
        self.reset()

    @property
    def particles(self) -> np.ndarray:
        """The root particles (state indices)."""
        return self._particles.copy()

    @property
    def exact_belief(self) -> np.ndarray:
        """The exact Bayes belief after the same actions and observations."""
        return self._belief.copy()

    def reset(self, belief: np.ndarray | None = None) -> None:
        """Start over from ``belief`` (default the model's ``b0``) with an empty tree."""
        belief = self.pomdp.b0 if belief is None else self._check_belief(belief)
        self._belief = belief / belief.sum()
        self._particles = self._rng.choice(
            self.pomdp.n_states, size=self.config.n_particles, p=self._belief
        ).astype(np.int64)
        self._tree.clear()

    def action(self, belief: np.ndarray) -> int:
        """Search from ``belief`` (discarding the tree) and return the best action."""
        self.reset(belief)
        return self.act()

    def act(self) -> int:
        """Search from the particle belief (reusing the tree) and return the best action."""
        start = time.perf_counter()
        simulations, reason = self._search(start)
        info = self._info(simulations, time.perf_counter() - start, reason)
        self.last_search = info
        visited = info.root_visits > 0
        values = np.where(visited, info.root_values, -np.inf)
        best = np.flatnonzero(values == values.max())
        return int(best[np.argmax(info.root_visits[best])])

    def update(self, action: int, observation: int) -> None:
        """Advance the particle belief and the tree after ``action`` and ``observation``."""
        action, observation = self._check_step(action, observation)
        belief = predict(self.pomdp, self._belief, action)
        belief *= likelihood(self.pomdp, action, observation)
        mass = belief.sum()
        if not mass > 0:
            raise ImpossibleObservation(
                f"observation {self.pomdp.observations[observation]!r} has probability 0 after "
                f"action {self.pomdp.actions[action]!r}"
            )
        child = self._tree.child(action, observation)
        kept = self._tree.recorded(child)
        particles, n_rejection = self._refill(kept, action, observation)
        n_exact = self.config.n_particles - kept.size - n_rejection
        if n_exact > 0:
            particles[-n_exact:] = self._rng.choice(belief.size, size=n_exact, p=belief / mass)
        if child >= 0:
            self._tree.reroot(child)
        else:
            self._tree.clear()
        self._belief = belief / mass
        self._particles = particles
        self.last_update = UpdateInfo(kept.size, n_rejection, max(n_exact, 0), child >= 0)

    def _refill(self, kept: np.ndarray, action: int, observation: int) -> tuple[np.ndarray, int]:
        need = self.config.n_particles
        if kept.size >= need:
            return kept, 0
        out = np.empty(need, dtype=np.int64)
        out[: kept.size] = kept
        tries = REJECTION_TRIES * (need - kept.size)
        filled = kernels.refill(
            self._stream,
            self._particles,
            action,
            observation,
            self._T_cdf,
            self._Z_cdf,
            out,
            kept.size,
            tries,
        )
        return out, filled - kept.size

    def _search(self, start: float) -> tuple[int, str]:
        """Simulations until a budget or the callback stops; their count and the stop reason."""
        config = self.config
        budget = config.n_simulations or np.iinfo(np.int64).max
        chunked = config.time_limit is not None or self.callback is not None
        chunk = min(256, budget) if chunked else budget
        done = 0
        self._tree.sizes[kernels.N_STEPS] = 0
        while done < budget:
            n = min(chunk, budget - done, MAX_CHUNK)
            self._tree.reserve(n)
            done += kernels.search(
                self._stream, self._T_cdf, self._Z_cdf, self._R, self.pomdp.discount, self._rollout,
                self._particles, 0, n, self.depth, self.exploration, *self._tree.arrays(),
            )  # fmt: skip
            if not chunked:
                continue
            elapsed = time.perf_counter() - start
            if config.time_limit is not None:
                if elapsed >= config.time_limit:
                    return done, "time limit"
                rate = done / max(elapsed, 1e-9)
                chunk = max(64, int(rate * (config.time_limit - elapsed) / 4))
            if stop_requested(self.callback, self._info(done, elapsed)):
                return done, "callback"
        return done, "iteration limit"

    def _info(
        self, simulations: int, elapsed: float, reason: str = "iteration limit"
    ) -> SearchInfo:
        values, visits = self._tree.root_stats()
        return SearchInfo(
            simulations=simulations,
            steps=int(self._tree.sizes[kernels.N_STEPS]),
            time=elapsed,
            tree_size=self._tree.n_nodes,
            root_values=values,
            root_visits=visits,
            n_particles=self._particles.size,
            stop_reason=reason,
        )

    def _check_belief(self, belief: np.ndarray) -> np.ndarray:
        b = np.asarray(belief, dtype=np.float64)
        if b.shape != (self.pomdp.n_states,) or not np.all(np.isfinite(b)) or np.any(b < 0):
            raise UsageError(f"belief: expected {self.pomdp.n_states} probabilities >= 0")
        if abs(b.sum() - 1.0) > 1e-6:
            raise UsageError(f"belief: probabilities sum to {b.sum():.9g}, expected 1")
        return b / b.sum()

    def _check_step(self, action: int, observation: int) -> tuple[int, int]:
        if not 0 <= int(action) < self.pomdp.n_actions:
            raise UsageError(f"action: expected 0..{self.pomdp.n_actions - 1}, got {action}")
        if not 0 <= int(observation) < self.pomdp.n_observations:
            raise UsageError(
                f"observation: expected 0..{self.pomdp.n_observations - 1}, got {observation}"
            )
        return int(action), int(observation)
