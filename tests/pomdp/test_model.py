import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from decide.errors import ModelError
from decide.pomdp.model import TabularPOMDP


def _arrays(S=2, A=2, O=2):
    T = np.full((A, S, S), 1.0 / S)
    Z = np.full((A, S, O), 1.0 / O)
    return dict(T=T, Z=Z, R=np.zeros((S, A)), discount=0.9, b0=np.full(S, 1.0 / S))


def test_defaults_and_read_only_arrays():
    pomdp = TabularPOMDP(**_arrays(3, 2, 4))
    assert (pomdp.n_states, pomdp.n_actions, pomdp.n_observations) == (3, 2, 4)
    assert pomdp.states == ("s0", "s1", "s2") and pomdp.observations[-1] == "o3"
    with pytest.raises(ValueError):
        pomdp.T_rows.data[0] = 1.0
    with pytest.raises(AttributeError):
        pomdp.R = np.ones((3, 2))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("discount", 1.0, "discount"),
        ("discount", 0.0, "discount"),
        ("T", np.zeros((2, 2, 2)), r"T\[0, 0\].*sums to 0"),
        ("Z", np.array([[[1.5, -0.5]] * 2] * 2), r"Z\[0, 0, 1\].*negative"),
        ("R", np.array([[np.nan, 0], [0, 0]]), "R: .*NaN"),
        ("b0", np.array([0.5, 0.6]), "b0"),
        ("R", np.zeros((3, 2)), r"R: expected shape \(2, 2\)"),
        ("states", ("x", "x"), "not unique"),
        ("actions", ("only-one",), "1 labels for 2"),
    ],
)
def test_validation_names_the_field(field, value, message):
    with pytest.raises(ModelError, match=message):
        TabularPOMDP(**{**_arrays(), field: value})


@given(st.floats(min_value=-1e-7, max_value=1e-7))
def test_row_sum_tolerance(eps):
    arrays = _arrays()
    arrays["T"] = arrays["T"].copy()
    arrays["T"][0, 0] = [0.5 + eps, 0.5]
    TabularPOMDP(**arrays)
