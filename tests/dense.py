"""Dense arrays of a TabularPOMDP, for comparing small models in tests."""

import numpy as np


def dense(pomdp, field: str) -> np.ndarray:
    """``T`` (A, S, S), ``Z`` (A, S, O), or any other array attribute of ``pomdp``."""
    if field == "T":
        return pomdp.dense_transitions()
    if field == "Z":
        return pomdp.dense_observations()
    return getattr(pomdp, field)
