r"""Rewards of a Cassandra file, reduced to the expected reward R(s, a).

Entries ``R: a : s : s' : o r`` may override each other cell by cell, but storing the 4-D table
R(a, s, s', o) is out of the question for large models. Most entries cover a whole (s', o) block
(``R: a : s : * : * r``); such a block is kept as one constant, which is also its exact expected
reward. Only the (a, s) blocks touched by an entry that depends on s' or o are *mixed*: for those
the entries are replayed in file order on dense (s', o) blocks, a chunk of states at a time, and
reduced with :math:`R(s, a) = \sum_{s', o} T(s'|s, a) Z(o|s', a) R(a, s, s', o)`.
"""

from __future__ import annotations

import numpy as np

from decide.pomdp.cassandra.lex import ALL

#: Largest number of (s, s', o) cells held at once while reducing mixed blocks.
_CHUNK_CELLS = 1 << 21


class RewardTable:
    """Accumulates R entries in file order; :meth:`expected` reduces them to R[s, a]."""

    def __init__(self, n_actions: int, n_states: int, n_observations: int):
        self.shape = (n_actions, n_states, n_observations)
        self.constant = np.zeros((n_actions, n_states))
        self.mixed = np.zeros((n_actions, n_states), dtype=bool)
        self.entries: list[tuple] = []

    def add(self, a, s, s2, o, value) -> None:
        """Record ``R(a, s, s2, o) = value``; indices may be :data:`ALL`.

        ``value`` is a scalar, a row over o (with ``o`` ALL) or a matrix over (s', o) (with
        ``s2`` and ``o`` ALL).
        """
        value = np.asarray(value, dtype=np.float64)
        whole_block = s2 is ALL and o is ALL
        if whole_block and value.ndim > 0 and value.size and np.all(value == value.flat[0]):
            value = value.flat[0]
        if whole_block and value.ndim == 0:
            self.constant[a, s] = value
            self.mixed[a, s] = False
        else:
            self.mixed[a, s] = True
        self.entries.append((a, s, s2, o, value))

    def expected(self, T, Z) -> np.ndarray:
        """The expected rewards ``R[s, a]`` given the sparse rows ``T[a*S + s, s']`` and
        ``Z[a*S + s', o]``."""
        reduced = self.constant.copy()
        _, S, O = self.shape
        chunk = max(1, _CHUNK_CELLS // (S * O))
        for a in range(self.shape[0]):
            rows = np.flatnonzero(self.mixed[a])
            if rows.size == 0:
                continue
            entries = [e for e in self.entries if e[0] is ALL or e[0] == a]
            Z_a = Z[a * S : (a + 1) * S].toarray()
            for start in range(0, rows.size, chunk):
                block = rows[start : start + chunk]
                T_block = T[a * S + block].toarray()
                reduced[a, block] = _reduce_block(block, entries, T_block, Z_a)
        return np.ascontiguousarray(reduced.T)


def _reduce_block(rows: np.ndarray, entries: list[tuple], T: np.ndarray, Z: np.ndarray):
    """Expected rewards of the states ``rows`` for one action, replaying ``entries`` in order;
    ``T`` holds those states' transition rows, ``Z`` is the action's (S, O) table."""
    local = {int(s): i for i, s in enumerate(rows)}
    table = np.zeros((rows.size, *Z.shape))
    for _, s, s2, o, value in entries:
        if s is ALL:
            target = ALL
        else:
            target = local.get(s)
            if target is None:
                continue
        table[target, s2, o] = value
    values = np.einsum("is,so,iso->i", T, Z, table)
    flat = table.reshape(rows.size, -1)
    constant = flat.max(axis=1) == flat.min(axis=1)
    values[constant] = flat[constant, 0]
    return values
