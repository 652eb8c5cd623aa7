"""TunedSolver with a scripted fake bandit (the real bandits live in decide.bandits)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from decide.linalg import SOR, SSORPCG, Bandit, TunedSolver, poisson_2d


class ScriptedBandit:
    """Plays a fixed sequence of arms and records every call."""

    def __init__(self, arms, plays):
        self.arms = np.asarray(arms, dtype=float)
        self.plays = list(plays)
        self.asked: list[float | None] = []
        self.told: list[tuple[int, float]] = []

    def ask(self, context: float | None = None) -> int:
        self.asked.append(context)
        return self.plays.pop(0)

    def tell(self, arm: int, cost: float) -> None:
        self.told.append((arm, cost))


def test_solves_with_the_chosen_omega_and_reports_iterations():
    arms = np.linspace(1.0, 1.95, 20)
    bandit = ScriptedBandit(arms, plays=[0, 11, 19])
    assert isinstance(bandit, Bandit)
    tuned = TunedSolver(SOR(), bandit)
    A = poisson_2d(10)
    b = np.ones(100)
    results = [tuned.solve(A, b, context=c) for c in (0.1, None, 0.3)]
    assert [r.omega for r in results] == [arms[0], arms[11], arms[19]]
    assert bandit.asked == [0.1, None, 0.3]
    played = [0, 11, 19]
    assert bandit.told == [(i, float(r.iterations)) for i, r in zip(played, results, strict=True)]
    for arm, result in zip([0, 11, 19], results, strict=True):
        direct = SOR(omega=arms[arm]).solve(A, b)
        assert result.converged and result.iterations == direct.iterations
        np.testing.assert_array_equal(result.x, direct.x)
    assert results[1].iterations < results[0].iterations  # omega 1.55 ~ Young's 1.56


def test_pcg_warm_start_is_passed_through():
    bandit = ScriptedBandit([1.0, 1.5], plays=[1, 1])
    tuned = TunedSolver(SSORPCG(), bandit)
    A = poisson_2d(8)
    b = np.random.default_rng(0).standard_normal(64)
    first = tuned.solve(A, b)
    again = tuned.solve(A, b, first.x)
    assert first.omega == 1.5 and first.iterations > 0 and again.iterations == 0
    assert bandit.told == [(1, float(first.iterations)), (1, 0.0)]


def test_failed_solves_cost_the_iteration_cap():
    bandit = ScriptedBandit([1.0], plays=[0, 0])
    capped = TunedSolver(SOR(maxiter=5), bandit).solve(poisson_2d(10), np.ones(100))
    assert not capped.converged and capped.iterations == 5
    indefinite = poisson_2d(10) - 3.0 * sp.identity(100)
    diverged = TunedSolver(SOR(maxiter=500), bandit).solve(indefinite, np.ones(100))
    assert diverged.diverged and diverged.iterations < 500
    assert bandit.told == [(0, 5.0), (0, 500.0)]
