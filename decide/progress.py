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
