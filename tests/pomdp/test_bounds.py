"""Blind, QMDP and FIB bounds against SARSOP's figures (shared/reference/pomdp.md), closed forms."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decide.errors import ModelError
from decide.pomdp import bounds
from decide.pomdp.bounds import (
    blind_lower_bound,
    bound_values,
    fib_upper_bound,
    qmdp_upper_bound,
    transition_classes,
    upper_bound_value,
)
from decide.pomdp.cassandra import read_pomdp
from decide.pomdp.kernel_arrays import sparse_model
from decide.pomdp.model import TabularPOMDP

# file: (QMDP at b0, FIB at b0, blind LB at b0), as printed by SARSOP
REFERENCE = {
    "Tiger": (189.0, 87.18, -20.0),
    "TigerGrid": (2.982, 2.733, 0.000),
    "Hallway": (1.459, 1.289, 0.0471),
    "Hallway2": (1.141, 0.982, 0.0286),
    "TagAvoid": (0.826, 0.329, -20.0),
    "RockSample_4_4": (22.41, 22.41, 8.574),
    "RockSample_5_5": (24.15, 24.15, 8.145),
}
#: SARSOP stops its blind-policy iteration early (from below); ours is iterated to convergence.
BLIND_STOPPED_EARLY = {"Hallway", "Hallway2"}


def tiger() -> TabularPOMDP:
    """Tiger as in Cassandra's Tiger.pomdp, written out here as an independent model."""
    listen = np.array([[0.85, 0.15], [0.15, 0.85]])
    T = np.stack([np.eye(2), np.full((2, 2), 0.5), np.full((2, 2), 0.5)])
    Z = np.stack([listen, np.full((2, 2), 0.5), np.full((2, 2), 0.5)])
    R = np.array([[-1.0, -100.0, 10.0], [-1.0, 10.0, -100.0]])
    return TabularPOMDP(T=T, Z=Z, R=R, discount=0.95, b0=np.full(2, 0.5))


def _close(value: float, reference: float) -> bool:
    return abs(value - reference) <= 1e-3 * max(abs(reference), 1.0)


def _blind_closed_form(pomdp: TabularPOMDP) -> np.ndarray:
    """alpha_a = (I - gamma T_a)^-1 R_a, solved directly."""
    S = pomdp.n_states
    return np.stack(
        [
            np.linalg.solve(
                np.eye(S) - pomdp.discount * pomdp.dense_transitions()[a], pomdp.R[:, a]
            )
            for a in range(pomdp.n_actions)
        ]
    )


def test_tiger_bounds_match_the_reference_and_closed_forms():
    pomdp = tiger()
    values = bound_values(pomdp)
    qmdp, fib, blind = REFERENCE["Tiger"]
    assert _close(values["qmdp"], qmdp) and _close(values["fib"], fib)
    assert values["blind"] == pytest.approx(blind, abs=1e-9)
    # QMDP in closed form: V(s) = 10 / (1 - gamma) = 200 once the state is known.
    assert values["qmdp"] == pytest.approx(-1 + 0.95 * 200.0, rel=1e-12)
    assert np.allclose(blind_lower_bound(pomdp).alpha, _blind_closed_form(pomdp), atol=1e-9)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_bounds_at_b0_match_sarsop(shared_file, name):
    pomdp = read_pomdp(shared_file(f"pomdp/{name}.pomdp"))
    qmdp, fib = qmdp_upper_bound(pomdp), fib_upper_bound(pomdp)
    blind = blind_lower_bound(pomdp)
    ref_qmdp, ref_fib, ref_blind = REFERENCE[name]
    assert _close(qmdp.value(pomdp.b0), ref_qmdp)
    assert _close(upper_bound_value(fib, pomdp.b0), ref_fib)
    assert np.all(fib <= qmdp + 1e-9), "FIB is never above QMDP"
    lower = blind.value(pomdp.b0)
    if name in BLIND_STOPPED_EARLY:
        assert ref_blind <= lower <= ref_blind * 1.006
    else:
        assert _close(lower, ref_blind)
    if pomdp.n_states <= 300:
        assert np.allclose(blind.alpha, _blind_closed_form(pomdp), atol=1e-8)


