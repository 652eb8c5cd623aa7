"""Progress bars for long work: shown on a terminal, off when piped or with ``--quiet``."""

from __future__ import annotations

import sys
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
def solver_bar(
    description: str, *, trials: int | None, time_limit: float | None, quiet: bool = False
):
    """A bar over a point-based solve: its trial budget, or without one the seconds of its time
    limit. Yields the solve's callback, which moves the bar and shows the bounds at b0."""
    total, unit = (time_limit, "s") if trials is None else (trials, "trial")
    with bar(total, description, quiet=quiet, unit=unit) as progress:

        def show(state) -> None:
            progress.n = min(state.elapsed if trials is None else state.iteration, total)
            progress.set_postfix_str(f"LB {state.lower_bound:.6g}  UB {state.upper_bound:.6g}")

        yield show
