"""Argument types and output helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import xarray as xr

from decide import results


def formatter(prog: str) -> argparse.HelpFormatter:
    """Help that shows every option's default."""
    return argparse.ArgumentDefaultsHelpFormatter(prog, max_help_position=30)


def output_path(text: str) -> Path:
    """An output file whose directory exists, checked before any long computation starts."""
    path = Path(text)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise argparse.ArgumentTypeError(f"directory {str(parent)!r} does not exist")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a directory, expected a file name")
    return path


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def non_negative_float(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text}")
    return value


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def add_quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bar (also off when not a terminal)"
    )


def write_dataset(ds: xr.Dataset, path: Path) -> None:
    """Write a result Dataset atomically and say where it went."""
    results.write(ds, path)
    print(f"wrote {path}")


def add_backend(parser: argparse.ArgumentParser) -> None:
    """``--workers`` / ``--scheduler``: where decide.parallel runs independent tasks."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help="local worker processes; None: run serially",
    )
    group.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:PORT",
        help="address of a running Dask scheduler (`dask scheduler`); None: no cluster",
    )


def backend_from(args: argparse.Namespace):
    """The :class:`decide.parallel.Backend` of ``--workers`` / ``--scheduler``."""
    from decide.parallel import Backend

    return Backend(workers=args.workers, scheduler=args.scheduler)
