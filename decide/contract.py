"""What every method shares: how it reports progress, why it stopped, where its random numbers
come from.

A method is a frozen dataclass of parameters with ``solve(problem, *, callback=None, ...)``;
a method that draws random numbers also takes ``seed``, one that draws none does not. While it
runs it calls ``callback(progress)`` with a progress record of its own kind; a callback that
returns True stops it, and the result says why it stopped in :data:`STOP_REASONS`' words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

#: Why a method stopped: its tolerance was met, its time or iteration budget ran out, its
#: callback asked it to stop, or Ctrl-C.
STOP_REASONS = ("converged", "time limit", "iteration limit", "callback", "interrupted")

Callback = Callable[[Any], bool | None]
Seed = int | np.random.Generator | None


def stop_requested(callback: Callback | None, progress: Any) -> bool:
    """Whether ``callback(progress)`` asks the method to stop (no callback never does)."""
    return callback is not None and bool(callback(progress))


class StopRequestedError(Exception):
    """Raised by a method's own reporting code when its callback asks it to stop, to leave a
    loop nested in calls it does not own; the method catches it and returns what it has."""


def stop_reason(reason: str) -> str:
    """``reason`` if it is one of :data:`STOP_REASONS` (a method's own words are a bug)."""
    if reason not in STOP_REASONS:
        raise ValueError(f"stop reason {reason!r}: expected one of {', '.join(STOP_REASONS)}")
    return reason


def generator(seed: Seed) -> np.random.Generator:
    """The generator a seed names: a Generator is used as it is (its state moves on)."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def task_seeds(seed: Seed, n: int) -> list[np.random.SeedSequence]:
    """``n`` independent seeds for ``n`` tasks, spawned from ``seed``: the same seed gives the
    same tasks their same seeds however the tasks are spread over workers."""
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(2**63))  # a draw: the generator's state moves on
    return np.random.SeedSequence(seed).spawn(n)
