"""The .pomdp reader and writer: reference files, every grammar form, errors, round trips."""

import numpy as np
import pytest
from dense import dense
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from decide import _atomic
from decide.errors import FormatError, ModelError
from decide.pomdp.cassandra import format_pomdp, parse_pomdp, read_pomdp, write_pomdp
from decide.pomdp.cassandra.lex import RESERVED
from decide.pomdp.model import TabularPOMDP

# |S|, |A|, |O| from the reference table in shared/reference/pomdp.md
SIZES = {
    "Tiger": (2, 3, 2),
    "TigerGrid": (36, 5, 17),
    "Hallway": (60, 5, 21),
    "Hallway2": (92, 5, 17),
    "TagAvoid": (870, 5, 30),
    "RockSample_4_4": (257, 9, 2),
    "RockSample_5_5": (801, 10, 2),
}

HEAD = """discount: 0.9
values: reward
states: left right
actions: stay go
observations: l r
"""

# Every body form in one file; also the seed of the mutation test.
GRAMMAR = """# a comment line
discount: .9   # trailing comment
states: left right
actions: stay go
observations: l r
start include: right
values: reward
T: * : * : * 0.0
T:stay:left:left 1
T: 0 : 1 : 1 1e0
T: go
0
1 1   # a matrix is a token stream
0
O: * : * : l .5
O: * : * : r 5e-1
O: go : right
0.25 0.75
R: * : * : * : * -2
R: go : left : right : r 10
R: go : right : left
4 6
R: stay : left
1 2
3 4
"""


def assert_same(a: TabularPOMDP, b: TabularPOMDP) -> None:
    for field in ("T", "Z", "R", "b0"):
        assert np.array_equal(dense(a, field), dense(b, field)), field
    assert a.discount == b.discount
    assert (a.states, a.actions, a.observations) == (b.states, b.actions, b.observations)


@pytest.mark.parametrize("name", SIZES)
def test_reference_files_parse_with_published_sizes(shared_file, name):
    pomdp = read_pomdp(shared_file(f"pomdp/{name}.pomdp"))
    assert (pomdp.n_states, pomdp.n_actions, pomdp.n_observations) == SIZES[name]
    assert pomdp.discount == 0.95 and pomdp.name == name


def test_rocksample_5_5_parses_to_its_published_size(shared_file):
    pomdp = read_pomdp(shared_file("pomdp/RockSample_5_5.pomdp"))
    assert (pomdp.n_states, pomdp.n_actions, pomdp.n_observations) == (801, 10, 2)


def test_tiger_is_the_published_tiger(shared_file):
    tiger = read_pomdp(shared_file("pomdp/Tiger.pomdp"))
    half = np.full((2, 2), 0.5)
    assert np.array_equal(tiger.dense_transitions(), [np.eye(2), half, half])
    assert np.array_equal(tiger.dense_observations(), [[[0.85, 0.15], [0.15, 0.85]], half, half])
    assert np.array_equal(tiger.R, [[-1, -100, 10], [-1, 10, -100]])
    assert np.array_equal(tiger.b0, [0.5, 0.5])
    assert tiger.states == ("tiger-left", "tiger-right")
    assert tiger.actions == ("listen", "open-left", "open-right")
    assert tiger.observations == ("obs-left", "obs-right")


def test_every_form_of_the_grammar():
    pomdp = parse_pomdp(GRAMMAR)
    assert pomdp.discount == 0.9 and pomdp.name == "pomdp"
    assert np.array_equal(pomdp.b0, [0, 1])
    assert np.array_equal(pomdp.dense_transitions(), [np.eye(2), [[0, 1], [1, 0]]])
    assert np.array_equal(
        pomdp.dense_observations(), [np.full((2, 2), 0.5), [[0.5, 0.5], [0.25, 0.75]]]
    )
    # R[s, a] = sum_{s', o} T Z R(a, s, s', o), by hand
    expected = [
        [0.5 * 1 + 0.5 * 2, -2 * 0.25 + 10 * 0.75],  # left: stay matrix row 1; go -> right
        [-2.0, 0.5 * 4 + 0.5 * 6],  # right: stay keeps -2; go -> left, row (4 6)
    ]
    np.testing.assert_allclose(pomdp.R, expected, rtol=1e-15)


