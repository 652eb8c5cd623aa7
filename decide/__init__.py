"""decide: scientific decision-making under uncertainty.

The public API is re-exported here and imported lazily, so that ``import decide`` (and the
command line's ``--help``) stays fast while numba kernels load only when first used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "DecideError": "decide.errors",
    "FormatError": "decide.errors",
    "ModelError": "decide.errors",
    "TabularPOMDP": "decide.pomdp.model",
    "AlphaVectorPolicy": "decide.pomdp.policy",
    "load_policy": "decide.pomdp.policyx",
    "solve": "decide.pomdp.solve",
    "load_problem": "decide.pomdp.solve",
    "read_pomdp": "decide.pomdp.cassandra",
    "write_pomdp": "decide.pomdp.cassandra",
    "read_policyx": "decide.pomdp.policyx",
    "write_policyx": "decide.pomdp.policyx",
    "PointBased": "decide.pomdp.pointbased",
    "POMCP": "decide.pomdp.pomcp",
    "update_belief": "decide.pomdp.belief",
    "simulate": "decide.pomdp.simulate",
    "tiger": "decide.pomdp.problems",
    "rock_sample": "decide.pomdp.problems",
    "MatrixError": "decide.errors",
    "SOR": "decide.linalg",
    "SSORPCG": "decide.linalg",
    "CG": "decide.linalg",
    "TunedSolver": "decide.linalg",
    "TsallisINF": "decide.bandits",
    "TsallisINFCB": "decide.bandits",
    "ChebCB": "decide.bandits",
    "TensorChebCB": "decide.bandits",
    "make_bandit": "decide.bandits",
    "tune": "decide.tuning",
    "pareto_set": "decide.pareto",
}

__all__ = [*sorted(_EXPORTS), "__version__"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'decide' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
