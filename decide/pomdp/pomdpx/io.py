r"""Reader and writer of POMDPX, SARSOP's factored XML model format.

A POMDPX file declares state variables (each with a previous and a current name), observation
variables, one action variable and reward variables; conditional probability tables give the
initial belief, the transition of each state variable and the distribution of each observation
variable given their parents, and ``<Func>`` tables give additive rewards. The joint state is the
product of the state variables in their declared order (the first varies slowest), likewise the
joint observation, and

.. math:: T(s' \mid s, a) = \prod_i P(x_i' \mid \mathrm{pa}_i), \quad
          Z(o \mid s', a) = \prod_j P(o_j \mid \mathrm{pa}_j), \quad
          R(s, a) = \sum_k \mathbb{E}_{s'}\, r_k(\mathrm{pa}_k).

A ``TBL`` entry's ``<Instance>`` names one value per parent and then one of the variable itself:
a value name (``s3``, ``o3``, ``a3`` where ``<NumValues>`` counts them; or a 0-based index),
``*`` (every value, the table's numbers repeated) or ``-``
(every value, the table listing them in order, last position fastest). ``identity`` and
``uniform`` stand for those tables; a later entry overrides an earlier one. The XML is parsed
with expat and any document type declaration is refused, so no entity is ever expanded. Every
fault raises :class:`decide.errors.FormatError` with the line of the element at fault.

``fullyObs`` variables make the model a MOMDP: their joint value is the model's ``observed``
part, and it is joined to the observation unless the observation variables already reveal it, so
that the flat POMDP over the joint state is the same decision problem. :func:`write_pomdpx`
writes a flat POMDP as one state, one observation and one action variable, rows in full or, where
sparse, entry by entry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

import numpy as np
from scipy import sparse

from decide._atomic import atomic_write_text
from decide.errors import FormatError, ModelError
from decide.pomdp.memory import require
from decide.pomdp.model import TabularPOMDP, observed_part_fault
from decide.pomdp.pomdpx.joint import Factor, Layout, count_entries, product_rows


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    line: int
    children: list[_Node] = field(default_factory=list)
    text: str = ""

    def all(self, tag: str) -> list[_Node]:
        return [c for c in self.children if c.tag == tag]

    def one(self, tag: str, where: str) -> _Node:
        found = self.all(tag)
        if len(found) != 1:
            raise FormatError(f"<{self.tag}>: expected one <{tag}>, found {len(found)}", path=where,
                              line=self.line)  # fmt: skip
        return found[0]


def _parse_xml(text: str | bytes, where: str) -> _Node:
    """The element tree with line numbers; a DOCTYPE (and so any entity) is refused."""
    parser = expat.ParserCreate()
    root = _Node("#document", {}, 1)
    stack = [root]

    def start(tag, attrs):
        node = _Node(tag, attrs, parser.CurrentLineNumber)
        stack[-1].children.append(node)
        stack.append(node)

    def end(tag):
        stack.pop()

    def data(chunk):
        stack[-1].text += chunk

    def doctype(*args):
        raise FormatError("document type declarations are not allowed", path=where,
                          line=parser.CurrentLineNumber)  # fmt: skip

    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler, parser.StartDoctypeDeclHandler = data, doctype
    parser.EntityDeclHandler = doctype
    try:
        parser.Parse(text, True)
    except expat.ExpatError as error:
        raise FormatError(f"not well-formed XML: {expat.errors.messages[error.code]}", path=where,
                          line=error.lineno) from None  # fmt: skip
    if len(root.children) != 1 or root.children[0].tag != "pomdpx":
        raise FormatError("expected a <pomdpx> root element", path=where, line=1)
    return root.children[0]


@dataclass(frozen=True)
class _Var:
    values: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class PomdpxModel:
    """A POMDPX file read: the flat POMDP and the factored layout it came from."""

    pomdp: TabularPOMDP
    state_variables: tuple[tuple[str, tuple[str, ...]], ...]
    observation_variables: tuple[tuple[str, tuple[str, ...]], ...]
    fully_observed: tuple[str, ...]


class _Reader:
    def __init__(self, root: _Node, where: str):
        self.root, self.where = root, where
        variables = root.one("Variable", where)
        self.prev: dict[str, _Var] = {}
        self.curr: dict[str, _Var] = {}
        self.obs: dict[str, _Var] = {}
        self.fully: list[str] = []
        for node in variables.all("StateVar"):
            var = self._values(node)
            prev, curr = self._attr(node, "vnamePrev"), self._attr(node, "vnameCurr")
            self.prev[prev], self.curr[curr] = var, var
            if node.attrs.get("fullyObs", "false").strip().lower() == "true":
                self.fully.append(prev)
        for node in variables.all("ObsVar"):
            self.obs[self._attr(node, "vname")] = self._values(node)
        actions = variables.all("ActionVar")
        if len(actions) != 1:
            raise self.error(variables, f"expected one <ActionVar>, found {len(actions)}")
        self.action_name = self._attr(actions[0], "vname")
        self.action = self._values(actions[0])
        self.rewards = {self._attr(n, "vname") for n in variables.all("RewardVar")}
        if not self.prev or not self.obs:
            raise self.error(variables, "expected at least one <StateVar> and one <ObsVar>")

    def error(self, node: _Node, message: str) -> FormatError:
        return FormatError(f"<{node.tag}>: {message}", path=self.where, line=node.line)

    def _attr(self, node: _Node, name: str) -> str:
        if not node.attrs.get(name, "").strip():
            raise self.error(node, f"missing attribute {name!r}")
        return node.attrs[name].strip()

    def _values(self, node: _Node) -> _Var:
        enum, count = node.all("ValueEnum"), node.all("NumValues")
        if len(enum) + len(count) != 1:
            raise self.error(node, "expected one <ValueEnum> or <NumValues>")
        if enum:
            names = tuple(enum[0].text.split())
        else:
            try:
                n = int(count[0].text)
            except ValueError:
                got = count[0].text.strip()
                raise self.error(count[0], f"expected a count, got {got!r}") from None
            prefix = {"StateVar": "s", "ObsVar": "o", "ActionVar": "a"}[node.tag]
            names = tuple(f"{prefix}{i}" for i in range(n))
        if not names or len(set(names)) != len(names):
            raise self.error(node, "expected distinct value names, at least one")
        return _Var(names)

    def variable(self, name: str, node: _Node) -> _Var:
        for table in (self.prev, self.curr, self.obs):
            if name in table:
                return table[name]
        if name == self.action_name:
            return self.action
        raise self.error(node, f"unknown variable {name!r}")

    # ---- tables ----

    def table(self, node: _Node, kind: str) -> tuple[list[str], np.ndarray]:
        """The axes' variable names and the dense table of a <CondProb> (kind "prob", axes
        parents then the variable) or a <Func> (kind "value", axes the parents)."""
        var_node = node.one("Var", self.where)
        var = var_node.text.strip()
        parents_text = node.one("Parent", self.where).text.split()
        parents = [] if parents_text == ["null"] else parents_text
        names = parents + ([var] if kind == "prob" else [])
        if kind == "value" and var not in self.rewards:
            raise self.error(var_node, f"expected a reward variable, got {var!r}")
        dims = [self.variable(name, node) for name in names]
        out = np.zeros([d.size for d in dims])
        parameter = node.one("Parameter", self.where)
        if parameter.attrs.get("type", "TBL").strip() != "TBL":
            raise self.error(parameter, "only type='TBL' is supported")
        body = "ProbTable" if kind == "prob" else "ValueTable"
        for entry in parameter.all("Entry"):
            self._entry(entry, body, dims, out)
        return names, out

    def _entry(self, entry: _Node, body: str, dims: list[_Var], out: np.ndarray) -> None:
        instance = entry.one("Instance", self.where)
        tokens = instance.text.split()
        if len(tokens) != len(dims):
            raise self.error(instance, f"expected {len(dims)} values, got {len(tokens)}")
        index, shape = [], []
        for token, dim in zip(tokens, dims, strict=True):
            if token in ("*", "-"):
                index.append(slice(None))
                shape.append(dim.size if token == "-" else 1)
            else:
                index.append(self._value_index(token, dim, instance))
                shape.append(1)
        table = entry.one(body, self.where)
        values = self._numbers(table, tokens, dims, shape)
        target = out[tuple(index)]
        keep = [s for s, i in zip(shape, index, strict=True) if isinstance(i, slice)]
        out[tuple(index)] = np.broadcast_to(values.reshape(keep), target.shape)

    def _value_index(self, token: str, dim: _Var, node: _Node) -> int:
        if token in dim.values:
            return dim.values.index(token)
        if token.isdigit() and int(token) < dim.size:
            return int(token)
        raise self.error(node, f"unknown value {token!r}; expected one of {' '.join(dim.values)}")

    def _numbers(self, table: _Node, tokens, dims, shape) -> np.ndarray:
        text = table.text.split()
        dashes = [d.size for t, d in zip(tokens, dims, strict=True) if t == "-"]
        if text == ["identity"]:
            if len(dashes) != 2 or dashes[0] != dashes[1]:
                raise self.error(table, "identity needs two '-' positions of the same size")
            return np.eye(dashes[0])
        if text == ["uniform"]:
            if tokens[-1] not in ("*", "-"):
                raise self.error(table, "uniform needs '*' or '-' in the last position")
            return np.full(math.prod(dashes), 1.0 / dims[-1].size)
        try:
            numbers = np.array([float(x) for x in text])
        except ValueError:
            got = " ".join(text[:3])
            raise self.error(table, f"expected numbers, identity or uniform, got {got!r}") from None
        if not np.all(np.isfinite(numbers)):
            raise self.error(table, "expected finite numbers")
        need = math.prod(dashes)
        if numbers.size == need:
            return numbers
        if numbers.size == 1:
            return np.full(need, numbers[0])
        raise self.error(table, f"expected {need} numbers, got {numbers.size}")

    # ---- the flat model ----

    def factors(self, section: str, outputs: list[str], allowed: set[str]) -> list[Factor]:
        """One factor per output variable, in order, from the <CondProb>s of ``section``."""
        node = self.root.one(section, self.where)
        found: dict[str, Factor] = {}
        for child in node.all("CondProb"):
            axes, table = self.table(child, "prob")
            var, parents = axes[-1], axes[:-1]
            if var not in outputs:
                raise self.error(child, f"variable {var!r} cannot be defined in <{section}>")
            if var in found:
                raise self.error(child, f"a second <CondProb> for {var!r}")
            if len(set(axes)) != len(axes):
                raise self.error(child, "a variable appears twice among <Var> and <Parent>")
            outside = [name for name in parents if name not in allowed]
            if outside:
                raise self.error(child, f"variable {outside[0]!r} cannot appear in <{section}>")
            self._check_rows(child, table)
            rows = sparse.csr_array(table.reshape(-1, table.shape[-1]))
            found[var] = Factor(tuple(parents), table.shape[:-1], rows)
        missing = [v for v in outputs if v not in found]
        if missing:
            raise self.error(node, f"no <CondProb> for {missing[0]!r}")
        return [found[v] for v in outputs]

    def _check_rows(self, node: _Node, table: np.ndarray) -> None:
        sums = table.sum(axis=-1)
        if np.any(table < 0) or not np.allclose(sums, 1.0, atol=1e-6):
            worst = float(np.max(np.abs(sums - 1.0)))
            raise self.error(node, f"probabilities must be ≥ 0 and sum to 1 (off by {worst:.3g})")

    def layout(self, names: list[str]) -> Layout:
        return Layout(tuple(names), tuple(self.variable(n, self.root).size for n in names))

    def reward_tables(self, names: list[str]) -> list[tuple[tuple[str, ...], np.ndarray]]:
        """(parents, flat values) of every <Func>; parents must be among ``names``."""
        node = self.root.one("RewardFunction", self.where)
        out = []
        for child in node.all("Func"):
            parents, table = self.table(child, "value")
            outside = [v for v in parents if v not in names]
            if outside:
                raise self.error(
                    child, f"variable {outside[0]!r} cannot appear in <RewardFunction>"
                )
            if len(set(parents)) != len(parents):
                raise self.error(child, "a variable appears twice among <Var> and <Parent>")
            out.append((tuple(parents), table.reshape(-1)))
        return out


def parse_pomdpx(text: str | bytes, *, where: str = "<text>", name: str = "pomdpx") -> PomdpxModel:
    """Read a POMDPX document into its flat POMDP (see the module docstring)."""
    reader = _Reader(_parse_xml(text, where), where)
    root = reader.root
    try:
        discount = float(root.one("Discount", where).text)
    except ValueError:
        raise reader.error(root.one("Discount", where), "expected a number") from None
    prev, curr, obs = list(reader.prev), list(reader.curr), list(reader.obs)
    a = reader.action_name
    t_layout = reader.layout([a, *prev])
    t_factors = reader.factors("StateTransitionFunction", curr, {a, *prev})
    z_factors = reader.factors("ObsFunction", obs, {a, *curr})
    z_by_action = any(a in f.parents for f in z_factors)
    z_layout = reader.layout([a, *curr] if z_by_action else curr)
    _check_memory(reader, (t_layout, t_factors), (z_layout, z_factors))
    b0 = product_rows(reader.layout([]), reader.factors("InitialStateBelief", prev, set()))
    T = product_rows(t_layout, t_factors)
    Z = product_rows(z_layout, z_factors)
    R = _expected_reward(reader, T, t_layout, reader.layout(curr))
    states = _joint_names([reader.prev[v].values for v in prev])
    observations = _joint_names([reader.obs[v].values for v in obs])
    try:
        labels = {"states": states, "actions": reader.action.values, "observations": observations}
        pomdp = TabularPOMDP(
            T=T, Z=Z, R=R, discount=discount, b0=b0.toarray().ravel(), name=name, **labels
        )
        if reader.fully:
            observed = _config(reader.fully, (reader.layout(prev), np.arange(len(states))))
            pomdp = _reveal(pomdp, observed, reader)
    except ModelError as error:
        raise FormatError(str(error), path=where) from None
    return PomdpxModel(
        pomdp,
        tuple((v, reader.prev[v].values) for v in prev),
        tuple((v, reader.obs[v].values) for v in obs),
        tuple(reader.fully),
    )


def _expected_reward(reader: _Reader, T: sparse.csr_array, rows: Layout, next_state: Layout):
    r"""R(s, a) = Σ_k E_{s'} r_k: a reward that depends on s' is averaged over T's entries."""
    entry_rows = np.repeat(np.arange(rows.n_rows), np.diff(T.indptr))
    R = np.zeros(rows.n_rows)
    for parents, values in reader.reward_tables([*rows.names, *next_state.names]):
        if set(parents) & set(next_state.names):
            config = _config(parents, (rows, entry_rows), (next_state, T.indices))
            R += np.bincount(entry_rows, weights=T.data * values[config], minlength=rows.n_rows)
        else:
            R += values[_config(parents, (rows, np.arange(rows.n_rows)))]
    return R.reshape(reader.action.size, T.shape[1]).T


def _reveal(pomdp: TabularPOMDP, observed: np.ndarray, reader: _Reader) -> TabularPOMDP:
    """``pomdp`` with its fully observed part; where neither the dynamics nor the observation
    variables keep it known, its value is joined to every observation."""
    if observed_part_fault(pomdp, observed) is None:
        return pomdp.replace(observed=observed)
    Z, X = pomdp.Z_rows, int(observed.max()) + 1
    arrival = np.repeat(np.arange(Z.shape[0]) % observed.size, np.diff(Z.indptr))
    columns = Z.indices * X + observed[arrival]
    Z = sparse.csr_array((Z.data, columns, Z.indptr), shape=(Z.shape[0], Z.shape[1] * X))
    names = _joint_names([pomdp.observations, *(reader.prev[v].values for v in reader.fully)])
    return pomdp.replace(Z=Z, observations=names, observed=observed)


def _config(parents, *where: tuple[Layout, np.ndarray]) -> np.ndarray:
    """Joint index of ``parents``' values, each read from the layout that has it."""
    config = np.zeros(where[0][1].size, dtype=np.int64)
    for name in parents:
        layout, index = next((lay, ix) for lay, ix in where if name in lay.names)
        size = layout.sizes[layout.names.index(name)]
        config = config * size + layout.coordinate(name, index)
    return config


def _check_memory(reader: _Reader, *tables: tuple[Layout, list[Factor]]) -> None:
    """Refuse, before allocating, a flat model larger than the memory available."""
    entries = [count_entries(layout, factors) for layout, factors in tables]
    rows = sum(layout.n_rows for layout, _ in tables)
    need = 3 * 24 * sum(entries) + 16 * rows  # row, column, value, while built and copied
    require(need, f"{reader.where}: the flat model ({entries[0]:,} transition and {entries[1]:,} "
                  "observation entries), to build,")  # fmt: skip


def _joint_names(values: list[tuple[str, ...]]) -> tuple[str, ...]:
    names = [""]
    for vals in values:
        names = [f"{n}+{v}" if n else v for n in names for v in vals]
    return tuple(names)


def read_pomdpx(path: str | Path) -> PomdpxModel:
    """Read a ``.pomdpx`` file; faults raise :class:`FormatError` naming the file and line."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise FormatError(f"cannot read: {error.strerror}", path=path) from None
    return parse_pomdpx(data, where=str(path), name=path.stem)


def format_pomdpx(pomdp: TabularPOMDP) -> str:
    """The POMDPX text of a flat ``pomdp`` (one state, observation and action variable);
    :func:`parse_pomdpx` reads it back to the same arrays.

    Raises
    ------
    ModelError
        If a label cannot be written (empty, whitespace, ``*`` or ``-``).
    """
    for kind in ("states", "actions", "observations"):
        _check_pomdpx_labels(kind, getattr(pomdp, kind))
    actions = pomdp.actions
    lines = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        f"<pomdpx version='0.1' id={quoteattr(pomdp.name)}>",
        f"<Description>{escape(pomdp.name)}: written by decide</Description>",
        f"<Discount>{pomdp.discount!r}</Discount>",
        "<Variable>",
        "<StateVar vnamePrev='state_0' vnameCurr='state_1' fullyObs='false'>",
        f"<ValueEnum>{_names(pomdp.states)}</ValueEnum></StateVar>",
        f"<ObsVar vname='obs'><ValueEnum>{_names(pomdp.observations)}</ValueEnum></ObsVar>",
        f"<ActionVar vname='action'><ValueEnum>{_names(actions)}</ValueEnum></ActionVar>",
        "<RewardVar vname='reward'/>",
        "</Variable>",
        "<InitialStateBelief>",
        *_cond_prob("state_0", "null", [("-", pomdp.b0)]),
        "</InitialStateBelief>",
        "<StateTransitionFunction>",
        *_cond_prob(
            "state_1", "action state_0", _rows(actions, pomdp.states, pomdp.states, pomdp.T_rows)
        ),
        "</StateTransitionFunction>",
        "<ObsFunction>",
        *_observation_table(pomdp),
        "</ObsFunction>",
        "<RewardFunction><Func><Var>reward</Var><Parent>action state_0</Parent>",
        "<Parameter type='TBL'>",
        *(_entry(f"{escape(a)} -", pomdp.R[:, i], "ValueTable") for i, a in enumerate(actions)),
        "</Parameter></Func></RewardFunction>",
        "</pomdpx>",
    ]
    return "\n".join(lines) + "\n"


def write_pomdpx(pomdp: TabularPOMDP, path: str | Path) -> Path:
    """Write ``pomdp`` to ``path`` atomically (see :func:`format_pomdpx`); return the path."""
    return atomic_write_text(path, format_pomdpx(pomdp))


def _observation_table(pomdp: TabularPOMDP) -> list[str]:
    """The <CondProb> of ``obs``: given ``state_1`` alone when Z does not depend on the action."""
    if pomdp.z_stride == 0:
        return _cond_prob(
            "obs", "state_1", _rows(("",), pomdp.states, pomdp.observations, pomdp.Z_rows)
        )
    actions = pomdp.actions
    return _cond_prob(
        "obs", "action state_1", _rows(actions, pomdp.states, pomdp.observations, pomdp.Z_rows)
    )


def _rows(actions, states, columns, P: sparse.csr_array) -> list[tuple[str, np.ndarray]]:
    """(instance, table) per action and state of the rows ``P`` (row ``a * S + s``): the row in
    full, or its entries when sparse."""
    out = []
    S, C = len(states), len(columns)
    for a, action in enumerate(actions):
        for s, state in enumerate(states):
            row = a * S + s
            cols = P.indices[P.indptr[row] : P.indptr[row + 1]]
            vals = P.data[P.indptr[row] : P.indptr[row + 1]]
            prefix = f"{escape(action)} {escape(state)}".lstrip()
            if 4 * cols.size >= C:
                dense = np.zeros(C)
                dense[cols] = vals
                out.append((f"{prefix} -", dense))
            else:
                out += [
                    (f"{prefix} {escape(columns[j])}", vals[k : k + 1]) for k, j in enumerate(cols)
                ]
    return out


def _cond_prob(var: str, parents: str, entries) -> list[str]:
    body = [_entry(instance, table, "ProbTable") for instance, table in entries]
    head = f"<CondProb><Var>{var}</Var><Parent>{parents}</Parent><Parameter type='TBL'>"
    return [head, *body, "</Parameter></CondProb>"]


def _entry(instance: str, table: np.ndarray, tag: str) -> str:
    numbers = " ".join(map(repr, np.asarray(table, dtype=float).tolist()))
    return f"<Entry><Instance>{instance}</Instance><{tag}>{numbers}</{tag}></Entry>"


def _names(labels) -> str:
    return " ".join(escape(label) for label in labels)


def _check_pomdpx_labels(kind: str, labels) -> None:
    for label in labels:
        if not label or label in ("*", "-", "null") or any(c.isspace() for c in label):
            raise ModelError(kind, f"label {label!r} cannot be written in a .pomdpx file")
