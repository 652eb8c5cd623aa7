"""The Python loop of the point-based solver: kernel calls in chunks, reports, stopping rules.

Kernel calls are sized to last about ``CHUNK_SECONDS`` so that the time limit is kept closely and
a KeyboardInterrupt (which Python raises only between kernel calls) finds a consistent state.
Successive chunks cycle through the trial precision ratios of ``PointBased.trial_gap_ratio``,
mixing shallow trials (which tighten the bounds near b0) with deep ones (which find better
policies). Vectors are pruned when their number has grown by ``prune_growth`` and the search has
run at least ``PRUNE_SHARE⁻¹`` times as long as the last pruning took.

Under a trial budget (``max_iterations``) nothing depends on the clock but the time limit: calls
run ``FIXED_CHUNK`` trials, a ratio is judged by the gap it closed per trial, and vectors are
pruned on growth alone; so the same model gives the same policy on any machine and worker.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field

import numpy as np

from decide.pomdp._kernels.pb_store import C_TRIALS
from decide.pomdp.policy import AlphaVectorPolicy


@dataclass(frozen=True)
class Progress:
    """What the callback sees: elapsed seconds, bounds at b0, trials so far, vector count."""

    elapsed: float
    lower_bound: float
    upper_bound: float
    iteration: int
    n_alpha: int


CHUNK_SECONDS = 0.02
#: Trials per kernel call under a trial budget.
FIXED_CHUNK = 8
#: Largest share of the search time spent pruning vectors.
PRUNE_SHARE = 0.2


@dataclass
class Outcome:
    """What the loop hands back to :meth:`PointBased.solve`."""

    history: dict[str, list[float]] = field(
        default_factory=lambda: {"time": [], "lower_bound": [], "upper_bound": []}
    )
    iterations: int = 0
    interrupted: bool = False
    reason: str = "time limit"
    final: tuple[AlphaVectorPolicy, float, float] | None = None

    def record(self, elapsed: float, lower: float, upper: float) -> None:
        self.history["time"].append(elapsed)
        self.history["lower_bound"].append(lower)
        self.history["upper_bound"].append(max(upper, lower))


class RatioChooser:
    """Pick the trial precision ratio whose chunks recently closed the gap at b0 fastest.

    Each ratio keeps an exponentially weighted mean of (gap decrease) / (cost) over its chunks,
    the cost being seconds, or trials under a trial budget; every ``EXPLORE``-th chunk goes
    round-robin so that every ratio's estimate stays current.
    """

    EXPLORE = 4
    WEIGHT = 0.3

    def __init__(self, ratios: tuple[float, ...]):
        self.ratios = ratios
        self.rate = [math.inf] * len(ratios)
        self.calls = 0
        self.turn = itertools.cycle(range(len(ratios)))

    def choose(self) -> int:
        self.calls += 1
        if self.calls % self.EXPLORE == 0 or math.inf in self.rate:
            return next(self.turn)
        return max(range(len(self.ratios)), key=self.rate.__getitem__)

    def update(self, arm: int, decrease: float, cost: float) -> None:
        """Record that ``arm`` closed the gap by ``decrease`` for ``cost`` (seconds or trials)."""
        rate = decrease / max(cost, 1e-9)
        old = self.rate[arm]
        self.rate[arm] = rate if old == math.inf else (1 - self.WEIGHT) * old + self.WEIGHT * rate


class Search:
    """State of the loop between kernel calls."""

    def __init__(self, solver, state, start: float, run):
        self.solver, self.state, self.start, self.run = solver, state, start, run
        model = state.model
        self.prm = np.array([0.0, solver.max_depth, model.discount, 0.0, model.n_observations])
        ratios = solver.trial_gap_ratio
        self.ratios = RatioChooser(ratios if isinstance(ratios, tuple) else (ratios,))
        self.fixed = solver.max_iterations is not None
        self.n_chunk = FIXED_CHUNK if self.fixed else 1
        self.pruned_at, self.prune_seconds, self.last_prune = state.n_alpha, 0.0, start

    @property
    def trials(self) -> int:
        return int(self.state.cnt[C_TRIALS])

    def stop_reason(self, lower: float, upper: float, elapsed: float) -> str | None:
        solver = self.solver
        if upper - lower <= solver.target_gap:
            return "converged"
        if elapsed + self.prune_seconds >= solver.time_limit:  # keep time for the last pruning
            return "time limit"
        if solver.max_iterations is not None and self.trials >= solver.max_iterations:
            return "iteration limit"
        return None

    def chunk(self, gap: float) -> None:
        """One kernel call of up to ``n_chunk`` trials, then grow or prune as needed."""
        solver, state, prm = self.solver, self.state, self.prm
        n = self.n_chunk
        if solver.max_iterations is not None:
            n = min(n, solver.max_iterations - self.trials)
        arm = self.ratios.choose()
        prm[0] = max(solver.target_gap, self.ratios.ratios[arm] * gap)
        prm[3] = self.trials
        t0 = time.perf_counter()
        done = self.run(n, state.ns, state.cnt, state.m, state.alphas, prm)
        seconds = time.perf_counter() - t0
        decrease = gap - (state.upper_bound() - state.lower_bound())
        self.ratios.update(arm, decrease, max(done, 1) if self.fixed else seconds)
        if done < n:
            state.grow()
        if not self.fixed:
            self.resize(seconds)
        since = time.perf_counter() - self.last_prune
        due = self.fixed or since * PRUNE_SHARE >= self.prune_seconds
        if state.n_alpha > solver.prune_growth * self.pruned_at and due:
            self.prune(recent=int(prm[3]))

    def resize(self, seconds: float) -> None:
        """Double or halve the trials per call towards ``CHUNK_SECONDS`` a call."""
        if seconds < CHUNK_SECONDS / 2:
            self.n_chunk *= 2
        elif seconds > 2 * CHUNK_SECONDS and self.n_chunk > 1:
            self.n_chunk //= 2

    def prune(self, recent: int) -> None:
        """Prune to the vectors best at some node (and those of the last chunk)."""
        t0 = time.perf_counter()
        self.state.prune(recent)
        self.last_prune = time.perf_counter()
        self.prune_seconds = self.last_prune - t0
        self.pruned_at = self.state.n_alpha


def _progress(state, elapsed: float, lower: float, upper: float):
    trials = int(state.cnt[C_TRIALS])
    return Progress(elapsed, lower, max(upper, lower), trials, state.n_alpha)


def search(solver, state, start: float, callback, run) -> Outcome:
    """Run trials until a stopping rule fires; fill ``Outcome.final`` with the policy and bounds."""
    outcome, loop = Outcome(), Search(solver, state, start, run)
    last_report = -math.inf
    try:
        while True:
            lower, upper = state.lower_bound(), state.upper_bound()
            elapsed = time.perf_counter() - start
            reason = loop.stop_reason(lower, upper, elapsed)
            if reason is None and elapsed - last_report >= solver.report_interval:
                last_report = elapsed
                outcome.record(elapsed, lower, upper)
                if callback is not None and callback(_progress(state, elapsed, lower, upper)):
                    reason = "callback"
            if reason is not None:
                outcome.reason, outcome.interrupted = reason, reason == "callback"
                break
            loop.chunk(upper - lower)
    except KeyboardInterrupt:
        if solver.on_interrupt == "raise":
            raise
        outcome.interrupted, outcome.reason = True, "interrupted"
    outcome.iterations = loop.trials
    loop.prune(recent=np.iinfo(np.int64).max)
    outcome.final = _finish(state, outcome, start)
    return outcome


def _finish(state, outcome: Outcome, start: float) -> tuple[AlphaVectorPolicy, float, float]:
    """The policy and its bounds at b0: the lower bound is max_k b0·alpha_k of that policy."""
    policy = state.policy()
    b0 = np.zeros(state.model.n_states)
    b0[state.b0_idx] = state.b0_val
    lower = policy.value(b0)
    upper = max(state.upper_bound(), lower)
    outcome.record(time.perf_counter() - start, lower, upper)
    return policy, lower, upper