def test_reward_reduction_with_uneven_weights():
    text = HEAD.replace("actions: stay go", "actions: x") + (
        "T: x\n0.25 0.75\n1 0\nO: x\n0.5 0.5\n0.2 0.8\n"
        "R: x : * : * : * 1\nR: x : left : right : r 10\nR: x : right : left\n2 4\n"
    )
    R = parse_pomdp(text).R[:, 0]
    expected = [0.25 * 1 + 0.75 * (0.2 * 1 + 0.8 * 10), 0.5 * 2 + 0.5 * 4]
    np.testing.assert_allclose(R, expected, rtol=1e-15)


@pytest.mark.parametrize(
    ("rewards", "expected"),
    [
        ("R: * : * : * : * 5\nR: stay : left : * : * 1\n", [[1, 5], [5, 5]]),
        ("R: stay : left : * : * 1\nR: * : * : * : * 5\n", [[5, 5], [5, 5]]),
        ("R: stay : left : right : * 7\nR: stay : * : * : * 5\n", [[5, 0], [5, 0]]),
        ("R: * : * : * : r 3\nR: go : * : * : r 0.5\n", [[1.5, 0.25], [1.5, 0.25]]),
    ],
)
def test_later_entries_override_earlier_ones(rewards, expected):
    pomdp = parse_pomdp(HEAD + "T: * identity\nO: * uniform\n" + rewards)
    assert np.array_equal(pomdp.R, expected)


def test_names_and_indices_are_interchangeable():
    named = parse_pomdp(
        HEAD + "T: stay identity\nT: go uniform\nO: * : * : l 1\nR: go : right : * : * 2\n"
    )
    indexed = parse_pomdp(
        HEAD + "T: 0 identity\nT: 1 uniform\nO: * : * : 0 1\nR: 1 : 1 : * : * 2\n"
    )
    assert_same(named, indexed)
    counted = parse_pomdp(HEAD.replace("left right", "2") + "T: * identity\nO: * identity\n")
    assert counted.states == ("s0", "s1") and np.array_equal(
        counted.dense_observations()[1], np.eye(2)
    )


def test_uniform_and_identity_rows_and_matrices():
    text = HEAD + "T: stay uniform\nT: go identity\nT: go : right uniform\nO: * identity\n"
    pomdp = parse_pomdp(text + "O: stay : left uniform\n")
    assert np.array_equal(pomdp.dense_transitions(), [np.full((2, 2), 0.5), [[1, 0], [0.5, 0.5]]])
    assert np.array_equal(pomdp.dense_observations(), [[[0.5, 0.5], [0, 1]], np.eye(2)])


@pytest.mark.parametrize(
    ("start", "b0"),
    [
        ("", [1 / 3, 1 / 3, 1 / 3]),
        ("start: uniform", [1 / 3, 1 / 3, 1 / 3]),
        ("start:\n0.2 .3\n0.5", [0.2, 0.3, 0.5]),
        ("start: b", [0, 1, 0]),
        ("start: 2", [0, 0, 1]),
        ("start include: a 2 c", [0.5, 0, 0.5]),
        ("start exclude: a", [0, 0.5, 0.5]),
    ],
)
def test_start_forms(start, b0):
    text = f"states: a b c\n{start}\nactions: 1\nobservations: 1\ndiscount: 0.5\n"
    assert np.array_equal(parse_pomdp(text + "T: * uniform\nO: * uniform\n").b0, b0)


def test_cost_values_are_negated_rewards():
    text = HEAD.replace("reward", "cost") + "T: * identity\nO: * uniform\nR: * : * : * : * 3\n"
    assert np.array_equal(parse_pomdp(text).R, np.full((2, 2), -3.0))


