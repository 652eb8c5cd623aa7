r"""The exact value of a reactive rule (one action per last observation) as alpha vectors.

A rule :math:`\pi: o \mapsto a` that acts on the last observation alone is a finite-state
controller whose node is that observation. Its value after observing o in state s is
:math:`V(s, o) = U_{\pi(o)}(s)` with

.. math::

    U_a = R_{:,a} + \gamma T_a g_a, \qquad
    g_a(s') = \sum_{o'} Z_a(o' \mid s') \, U_{\pi(o')}(s'),

a linear system in the :math:`g_a` (one g for all actions when observations do not depend on
the action), solved exactly. Each :math:`U_a` is then a point-based backup of the others:
:math:`U_a = R_{:,a} + \gamma \sum_{o'} T_a \operatorname{diag}(Z_{a,o'}) U_{\pi(o')}`,
so the vectors can start a solver's lower bound, which then never falls below the rule's value
at any belief (used by the RAM batch to start from the CE, MSY and TAC rules).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import spsolve

from decide.errors import ModelError
from decide.pomdp.model import TabularPOMDP


class ReactiveVectors(NamedTuple):
    """One vector per action the rule uses: ``alpha[j]`` is worth ``b · alpha[j]`` at a belief
    b to playing ``action[j]`` now and the rule thereafter; after observation o the rule goes
    on with vector ``child[o]``."""

    alpha: np.ndarray  # (B, S)
    action: np.ndarray  # (B,)
    child: np.ndarray  # (O,) index into the B vectors


def reactive_vectors(pomdp: TabularPOMDP, table: np.ndarray) -> ReactiveVectors:
    """The alpha vectors of the rule ``table[o]`` = action after observation o (see the module
    docstring)."""
    table = _checked_table(pomdp, table)
    S, O = pomdp.n_states, pomdp.n_observations
    action, child = np.unique(table, return_inverse=True)
    B = action.size
    choose = sparse.csr_array((np.ones(O), (np.arange(O), child)), shape=(O, B))
    shared = pomdp.z_stride == 0
    arrivals = [0] if shared else action  # the Z block of each g
    n_g = len(arrivals)
    # W[k][s', j]: probability that arrival state s' in block k is observed as a vector j node
    W = [(pomdp.observation(int(a)) @ choose).toarray() for a in arrivals]
    T = [pomdp.transition(int(a)) for a in action]
    R = pomdp.R[:, action]  # (S, B)
    weights = sparse.bmat(
        [[sparse.diags_array(W[k][:, j]) for j in range(B)] for k in range(n_g)], format="csr"
    )  # (n_g·S, B·S)
    # vector j's successors feed the one g when observations are shared, else g_j
    to_g = sparse.vstack(T, format="csr") if shared else sparse.block_diag(T, format="csr")
    system = sparse.eye_array(n_g * S) - pomdp.discount * (weights @ to_g)
    reward = np.concatenate([(W[k] * R).sum(axis=1) for k in range(n_g)])
    g = np.atleast_1d(spsolve(system.tocsc(), reward))
    future = (to_g @ g).reshape(B, S)
    alpha = R.T + pomdp.discount * future
    return ReactiveVectors(alpha, action.astype(np.int64), child.astype(np.int64))


def _checked_table(pomdp: TabularPOMDP, table: np.ndarray) -> np.ndarray:
    table = np.asarray(table)
    shape = (pomdp.n_observations,)
    if table.shape != shape or not np.issubdtype(table.dtype, np.integer):
        raise ModelError("rule", f"expected integer actions of shape {shape}, got "
                         f"{table.dtype} {table.shape}")  # fmt: skip
    if table.size and (table.min() < 0 or table.max() >= pomdp.n_actions):
        raise ModelError("rule", f"actions must lie in [0, {pomdp.n_actions}), got "
                         f"[{table.min()}, {table.max()}]")  # fmt: skip
    return table.astype(np.int64)
