"""Learning a solver parameter across a sequence of linear systems (``decide.tune``).

Every method solves the same systems (same seed per trial) and is charged the iteration count
of each solve, as in Khodak et al. (2024), "Learning to Relax". Methods:

==================  ===========================================================================
``cg``              plain conjugate gradients (PCG sequences only)
``omega-1``         ω = 1: Gauss–Seidel for SOR, symmetric Gauss–Seidel preconditioning for PCG
``best-fixed``      the arm with the lowest total in hindsight (every arm is run)
``tsallis-inf``     Tsallis-INF over the arms (non-contextual)
``tsallis-inf-cb``  one Tsallis-INF per context bin
``chebcb``          ChebCB: Chebyshev regression of the cost per arm, SquareCB exploration
``tensor-chebcb``   one Chebyshev regression of log k over (c, ω) shared by all arms (ours)
``young``           Young's ω* = 1 + (β / (1 + √(1 − β²)))² of each system (SOR's instance optimum)
``per-step-best``   the best arm of each system, found by trying them all
==================  ===========================================================================

A sequence has ``length``, ``random`` (whether its systems depend on the seed), ``solver``
("sor" or "ssor-pcg"), ``context_range``, ``context``, ``reset(seed)``,
``system() -> (A, b, x0)`` and ``advance(x)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
import xarray as xr

from decide import progress
from decide.errors import UsageError
from decide.results import make_attrs, standard_error

#: The ω grid of the published experiments.
DEFAULT_ARMS = np.linspace(1.0, 1.95, 20)
#: Learner strategies: the bandit each uses and its options.
LEARNER_BANDITS: dict[str, tuple[str, dict[str, Any]]] = {
    "tsallis-inf": ("tsallis-inf", {}),
    "tsallis-inf-cb": ("tsallis-inf-cb", {}),
    "chebcb": ("chebcb", {}),
    "tensor-chebcb": ("tensor-chebcb", {}),
}
LEARNERS = tuple(LEARNER_BANDITS)
METHODS = ("cg", "omega-1", "best-fixed", *LEARNERS, "young", "per-step-best")


class LinearSequence(Protocol):
    name: str
    length: int
    random: bool
    solver: str
    context_range: tuple[float, float]
    context: float

    def reset(self, seed: int) -> None: ...
    def system(self) -> tuple[Any, np.ndarray, np.ndarray]: ...
    def advance(self, x: np.ndarray) -> None: ...


Step = Callable[[Any, np.ndarray, np.ndarray, float], Any]


def base_solver(sequence: LinearSequence, omega: float = 1.0):
    """SOR or SSOR-PCG with relaxation ``omega``, as the sequence asks."""
    from decide.linalg import SOR, SSORPCG

    if sequence.solver == "sor":
        return SOR(omega=omega)
    if sequence.solver == "ssor-pcg":
        return SSORPCG(omega=omega)
    raise UsageError(f"sequence solver must be 'sor' or 'ssor-pcg', not {sequence.solver!r}")


def run(sequence: LinearSequence, step: Step, seed: int, bar=None) -> dict[str, np.ndarray]:
    """Solve every system of ``sequence`` (reset to ``seed``) with ``step``; per-system records."""
    sequence.reset(seed)
    n = sequence.length
    out = {
        "iterations": np.zeros(n, dtype=np.int64),
        "omega": np.full(n, np.nan),
        "context": np.zeros(n),
        "converged": np.zeros(n, dtype=np.int8),
    }
    for t in range(n):
        A, b, x0 = sequence.system()
        out["context"][t] = context = sequence.context
        result = step(A, b, x0, context)
        out["iterations"][t] = result.iterations
        out["omega"][t] = np.nan if result.omega is None else result.omega
        out["converged"][t] = result.converged
        sequence.advance(result.x)
        if bar is not None:
            bar.update(1)
    return out


def _fixed(solver) -> Step:
    return lambda A, b, x0, context: solver.solve(A, b, x0)


def _learner(sequence, method: str, arms, seed: np.random.SeedSequence, options) -> Step:
    from decide.bandits import make_bandit
    from decide.linalg import TunedSolver

    name, defaults = LEARNER_BANDITS[method]
    contextual = name != "tsallis-inf"
    bandit = make_bandit(
        name,
        arms,
        context_range=sequence.context_range if contextual else None,
        seed=np.random.default_rng(seed),
        **{**defaults, **options.get(method, {})},
    )
    tuned = TunedSolver(base_solver(sequence), bandit)
    if contextual:
        return lambda A, b, x0, context: tuned.solve(A, b, x0, context=context)
    return lambda A, b, x0, context: tuned.solve(A, b, x0)


def _young(sequence) -> Step:
    from decide.linalg import young_omega

    solver = base_solver(sequence)
    return lambda A, b, x0, context: solver.with_omega(young_omega(A)).solve(A, b, x0)


def _per_step_best(sequence, arms) -> Step:
    solvers = [base_solver(sequence, omega) for omega in arms]

    def step(A, b, x0, context):
        results = [s.solve(A, b, x0) for s in solvers]
        return min(results, key=lambda r: (not r.converged, r.iterations))

    return step


def _best_fixed(sequence, arms, seed: int, bar) -> dict[str, np.ndarray]:
    runs = [run(sequence, _fixed(base_solver(sequence, w)), seed, bar) for w in arms]
    return min(runs, key=lambda r: r["iterations"].sum())


def _method_run(sequence, method, arms, seed, trial, index, options, bar):
    if method == "best-fixed":
        return _best_fixed(sequence, arms, seed + trial, bar)
    if method == "cg":
        if sequence.solver != "ssor-pcg":
            raise UsageError("method 'cg' needs a conjugate-gradient sequence (ssor-pcg)")
        from decide.linalg import CG

        step = _fixed(CG())
    elif method == "omega-1":
        step = _fixed(base_solver(sequence, 1.0))
    elif method in LEARNERS:
        step = _learner(
            sequence, method, arms, np.random.SeedSequence([seed, trial, index]), options
        )
    elif method == "young":
        step = _young(sequence)
    else:
        step = _per_step_best(sequence, arms)
    return run(sequence, step, seed + trial, bar)


def _repeats(sequence: LinearSequence, method: str, trial: int) -> bool:
    """Whether ``trial`` can reuse trial 0's numbers: same systems and a deterministic method."""
    return trial > 0 and method not in LEARNERS and not sequence.random


