"""What the tests need from outside the package: reference data and peer packages.

Outside CI a missing reference file (../shared/data, or $DECIDE_SHARED_DATA) or peer package
(pomdp-py, pymoo: the independent solvers the tests compare against) skips the test; with
CI=true it fails, so CI can never pass by silently skipping the checks against independent
numbers. decide's own modules are imported plainly: a missing one is a bug, never a reason to
skip. Test modules import this as ``from required import require_module`` (tests/ is on
``sys.path`` through tests/conftest.py).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    return Path(os.environ.get("DECIDE_SHARED_DATA", ROOT.parent / "shared" / "data"))


def missing(message: str) -> None:
    """Fail under CI=true, skip elsewhere: the one rule for absent reference data and peers."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message, allow_module_level=True)


def require_file(relative: str) -> Path:
    """Path of a reference file; fail in CI, skip elsewhere, when it is missing."""
    path = shared_data_dir() / relative
    if not path.is_file():
        missing(f"reference file missing: {path}")
    return path


def require_module(name: str) -> ModuleType:
    """Import a peer package (``"pomdp_py"``, ``"pymoo.indicators.hv"``); fail in CI, skip
    elsewhere, when it cannot be imported. Works at module level and inside a test."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        missing(f"peer package {name!r} cannot be imported: {exc}")
        raise  # not reached: missing() always raises
