"""Progress bars for long work: shown on a terminal, off when piped or with ``--quiet``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from tqdm.auto import tqdm


def enabled(quiet: bool = False) -> bool:
    """Progress bars are drawn only on an interactive stderr and never with ``quiet``."""
    return not quiet and sys.stderr.isatty()


@contextmanager
def bar(total: float | None, description: str, *, quiet: bool = False, unit: str = "it"):
    """A tqdm bar (or a disabled one) that is always closed, even on Ctrl-C."""
    progress: Any = tqdm(
        total=total,
        desc=description,
        unit=unit,
        disable=not enabled(quiet),
        leave=False,
        dynamic_ncols=True,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining} {postfix}",
    )
    try:
        yield progress
    finally:
        progress.close()


@contextmanager
def following(
    description: str,
    *,
    position: Callable[[Any], float],
    total: float | Callable[[Any], float] | None = None,
    status: Callable[[Any], str] | None = None,
    quiet: bool = False,
    unit: str = "it",
):
    """A bar that a method's callback moves: yields ``show(progress)``, which puts the bar at
    ``position(progress)`` of ``total`` (a number, or read from the progress record) and shows
    ``status(progress)`` beside it. ``show`` returns None, so the method goes on."""
    with bar(None if callable(total) else total, description, quiet=quiet, unit=unit) as progress:

        def show(record: Any) -> None:
            if callable(total):
                progress.total = total(record)
            at = position(record)
            progress.n = at if progress.total is None else min(at, progress.total)
            progress.set_postfix_str(status(record) if status else "")

        yield show


def solver_bar(description: str, *, solver: Any, quiet: bool = False):
    """A bar over a point-based solve: its trial budget (``max_iterations``), or without one the
    seconds of its time limit. Yields the solve's callback, which moves the bar and shows the
    bounds at b0."""
    by_trials = solver.max_iterations is not None
    return following(
        description,
        total=solver.max_iterations if by_trials else solver.time_limit,
        position=(lambda p: p.iteration) if by_trials else (lambda p: p.elapsed),
        status=lambda p: f"LB {p.lower_bound:.6g}  UB {p.upper_bound:.6g}",
        quiet=quiet,
        unit="trial" if by_trials else "s",
    )


def tasks_bar(description: str, *, quiet: bool = False):
    """A bar over a study's tasks (records of :class:`decide.parallel.TaskProgress`). Beside it:
    the task running and, where the study passes its solver's progress on, the bounds at b0."""
    return following(
        description,
        position=lambda p: p.done,
        total=lambda p: p.total,
        status=_task_status,
        quiet=quiet,
        unit="task",
    )


def _task_status(record: Any) -> str:
    inner = record.method
    if inner is None:
        return f"{record.task} done"
    if hasattr(inner, "lower_bound"):
        return f"{record.task}: LB {inner.lower_bound:.6g}  UB {inner.upper_bound:.6g}"
    return record.task
