"""Sparse iterative solvers: SOR, SSOR-preconditioned CG, CG, and bandit-tuned relaxation.

Names are imported lazily, so that ``import decide.linalg`` does not load numba.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CSRSystem": "decide.linalg.csr",
    "prepare": "decide.linalg.csr",
    "sor_sweep": "decide.linalg.csr",
    "ssor_apply": "decide.linalg.csr",
    "SolveResult": "decide.linalg.solvers",
    "SOR": "decide.linalg.solvers",
    "SSORPCG": "decide.linalg.solvers",
    "CG": "decide.linalg.solvers",
    "Bandit": "decide.linalg.tuned",
    "TunedSolver": "decide.linalg.tuned",
    "jacobi_spectral_radius": "decide.linalg.spectral",
    "young_omega": "decide.linalg.spectral",
    "poisson_2d": "decide.linalg.laplacian",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'decide.linalg' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
