"""Random small MDPs for tests (the same draws wherever a test seeds them alike)."""

import numpy as np

from decide.mdp import TabularMDP


def random_mdp(rng: np.random.Generator, n_states: int, n_actions: int, discount=0.9):
    T = rng.dirichlet(np.full(n_states, 0.5), size=(n_actions, n_states))
    R = rng.uniform(0.0, 1.0, size=(n_states, n_actions))
    return TabularMDP(T, R, discount)
