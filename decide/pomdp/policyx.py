r"""Reader and writer of SARSOP's alpha-vector policy XML (``.policy`` / ``.policyx``).

::

    <?xml version="1.0" encoding="ISO-8859-1"?>
    <Policy version="0.1" type="value" model="NAME" …>
    <AlphaVector vectorLength="S" numObsValue="1" numVectors="K">
    <Vector action="a" obsValue="0">v_0 v_1 … v_{S-1} </Vector>
    <SparseVector action="a" obsValue="0"><Entry>i v_i</Entry>…</SparseVector>
    </AlphaVector> </Policy>

The value function is :math:`V(b) = \max_k b \cdot \alpha_k`. A flat model's policy has
``numObsValue="1"`` and every ``obsValue`` 0; a mixed-observability (MOMDP) policy has
``numObsValue`` observed values, vectors over the hidden part (``vectorLength``) and the observed
value of each vector in ``obsValue``. Absent entries of a sparse vector are 0.
:func:`load_policy` reads either this format or decide's netCDF policy.
"""

from __future__ import annotations

import contextlib
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.parsers import expat
from xml.sax.saxutils import quoteattr

import numpy as np

from decide import results
from decide._atomic import atomic_write_text
from decide.errors import FormatError, ModelError
from decide.pomdp.policy import AlphaVectorPolicy

__all__ = ["format_policyx", "load_policy", "parse_policyx", "read_policyx", "write_policyx"]

#: Characters XML 1.0 cannot hold, even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class _Source:
    """The raw document, to give the line of an element in error messages."""

    def __init__(self, data: bytes, path: str | None):
        self.data = data
        self.path = path
        self._vector_lines: list[int] | None = None

    def line_of(self, tag: bytes) -> int:
        """The line of the first occurrence of ``tag`` (1 if absent)."""
        return self.data.count(b"\n", 0, max(self.data.find(tag), 0)) + 1

    def vector_line(self, k: int) -> int | None:
        """The line of the ``k``-th child of ``<AlphaVector>`` (the elements at depth 2)."""
        if self._vector_lines is None:
            self._vector_lines = _lines_at_depth(self.data, 2)
        return self._vector_lines[k] if k < len(self._vector_lines) else None

    def error(self, message: str, vector: int | None = None, *, at: bytes = b"<AlphaVector"):
        """A FormatError at the ``vector``-th vector element, else at the first ``at``."""
        line = None if vector is None else self.vector_line(vector)
        return FormatError(message, path=self.path, line=line or self.line_of(at))


def _lines_at_depth(data: bytes, depth: int) -> list[int]:
    """Start lines of the elements nested ``depth`` levels below the root."""
    parser = expat.ParserCreate()
    lines: list[int] = []
    level = 0

    def start(name, attributes):
        nonlocal level
        if level == depth:
            lines.append(parser.CurrentLineNumber)
        level += 1

    def end(name):
        nonlocal level
        level -= 1

    parser.StartElementHandler, parser.EndElementHandler = start, end
    with contextlib.suppress(expat.ExpatError):  # the document was parsed once already
        parser.Parse(data, True)
    return lines


def parse_policyx(text: str | bytes, *, path: str | Path | None = None) -> AlphaVectorPolicy:
    """Parse the text of a SARSOP policy file.

    Parameters
    ----------
    text : str or bytes
        The document (bytes are decoded as the XML declaration says).
    path : str or Path, optional
        Where it came from, for error messages.

    Returns
    -------
    AlphaVectorPolicy

    Raises
    ------
    FormatError
        If the document is not well-formed XML or not a flat SARSOP alpha-vector policy.
    """
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    source = _Source(data, None if path is None else str(path))
    try:
        root = ET.fromstring(text)
    except ET.ParseError as error:
        message = f"not well-formed XML ({error})"
        raise FormatError(message, path=source.path, line=error.position[0]) from None
    block = _alpha_block(root, source)
    length = _int_attr(block, "vectorLength", source, minimum=1)
    n_obs = _int_attr(block, "numObsValue", source, minimum=1, default=1)
    vectors = list(block)
    if not vectors:
        raise source.error("the policy holds no vectors")
    declared = _int_attr(block, "numVectors", source, minimum=1, default=len(vectors))
    if declared != len(vectors):
        raise source.error(f"numVectors={declared} but the file holds {len(vectors)} vectors")
    actions, obs_value, alpha = zip(
        *(_vector(e, k, length, n_obs, source) for k, e in enumerate(vectors)), strict=True
    )
    mixed = np.array(obs_value, dtype=np.int64) if n_obs > 1 else None
    try:
        return AlphaVectorPolicy(np.stack(alpha), np.array(actions, dtype=np.int64), mixed)
    except ModelError as error:  # pragma: no cover - every field is checked above
        raise source.error(str(error)) from None


