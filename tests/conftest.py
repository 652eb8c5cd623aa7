"""Shared fixtures: the reference data in ../shared/data (see tests/required.py)."""

from __future__ import annotations

import pytest
from required import require_file


@pytest.fixture
def shared_file():
    """``shared_file("pomdp/Tiger.pomdp")`` -> Path, failing in CI when absent."""
    return require_file
