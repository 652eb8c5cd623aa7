"""Learning a solver parameter (SOR's ω) across a sequence of linear systems: ``decide.tune``
(:mod:`decide.tuning.learning`) and its figure (:mod:`decide.tuning.plot`)."""

from decide.tuning.learning import DEFAULT_ARMS, LEARNERS, METHODS, summary, tune

__all__ = ["DEFAULT_ARMS", "LEARNERS", "METHODS", "summary", "tune"]
