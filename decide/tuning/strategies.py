"""The ways to choose ω for each system of a sequence: frozen dataclasses in :data:`METHODS`.

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

A sequence has ``name``, ``length``, ``random`` (whether its systems depend on the seed),
``solver`` ("sor" or "ssor-pcg"), ``context_range``, ``context``, ``reset(seed)``,
``system() -> (A, b, x0)`` and ``advance(x)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from decide.errors import UsageError

#: The ω grid of the published experiments.
DEFAULT_ARMS = np.linspace(1.0, 1.95, 20)


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


#: One system's solve: ``step(A, b, x0, context)`` -> a solver result.
Step = Callable[[Any, np.ndarray, np.ndarray, float], Any]
#: Called after every solve of a pass over the sequence.
OnSolve = Callable[[], None]


def base_solver(sequence: LinearSequence, omega: float = 1.0):
    """SOR or SSOR-PCG with relaxation ``omega``, as the sequence asks."""
    from decide.linalg import SOR, SSORPCG

    if sequence.solver == "sor":
        return SOR(omega=omega)
    if sequence.solver == "ssor-pcg":
        return SSORPCG(omega=omega)
    raise UsageError(f"sequence solver must be 'sor' or 'ssor-pcg', not {sequence.solver!r}")


def run(sequence: LinearSequence, step: Step, seed: int, on_solve: OnSolve | None = None):
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
        if on_solve is not None:
            on_solve()
    return out


@dataclass(frozen=True)
class Strategy:
    """A way to choose ω. ``trial`` solves the sequence once with systems seeded by
    ``system_seed``; a learner draws its own numbers from ``seed``."""

    #: Whether the strategy draws random numbers (a learner) or is deterministic.
    draws = False

    def passes(self, arms: np.ndarray) -> int:
        """Passes over the sequence one trial costs."""
        return 1

    def step(self, sequence: LinearSequence, arms: np.ndarray, seed, options) -> Step:
        raise NotImplementedError

    def trial(self, sequence, arms, system_seed: int, seed, options, on_solve=None):
        return run(sequence, self.step(sequence, arms, seed, options), system_seed, on_solve)


def _fixed(solver) -> Step:
    return lambda A, b, x0, context: solver.solve(A, b, x0)


@dataclass(frozen=True)
class ConjugateGradients(Strategy):
    def step(self, sequence, arms, seed, options):
        from decide.linalg import CG

        if sequence.solver != "ssor-pcg":
            raise UsageError("method 'cg' needs a conjugate-gradient sequence (ssor-pcg)")
        return _fixed(CG())


@dataclass(frozen=True)
class FixedOmega(Strategy):
    omega: float = 1.0

    def step(self, sequence, arms, seed, options):
        return _fixed(base_solver(sequence, self.omega))


@dataclass(frozen=True)
class BestFixed(Strategy):
    def passes(self, arms):
        return len(arms)

    def trial(self, sequence, arms, system_seed, seed, options, on_solve=None):
        runs = [
            run(sequence, _fixed(base_solver(sequence, w)), system_seed, on_solve) for w in arms
        ]
        return min(runs, key=lambda r: r["iterations"].sum())


@dataclass(frozen=True)
class Learner(Strategy):
    """A bandit over the arms; ``options[name]`` adds options to the bandit's."""

    bandit: str

    draws = True

    def step(self, sequence, arms, seed, options):
        from decide.bandits import make_bandit
        from decide.linalg import TunedSolver

        contextual = self.bandit != "tsallis-inf"
        bandit = make_bandit(
            self.bandit,
            arms,
            context_range=sequence.context_range if contextual else None,
            seed=np.random.default_rng(seed),
            **options.get(self.bandit, {}),
        )
        tuned = TunedSolver(base_solver(sequence), bandit)
        if contextual:
            return lambda A, b, x0, context: tuned.solve(A, b, x0, context=context)
        return lambda A, b, x0, context: tuned.solve(A, b, x0)


@dataclass(frozen=True)
class Young(Strategy):
    def step(self, sequence, arms, seed, options):
        from decide.linalg import young_omega

        solver = base_solver(sequence)
        return lambda A, b, x0, context: solver.with_omega(young_omega(A)).solve(A, b, x0)


@dataclass(frozen=True)
class PerStepBest(Strategy):
    def passes(self, arms):
        return len(arms)

    def step(self, sequence, arms, seed, options):
        solvers = [base_solver(sequence, omega) for omega in arms]

        def step(A, b, x0, context):
            results = [s.solve(A, b, x0) for s in solvers]
            return min(results, key=lambda r: (not r.converged, r.iterations))

        return step


METHODS: dict[str, Strategy] = {
    "cg": ConjugateGradients(),
    "omega-1": FixedOmega(1.0),
    "best-fixed": BestFixed(),
    "tsallis-inf": Learner("tsallis-inf"),
    "tsallis-inf-cb": Learner("tsallis-inf-cb"),
    "chebcb": Learner("chebcb"),
    "tensor-chebcb": Learner("tensor-chebcb"),
    "young": Young(),
    "per-step-best": PerStepBest(),
}
#: The strategies that learn ω from the costs they see.
LEARNERS = tuple(name for name, strategy in METHODS.items() if strategy.draws)
