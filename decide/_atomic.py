"""Atomic output: a file is either written completely or left untouched."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from decide.errors import FormatError, UsageError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_target(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` when the block succeeds.

    On any exception (Ctrl-C included) the temporary file is removed and ``path`` is untouched.
    The finished file gets the usual permissions (0666 less the umask).

    Raises
    ------
    FormatError
        If the destination directory does not exist.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise FormatError("directory does not exist", path=directory)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_target`); return ``path``."""
    with atomic_target(path) as tmp, tmp.open("w", encoding=encoding, newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    return Path(path)


def save_figure(fig: Any, path: str | Path) -> Path:
    """Write a matplotlib figure atomically (format from the suffix, PNG without one), close it.

    An unknown format is a :class:`UsageError` naming the file.
    """
    import matplotlib.pyplot as plt

    path = Path(path)
    try:
        with atomic_target(path) as tmp:
            fig.savefig(tmp, format=path.suffix.lstrip(".").lower() or "png", dpi=120)
    except ValueError as error:
        raise UsageError(f"plot {path}: {error}") from None
    finally:
        plt.close(fig)
    return path
