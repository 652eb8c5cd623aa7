"""Fully observed tabular MDPs: the model (:mod:`~decide.mdp.model`) and its Bellman equations
(:mod:`~decide.mdp.bellman`: exact evaluation, value iteration, soft value iteration, policies).

The robust family builds on them: offline improvement and the regularised max–min take
:class:`TabularMDP` models, and the chance-constrained model holds one.
"""

from decide.mdp.bellman import (
    greedy_policy,
    policy_evaluation,
    q_values,
    soft_value_iteration,
    softmax_policy,
    value_iteration,
)
from decide.mdp.model import TabularMDP

__all__ = [
    "TabularMDP",
    "greedy_policy",
    "policy_evaluation",
    "q_values",
    "soft_value_iteration",
    "softmax_policy",
    "value_iteration",
]