def test_upper_bounds_are_fixed_points():
    pomdp = tiger()
    Q = np.asarray(qmdp_upper_bound(pomdp))
    expected = pomdp.R + pomdp.discount * np.einsum(
        "ast,t->sa", pomdp.dense_transitions(), Q.max(axis=1)
    )
    assert np.allclose(Q, expected, atol=1e-9)
    assert _fib_fixed_point_residual(pomdp, np.asarray(fib_upper_bound(pomdp))) < 1e-9


def _fib_fixed_point_residual(pomdp: TabularPOMDP, F: np.ndarray) -> float:
    # FIB: Q(s,a) = R + gamma sum_o max_a' sum_s' T(s'|s,a) Z(o|s',a) Q(s',a'), all dense
    inner = np.einsum("ast,ato,tb->asob", pomdp.dense_transitions(), pomdp.dense_observations(), F)
    expected = pomdp.R + pomdp.discount * inner.max(axis=3).sum(axis=2).T
    return float(np.abs(F - expected).max())


@st.composite
def models_with_repeated_rows(draw):
    """Small models whose transition rows repeat (as the fisheries escapement rows do), with
    observations shared by the actions or per action."""
    S, A, O = draw(st.integers(2, 5)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    distinct = rng.dirichlet(np.full(S, 0.5), size=draw(st.integers(1, 3)))
    T = distinct[rng.integers(len(distinct), size=(A, S))]
    shared = draw(st.booleans())
    Z = rng.dirichlet(np.ones(O), size=S if shared else (A, S))
    R = rng.normal(size=(S, A))
    return TabularPOMDP(T=T, Z=Z, R=R, discount=0.9, b0=np.full(S, 1 / S))


@settings(max_examples=40, deadline=None)
@given(models_with_repeated_rows())
def test_fib_on_shared_rows_is_the_dense_fixed_point(pomdp):
    m = sparse_model(pomdp)
    reps, classes = transition_classes(m)
    rows = pomdp.T_rows.toarray()
    action = np.arange(rows.shape[0]) // pomdp.n_states
    for i in range(rows.shape[0]):
        for j in range(rows.shape[0]):
            same = np.array_equal(rows[i], rows[j]) and (m.z_stride == 0 or action[i] == action[j])
            assert (classes[i] == classes[j]) == same
    assert np.array_equal(classes[reps], np.arange(reps.size))
    for dense_entries in (0, bounds.DENSE_FIB_ENTRIES):  # the sparse kernel, then BLAS if shared
        with mock.patch.object(bounds, "DENSE_FIB_ENTRIES", dense_entries):
            F = np.asarray(fib_upper_bound(pomdp))
        assert _fib_fixed_point_residual(pomdp, F) < 1e-9


def test_upper_bound_value_checks_the_belief():
    with pytest.raises(ModelError, match="belief"):
        upper_bound_value(np.zeros((2, 3)), np.ones(3) / 3)
    assert upper_bound_value(np.array([[1.0, 0.0], [0.0, 3.0]]), np.array([0.5, 0.5])) == 1.5


def test_fib_cut_short_stays_between_fib_and_qmdp(shared_file):
    """Every FIB iterate from QMDP is a valid bound: QMDP >= cut-short FIB >= converged FIB;
    with no time at all, QMDP itself stops after one call, above its fixed point."""
    pomdp = read_pomdp(shared_file("pomdp/Hallway.pomdp"))
    qmdp = np.asarray(qmdp_upper_bound(pomdp))
    none = np.asarray(fib_upper_bound(pomdp, time_budget=0.0))
    assert np.all(none >= qmdp - 1e-12) and np.any(none > qmdp + 1e-6)
    np.testing.assert_array_equal(np.asarray(fib_upper_bound(pomdp, qmdp, time_budget=0.0)), qmdp)
    partial = np.asarray(fib_upper_bound(pomdp, qmdp, time_budget=0.002))
    full = np.asarray(fib_upper_bound(pomdp))
    assert np.all(partial <= qmdp + 1e-12) and np.all(partial >= full - 1e-12)
