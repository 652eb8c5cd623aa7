"""The POMDPX reader: SARSOP's example files against their .pomdp twins, the table forms, faults."""

from __future__ import annotations

import numpy as np
import pytest
from dense import dense
from hypothesis import given, settings
from hypothesis import strategies as st

from decide.cli import main
from decide.errors import FormatError, ModelError, UsageError
from decide.pomdp import memory
from decide.pomdp.cassandra import read_pomdp
from decide.pomdp.model import TabularPOMDP
from decide.pomdp.pomdpx import format_pomdpx, parse_pomdpx, read_pomdpx, write_pomdpx


@pytest.mark.parametrize("name", ["Tiger", "Hallway", "Hallway2"])
def test_flat_files_equal_their_pomdp_twins(shared_file, name):
    model = read_pomdpx(shared_file(f"pomdp/{name}.pomdpx"))
    twin = read_pomdp(shared_file(f"pomdp/{name}.pomdp"))
    ours = model.pomdp
    np.testing.assert_array_equal(ours.dense_transitions(), twin.dense_transitions())
    np.testing.assert_array_equal(ours.dense_observations(), twin.dense_observations())
    np.testing.assert_allclose(ours.R, twin.R, rtol=0, atol=1e-12)  # R = Σ T·r: summation order
    np.testing.assert_array_equal(ours.b0, twin.b0)
    assert ours.discount == twin.discount and model.fully_observed == ()


