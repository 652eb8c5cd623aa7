"""Learning a solver parameter across a sequence of linear systems (``decide.tune``).

Every strategy of :mod:`decide.tuning.strategies` solves the same systems (same seed per trial)
and is charged the iteration count of each solve, as in Khodak et al. (2024), "Learning to
Relax".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from decide.contract import Callback, StopRequestedError, stop_requested
from decide.errors import DecideError, UsageError
from decide.tuning.dataset import tuning_dataset
from decide.tuning.strategies import DEFAULT_ARMS, METHODS, LinearSequence


@dataclass(frozen=True)
class TuneProgress:
    """After a solve: ``solves`` of ``total`` done, in ``trial`` by ``method``."""

    solves: int
    total: int
    trial: int
    method: str


def _repeats(sequence: LinearSequence, method: str, trial: int) -> bool:
    """Whether ``trial`` can reuse trial 0's numbers: same systems and a deterministic method."""
    return trial > 0 and not METHODS[method].draws and not sequence.random


def _planned_solves(sequence: LinearSequence, methods: Sequence[str], arms, trials: int) -> int:
    """The solves :func:`tune` runs (repeated deterministic trials cost none)."""
    return sum(
        sequence.length * METHODS[m].passes(np.asarray(arms))
        for trial in range(trials)
        for m in methods
        if not _repeats(sequence, m, trial)
    )


def tune(
    sequence: LinearSequence,
    methods: Sequence[str] = tuple(METHODS),
    *,
    arms: np.ndarray | Sequence[float] = DEFAULT_ARMS,
    trials: int = 1,
    seed: int = 0,
    callback: Callback | None = None,
    options: dict[str, dict[str, Any]] | None = None,
) -> xr.Dataset:
    """Run every method on ``trials`` passes over ``sequence``; a Dataset of iterations and ω.

    Trial ``k`` resets the sequence with seed ``seed + k``, so all methods see the same systems;
    learners get independent seeds. On a sequence that is not random (``sequence.random`` false)
    the deterministic methods run once and their numbers are repeated in every trial.
    ``options`` maps a learner name to extra bandit options. ``callback`` sees a
    :class:`TuneProgress` after every solve; True (or Ctrl-C) stops the tuning, and the Dataset
    holds the trials finished before it, with its ``stop_reason``.
    """
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise UsageError(f"unknown tuning method(s) {unknown}; expected some of {list(METHODS)}")
    if trials < 1:
        raise UsageError(f"trials must be at least 1, got {trials}")
    arms = np.asarray(arms, dtype=float)
    options = options or {}
    records: dict[str, list] = {m: [] for m in methods}
    total, done = _planned_solves(sequence, methods, arms, trials), 0
    finished, reason = 0, "iteration limit"
    try:
        for trial in range(trials):
            for index, method in enumerate(methods):

                def on_solve(trial=trial, method=method) -> None:
                    nonlocal done
                    done += 1
                    report = TuneProgress(done, total, trial, method)
                    if stop_requested(callback, report) and done < total:
                        raise StopRequestedError  # out of the strategy's pass

                strategy = METHODS[method]
                if _repeats(sequence, method, trial):
                    records[method].append(records[method][0])
                    continue
                own_seed = np.random.SeedSequence([seed, trial, index])
                found = strategy.trial(sequence, arms, seed + trial, own_seed, options, on_solve)
                records[method].append(found)
            finished = trial + 1
    except (StopRequestedError, KeyboardInterrupt) as stop:
        if finished == 0:
            if isinstance(stop, KeyboardInterrupt):
                raise
            raise DecideError("tuning stopped before its first trial finished") from None
        reason = "callback" if isinstance(stop, StopRequestedError) else "interrupted"
    kept = {m: r[:finished] for m, r in records.items()}
    return tuning_dataset(sequence, list(methods), kept, arms, seed, options, reason)
