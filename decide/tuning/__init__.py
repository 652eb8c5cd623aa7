"""Learning a solver parameter (SOR's ω) across a sequence of linear systems: ``decide.tune``
(:mod:`decide.tuning.learning`) over the strategies of :mod:`decide.tuning.strategies`, its
Dataset (:mod:`decide.tuning.dataset`) and its figure (:mod:`decide.tuning.plot`)."""

from decide.tuning.dataset import summary
from decide.tuning.learning import TuneProgress, tune
from decide.tuning.strategies import DEFAULT_ARMS, LEARNERS, METHODS

__all__ = ["DEFAULT_ARMS", "LEARNERS", "METHODS", "TuneProgress", "summary", "tune"]
