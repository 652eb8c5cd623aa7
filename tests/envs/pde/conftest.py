"""Fixtures for the PDE tests: the two FEM backends.

The dolfinx backend needs the system dolfinx (``make test-dolfinx``). Where dolfinx cannot be
imported its tests skip, unless DECIDE_REQUIRE_DOLFINX=1, where they fail: the dolfinx
environment can never pass by silently skipping the parity checks.
"""

from __future__ import annotations

import os

import pytest

from decide.envs.pde.fem import Backend, get_backend


@pytest.fixture(scope="session")
def skfem_backend() -> Backend:
    return get_backend("skfem")


@pytest.fixture(scope="session")
def dolfinx_backend() -> Backend:
    try:
        import dolfinx  # noqa: F401
    except ImportError as exc:
        message = f"dolfinx cannot be imported: {exc}"
        if os.environ.get("DECIDE_REQUIRE_DOLFINX") == "1":
            pytest.fail(f"{message} (DECIDE_REQUIRE_DOLFINX=1)")
        pytest.skip(message)
    return get_backend("dolfinx")
