r"""The flat model of a POMDPX file built as sparse rows, one factor at a time.

A row of the flat table is a joint value of its *row variables* (the action and the previous
state variables for T; the action, if any observation depends on it, and the current state
variables for Z). Starting from one entry per row, each output variable multiplies every entry
by the nonzero entries of its conditional table at the row's parent values:

.. math:: P(x_1' \dots x_n' \mid r) = \prod_i P(x_i' \mid \mathrm{pa}_i(r)),

and appends its value to the column (the first variable varies slowest). The number of entries
is known before any is made (:func:`count_entries`), so memory is checked first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse


@dataclass(frozen=True)
class Layout:
    """Row variables (names and sizes, the first slowest) of a flat table."""

    names: tuple[str, ...]
    sizes: tuple[int, ...]

    @property
    def n_rows(self) -> int:
        return math.prod(self.sizes)

    def coordinate(self, name: str, rows: np.ndarray) -> np.ndarray:
        """The value index of variable ``name`` in each of the joint ``rows``."""
        k = self.names.index(name)
        return (rows // math.prod(self.sizes[k + 1 :])) % self.sizes[k]


@dataclass(frozen=True)
class Factor:
    """One conditional table: ``table[config, value]`` with ``config`` the parents' joint value."""

    parents: tuple[str, ...]
    parent_sizes: tuple[int, ...]
    table: sparse.csr_array

    def configs(self, layout: Layout, rows: np.ndarray) -> np.ndarray:
        config = np.zeros(rows.size, dtype=np.int64)
        for name, size in zip(self.parents, self.parent_sizes, strict=True):
            config = config * size + layout.coordinate(name, rows)
        return config


def count_entries(layout: Layout, factors: list[Factor]) -> int:
    """Nonzero entries of the product table, without making it."""
    rows = np.arange(layout.n_rows)
    counts = np.ones(rows.size, dtype=np.int64)
    for factor in factors:
        counts *= np.diff(factor.table.indptr)[factor.configs(layout, rows)]
    return int(counts.sum())


def product_rows(layout: Layout, factors: list[Factor]) -> sparse.csr_array:
    """The (rows, ∏ sizes) table of the product of ``factors`` (in output-variable order)."""
    row = np.arange(layout.n_rows)
    col = np.zeros(row.size, dtype=np.int64)
    prob = np.ones(row.size)
    for factor in factors:
        ptr, idx, val = factor.table.indptr, factor.table.indices, factor.table.data
        config = factor.configs(layout, row)
        counts = np.diff(ptr)[config]
        first = np.repeat(ptr[config] - (np.cumsum(counts) - counts), counts)
        position = first + np.arange(first.size)
        row = np.repeat(row, counts)
        col = np.repeat(col, counts) * factor.table.shape[1] + idx[position]
        prob = np.repeat(prob, counts) * val[position]
    n_cols = math.prod(f.table.shape[1] for f in factors)
    indptr = np.zeros(layout.n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=layout.n_rows), out=indptr[1:])
    return sparse.csr_array((prob, col, indptr), shape=(layout.n_rows, n_cols))
