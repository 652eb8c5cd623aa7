"""Shared fixtures: the reference data in ../shared/data (or $DECIDE_SHARED_DATA).

Outside CI a missing reference file skips the test; with CI=true it fails, so CI can never pass
by silently skipping the checks against independent numbers.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    return Path(os.environ.get("DECIDE_SHARED_DATA", ROOT.parent / "shared" / "data"))


def require_file(relative: str) -> Path:
    """Path of a reference file; fail in CI, skip elsewhere, when it is missing."""
    path = shared_data_dir() / relative
    if not path.is_file():
        message = f"reference file missing: {path}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def shared_file():
    """``shared_file("pomdp/Tiger.pomdp")`` -> Path, failing in CI when absent."""
    return require_file
