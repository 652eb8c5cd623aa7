r"""The ask/tell protocol shared by every bandit, its history and its argument checks.

A bandit chooses one of ``len(arms)`` arms per round. :meth:`Bandit.ask` draws an arm index
from the current sampling distribution :math:`p_t` (for contextual bandits a function of the
round's scalar context :math:`c_t`); :meth:`Bandit.tell` reports the cost :math:`k_t` of that arm
(an iteration count, lower is better) and updates the learner. Rounds strictly alternate: every
``ask`` is followed by a ``tell`` of the same arm before the next ``ask``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from decide.errors import ModelError, UsageError


@dataclass(frozen=True, eq=False)
class History:
    """The completed rounds of a bandit, one entry per ``tell``.

    Attributes
    ----------
    arms : ndarray of int, shape (T,)
        Index of the arm played in each round.
    costs : ndarray of float, shape (T,)
        Observed cost :math:`k_t`.
    contexts : ndarray of float, shape (T,)
        Context passed to ``ask`` as given (before clipping); NaN when it was ``None``.
    probabilities : ndarray of float, shape (T,)
        Probability :math:`p_t(a_t)` with which the played arm was drawn (its propensity).
    """

    arms: np.ndarray
    costs: np.ndarray
    contexts: np.ndarray
    probabilities: np.ndarray

    def __len__(self) -> int:
        return len(self.arms)


def arm_grid(arms: ArrayLike) -> np.ndarray:
    """The arms as a read-only array with at least one entry along its first axis."""
    grid = np.array(arms)
    if grid.ndim == 0 or len(grid) == 0:
        raise ModelError("arms", "need a non-empty sequence of arms")
    grid.setflags(write=False)
    return grid


def check_context_range(context_range: tuple[float, float] | None) -> tuple[float, float]:
    """``(lo, hi)`` as floats with ``lo < hi``, both finite."""
    if context_range is None:
        raise ModelError("context_range", "a contextual bandit needs context_range=(lo, hi)")
    try:
        lo, hi = (float(v) for v in context_range)
    except (TypeError, ValueError):
        raise ModelError("context_range", f"expected two numbers, got {context_range!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ModelError("context_range", f"need finite lo < hi, got ({lo}, {hi})")
    return lo, hi


def check_positive_int(field: str, value: int) -> int:
    """``value`` as an ``int`` ≥ 1."""
    try:
        ok = not isinstance(value, bool) and int(value) == value and value >= 1
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ModelError(field, f"need an integer ≥ 1, got {value!r}")
    return int(value)


def draw(rng: np.random.Generator, p: np.ndarray) -> int:
    """Index ``i`` drawn with probability ``p[i]`` by inverting the cumulative sum."""
    cdf = np.cumsum(p)
    i = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
    return min(i, len(p) - 1)


def squarecb(losses: np.ndarray, eta: float) -> np.ndarray:
    r"""SquareCB's distribution: :math:`p_i = 1/(A + \eta (y_i - y_b))` for every arm but the
    best b (lowest predicted loss), the remaining mass on b."""
    best = int(np.argmin(losses))
    with np.errstate(over="ignore"):
        p = 1.0 / (len(losses) + eta * (losses - losses[best]))
    p[best] = 0.0
    p[best] = max(1.0 - p.sum(), 0.0)
    return p


class Bandit:
    """Base class: the ask/tell bookkeeping; subclasses supply the learner.

    Subclasses implement ``_distribution(context)`` (the sampling distribution, with ``context``
    already checked and clipped) and ``_update(arm, cost, context, p)``.

    Parameters
    ----------
    arms : array_like
        The arm grid as data (for example ω values); arm ``i`` is ``arms[i]``.
    seed : int, numpy.random.Generator or None
        Source of the arm draws.
    """

    #: Whether ``ask`` needs a context.
    contextual: bool = False

    def __init__(self, arms: ArrayLike, *, seed: int | np.random.Generator | None = None):
        self.arms = arm_grid(arms)
        self._rng = np.random.default_rng(seed)
        self._pending: tuple[int, float | None, float, float] | None = None
        self._arms: list[int] = []
        self._costs: list[float] = []
        self._contexts: list[float] = []
        self._probs: list[float] = []

    @property
    def n_arms(self) -> int:
        """Number of arms :math:`A`."""
        return len(self.arms)

    @property
    def rounds(self) -> int:
        """Number of completed rounds (``tell`` calls)."""
        return len(self._arms)

    @property
    def history(self) -> History:
        """The completed rounds as numpy arrays."""
        return History(
            arms=np.array(self._arms, dtype=np.int64),
            costs=np.array(self._costs, dtype=float),
            contexts=np.array(self._contexts, dtype=float),
            probabilities=np.array(self._probs, dtype=float),
        )

    def _context(self, context: float | None) -> float | None:
        """The context as used by the learner (checked; clipped for contextual bandits)."""
        if context is None:
            if self.contextual:
                raise UsageError(f"{type(self).__name__} needs a context in ask()")
            return None
        try:
            c = float(context)
        except (TypeError, ValueError):
            raise UsageError(f"context must be a number, got {context!r}") from None
        if not math.isfinite(c):
            raise UsageError(f"context must be finite, got {c}")
        if self.contextual:
            lo, hi = self.context_range
            c = min(max(c, lo), hi)
        return c

    def _distribution(self, context: float | None) -> np.ndarray:
        raise NotImplementedError

    def _update(self, arm: int, cost: float, context: float | None, p: float) -> None:
        raise NotImplementedError

    def probabilities(self, context: float | None = None) -> np.ndarray:
        """The current sampling distribution over the arms (for ``context``, if contextual)."""
        return self._distribution(self._context(context)).copy()

    def ask(self, context: float | None = None) -> int:
        """Draw the arm to play this round.

        Parameters
        ----------
        context : float or None
            The round's context; required by contextual bandits (outside ``context_range`` it is
            clipped to the nearer end), ignored by the others.

        Returns
        -------
        int
            Index into :attr:`arms`.
        """
        if self._pending is not None:
            raise UsageError(f"ask() called again before tell() of arm {self._pending[0]}")
        c = self._context(context)
        p = self._distribution(c)
        arm = draw(self._rng, p)
        raw = math.nan if context is None else float(context)
        self._pending = (arm, c, float(p[arm]), raw)
        return arm

    def tell(self, arm: int, cost: float) -> None:
        r"""Report the cost of the arm returned by the last :meth:`ask`.

        Parameters
        ----------
        arm : int
            The index returned by the last ``ask``.
        cost : float
            The observed cost :math:`k \ge 0` (an iteration count, normally ≥ 1); the learners
            use the loss :math:`k - 1`.
        """
        if self._pending is None:
            raise UsageError("tell() without a preceding ask()")
        asked, c, p, raw = self._pending
        if isinstance(arm, bool) or not isinstance(arm, int | np.integer) or arm != asked:
            raise UsageError(f"tell() of arm {arm!r}, but ask() returned arm {asked}")
        try:
            k = float(cost)
        except (TypeError, ValueError):
            raise UsageError(f"cost must be a number, got {cost!r}") from None
        if not (math.isfinite(k) and k >= 0):
            raise UsageError(f"cost must be finite and ≥ 0, got {k}")
        self._update(asked, k, c, p)
        self._pending = None
        self._arms.append(asked)
        self._costs.append(k)
        self._contexts.append(raw)
        self._probs.append(p)
