r"""Reader and writer of Cassandra's ``.pomdp`` format, the de-facto POMDP interchange format.

The reader covers the whole grammar: the preamble (``discount``, ``values``, ``states``,
``actions``, ``observations``, ``start`` / ``start include`` / ``start exclude``) in any order,
and ``T:``, ``O:`` and ``R:`` entries in all their forms (single values, rows, matrices,
``uniform``, ``identity``), with ``*`` wildcards, names or 0-based indices, and later entries
overriding earlier ones. Rewards are reduced to the expected reward

.. math:: R(s, a) = \sum_{s', o} T(s' | s, a)\, Z(o | s', a)\, R(a, s, s', o),

negated for ``values: cost``. Errors are :class:`~decide.errors.FormatError` with the line.

The writer emits names, a ``start:`` row, per-action T and O matrices (as ``T: a : s : s' p``
entries when a large matrix is sparse) and ``R: a : s : * : * r`` lines, with numbers written by
``repr`` so that a written model reads back exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import sparse

from decide._atomic import atomic_write_text
from decide.errors import FormatError, ModelError
from decide.pomdp.cassandra.body import Body, parse_preamble, parse_start
from decide.pomdp.cassandra.lex import RESERVED, read_text, split_sections
from decide.pomdp.model import ROW_SUM_TOLERANCE, TabularPOMDP, first_invalid_row

__all__ = ["format_pomdp", "parse_pomdp", "read_pomdp", "write_pomdp"]

#: Matrices with at most this many cells are always written in full.
_DENSE_CELLS = 1 << 16


def parse_pomdp(
    text: str, *, path: str | Path | None = None, name: str | None = None
) -> TabularPOMDP:
    """Parse the text of a ``.pomdp`` file.

    Parameters
    ----------
    text : str
        The file's content.
    path : str or Path, optional
        Where the text came from; used in error messages.
    name : str, optional
        The model's name; default the stem of ``path``, else ``"pomdp"``.

    Returns
    -------
    TabularPOMDP

    Raises
    ------
    FormatError
        If the text does not follow the format or does not define a valid POMDP; ``line`` is
        the 1-based line at fault.
    """
    where = None if path is None else str(path)
    if name is None:
        name = Path(path).stem if path is not None else "pomdp"
    sections, last_line = split_sections(text, where)
    entries = [section for section in sections if section.keyword in ("T", "O", "R")]
    pre = parse_preamble(sections, entries[0].line if entries else last_line, where)
    start = pre.sections.get("start")
    b0 = parse_start(start, pre.states)
    body = Body(pre)
    for section in entries:
        body.add(section)
    T, Z = body.T.rows(), body.Z.rows()
    _check_rows("T", "s", T, body.T.line, pre, last_line, where)
    _check_rows("O", "s'", Z, body.Z.line, pre, last_line, where)
    if start is not None:
        _check_start(b0, start)
    R = body.rewards.expected(T, Z)
    try:
        return TabularPOMDP(
            T=T,
            Z=Z,
            R=-R if pre.cost else R,
            discount=pre.discount,
            b0=b0,
            states=pre.states.labels,
            actions=pre.actions.labels,
            observations=pre.observations.labels,
            name=name,
        )
    except ModelError as error:
        raise FormatError(str(error), path=where) from None


def read_pomdp(path: str | Path) -> TabularPOMDP:
    """Read a ``.pomdp`` file, naming the model after the file's stem (see :func:`parse_pomdp`)."""
    return parse_pomdp(read_text(path), path=path, name=Path(path).stem)


def _check_rows(keyword, row_name, P, lines, pre, last_line, where) -> None:
    """Raise a FormatError naming the first T/O row (of the (A*S, C) rows ``P``) with a
    negative entry or a bad sum."""
    fault = first_invalid_row(P)
    if fault is None:
        return
    row, column, value = fault
    if column is not None:
        message = f"has a negative probability {value:.9g}"
    else:
        message = f"row sums to {value:.9g}, expected 1"
        if lines[row] == 0:
            message += " (no entry sets it)"
    a, s = divmod(row, pre.states.n)
    label = f"a={pre.actions.label(a)} {row_name}={pre.states.label(s)}"
    raise FormatError(
        f"{keyword}: {label} {message}", path=where, line=int(lines[row]) or last_line
    )


def _check_start(b0: np.ndarray, section) -> None:
    if np.any(b0 < 0):
        raise section.error(f"negative probability {b0[b0 < 0][0]:.9g}")
    total = b0.sum()
    if abs(total - 1.0) > ROW_SUM_TOLERANCE:
        raise section.error(f"probabilities sum to {total:.9g}, expected 1")


def format_pomdp(pomdp: TabularPOMDP) -> str:
    """The ``.pomdp`` text of ``pomdp``; :func:`parse_pomdp` reads it back exactly.

    Raises
    ------
    ModelError
        If a label cannot be written (whitespace, ``:``, ``#``, or a reserved word).
    """
    states, actions, observations = pomdp.states, pomdp.actions, pomdp.observations
    for kind, labels in (("states", states), ("actions", actions), ("observations", observations)):
        _check_labels(kind, labels)
    lines = [
        f"# {pomdp.name}: written by decide",
        f"discount: {_number(pomdp.discount)}",
        "values: reward",
        f"states: {' '.join(states)}",
        f"actions: {' '.join(actions)}",
        f"observations: {' '.join(observations)}",
        "",
        "start:",
        _row(pomdp.b0),
        "",
    ]
    for a, action in enumerate(actions):
        lines += _matrix("T", action, pomdp.transition(a), states, states)
    if pomdp.z_stride == 0:
        lines += _matrix("O", "*", pomdp.Z_rows, states, observations)
    else:
        for a, action in enumerate(actions):
            lines += _matrix("O", action, pomdp.observation(a), states, observations)
    for s, a in zip(*np.nonzero(pomdp.R), strict=True):
        lines.append(f"R: {actions[a]} : {states[s]} : * : * {_number(pomdp.R[s, a])}")
    return "\n".join(lines) + "\n"


def write_pomdp(pomdp: TabularPOMDP, path: str | Path) -> Path:
    """Write ``pomdp`` to ``path`` atomically (see :func:`format_pomdp`); return the path."""
    return atomic_write_text(path, format_pomdp(pomdp))


def _number(value: float) -> str:
    return repr(float(value))


def _row(values: np.ndarray) -> str:
    return " ".join(map(repr, values.tolist()))


def _matrix(keyword: str, action: str, M, rows: Sequence[str], cols: Sequence[str]):
    """Lines of one action's sparse matrix: in full when small or dense, else entry by entry."""
    size = M.shape[0] * M.shape[1]
    if size <= _DENSE_CELLS or 4 * M.nnz >= size:
        return [f"{keyword}: {action}", *map(_row, M.toarray()), ""]
    entries = sparse.coo_array(M)
    return [
        f"{keyword}: {action} : {rows[i]} : {cols[j]} {value!r}"
        for i, j, value in zip(entries.row, entries.col, entries.data.tolist(), strict=True)
    ] + [""]


def _check_labels(kind: str, labels: Sequence[str]) -> None:
    for label in labels:
        if not label or label in RESERVED or any(c.isspace() or c in ":#" for c in label):
            raise ModelError(kind, f"label {label!r} cannot be written in a .pomdp file")
    if len(labels) == 1 and labels[0].isdigit():
        raise ModelError(kind, f"a single label {labels[0]!r} would be read back as a count")
