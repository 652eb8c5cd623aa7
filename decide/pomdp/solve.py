"""One entry point for solving a POMDP, dispatching by method name (shared with the CLI)."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path
from typing import Any

from decide.contract import Callback, Seed
from decide.errors import UsageError
from decide.pomdp.model import TabularPOMDP


def methods() -> dict[str, type]:
    """The POMDP methods by name (imported on first use: they load compiled kernels)."""
    from decide.pomdp.pointbased import PointBased
    from decide.pomdp.pomcp import POMCP

    return {"pointbased": PointBased, "pomcp": POMCP}


def solver(method: str = "pointbased", **options: Any):
    """The solver object for ``method`` with ``options``; unknown options raise ``TypeError``."""
    registry = methods()
    if method not in registry:
        raise UsageError(f"method {method!r}: expected one of {', '.join(sorted(registry))}")
    cls = registry[method]
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(
            f"{method} has no option {', '.join(map(repr, unknown))}; "
            f"its options are {', '.join(sorted(known))}"
        )
    return cls(**options)


def solve(
    pomdp: TabularPOMDP,
    method: str = "pointbased",
    *,
    seed: Seed = None,
    callback: Callback | None = None,
    **options: Any,
):
    """Solve ``pomdp`` with ``method`` (``"pointbased"`` offline, ``"pomcp"`` online).

    Offline methods return a result carrying the policy and its diagnostics; online methods
    return a planner whose ``action(belief)`` searches. A ``seed`` goes to methods that draw
    random numbers; giving one to a method that draws none is a :class:`UsageError`.
    """
    algorithm = solver(method, **options)
    arguments = {"callback": callback}
    if seed is not None:
        if not takes_seed(algorithm):
            raise UsageError(f"method {method!r} draws no random numbers: it takes no seed")
        arguments["seed"] = seed
    return algorithm.solve(pomdp, **arguments)


def takes_seed(algorithm: Any) -> bool:
    """Whether ``algorithm.solve`` draws random numbers (it then has a ``seed`` argument)."""
    return "seed" in inspect.signature(algorithm.solve).parameters


def load_problem(spec: str | Path) -> TabularPOMDP:
    """A POMDP from a Cassandra ``.pomdp`` file, a POMDPX ``.pomdpx`` file (flattened to its
    joint state) or a built-in problem such as ``rocksample-4-4``."""
    from decide.pomdp.cassandra import read_pomdp
    from decide.pomdp.pomdpx import read_pomdpx
    from decide.pomdp.problems import builtin_problem

    path = Path(spec)
    if path.suffix == ".pomdpx":
        return read_pomdpx(path).pomdp
    if path.suffix == ".pomdp" or path.exists():
        return read_pomdp(path)
    return builtin_problem(str(spec))