def _cost(method: str, arms: np.ndarray) -> int:
    """Sequence runs a method costs (for the progress bar)."""
    return len(arms) if method in ("best-fixed", "per-step-best") else 1


def tune(
    sequence: LinearSequence,
    methods: Sequence[str] = METHODS,
    *,
    arms: np.ndarray | Sequence[float] = DEFAULT_ARMS,
    trials: int = 1,
    seed: int = 0,
    quiet: bool = False,
    options: dict[str, dict[str, Any]] | None = None,
) -> xr.Dataset:
    """Run every method on ``trials`` passes over ``sequence``; a Dataset of iterations and ω.

    Trial ``k`` resets the sequence with seed ``seed + k``, so all methods see the same systems;
    learners get independent seeds. On a sequence that is not random (``sequence.random`` false)
    the other methods run once and their numbers are repeated in every trial. ``options`` maps
    a learner name to extra bandit options.
    """
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise UsageError(f"unknown tuning method(s) {unknown}; expected some of {list(METHODS)}")
    if trials < 1:
        raise UsageError(f"trials must be at least 1, got {trials}")
    arms = np.asarray(arms, dtype=float)
    options = options or {}
    records = {m: [] for m in methods}
    work = sum(
        sequence.length * _cost(m, arms)
        for trial in range(trials)
        for m in methods
        if not _repeats(sequence, m, trial)
    )
    with progress.bar(work, f"tune {sequence.name}", quiet=quiet, unit="solve") as bar:
        for trial in range(trials):
            for index, method in enumerate(methods):
                if _repeats(sequence, method, trial):
                    records[method].append(records[method][0])
                    continue
                rec = _method_run(sequence, method, arms, seed, trial, index, options, bar)
                records[method].append(rec)
    return _dataset(sequence, list(methods), records, arms, trials, seed, options)


def _stack(records, methods, key):
    return np.stack([np.stack([r[key] for r in records[m]]) for m in methods], axis=1)


def _dataset(sequence, methods, records, arms, trials, seed, options) -> xr.Dataset:
    dims = ("trial", "strategy", "instance")
    iterations = _stack(records, methods, "iterations")
    return xr.Dataset(
        {
            "iterations": (dims, iterations, {"long_name": "solver iterations", "units": "1"}),
            "omega": (dims, _stack(records, methods, "omega"), _omega_attrs()),
            "converged": (
                dims,
                _stack(records, methods, "converged"),
                {"long_name": "solve reached the tolerance (1) or not (0)", "units": "1"},
            ),
            "context": (
                ("trial", "instance"),
                np.stack([r["context"] for r in records[methods[0]]]),
                {"long_name": "context of the system (shift c or diffusion κ)", "units": "1"},
            ),
            "total_iterations": (
                ("trial", "strategy"),
                iterations.sum(axis=2),
                {"long_name": "iterations summed over the sequence", "units": "1"},
            ),
            "arm_omega": (("arm",), arms, _omega_attrs("ω grid of the learners")),
        },
        coords={
            "trial": ("trial", np.arange(trials), {"long_name": "trial", "units": "1"}),
            "strategy": ("strategy", methods, {"long_name": "ω strategy", "units": "1"}),
            "instance": (
                "instance",
                np.arange(sequence.length),
                {"long_name": "position in the sequence of systems", "units": "1"},
            ),
            "arm": ("arm", np.arange(len(arms)), {"long_name": "arm index", "units": "1"}),
        },
        attrs=make_attrs(
            sequence.name,
            "tune",
            {
                "methods": methods,
                "trials": trials,
                "seed": seed,
                "length": sequence.length,
                "solver": sequence.solver,
                "learner_options": options,
            },
        ),
    )


def _omega_attrs(name: str = "relaxation parameter ω used") -> dict[str, str]:
    return {"long_name": name, "units": "1"}


def summary(ds: xr.Dataset) -> list[tuple[str, float, float]]:
    """(method, mean total iterations over trials, its standard error) in the Dataset's order."""
    totals = ds["total_iterations"]
    rows = []
    for method in ds["strategy"].values:
        values = totals.sel(strategy=method).values.astype(float)
        se = np.nan_to_num(standard_error(values))
        rows.append((str(method), float(values.mean()), float(se)))
    return rows