BODY = "T: * identity\nO: * uniform\nR: * : * : * : * 1\n"  # lines 6-8 after HEAD


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (HEAD + BODY + "T: stay : middle : left 1", 9, "unknown state 'middle'"),
        (HEAD + BODY + "T: stay : 5 : left 1", 9, "state index 5 out of range"),
        (HEAD + BODY + "O: stay : left : x 1", 9, "unknown observation 'x'"),
        (HEAD + BODY + "R: jump : * : * : * 1", 9, "unknown action 'jump'"),
        (HEAD + BODY + "T: go\n0 1\n1\n", 9, "expected 4 numbers.*found 3"),
        (HEAD + BODY + "T: go\n0 1\n1 0 0\n", 11, "found 5: unexpected '0'"),
        (HEAD + BODY + "R: stay : left : * : * abc", 9, "expected a number, got 'abc'"),
        (HEAD + BODY + "R: stay : left : * : * 1e999", 9, "finite"),
        (HEAD + BODY + "T: stay : left : left : left 1", 9, "too many"),
        (HEAD + BODY + "R: stay 5", 9, "at least"),
        (HEAD + BODY + "T: go : left : left 0.9", 9, "T: a=go s=left row sums to 0.9"),
        (HEAD + BODY + "O: stay : right : l 0.7", 9, "O: a=stay s'=right row sums to 1.2"),
        (HEAD + BODY + "T: go : left : right -1", 9, "negative"),
        (HEAD + "T: * identity\nR: * : * : * : * 1\n", 7, "O: a=stay s'=left row sums to 0"),
        (HEAD + BODY + "start: 0.5 0.6", 9, "sum to 1.1"),
        (HEAD + BODY + "start: middle", 9, "unknown state"),
        (HEAD + BODY + "discount: 0.8", 9, "second time"),
        (HEAD.replace("discount: 0.9", "# none") + BODY, 6, "missing 'discount:'"),
        (HEAD.replace("states: left right", "") + BODY, 6, "missing 'states:'"),
        (HEAD.replace("0.9", "1.5") + BODY, 1, r"discount factor in \(0, 1\)"),
        (HEAD.replace("reward", "profit") + BODY, 2, "'reward' or 'cost'"),
        (HEAD.replace("left right", "left left") + BODY, 3, "appears twice"),
        (HEAD.replace("left right", "left T") + BODY, 3, "reserved"),
        ("hello\n" + HEAD + BODY, 1, "unexpected text 'hello'"),
        ("", 1, "missing 'discount:'"),
    ],
)
def test_errors_name_the_line(text, line, message):
    with pytest.raises(FormatError, match=message) as info:
        parse_pomdp(text, path="model.pomdp")
    assert info.value.line == line and info.value.path == "model.pomdp"


def test_missing_file_is_a_format_error(tmp_path):
    with pytest.raises(FormatError, match="cannot read"):
        read_pomdp(tmp_path / "absent.pomdp")


@pytest.mark.parametrize("name", SIZES)
def test_reference_files_round_trip_exactly(shared_file, name):
    pomdp = read_pomdp(shared_file(f"pomdp/{name}.pomdp"))
    assert_same(pomdp, parse_pomdp(format_pomdp(pomdp)))


