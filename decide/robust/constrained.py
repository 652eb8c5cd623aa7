r"""Planning under a chance constraint: maximise reward subject to P(failure) ≤ δ.

A finite-horizon tabular MDP with a failure set :math:`F`. From :math:`s_0 \sim \mu` a policy
chooses :math:`a_t` at :math:`t = 0, \dots, H-1`, earns :math:`\gamma^t R(s_t, a_t)` and moves to
:math:`s_{t+1} \sim T[a_t, s_t, \cdot]`. The problem is

.. math::

    \max_\pi \; V(\pi) = \mathbb{E}_\pi \sum_{t=0}^{H-1} \gamma^t R(s_t, a_t)\,
        \mathbb{1}\{s_0, \dots, s_t \notin F\}
    \quad \text{s.t.} \quad
    P_\pi(\exists\, t \le H : s_t \in F) \le \delta .

**Failure states are terminal.** Once the stock enters :math:`F` (at :math:`s_0`, or at any
:math:`s_1, \dots, s_H`, the last transition included) the episode has failed and earns nothing
more; what would happen afterwards is never modelled. So "failed within the horizon" is the
event of a *first* entry, and value and failure probability are linear in the occupation
measures of the non-failure states.

This module is the public interface; the work is done in

- :mod:`decide.robust._constrained_core`: the model (:class:`ConstrainedMDP`), plans, exact
  evaluation (:func:`evaluate`) and backward induction (:func:`least_failure_probability`);
- :mod:`decide.robust.constrained_lp`: the exact optimum as a linear programme over occupation
  measures (:class:`LinearProgramme`);
- :mod:`decide.robust.constrained_lagrangian`: the Lagrangian dual (:func:`dual_value`) and
  dual ascent with bisection, mixing two deterministic policies (:class:`Lagrangian`).

Both methods are frozen dataclasses of their parameters, named in :data:`METHODS`, with
``solve(cmdp, *, delta)`` (the Lagrangian method also takes a ``callback``).
"""

from __future__ import annotations

from decide.robust._constrained_core import (
    ConstrainedMDP,
    ConstrainedPlan,
    DualStep,
    evaluate,
    least_failure_probability,
    state_distributions,
)
from decide.robust.constrained_lagrangian import Lagrangian, dual_value
from decide.robust.constrained_lp import LinearProgramme

METHODS = {"lp": LinearProgramme, "lagrangian": Lagrangian}

__all__ = [
    "METHODS",
    "ConstrainedMDP",
    "ConstrainedPlan",
    "DualStep",
    "Lagrangian",
    "LinearProgramme",
    "dual_value",
    "evaluate",
    "least_failure_probability",
    "state_distributions",
]
