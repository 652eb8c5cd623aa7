r"""An anytime point-based POMDP solver in the SARSOP / HSVI2 family.

The solver keeps two bounds on the optimal value :math:`V^*`:

* a lower bound :math:`\underline V(b) = \max_k b\cdot\alpha_k` over alpha vectors, started from
  the blind policies and improved by point-based Bellman backups
  :math:`\alpha = R_a + \gamma\sum_o T_a \operatorname{diag}(Z_{a,o})\,\alpha_{k(o)}` with
  :math:`k(o) = \arg\max_k b_{a,o}\cdot\alpha_k`;
* an upper bound :math:`\overline V` by sawtooth interpolation over belief–value points, with
  corner values and a floor from the Fast Informed Bound.

Beliefs are sampled by trials from b0 that follow the action greedy for the upper bound and the
observation of largest weighted excess gap, down to a depth set by the gap (see
:mod:`decide.pomdp._kernels.pointbased`); both bounds are backed up along each trial's path.
Upper Q-values are kept per belief and refreshed lazily (only until the greedy one is fresh), and
vectors that are no sampled belief's best are pruned. docs/performance.md compares the solver with
SARSOP. The search stops at the time limit, at the
target gap :math:`\overline V(b_0) - \underline V(b_0)`, at ``max_iterations`` trials, when the
callback returns True, or on Ctrl-C — each time returning the best policy found so far.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from decide import contract
from decide.errors import UsageError
from decide.pomdp._kernels.pointbased import run_trials
from decide.pomdp.kernel_arrays import sparse_model
from decide.pomdp.memory import require
from decide.pomdp.model import ObservedPart, TabularPOMDP
from decide.pomdp.pointbased.loop import Progress, search
from decide.pomdp.pointbased.state import SearchState, estimate_bytes
from decide.pomdp.policy import AlphaVectorPolicy
from decide.pomdp.reactive import reactive_vectors

if TYPE_CHECKING:
    import xarray as xr


#: Share of the time limit the initial Fast Informed Bound may take (it stays valid when cut short).
FIB_SHARE = 0.2
#: FIB calls (of FIB_SWEEPS_PER_CALL sweeps) under a trial budget: work instead of a time share.
FIB_CALLS_WITH_TRIAL_BUDGET = 25


@dataclass(frozen=True, eq=False)
class PointBasedResult:
    """The policy of a point-based solve and its diagnostics.

    ``lower_bound`` is exactly :math:`\\max_k b_0\\cdot\\alpha_k` of ``policy``; ``history`` holds
    arrays ``time``, ``lower_bound`` and ``upper_bound`` (one entry per report).
    """

    policy: AlphaVectorPolicy
    lower_bound: float
    upper_bound: float
    history: dict[str, np.ndarray]
    iterations: int
    solve_time_s: float
    interrupted: bool
    n_beliefs: int
    stop_reason: str = "time limit"
    n_upper_points: int = 0
    parameters: dict = field(default_factory=dict)
    problem: str = ""
    states: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        contract.stop_reason(self.stop_reason)

    @property
    def gap(self) -> float:
        return self.upper_bound - self.lower_bound

    def to_dataset(self, **extra: Any) -> xr.Dataset:
        """The policy Dataset with the bounds history over dimension ``iteration``; ``extra``
        attributes (such as the peak memory) are added to the solve's own."""
        from decide.results import make_attrs

        attrs = make_attrs(
            self.problem,
            "pointbased",
            self.parameters,
            lower_bound=self.lower_bound,
            upper_bound=self.upper_bound,
            solve_time_s=self.solve_time_s,
            stop_reason=self.stop_reason,
            **extra,
        )
        ds = self.policy.to_dataset(attrs, states=self.states)
        n = self.history["time"].size
        ds = ds.assign_coords(
            iteration=("iteration", np.arange(n), {"long_name": "report index", "units": "1"})
        )
        for key, name, unit in (
            ("time", "elapsed solve time", "s"),
            ("lower_bound", "lower bound at b0", "reward"),
            ("upper_bound", "upper bound at b0", "reward"),
        ):
            attrs_var = {"long_name": name, "units": unit}
            ds[f"history_{key}"] = ("iteration", self.history[key], attrs_var)
        return ds


