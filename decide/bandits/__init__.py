"""Bandits that tune a solver parameter from iteration counts ("Learning to Relax").

``TsallisINF`` (non-contextual), ``TsallisINFCB`` (one Tsallis-INF per context bin) and
``ChebCB`` (Chebyshev regression with SquareCB exploration) and ``TensorChebCB`` (one Chebyshev
regression of the log-cost over context and arm, shared by all arms) share the ask/tell protocol of
:class:`~decide.bandits.base.Bandit`; ``make_bandit`` builds one by name.
"""

from decide.bandits.base import Bandit, History
from decide.bandits.chebcb import ChebCB
from decide.bandits.factory import BANDITS, make_bandit
from decide.bandits.tensorcb import TensorChebCB
from decide.bandits.tsallis import TsallisINF, TsallisINFCB, tsallis_probabilities

__all__ = [
    "BANDITS",
    "Bandit",
    "ChebCB",
    "History",
    "TensorChebCB",
    "TsallisINF",
    "TsallisINFCB",
    "make_bandit",
    "tsallis_probabilities",
]