def test_write_and_read_a_file(tmp_path):
    pomdp = parse_pomdp(GRAMMAR)
    path = write_pomdp(pomdp, tmp_path / "grammar.pomdp")
    again = read_pomdp(path)
    assert_same(pomdp, again)
    assert again.name == "grammar" and [p.name for p in tmp_path.iterdir()] == ["grammar.pomdp"]


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "model.pomdp"
    path.write_text("old")

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(_atomic.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_pomdp(parse_pomdp(GRAMMAR), path)
    assert path.read_text() == "old" and list(tmp_path.iterdir()) == [path]
    with pytest.raises(FormatError, match="directory does not exist"):
        write_pomdp(parse_pomdp(GRAMMAR), tmp_path / "nowhere" / "model.pomdp")


@pytest.mark.parametrize("labels", [("a b", "c"), ("T", "c"), ("a:b", "c"), ("x#", "y")])
def test_writer_rejects_labels_it_cannot_write(labels):
    pomdp = parse_pomdp(HEAD + BODY)
    pomdp = TabularPOMDP(
        pomdp.dense_transitions(),
        pomdp.dense_observations(),
        pomdp.R,
        pomdp.discount,
        pomdp.b0,
        states=labels,
    )
    with pytest.raises(ModelError, match="cannot be written"):
        format_pomdp(pomdp)


_labels = st.from_regex(r"[a-z][a-z0-9_.+-]{0,5}", fullmatch=True).filter(
    lambda label: label not in RESERVED
)


@st.composite
def pomdps(draw):
    S, A, O = (draw(st.integers(1, n)) for n in (5, 3, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    def rows(*shape):
        p = rng.random(shape) * (rng.random(shape) < 0.7)
        p[..., 0] += 1e-3
        return p / p.sum(axis=-1, keepdims=True)

    reals = st.floats(-1e300, 1e300, allow_subnormal=True)
    names = {}
    for kind, n in (("states", S), ("actions", A), ("observations", O)):
        if draw(st.booleans()):
            names[kind] = draw(st.lists(_labels, min_size=n, max_size=n, unique=True))
    return TabularPOMDP(
        T=rows(A, S, S),
        Z=rows(A, S, O),
        R=draw(hnp.arrays(np.float64, (S, A), elements=reals)),
        discount=draw(st.floats(0, 1, exclude_min=True, exclude_max=True)),
        b0=rows(S),
        **names,
    )


@settings(max_examples=60, deadline=None)
@given(pomdps())
def test_random_models_round_trip_exactly(pomdp):
    assert_same(pomdp, parse_pomdp(format_pomdp(pomdp)))


JUNK = ["", "foo", ":", "*", "-1", "1e999", "nan", "T:", "#", "states:", "uniform", "identity", "9"]


def _mutate(text: str, data) -> str:
    lines = text.split("\n")
    kind = data.draw(st.sampled_from(["truncate", "line", "token"]))
    if kind == "truncate":
        return text[: data.draw(st.integers(0, len(text)))]
    i, j = (data.draw(st.integers(0, len(lines) - 1)) for _ in range(2))
    if kind == "line":
        how = data.draw(st.sampled_from(["delete", "duplicate", "swap"]))
        if how == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        else:
            lines[i : i + 1] = [] if how == "delete" else [lines[i]] * 2
        return "\n".join(lines)
    tokens = lines[i].replace(":", " : ").split() or [""]
    k = data.draw(st.integers(0, len(tokens) - 1))
    how = data.draw(st.sampled_from(["delete", "duplicate", "swap", "junk"]))
    if how == "junk":
        tokens[k] = data.draw(st.sampled_from(JUNK))
    elif how == "swap":
        m = data.draw(st.integers(0, len(tokens) - 1))
        tokens[k], tokens[m] = tokens[m], tokens[k]
    else:
        tokens[k : k + 1] = [] if how == "delete" else [tokens[k]] * 2
    lines[i] = " ".join(tokens)
    return "\n".join(lines)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.data())
def test_mutated_files_parse_or_raise_a_located_format_error(shared_file, data):
    text = data.draw(st.sampled_from(["tiger", "grammar"]))
    text = shared_file("pomdp/Tiger.pomdp").read_text() if text == "tiger" else GRAMMAR
    for _ in range(data.draw(st.integers(1, 3))):
        text = _mutate(text, data)
    try:
        result = parse_pomdp(text)
    except FormatError as error:
        assert isinstance(error.line, int) and 1 <= error.line <= text.count("\n") + 1
    else:
        assert isinstance(result, TabularPOMDP)