def test_factored_tag_avoid_equals_its_twin_where_the_two_files_agree(shared_file):
    """robot (29, fully observed) × target (30) = 870 joint states, robot-major as in the twin.
    The two files disagree on 44 of 3.8 M transition entries (the target's escape at four
    cells); there the POMDPX file's own numbers are read, e.g. lines 8178-8190."""
    model = read_pomdpx(shared_file("pomdp/TagAvoid.pomdpx"))
    twin = read_pomdp(shared_file("pomdp/TagAvoid.pomdp"))
    ours = model.pomdp
    assert [(v, len(values)) for v, values in model.state_variables] == [
        ("robot_0", 29),
        ("target_0", 30),
    ]
    assert model.fully_observed == ("robot_0",)
    # the sensor alone does not reveal the robot ('yes' is seen where the robot's move depends on
    # the target), so the fully observed robot is joined to the observation; summed out, the
    # observation table is the twin's
    assert ours.observed.n_values == 29 and ours.n_observations == 30 * 29
    joined = ours.dense_observations().reshape(5, 870, 30, 29)
    np.testing.assert_array_equal(joined.sum(axis=3), twin.dense_observations())
    np.testing.assert_array_equal(joined.sum(axis=2), np.eye(29)[np.arange(870) // 30][None]
                                  .repeat(5, axis=0))  # fmt: skip
    np.testing.assert_allclose(ours.R, twin.R, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.b0, twin.b0, rtol=0, atol=1e-9)  # the twin prints 1e-9
    differ = np.abs(ours.dense_transitions() - twin.dense_transitions()) > 1e-6
    assert differ.sum() == 44 and set(np.flatnonzero(differ.any(axis=(1, 2)))) == {0, 1, 2, 3}
    s = ours.states.index("Srv3rh9+Ttv3th9")
    row = {ours.states[t]: p for t, p in enumerate(ours.dense_transitions()[0, s]) if p > 0}
    assert row == {"Srv3rh9+Ttv3th9": 0.6, "Srv3rh9+Ttv4th9": 0.2, "Srv3rh9+Ttv3th8": 0.2}
    np.testing.assert_allclose(ours.dense_transitions().sum(axis=2), 1.0, rtol=0, atol=1e-12)


TWO_VARIABLES = """<?xml version="1.0"?>
<pomdpx version="0.1">
<Discount>0.9</Discount>
<Variable>
 <StateVar vnamePrev="x0" vnameCurr="x1" fullyObs="true"><ValueEnum>lo hi</ValueEnum></StateVar>
 <StateVar vnamePrev="y0" vnameCurr="y1"><NumValues>3</NumValues></StateVar>
 <ObsVar vname="o"><ValueEnum>seen unseen</ValueEnum></ObsVar>
 <ActionVar vname="act"><ValueEnum>stay move</ValueEnum></ActionVar>
 <RewardVar vname="r1"/><RewardVar vname="r2"/>
</Variable>
<InitialStateBelief>
 <CondProb><Var>x0</Var><Parent>null</Parent><Parameter type="TBL">
  <Entry><Instance>lo</Instance><ProbTable>1</ProbTable></Entry></Parameter></CondProb>
 <CondProb><Var>y0</Var><Parent>null</Parent><Parameter type="TBL">
  <Entry><Instance>-</Instance><ProbTable>uniform</ProbTable></Entry></Parameter></CondProb>
</InitialStateBelief>
<StateTransitionFunction>
 <CondProb><Var>x1</Var><Parent>act x0</Parent><Parameter type="TBL">
  <Entry><Instance>stay - -</Instance><ProbTable>identity</ProbTable></Entry>
  <Entry><Instance>move * -</Instance><ProbTable>0.3 0.7</ProbTable></Entry>
  <Entry><Instance>move hi hi</Instance><ProbTable>1</ProbTable></Entry>
  <Entry><Instance>move hi lo</Instance><ProbTable>0</ProbTable></Entry>
 </Parameter></CondProb>
 <CondProb><Var>y1</Var><Parent>y0</Parent><Parameter type="TBL">
  <Entry><Instance>- -</Instance><ProbTable>identity</ProbTable></Entry>
  <Entry><Instance>s2 *</Instance><ProbTable>uniform</ProbTable></Entry>
 </Parameter></CondProb>
</StateTransitionFunction>
<ObsFunction>
 <CondProb><Var>o</Var><Parent>x1</Parent><Parameter type="TBL">
  <Entry><Instance>- -</Instance><ProbTable>0.9 0.1 0.2 0.8</ProbTable></Entry>
 </Parameter></CondProb>
</ObsFunction>
<RewardFunction>
 <Func><Var>r1</Var><Parent>act</Parent><Parameter type="TBL">
  <Entry><Instance>move</Instance><ValueTable>-1</ValueTable></Entry></Parameter></Func>
 <Func><Var>r2</Var><Parent>x1 y0</Parent><Parameter type="TBL">
  <Entry><Instance>hi *</Instance><ValueTable>10</ValueTable></Entry>
  <Entry><Instance>hi s1</Instance><ValueTable>4</ValueTable></Entry></Parameter></Func>
</RewardFunction>
</pomdpx>
"""


def test_table_forms_overrides_and_additive_rewards_by_hand():
    model = parse_pomdpx(TWO_VARIABLES)
    m = model.pomdp
    assert m.states == ("lo+s0", "lo+s1", "lo+s2", "hi+s0", "hi+s1", "hi+s2")
    assert m.actions == ("stay", "move")
    # x moves at random and the sensor is noisy: the fully observed x joins the observation
    assert m.observations == ("seen+lo", "seen+hi", "unseen+lo", "unseen+hi")
    assert model.fully_observed == ("x0",) and list(m.observed.value) == [0, 0, 0, 1, 1, 1]
    np.testing.assert_allclose(m.b0, [1 / 3, 1 / 3, 1 / 3, 0, 0, 0])
    x = {"stay": np.eye(2), "move": np.array([[0.3, 0.7], [0.0, 1.0]])}
    y = np.array([[1, 0, 0], [0, 1, 0], [1 / 3, 1 / 3, 1 / 3]])
    for a, name in enumerate(m.actions):
        np.testing.assert_allclose(m.dense_transitions()[a], np.kron(x[name], y), atol=1e-15)
        np.testing.assert_allclose(
            m.dense_observations()[a],
            np.repeat([[0.9, 0, 0.1, 0], [0, 0.2, 0, 0.8]], 3, axis=0),
        )
    # r1 = -1 for move; r2 = 10 on arriving in hi (4 if y was s1), expected over x'
    p_hi = {"stay": np.array([0, 0, 0, 1, 1, 1.0]), "move": np.array([0.7] * 3 + [1.0] * 3)}
    r2 = np.array([10, 4, 10] * 2)
    np.testing.assert_allclose(m.R[:, 0], p_hi["stay"] * r2)
    np.testing.assert_allclose(m.R[:, 1], p_hi["move"] * r2 - 1)


@pytest.mark.parametrize(
    ("old", "new", "message", "line"),
    [
        ("<Instance>move hi hi</Instance>", "<Instance>move high hi</Instance>", "'high'", 21),
        ("<ProbTable>0.3 0.7</ProbTable>", "<ProbTable>0.3 0.7 0</ProbTable>", "expected 2", 20),
        ("<Instance>stay - -</Instance>", "<Instance>stay -</Instance>", "3 values", 19),
        ("<ProbTable>0.3 0.7</ProbTable>", "<ProbTable>0.3 0.6</ProbTable>", "sum to 1", 18),
        ("<Parent>x1 y0</Parent>", "<Parent>x1 z0</Parent>", "'z0'", 37),
        ("<Discount>0.9</Discount>", "<Discount>high</Discount>", "number", 3),
        ("</Variable>", "", "mismatched tag", 41),  # where expat finds it: </pomdpx>
    ],
)
def test_faults_name_the_element_and_line(old, new, message, line):
    with pytest.raises(FormatError, match=message) as raised:
        parse_pomdpx(TWO_VARIABLES.replace(old, new, 1), where="two.pomdpx")
    assert raised.value.line == line and raised.value.path == "two.pomdpx"


def test_entities_are_never_expanded():
    bomb = '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa">]><pomdpx>&a;</pomdpx>'
    with pytest.raises(FormatError, match="document type"):
        parse_pomdpx(bomb)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_mutated_files_parse_or_raise_format_error(data):
    """Deleting, duplicating or replacing a span of a valid file never gives a traceback."""
    text = TWO_VARIABLES
    start = data.draw(st.integers(0, len(text) - 1))
    stop = data.draw(st.integers(start, min(len(text), start + 40)))
    kind = data.draw(st.sampled_from(["delete", "duplicate", "replace"]))
    junk = data.draw(st.sampled_from(["*", "-", "0", "1e9", "nan", "<Entry>", "lo", "x1", " "]))
    piece = {"delete": "", "duplicate": text[start:stop] * 2, "replace": junk}[kind]
    mutated = text[:start] + piece + text[stop:]
    try:
        model = parse_pomdpx(mutated)
    except FormatError as error:
        assert error.line is None or 1 <= error.line <= mutated.count("\n") + 1
    else:
        assert np.allclose(model.pomdp.dense_transitions().sum(axis=2), 1.0, atol=1e-6)


def test_a_model_too_large_for_memory_is_refused_before_allocating(shared_file, monkeypatch):
    """RockSample(7, 8) has 166,400 transition and 264,704 observation entries (counted by
    hand from its tables: one successor per (a, s) and at most two observations)."""
    monkeypatch.setattr(memory, "available_bytes", lambda: 2**20)  # 1 MiB available
    with pytest.raises(
        UsageError, match=r"166,400 transition and 264,704 observation .* 1 MiB are"
    ):
        read_pomdpx(shared_file("pomdp/RockSample_7_8.pomdpx"))


def test_the_command_line_reads_a_pomdpx_file(shared_file, capsys):
    path = shared_file("pomdp/Tiger.pomdpx")
    assert main(["bounds", str(path)]) == 0
    assert "FIB upper bound" in capsys.readouterr().out


def assert_same_arrays(back: TabularPOMDP, model: TabularPOMDP) -> None:
    """A model read back from a written file: T, Z, R and b0 equal bit for bit."""
    for field in ("T", "Z", "R", "b0"):
        np.testing.assert_array_equal(dense(back, field), dense(model, field))


@pytest.mark.parametrize("name", ["Tiger", "TagAvoid"])
def test_written_files_read_back_to_the_same_arrays(shared_file, tmp_path, name):
    """TagAvoid's transition rows are sparse (written entry by entry), Tiger's dense."""
    model = read_pomdpx(shared_file(f"pomdp/{name}.pomdpx")).pomdp
    back = read_pomdpx(write_pomdpx(model, tmp_path / f"{name}.pomdpx")).pomdp
    assert_same_arrays(back, model)
    assert (back.states, back.actions, back.observations) == (
        model.states,
        model.actions,
        model.observations,
    )
    assert back.discount == model.discount


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), sparse=st.booleans())
def test_random_models_round_trip(seed, sparse):
    rng = np.random.default_rng(seed)
    S, A, O = rng.integers(1, 6, size=3)
    T = rng.dirichlet(np.full(S, 0.2 if sparse else 1.0), size=(A, S))
    Z = rng.dirichlet(np.full(O, 0.2 if sparse else 1.0), size=(A, S))
    labels = tuple(f"{S - 1 - i}" for i in range(S))  # digit names that are not their indices
    b0 = rng.dirichlet(np.ones(S))
    model = TabularPOMDP(T=T, Z=Z, R=rng.normal(size=(S, A)), discount=0.9, b0=b0, states=labels)
    back = parse_pomdpx(format_pomdpx(model)).pomdp
    assert_same_arrays(back, model)


def test_labels_that_cannot_be_written_are_refused():
    model = TabularPOMDP(T=np.ones((1, 1, 1)), Z=np.ones((1, 1, 1)), R=np.zeros((1, 1)),
                         discount=0.9, b0=np.ones(1), states=("a b",))  # fmt: skip
    with pytest.raises(ModelError, match="states"):
        format_pomdpx(model)


def test_convert_between_the_formats(shared_file, tmp_path, capsys):
    source = shared_file("pomdp/Hallway.pomdpx")
    flat, back = tmp_path / "hallway.pomdp", tmp_path / "hallway.pomdpx"
    assert main(["convert", str(source), str(flat)]) == 0
    assert main(["convert", str(flat), str(back)]) == 0
    assert capsys.readouterr().out.count("wrote") == 2
    original, twice = read_pomdpx(source).pomdp, read_pomdpx(back).pomdp
    assert_same_arrays(twice, original)
    assert main(["convert", str(source), str(tmp_path / "h.txt")]) == 2
    assert "expected the suffix" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hallway.pomdp", "hallway.pomdpx"]