@dataclass(frozen=True)
class PointBased:
    """SARSOP-class anytime solver (see the module docstring for the algorithm).

    Parameters
    ----------
    time_limit : float
        Seconds of search (initial bounds included); ``math.inf`` (only with ``max_iterations``)
        for no clock at all. Where the time limit stops the search, the policy depends on the
        machine's speed and load.
    target_gap : float
        Stop once :math:`\\overline V(b_0) - \\underline V(b_0)` is at most this.
    max_iterations : int or None
        Stop after this many trials. With a trial budget the search's course no longer depends
        on timing (see :mod:`decide.pomdp.pointbased.loop`): the same model and settings give
        the same policy on any machine, unless the time limit stops the search first.
    max_depth : int
        Deepest belief a trial visits.
    trial_gap_ratio : float or tuple of floats
        A trial's precision ε is ``max(target_gap, ratio * gap at b0)``; a trial stops at depth
        t once the gap there is at most :math:`\\epsilon\\gamma^{-t}`. Small ratios give deep
        trials, ratios near 1 shallow ones. With a tuple, each kernel call uses the ratio whose
        recent calls closed the gap at b0 fastest (every fourth call goes round-robin).
    prune_growth : float
        Prune vectors whenever their number grew by this factor since the last pruning.
    report_interval : float
        Seconds between history entries and callback calls.
    on_interrupt : {"keep", "raise"}
        What Ctrl-C does: ``"keep"`` ends the search and returns the best policy so far
        (``interrupted=True``); ``"raise"`` lets ``KeyboardInterrupt`` through, for callers to
        whom a cut-short solve is no result (a task of a batch, the kernels' warm-up).
    """

    time_limit: float = 10.0
    target_gap: float = 1e-3
    max_iterations: int | None = None
    max_depth: int = 200
    trial_gap_ratio: float | tuple[float, ...] = (0.5, 0.9)
    prune_growth: float = 1.5
    report_interval: float = 0.2
    on_interrupt: Literal["keep", "raise"] = "keep"

    def __post_init__(self) -> None:
        if self.on_interrupt not in ("keep", "raise"):
            raise UsageError(
                f"PointBased.on_interrupt: expected 'keep' or 'raise', got {self.on_interrupt!r}"
            )
        ratios = self.trial_gap_ratio
        if isinstance(ratios, list):
            object.__setattr__(self, "trial_gap_ratio", ratios := tuple(ratios))
        ratios = ratios if isinstance(ratios, tuple) else (ratios,)
        checks = {
            "time_limit": self.time_limit > 0,
            "target_gap": self.target_gap >= 0,
            "max_depth": self.max_depth >= 1,
            "trial_gap_ratio": len(ratios) > 0 and all(0 < r <= 1 for r in ratios),
            "prune_growth": self.prune_growth > 1,
            "report_interval": self.report_interval > 0,
        }
        if self.max_iterations is not None:
            checks["max_iterations"] = self.max_iterations >= 1
        if self.time_limit == math.inf and self.max_iterations is None:
            raise UsageError("PointBased.time_limit: math.inf needs a trial budget, max_iterations")
        for name, ok in checks.items():
            value = getattr(self, name)
            unbounded = name == "time_limit" and value == math.inf
            finite = unbounded or all(math.isfinite(float(v)) for v in np.atleast_1d(value))
            if not ok or not finite:
                raise UsageError(f"PointBased.{name}: invalid value {value!r}")

    def solve(
        self,
        pomdp: TabularPOMDP,
        *,
        callback: Callable[[Progress], bool | None] | None = None,
        warm_start: Sequence[np.ndarray] = (),
    ) -> PointBasedResult:
        """Search until a stopping rule fires; return the best policy and both bounds at b0.

        The search draws no random numbers, so it takes no seed: under a trial budget the same
        model gives the same policy; under a time limit its course depends on timing, through
        the size of kernel calls and the choice of trial ratio. ``callback(progress)`` is called
        every ``report_interval`` seconds and stops the search by returning True; Ctrl-C also
        stops it, and either way the result holds the best policy so far with
        ``interrupted=True``.
        The clock starts once the kernels are compiled (see :func:`compile_kernels`).
        ``warm_start`` holds rules, each an action per observation (``(O,)`` ints): their exact
        values (:mod:`decide.pomdp.reactive`) start the lower bound, so the policy is worth at
        least each rule's value at every belief it acts on.
        """
        compile_kernels()
        return self._search(pomdp, callback, warm_start)

    def _search(
        self,
        pomdp: TabularPOMDP,
        callback: Callable[[Progress], bool | None] | None,
        warm_start: Sequence[np.ndarray] = (),
    ) -> PointBasedResult:
        start = time.perf_counter()
        if self.max_iterations is None:
            fib_budget = {"time_budget": FIB_SHARE * self.time_limit}
        else:
            fib_budget = {"max_calls": FIB_CALLS_WITH_TRIAL_BUDGET}
        model, part = sparse_model(pomdp), solver_part(pomdp)
        if warm_start and part.n_values > 1:
            raise UsageError(
                "PointBased.solve: warm_start rules need a model without fully observed "
                "variables (the rules' vectors are not split by observed value)"
            )
        rules = [reactive_vectors(pomdp, table) for table in warm_start]
        n_rule_vectors = sum(rule.action.size for rule in rules)
        parts = estimate_bytes(model, part, self.max_depth, n_rule_vectors)
        largest = max(parts, key=parts.get)
        require(sum(parts.values()), f"the point-based solver on {pomdp.name} (largest: {largest})")
        state = SearchState(model, pomdp.b0, part, self.max_depth, fib_budget, rules)
        outcome = search(self, state, start, callback, run_trials)
        policy, lower, upper = outcome.final
        return PointBasedResult(
            policy=policy,
            lower_bound=lower,
            upper_bound=upper,
            history={k: np.asarray(v, dtype=float) for k, v in outcome.history.items()},
            iterations=outcome.iterations,
            solve_time_s=time.perf_counter() - start,
            interrupted=outcome.interrupted,
            n_beliefs=state.n_nodes,
            stop_reason=outcome.reason,
            n_upper_points=state.n_points,
            parameters=asdict(self),
            problem=pomdp.name,
            states=pomdp.states,
        )


def solver_part(pomdp: TabularPOMDP) -> ObservedPart:
    """The observed part the solver keeps vectors by: the model's, when b0 lies in one observed
    value (a belief over several values is not one the mixed backups can start from), else one
    value for the whole state."""
    part = pomdp.observed
    if part is None or np.unique(part.value[np.flatnonzero(pomdp.b0)]).size > 1:
        return ObservedPart.flat(pomdp.n_states)
    return part


@functools.cache
def compile_kernels() -> None:
    """Compile the solver's kernels (or load them from numba's cache) with a short Tiger solve.

    Runs once per process before the first solve's clock starts, so that ``time_limit`` and
    ``solve_time_s`` measure the search rather than the compiler. A Ctrl-C during this warm-up
    reaches the caller (there is no policy to keep yet), not taken as the end of the Tiger solve.
    """
    from decide.pomdp.problems import tiger

    warm_up = PointBased(time_limit=10.0, max_iterations=100, on_interrupt="raise")
    warm_up._search(tiger(), callback=None)
