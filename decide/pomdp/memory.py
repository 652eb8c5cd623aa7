"""Memory checks made before large allocations, so that a model or a solve too large for the
machine stops with a :class:`~decide.errors.UsageError` saying what it needs, not halfway with a
``MemoryError`` or the kernel's out-of-memory killer."""

from __future__ import annotations

import os
from pathlib import Path

from decide.errors import UsageError

__all__ = ["available_bytes", "require", "size"]


def available_bytes() -> int:
    """Memory the machine can give without swapping: ``MemAvailable`` of /proc/meminfo (free
    plus reclaimable caches), else the free physical pages."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def size(n_bytes: float) -> str:
    """``n_bytes`` in MiB below a GiB, else in GiB."""
    return f"{n_bytes / 2**20:.0f} MiB" if n_bytes < 2**30 else f"{n_bytes / 2**30:.1f} GiB"


def require(need: int, what: str) -> None:
    """Raise :class:`UsageError` if ``need`` bytes exceed the available memory; ``what`` says
    what needs them and why, e.g. ``"m.pomdpx: the flat model (… entries)"``."""
    available = available_bytes()
    if need > available:
        raise UsageError(f"{what} needs about {size(need)}; {size(available)} are available")
