r"""The chance-constrained optimum through the Lagrangian dual of the failure constraint.

For a multiplier :math:`\lambda \ge 0`,

.. math::

    g(\lambda) = \max_\pi \; V(\pi) - \lambda\,\big(P_{\text{fail}}(\pi) - \delta\big)

is attained by a deterministic Markov policy :math:`\pi_\lambda` (backward induction on the
per-step payoff :math:`\gamma^t R(s, a) - \lambda c(s, a)`; the failure probability is not
discounted), :math:`g` is convex and piecewise linear with derivative
:math:`\delta - P_{\text{fail}}(\pi_\lambda)`, and :math:`g(\lambda) \ge V^*` for every
:math:`\lambda \ge 0` (weak duality; equality at the minimiser, since the problem is an LP,
:mod:`decide.robust.constrained_lp`). At the minimiser :math:`\lambda^*` the constraint is met
with equality by mixing, at the start of the episode, a policy that violates it with one that
satisfies it, both maximisers of the Lagrangian at :math:`\lambda^*`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from decide.contract import Callback, stop_requested
from decide.errors import UsageError
from decide.robust._constrained_core import (
    ConstrainedMDP,
    ConstrainedPlan,
    DualStep,
    backward_induction,
    check_delta,
    evaluate_unchecked,
    is_positive_int,
    require_feasible,
    safest_policy,
)

__all__ = ["Lagrangian", "dual_value"]


def _check_finite(name: str, value: float, *, positive: bool = False) -> None:
    if not (np.isfinite(value) and (value > 0 if positive else value >= 0)):
        bound = "> 0" if positive else "≥ 0"
        raise UsageError(f"{name}: expected a finite value {bound}, got {value}")


def _best_response(cmdp: ConstrainedMDP, lambda_: float) -> np.ndarray:
    r"""A deterministic maximiser of :math:`V - \lambda P_{\text{fail}}`: per-step payoff
    :math:`\gamma^t R - \lambda c`."""
    discounts = cmdp.mdp.discount ** np.arange(cmdp.horizon)
    return backward_induction(cmdp, lambda t: discounts[t] * cmdp.mdp.R - lambda_ * cmdp.entry)


def dual_value(cmdp: ConstrainedMDP, delta: float, lambda_: float) -> float:
    r"""The Lagrangian dual :math:`g(\lambda) = \max_\pi V(\pi) - \lambda (P_{\text{fail}}(\pi)
    - \delta)`, an upper bound on the constrained optimum for every :math:`\lambda \ge 0`."""
    delta = check_delta(delta)
    _check_finite("lambda_", lambda_)
    value, failure = evaluate_unchecked(cmdp, _best_response(cmdp, float(lambda_)))
    return value - lambda_ * (failure - delta)


@dataclass(frozen=True)
class _Response:
    lambda_: float
    policy: np.ndarray
    value: float
    failure: float


def _risky_weight(risky: _Response, safe: _Response, delta: float) -> float:
    """Probability q of the risky policy so that the mixture fails with probability δ (q = 0
    when the safe one already does)."""
    spread = risky.failure - safe.failure
    return float(np.clip((delta - safe.failure) / spread, 0.0, 1.0)) if spread > 0 else 0.0


def _mixed(q: float, risky: _Response, safe: _Response) -> tuple[float, float]:
    """Value and failure probability of the mixture (q, 1 − q) of the two policies."""
    return q * risky.value + (1 - q) * safe.value, q * risky.failure + (1 - q) * safe.failure


@dataclass(frozen=True)
class Lagrangian:
    r"""The constrained optimum by dual ascent on the multiplier λ of the failure constraint.

    Each λ is answered by the deterministic policy :math:`\pi_\lambda` that maximises
    :math:`V - \lambda P_{\text{fail}}` (backward induction on :math:`\gamma^t R - \lambda c`),
    evaluated exactly (:func:`evaluate`); :math:`g(\lambda) = V(\pi_\lambda) -
    \lambda (P_{\text{fail}}(\pi_\lambda) - \delta)` is recorded in ``history``.

    1. *Bracketing* by projected subgradient steps on the dual,
       :math:`\lambda_{k+1} = \max(0, \lambda_k + \eta_k (P_{\text{fail}}(\pi_{\lambda_k}) -
       \delta))`, from λ = 0, with :math:`\eta_k = \text{step} \cdot 2^k`: the step doubles while
       the constraint stays violated so that a step that is too small for the problem's scale
       cannot stall the search. It stops at the first λ whose policy satisfies the constraint.
    2. *Bisection* on the bracket: :math:`P_{\text{fail}}(\pi_\lambda)` does not increase with
       λ (the subgradient of a convex function is monotone), so the sign of
       :math:`P_{\text{fail}} - \delta` at the midpoint tells which half holds the minimiser
       :math:`\lambda^*` of the 1-D convex dual. Bisection halves the bracket every step,
       where fixed subgradient steps would oscillate around the kink of a piecewise-linear g.
    3. *Mixing*: with the last violating policy (from the lower end) and the last feasible one
       (upper end), choose the first with probability
       :math:`q = (\delta - P^{\text{hi}}) / (P^{\text{lo}} - P^{\text{hi}})` at the start of
       the episode; the mixture fails with probability exactly δ. When both policies maximise
       the Lagrangian at :math:`\lambda^*` the mixture's value equals :math:`g(\lambda^*)`,
       the constrained optimum.

    The search stops when the duality gap :math:`\min_k g(\lambda_k) - V_{\text{mix}}` (a
    certificate: the mixture is feasible, every :math:`g(\lambda_k)` is an upper bound) is at
    most ``tolerance`` · max(1, |g|), or after ``max_iterations`` evaluations of the dual. If the
    bracket is not closed by then, the safest policy (least failure probability) is mixed in.

    ``callback(step)`` sees each :class:`DualStep`; True stops the search, which then mixes
    what it has as if its budget had run out. The plan's ``stop_reason`` says what ended it
    (Ctrl-C is not caught: a search of 100 evaluations takes seconds on the fisheries model).
    """

    max_iterations: int = 100
    step: float = 1.0
    tolerance: float = 1e-10

    method = "lagrangian"

    def __post_init__(self) -> None:
        if not is_positive_int(self.max_iterations):
            raise UsageError(f"max_iterations: expected an integer ≥ 1, got {self.max_iterations}")
        _check_finite("step", self.step, positive=True)
        _check_finite("tolerance", self.tolerance)

    def solve(
        self, cmdp: ConstrainedMDP, *, delta: float, callback: Callback | None = None
    ) -> ConstrainedPlan:
        """One deterministic policy when the constraint does not bind (λ = 0), otherwise two
        with weights (q, 1 − q); ``lambda_`` is the λ with the least dual value seen. A
        UsageError names the least failure probability when ``delta`` is below it."""
        delta = check_delta(delta)
        require_feasible(cmdp, delta)
        return _DualSearch(self, cmdp, delta, callback).run()


class _DualSearch:
    """One run of :class:`Lagrangian`: the dual evaluations so far and why it stopped."""

    def __init__(self, options: Lagrangian, cmdp: ConstrainedMDP, delta: float, callback):
        self.options, self.cmdp, self.delta, self.callback = options, cmdp, delta, callback
        self.history: list[DualStep] = []
        self.reason: str | None = None  # "callback" once the callback asked to stop

    def respond(self, lambda_: float, phase: str) -> _Response:
        policy = _best_response(self.cmdp, lambda_)
        value, failure = evaluate_unchecked(self.cmdp, policy)
        step = DualStep(lambda_, value, failure, value - lambda_ * (failure - self.delta), phase)
        self.history.append(step)
        if stop_requested(self.callback, step):
            self.reason = "callback"
        return _Response(lambda_, policy, value, failure)

    def may_go_on(self) -> bool:
        return self.reason is None and len(self.history) < self.options.max_iterations

    def plan(self, responses, weights, value: float, failure: float, reason: str):
        return ConstrainedPlan(
            policies=tuple(r.policy for r in responses),
            weights=np.array(weights),
            value=value,
            failure_probability=failure,
            lambda_=min(self.history, key=lambda s: s.dual_value).lambda_,
            history=tuple(self.history),
            method=Lagrangian.method,
            stop_reason=reason if reason == "converged" else self.reason or reason,
            parameters=asdict(self.options) | {"delta": self.delta},
        )

    def run(self) -> ConstrainedPlan:
        low = self.respond(0.0, "bracket")
        if low.failure <= self.delta:
            return self.plan((low,), (1.0,), low.value, low.failure, "converged")
        low, high, reason = self.bisect(*self.bracket(low))
        q = _risky_weight(low, high, self.delta)
        return self.plan((low, high), (q, 1.0 - q), *_mixed(q, low, high), reason)

    def bracket(self, low: _Response) -> tuple[_Response, _Response]:
        """Subgradient steps with a doubling step until a feasible λ; the safest policy stands
        in for it if none is found."""
        high, eta = None, float(self.options.step)
        while high is None and self.may_go_on():
            response = self.respond(
                max(0.0, low.lambda_ + eta * (low.failure - self.delta)), "bracket"
            )
            if response.failure <= self.delta:
                high = response
            else:
                low, eta = response, 2.0 * eta
        if high is None:
            safest = safest_policy(self.cmdp)
            high = _Response(np.inf, safest, *evaluate_unchecked(self.cmdp, safest))
        return low, high

    def bisect(self, low: _Response, high: _Response) -> tuple[_Response, _Response, str]:
        """Halve the bracket until the duality gap certifies the mixture; with the safest
        policy standing in for a feasible λ there is no bracket to halve."""
        while np.isfinite(high.lambda_):
            mixed_value = _mixed(_risky_weight(low, high, self.delta), low, high)[0]
            bound = min(s.dual_value for s in self.history)
            if bound - mixed_value <= self.options.tolerance * max(1.0, abs(bound)):
                return low, high, "converged"
            middle = 0.5 * (low.lambda_ + high.lambda_)
            if not low.lambda_ < middle < high.lambda_:
                return low, high, "converged"  # the bracket cannot be split in floating point
            if not self.may_go_on():
                break
            response = self.respond(middle, "bisect")
            if response.failure <= self.delta:
                high = response
            else:
                low = response
        return low, high, "iteration limit"
