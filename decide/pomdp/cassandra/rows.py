"""T and O entries of a Cassandra file gathered as sparse rows, later entries overriding.

Entries are kept as (row, column, value, entry number) triplets with ``row = a * S + s``. An
entry that gives whole rows (``T: a : s`` with a row, ``T: a`` with a matrix, ``uniform``,
``identity``, or zeros in every column) first clears them. At the end a triplet survives if no
later entry cleared its row and no later entry set the same cell; so memory follows the entries
written, not A·S².
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from decide.pomdp.cassandra.lex import ALL


class SparseRows:
    """Accumulates the entries of one table (T or O) of shape (A, S, C)."""

    def __init__(self, n_actions: int, n_states: int, n_columns: int):
        self.shape = (n_actions, n_states, n_columns)
        self.line = np.zeros(n_actions * n_states, dtype=np.int64)
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]] = []
        self._cleared: list[tuple[np.ndarray, int]] = []

    def set(self, a, s, c, values, line: int, whole_rows: bool) -> None:
        """``table[a, s, c] = values`` (each index an int or ALL, values broadcast);
        ``whole_rows`` replaces the rows touched."""
        S = self.shape[1]
        actions, states, columns = (
            np.arange(n) if index is ALL else np.array([index])
            for index, n in zip((a, s, c), self.shape, strict=True)
        )
        rows = (actions[:, None] * S + states[None, :]).ravel()
        number = len(self._parts)
        if not sparse.issparse(values) and columns.size == self.shape[2] and not np.any(values):
            whole_rows = True  # zeros in every column (``T: * : * : * 0``) clear the rows
        if sparse.issparse(values):  # a whole-row matrix such as identity
            entries = sparse.coo_array(values)
            r, k, v = entries.row, entries.col, entries.data
        else:
            block = np.broadcast_to(values, (rows.size, columns.size))
            if whole_rows:
                r, k = np.nonzero(block)
            else:  # explicit zeros override too
                r, k = np.divmod(np.arange(block.size), columns.size)
            v = block[r, k]
        if whole_rows:
            self._cleared.append((rows, number))
        self._parts.append((rows[r], columns[k], np.asarray(v, dtype=np.float64), number))
        self.line[rows] = line

    def rows(self) -> sparse.csr_array:
        """The (A*S, C) matrix the entries define."""
        A, S, C = self.shape
        if not self._parts:
            return sparse.csr_array((A * S, C))
        r = np.concatenate([p[0] for p in self._parts])
        c = np.concatenate([p[1] for p in self._parts])
        v = np.concatenate([p[2] for p in self._parts])
        n = np.concatenate([np.full(p[0].size, p[3]) for p in self._parts])
        last_clear = np.full(A * S, -1)
        for rows, number in self._cleared:
            last_clear[rows] = number
        keep = n >= last_clear[r]
        r, c, v, n = r[keep], c[keep], v[keep], n[keep]
        order = np.lexsort((n, c, r))
        r, c, v = r[order], c[order], v[order]
        latest = np.ones(r.size, dtype=bool)
        latest[:-1] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
        r, c, v = r[latest], c[latest], v[latest]
        matrix = sparse.csr_array((v, (r, c)), shape=(A * S, C))
        matrix.eliminate_zeros()
        return matrix
