"""Evaluating test points in chunks through :mod:`decide.parallel`, with honest counts.

Each chunk is a task: a fresh :class:`~decide.pareto.problem.Evaluator` runs ``func(ev, X)``
where the task runs (this process, a local worker or a Dask worker) and returns its outputs with
the evaluations it spent, which are summed here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from decide.parallel import Backend, chunks, run
from decide.pareto.problem import Counts, Evaluator, Problem

PointMap = Callable[..., tuple[np.ndarray, ...]]  # (ev, X, *rows) -> outputs per row


def _chunk_task(
    task: tuple[PointMap, Problem, np.ndarray, tuple[np.ndarray, ...]],
) -> tuple[tuple[np.ndarray, ...], Counts]:
    func, problem, X, rows = task
    ev = Evaluator(problem)
    return func(ev, X, *rows), ev.counts


def map_points(
    func: PointMap,
    problem: Problem,
    X: np.ndarray,
    counts: Counts,
    *,
    backend: Backend | None = None,
    chunk: int = 4096,
    label: str = "points",
    rows: tuple[np.ndarray, ...] = (),
) -> tuple[np.ndarray, ...]:
    """``func(ev, X, *rows)`` on the rows of ``X`` (and of the arrays ``rows``, known values that
    need not be evaluated again), chunk by chunk; the evaluations are added to ``counts``."""
    slices = chunks(len(X), chunk)
    tasks = {
        f"{label}[{s.start}:{s.stop}]": (func, problem, X[s], tuple(a[s] for a in rows))
        for s in slices
    }
    done = run(_chunk_task, tasks, backend=backend)
    done.raise_failures()
    outputs = []
    for out, spent in done.results.values():
        outputs.append(out)
        counts += spent
    return tuple(np.concatenate(parts) for parts in zip(*outputs, strict=True))


def values(ev: Evaluator, X: np.ndarray) -> tuple[np.ndarray]:
    """The objective values of the points (the point map of derivative-free methods)."""
    return (ev.f(X),)


def images(descent: Any, radius: float) -> PointMap:
    """The point map of a descent map at box radius ``radius``."""
    return partial(descent, radius=radius)