def read_policyx(path: str | Path) -> AlphaVectorPolicy:
    """Read a SARSOP policy file (see :func:`parse_policyx`)."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise FormatError(f"cannot read file ({error.strerror or error})", path=path) from None
    return parse_policyx(data, path=path)


def _alpha_block(root: ET.Element, source: _Source) -> ET.Element:
    if root.tag != "Policy":
        raise source.error(f"expected a <Policy> document, found <{root.tag}>", at=b"<")
    blocks = root.findall("AlphaVector")
    if len(blocks) != 1:
        raise source.error(f"expected one <AlphaVector> element, found {len(blocks)}")
    return blocks[0]


def _int_attr(element, name, source, *, minimum=0, default=None, vector=None) -> int:
    """The integer attribute ``name``, in [minimum, 2**62]; ``default`` when absent."""
    raw = element.get(name)
    if raw is None:
        if default is not None:
            return default
        raise source.error(f"<{element.tag}> lacks the attribute {name!r}", vector)
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not minimum <= value <= 2**62:
        message = f"<{element.tag}> {name}={raw!r}: expected an integer >= {minimum}"
        raise source.error(message, vector)
    return value


def _vector(element: ET.Element, k: int, length: int, n_obs: int, source: _Source):
    """The action, observed value and dense values of the ``k``-th vector element."""
    if element.tag not in ("Vector", "SparseVector"):
        raise source.error(f"unexpected element <{element.tag}> among the vectors", k)
    action = _int_attr(element, "action", source, vector=k)
    obs_value = _int_attr(element, "obsValue", source, default=0, vector=k)
    if obs_value >= n_obs:
        raise source.error(f"obsValue={obs_value} but numObsValue is {n_obs}", k)
    if element.tag == "Vector":
        values = _numbers(element.text or "", k, source)
        if values.size != length:
            message = f"vector {k} has {values.size} entries, vectorLength is {length}"
            raise source.error(message, k)
        return action, obs_value, values
    values = np.zeros(length)
    seen = set()
    for entry in element:
        pair = _numbers(entry.text or "", k, source) if entry.tag == "Entry" else ()
        if len(pair) != 2 or pair[0] != int(pair[0]) or not 0 <= pair[0] < length:
            message = f"vector {k}: expected <Entry>index value</Entry> with index < {length}"
            raise source.error(message, k)
        if int(pair[0]) in seen:
            raise source.error(f"vector {k}: index {int(pair[0])} appears twice", k)
        seen.add(int(pair[0]))
        values[int(pair[0])] = pair[1]
    return action, obs_value, values


def _numbers(text: str, k: int, source: _Source) -> np.ndarray:
    try:
        values = np.array([float(token) for token in text.split()], dtype=np.float64)
    except ValueError:
        raise source.error(f"vector {k}: non-numeric value", k) from None
    if not np.all(np.isfinite(values)):
        raise source.error(f"vector {k}: NaN or infinite value", k)
    return values


def format_policyx(policy: AlphaVectorPolicy, model: str = "") -> str:
    """The SARSOP XML of ``policy``, numbers written by ``repr`` so that they read back exactly.

    Characters that XML cannot hold are dropped from ``model``.
    """
    model = _NOT_XML.sub("", model)
    lines = [
        '<?xml version="1.0" encoding="ISO-8859-1"?>',
        f'<Policy version="0.1" type="value" model={quoteattr(model)} xmlns:xsi='
        '"http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="policyx.xsd">',
        f'<AlphaVector vectorLength="{policy.alpha.shape[1]}" numObsValue="{_n_obs(policy)}" '
        f'numVectors="{policy.n_vectors}">',
    ]
    obs_value = policy.obs_value if policy.mixed else np.zeros(policy.n_vectors, dtype=np.int64)
    rows = zip(policy.actions.tolist(), obs_value.tolist(), policy.alpha.tolist(), strict=True)
    for action, x, values in rows:
        numbers = "".join(f"{value!r} " for value in values)
        lines.append(f'<Vector action="{action}" obsValue="{x}">{numbers}</Vector>')
    lines.append("</AlphaVector> </Policy>")
    return "\n".join(lines) + "\n"


def _n_obs(policy: AlphaVectorPolicy) -> int:
    if not policy.mixed:
        return 1
    if policy.observed is not None:
        return policy.observed.n_values
    return int(policy.obs_value.max()) + 1


def write_policyx(policy: AlphaVectorPolicy, path: str | Path, *, model: str = "") -> Path:
    """Write ``policy`` to ``path`` atomically in SARSOP's format; return the path."""
    text = format_policyx(policy, model)
    text = text.encode("latin-1", "xmlcharrefreplace").decode("latin-1")
    return atomic_write_text(path, text, encoding="latin-1")


def load_policy(path: str | Path) -> AlphaVectorPolicy:
    """Read a policy from our netCDF (``.nc``) or a SARSOP XML file (``.policy``/``.policyx``)."""
    path = Path(path)
    if not path.is_file():
        raise FormatError("no such policy file", path=path)
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"\x89HDF") or head.startswith(b"CDF"):
        return AlphaVectorPolicy.from_dataset(
            results.read(path, required_vars=("alpha_vector", "action"))
        )
    return read_policyx(path)
