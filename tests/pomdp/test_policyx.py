"""SARSOP policy XML: the reference policies, sparse vectors, round trips and malformed files."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from decide.errors import FormatError
from decide.pomdp.cassandra import read_pomdp
from decide.pomdp.policy import AlphaVectorPolicy
from decide.pomdp.policyx import (
    format_policyx,
    load_policy,
    parse_policyx,
    read_policyx,
    write_policyx,
)

# SARSOP's lower bound at b0 after 10 s (shared/reference/pomdp.md) and the vectors it wrote
SARSOP = {"Tiger": (19.3711, 5), "TigerGrid": (2.15891, 202), "RockSample_4_4": (17.9245, 207)}

HEADER = '<?xml version="1.0" encoding="ISO-8859-1"?>\n<Policy version="0.1" type="value">\n'


def document(body: str, length: int = 3, n_obs: int = 1, count: int = 2) -> str:
    block = f'<AlphaVector vectorLength="{length}" numObsValue="{n_obs}" numVectors="{count}">'
    return f"{HEADER}{block}\n{body}\n</AlphaVector> </Policy>\n"


@pytest.mark.parametrize("name", SARSOP)
def test_sarsop_policies_give_sarsop_lower_bounds(shared_file, name):
    pomdp = read_pomdp(shared_file(f"pomdp/{name}.pomdp"))
    policy = read_policyx(shared_file(f"pomdp/sarsop-policies/{name}.policy"))
    bound, count = SARSOP[name]
    assert policy.n_vectors == count and policy.alpha.shape[1] == pomdp.n_states
    assert policy.value(pomdp.b0) == pytest.approx(bound, abs=1e-4)
    assert policy.for_model(pomdp) is policy


def test_tiger_policy_vectors(shared_file):
    policy = load_policy(shared_file("pomdp/sarsop-policies/Tiger.policy"))
    assert policy.actions.tolist() == [1, 0, 0, 2, 0]
    assert policy.alpha[0].tolist() == [-81.5975, 28.4025]
    assert policy.action(np.array([0.5, 0.5])) == 0


def test_sparse_and_dense_vectors_mix():
    body = (
        '<SparseVector action="4" obsValue="0"><Entry>2 -1.5</Entry>\n<Entry> 0 .5 </Entry>'
        '</SparseVector>\n<Vector action="1" obsValue="0">1 2 3 </Vector>'
    )
    policy = parse_policyx(document(body))
    assert policy.alpha.tolist() == [[0.5, 0.0, -1.5], [1.0, 2.0, 3.0]]
    assert policy.actions.tolist() == [4, 1]


@st.composite
def policies(draw):
    K, S = draw(st.integers(1, 6)), draw(st.integers(1, 8))
    reals = st.floats(-1e300, 1e300, allow_subnormal=True)
    alpha = draw(hnp.arrays(np.float64, (K, S), elements=reals))
    actions = draw(hnp.arrays(np.int64, K, elements=st.integers(0, 2**40)))
    return AlphaVectorPolicy(alpha=alpha, actions=actions)


@settings(max_examples=60, deadline=None)
@given(policies(), st.text(max_size=8))  # any text: unwritable characters are dropped
def test_format_parse_round_trip_is_exact(policy, model):
    again = parse_policyx(format_policyx(policy, model=model))
    assert np.array_equal(again.alpha, policy.alpha)
    assert np.array_equal(again.actions, policy.actions)


def test_write_matches_sarsop_layout_and_reads_back(tmp_path, shared_file):
    policy = read_policyx(shared_file("pomdp/sarsop-policies/Tiger.policy"))
    path = write_policyx(policy, tmp_path / "tiger.policy", model="Tigér ☃")
    text = path.read_text(encoding="latin-1").splitlines()
    assert text[0] == '<?xml version="1.0" encoding="ISO-8859-1"?>'
    assert 'model="Tigér &#9731;"' in text[1]
    assert text[2] == '<AlphaVector vectorLength="2" numObsValue="1" numVectors="5">'
    assert text[3] == '<Vector action="1" obsValue="0">-81.5975 28.4025 </Vector>'
    assert text[-1] == "</AlphaVector> </Policy>"
    again = read_policyx(path)
    assert np.array_equal(again.alpha, policy.alpha) and list(tmp_path.iterdir()) == [path]


DENSE = '<Vector action="0" obsValue="0">1 2 3</Vector>'


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (document(DENSE + "\n<Vector action='0'>1 2", count=2), 6, "mismatched tag"),
        ("<Other/>", 1, "expected a <Policy>"),
        (f"{HEADER}</Policy>", 1, "one <AlphaVector>"),
        (document(DENSE + "\n" + DENSE, length=4), 4, "vector 0 has 3 entries"),
        (document(DENSE, count=2), 3, "numVectors=2 but the file holds 1"),
        (
            document(DENSE.replace('obsValue="0"', 'obsValue="2"'), n_obs=2, count=1),
            4,
            "obsValue=2 but numObsValue is 2",
        ),
        (document(DENSE, length=0, count=1), 3, "vectorLength='0'"),
        (document("", count=0), 3, "no vectors"),
        (document(DENSE.replace("0", "9" * 30, 1), count=1), 4, "action='99"),
        (document(DENSE + "\n" + DENSE.replace('"0">', '"1">'), count=2), 5, "obsValue"),
        (document(DENSE + "\n" + DENSE.replace("2", "x")), 5, "non-numeric"),
        (document(DENSE + "\n" + DENSE.replace("2", "nan")), 5, "NaN"),
        (document(DENSE + "\n" + DENSE.replace('"0" obs', '"-1" obs')), 5, "action='-1'"),
        (document(DENSE + "\n" + DENSE.replace('"0" obs', '"1.5" obs')), 5, "action='1.5'"),
        (document(DENSE + '\n<Vector obsValue="0">1 2 3</Vector>'), 5, "lacks .*'action'"),
        (document(DENSE + "\n<Entry>0 1</Entry>"), 5, "unexpected element <Entry>"),
        (
            document(DENSE + '\n<SparseVector action="0"><Entry>3 1</Entry></SparseVector>'),
            5,
            "index < 3",
        ),
        (
            document(DENSE + '\n<SparseVector action="0"><Entry>1</Entry></SparseVector>'),
            5,
            "<Entry>index value</Entry>",
        ),
        (
            document(
                DENSE + '\n<SparseVector action="0"><Entry>1 2</Entry><Entry>1 3</Entry>'
                "</SparseVector>"
            ),
            5,
            "appears twice",
        ),
    ],
)
def test_malformed_files_raise_located_format_errors(text, line, message):
    with pytest.raises(FormatError, match=message) as info:
        parse_policyx(text, path="bad.policy")
    assert info.value.line == line and info.value.path == "bad.policy"


def test_missing_file_is_a_format_error(tmp_path):
    with pytest.raises(FormatError, match="cannot read"):
        read_policyx(tmp_path / "absent.policy")
