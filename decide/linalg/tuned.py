"""A solver whose relaxation parameter is chosen, solve after solve, by a bandit.

This is the online setting of "Learning to Relax" (Khodak et al., ICLR 2024): before each solve
of a sequence ``A_t x = b_t`` the bandit picks an arm ``omega_i`` from a fixed grid (optionally
given a scalar context ``c_t``), and afterwards learns the cost: the number of iterations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike

from decide.linalg.csr import MatrixLike
from decide.linalg.solvers import SOR, SSORPCG, SolveResult


@runtime_checkable
class Bandit(Protocol):
    """What :class:`TunedSolver` needs from a bandit: arms, ``ask`` and ``tell``."""

    arms: np.ndarray

    def ask(self, context: float | None = None) -> int:
        """Index into ``arms`` of the arm to play next."""
        ...

    def tell(self, arm: int, cost: float) -> None:
        """Feedback for the arm played: its cost (lower is better)."""
        ...


@dataclass
class TunedSolver:
    """Each solve asks the bandit for omega, solves with it and tells the iteration count.

    For solve ``t``: ``i = bandit.ask(context)``, ``omega = bandit.arms[i]``, solve with
    ``solver.with_omega(omega)``, then ``bandit.tell(i, k)`` with ``k`` the iterations done.
    A solve that did not converge (divergence or the iteration cap) costs
    ``max(iterations, solver.maxiter)``, so a quickly detected divergence is not mistaken for a
    cheap solve. The result of every solve is returned unchanged.
    """

    solver: SOR | SSORPCG
    bandit: Bandit

    def solve(
        self,
        A: MatrixLike,
        b: ArrayLike,
        x0: ArrayLike | None = None,
        *,
        context: float | None = None,
    ) -> SolveResult:
        """Solve ``A x = b`` with the bandit's choice of omega; ``context`` is passed to ``ask``."""
        arm = self.bandit.ask() if context is None else self.bandit.ask(context)
        arm = int(arm)
        omega = float(np.asarray(self.bandit.arms)[arm])
        result = self.solver.with_omega(omega).solve(A, b, x0)
        cost = (
            result.iterations if result.converged else max(result.iterations, self.solver.maxiter)
        )
        self.bandit.tell(arm, float(cost))
        return result
