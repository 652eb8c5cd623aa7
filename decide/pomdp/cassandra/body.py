"""Syntax layer of the Cassandra ``.pomdp`` reader: the preamble, ``start`` and T/O/R entries."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from decide.errors import FormatError
from decide.pomdp.cassandra.lex import ALL, Names, Section, number_block, scalar
from decide.pomdp.cassandra.rewards import RewardTable
from decide.pomdp.cassandra.rows import SparseRows

PREAMBLE = ("discount", "values", "states", "actions", "observations")
START = ("start", "start include", "start exclude")
_REQUIRED = ("discount", "states", "actions", "observations")
_MAX_SPECS = {"T": 3, "O": 3, "R": 4}


@dataclass
class Preamble:
    """The parsed preamble; ``sections`` maps each keyword to its (single) section."""

    sections: dict[str, Section] = field(default_factory=dict)
    discount: float = 0.0
    cost: bool = False
    states: Names | None = None
    actions: Names | None = None
    observations: Names | None = None


def parse_preamble(sections: list[Section], line: int, path: str | None) -> Preamble:
    """Parse every preamble and start section; ``line`` locates a missing-item error."""
    pre = Preamble()
    for section in sections:
        if section.keyword in PREAMBLE or section.keyword in START:
            key = "start" if section.keyword in START else section.keyword
            if key in pre.sections:
                first = pre.sections[key].line
                raise section.error(f"given a second time (first on line {first})")
            pre.sections[key] = section
    for key in _REQUIRED:
        if key not in pre.sections:
            raise FormatError(f"missing '{key}:' in the preamble", path=path, line=line)
    pre.discount = _discount(pre.sections["discount"])
    if "values" in pre.sections:
        pre.cost = _values(pre.sections["values"])
    pre.states = Names.from_section("state", pre.sections["states"])
    pre.actions = Names.from_section("action", pre.sections["actions"])
    pre.observations = Names.from_section("observation", pre.sections["observations"])
    return pre


def _discount(section: Section) -> float:
    tokens = section.tokens()
    value = scalar(section, tokens, 0, "the discount factor")
    if not 0.0 < value < 1.0:
        raise section.error(f"expected a discount factor in (0, 1), got {tokens[0]}")
    return float(value)


def _values(section: Section) -> bool:
    tokens = section.tokens()
    if tokens not in (["reward"], ["cost"]):
        raise section.error(f"expected 'reward' or 'cost', got {' '.join(tokens)!r}")
    return tokens == ["cost"]


def parse_start(section: Section | None, states: Names) -> np.ndarray:
    """The initial belief from ``start:``, ``start include:`` or ``start exclude:``."""
    S = states.n
    if section is None:
        return np.full(S, 1.0 / S)
    tokens = section.tokens()
    if not tokens:
        raise section.error("expected a probability row, 'uniform' or state names")
    if section.keyword == "start":
        if tokens == ["uniform"]:
            return np.full(S, 1.0 / S)
        if len(tokens) == 1 and (S > 1 or not _is_number(tokens[0])):
            b0 = np.zeros(S)
            b0[states.resolve(section, tokens, 0, wildcard=False)] = 1.0
            return b0
        return number_block(section, tokens, 0, (S,), "one probability per state")
    chosen = np.zeros(S, dtype=bool)
    for k in range(len(tokens)):
        chosen[states.resolve(section, tokens, k, wildcard=False)] = True
    if section.keyword == "start exclude":
        chosen = ~chosen
    if not chosen.any():
        raise section.error("leaves no state to start in")
    return chosen / chosen.sum()


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


class Body:
    """The arrays being filled by T/O/R entries, in file order (later entries override)."""

    def __init__(self, pre: Preamble):
        A, S, O = pre.actions.n, pre.states.n, pre.observations.n
        self.pre = pre
        self.T = SparseRows(A, S, S)
        self.Z = SparseRows(A, S, O)
        self.rewards = RewardTable(A, S, O)

    def add(self, section: Section) -> None:
        """Apply one ``T:``, ``O:`` or ``R:`` section."""
        tokens = section.tokens()
        specs, first = _split_specs(section, tokens)
        if section.keyword == "R":
            self._reward(section, tokens, specs, first)
        else:
            self._probability(section, tokens, specs, first)

    def _indices(self, section: Section, tokens: list[str], specs: list[int]) -> list:
        pre = self.pre
        axes = (pre.actions, pre.states, pre.observations if section.keyword == "O" else pre.states)
        if section.keyword == "R":
            axes = (pre.actions, pre.states, pre.states, pre.observations)
        return [names.resolve(section, tokens, k) for names, k in zip(axes, specs, strict=False)]

    def _probability(self, section, tokens, specs, first) -> None:
        is_T = section.keyword == "T"
        target = self.T if is_T else self.Z
        index = self._indices(section, tokens, specs) + [ALL] * (3 - len(specs))
        n_rows, n_out = target.shape[1:]
        what = "state" if is_T else "observation"
        if len(specs) == 3:
            value = scalar(section, tokens, first, "a probability")
        elif tokens[first:] == ["uniform"]:
            value = 1.0 / n_out
        elif len(specs) == 2:
            value = number_block(section, tokens, first, (n_out,), f"one per {what}")
        else:
            value = self._matrix(section, tokens, first, (n_rows, n_out), what)
            if index[0] is ALL:
                copies = [value] * self.pre.actions.n
                value = (
                    sparse.vstack(copies, format="csr")
                    if sparse.issparse(value)
                    else np.vstack(copies)
                )
        target.set(*index, value, section.line, whole_rows=len(specs) < 3)

    def _matrix(self, section, tokens, first, shape, what) -> np.ndarray:
        values = tokens[first:]
        if values == ["identity"]:
            if shape[0] != shape[1]:
                raise section.error(f"'identity' needs as many {what}s as states", first)
            return sparse.identity(shape[0], format="csr")
        return number_block(section, tokens, first, shape, f"a {shape[0]}x{shape[1]} matrix")

    def _reward(self, section, tokens, specs, first) -> None:
        if len(specs) < 2:
            raise section.error("expected at least 'R: action : state'")
        index = self._indices(section, tokens, specs) + [ALL] * (4 - len(specs))
        O = self.pre.observations.n
        if len(specs) == 4:
            value = scalar(section, tokens, first, "a reward")
        elif len(specs) == 3:
            value = number_block(section, tokens, first, (O,), "one per observation")
        else:
            shape = (self.pre.states.n, O)
            value = number_block(section, tokens, first, shape, "a states x observations matrix")
        self.rewards.add(*index, value)


def _split_specs(section: Section, tokens: list[str]) -> tuple[list[int], int]:
    """Token positions of the ``a : s : …`` specifiers and the position of the first value."""
    if not tokens or tokens[0] == ":":
        raise section.error("expected an action after the colon", 0)
    specs, k = [0], 1
    while k < len(tokens) and tokens[k] == ":":
        if k + 1 >= len(tokens) or tokens[k + 1] == ":":
            raise section.error("expected a name, an index or '*' after ':'", k)
        specs.append(k + 1)
        k += 2
    if len(specs) > _MAX_SPECS[section.keyword]:
        raise section.error("too many ':'-separated fields", specs[_MAX_SPECS[section.keyword]])
    if ":" in tokens[k:]:
        raise section.error("unexpected ':' among the values", tokens.index(":", k))
    if k >= len(tokens):
        raise section.error("expected values after the entry's fields")
    return specs, k
