"""Lexical layer of the Cassandra ``.pomdp`` reader: sections, numbers and names.

A file is cut into *sections*, one per keyword (``discount:``, ``T:``, ``start include:`` …) up to
the next keyword, so that the number of values each entry carries is known exactly. Line numbers
are computed from offsets only when an error needs one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from decide.errors import FormatError

#: Words that cannot be used as state, action or observation names.
RESERVED = frozenset(
    {
        *("discount", "values", "states", "actions", "observations", "start", "include"),
        *("exclude", "T", "O", "R", "uniform", "identity", "reset", "reward", "cost", "*"),
    }
)

ALL = slice(None)
"""A resolved ``*``: every index of its axis."""

_COMMENT = re.compile(r"#[^\n]*")
_KEYWORD = re.compile(
    r"(?<!\S)(discount|values|states|actions|observations|start(?:\s+(?:include|exclude))?"
    r"|T|O|R)\s*:"
)
_TOKEN = re.compile(r"[^\s:]+|:")


@dataclass(frozen=True)
class Section:
    """One keyword and the text that follows its colon up to the next keyword."""

    keyword: str
    line: int
    body_line: int
    text: str
    path: str | None

    def tokens(self) -> list[str]:
        """The whitespace-separated tokens of the body, ``:`` being a token of its own."""
        return self.text.replace(":", " : ").split()

    def token_line(self, k: int) -> int:
        """The line of the ``k``-th token of :meth:`tokens` (the section's line if out of range)."""
        for i, match in enumerate(_TOKEN.finditer(self.text)):
            if i == k:
                return self.body_line + self.text.count("\n", 0, match.start())
        return self.line

    def error(self, message: str, token: int | None = None) -> FormatError:
        """A :class:`FormatError` located at this section or at one of its tokens."""
        line = self.line if token is None else self.token_line(token)
        return FormatError(f"{self.keyword}: {message}", path=self.path, line=line)


def split_sections(text: str, path: str | None) -> tuple[list[Section], int]:
    """Cut ``text`` into sections; also return the number of the last line.

    Raises
    ------
    FormatError
        If anything other than whitespace or comments precedes the first keyword.
    """
    text = _COMMENT.sub("", text)
    last_line = text.count("\n", 0, len(text.rstrip())) + 1
    matches = list(_KEYWORD.finditer(text))
    head_end = matches[0].start() if matches else len(text)
    head = text[:head_end]
    if head.strip():
        offset = len(head) - len(head.lstrip())
        raise FormatError(
            f"unexpected text {head.split()[0]!r}, expected a keyword such as 'states:'",
            path=path,
            line=text.count("\n", 0, offset) + 1,
        )
    sections = []
    line, position = 1, 0
    for i, match in enumerate(matches):
        line += text.count("\n", position, match.start())
        position = match.start()
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        body_line = line + text.count("\n", match.start(), match.end())
        keyword = " ".join(match.group(1).split())
        sections.append(Section(keyword, line, body_line, text[match.end() : end], path))
    return sections, last_line


def floats(section: Section, tokens: Sequence[str], first: int = 0) -> np.ndarray:
    """The tokens from index ``first`` on as finite float64 numbers."""
    values = tokens[first:]
    try:
        array = np.array(list(map(float, values)), dtype=np.float64)
    except ValueError:
        for k, token in enumerate(values):
            try:
                float(token)
            except ValueError:
                raise section.error(f"expected a number, got {token!r}", first + k) from None
        raise  # pragma: no cover - float() failed above, so one token must fail here
    finite = np.isfinite(array)
    if not finite.all():
        k = int(np.argmin(finite))
        raise section.error(f"expected a finite number, got {values[k]!r}", first + k)
    return array


def scalar(section: Section, tokens: Sequence[str], first: int, what: str) -> float:
    """The single number ``tokens[first]``, which must be the last token; ``what`` names it."""
    if len(tokens) == first + 1:
        try:
            value = float(tokens[first])
        except ValueError:
            value = math.nan
        if math.isfinite(value):
            return value
    return float(number_block(section, tokens, first, (1,), what)[0])


def number_block(
    section: Section, tokens: Sequence[str], first: int, shape: tuple[int, ...], what: str
) -> np.ndarray:
    """Exactly ``prod(shape)`` numbers from ``tokens[first:]``, reshaped; ``what`` names them."""
    expected = math.prod(shape)
    found = len(tokens) - first
    if found < expected:
        raise section.error(f"expected {expected} numbers ({what}), found {found}")
    if found > expected:
        raise section.error(
            f"expected {expected} numbers ({what}), found {found}: "
            f"unexpected {tokens[first + expected]!r}",
            first + expected,
        )
    return floats(section, tokens, first).reshape(shape)


class Names:
    """The states, actions or observations of a model: their count, labels and name lookup."""

    def __init__(self, kind: str, labels: Sequence[str], count: int):
        self.kind = kind
        self.labels = tuple(labels)
        self.n = count
        self._lookup = {str(i): i for i in range(count)}
        self._lookup.update({name: i for i, name in enumerate(self.labels)})

    @classmethod
    def from_section(cls, kind: str, section: Section) -> Names:
        """Parse ``states: N`` or ``states: name name …``."""
        tokens = section.tokens()
        if not tokens:
            raise section.error(f"expected a count or a list of {kind} names")
        if len(tokens) == 1 and tokens[0].isdigit():
            count = int(tokens[0])
            if count < 1:
                raise section.error(f"expected at least one {kind}, got {count}", 0)
            return cls(kind, (), count)
        seen: dict[str, int] = {}
        for k, name in enumerate(tokens):
            if name in RESERVED:
                raise section.error(f"{name!r} is a reserved word, not a {kind} name", k)
            if name in seen:
                raise section.error(f"{kind} name {name!r} appears twice", k)
            seen[name] = k
        return cls(kind, tokens, len(tokens))

    def resolve(self, section: Section, tokens: Sequence[str], k: int, wildcard: bool = True):
        """The index named by ``tokens[k]`` (name or 0-based index); :data:`ALL` for ``*``."""
        token = tokens[k]
        if token == "*" and wildcard:
            return ALL
        index = self._lookup.get(token)
        if index is not None:
            return index
        try:
            number = int(token)
        except ValueError:
            raise section.error(f"unknown {self.kind} {token!r}", k) from None
        if 0 <= number < self.n:
            return number
        raise section.error(f"{self.kind} index {number} out of range 0..{self.n - 1}", k)

    def label(self, index: int) -> str:
        """The name of ``index`` for messages (the index itself when the file gave a count)."""
        return self.labels[index] if self.labels else str(index)


def read_text(path: str | Path) -> str:
    """The text of ``path`` (UTF-8 with or without a byte-order mark, else Latin-1)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise FormatError(f"cannot read file ({error.strerror or error})", path=path) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")
