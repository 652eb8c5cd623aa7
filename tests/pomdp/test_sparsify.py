"""Dropping near-zero entries: checked against the dense arrays, and the value bound against
solved models (one of them attains the bound to first order)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decide.envs.fisheries.model.growth import Logistic
from decide.envs.fisheries.model.pomdp_builder import (
    build_historical_pomdp,
    build_pomdp,
    build_pomdp_report,
)
from decide.errors import UsageError
from decide.pomdp.model import TabularPOMDP
from decide.pomdp.pointbased import PointBased
from decide.pomdp.problems import tiger
from decide.pomdp.sparsify import DroppedMass, drop_small


def random_pomdp(seed: int, S: int, A: int, O: int, shared_z: bool, discount: float = 0.9):
    """Dirichlet rows with a small concentration: many entries near zero, some exactly zero."""
    rng = np.random.default_rng(seed)
    T = rng.dirichlet(np.full(S, 0.3), size=(A, S))
    Z = rng.dirichlet(np.full(O, 0.3), size=S if shared_z else (A, S))
    T[T < 1e-3] = 0.0  # exact zeros, which are not entries
    T /= T.sum(axis=-1, keepdims=True)
    R = rng.uniform(-1.0, 1.0, size=(S, A))
    return TabularPOMDP(T=T, Z=Z, R=R, discount=discount, b0=rng.dirichlet(np.ones(S)))


def reference(rows: np.ndarray, threshold: float):
    """Per row of dense ``rows``: the entries kept and the mass removed, written out plainly."""
    kept = np.zeros(rows.shape, dtype=bool)
    removed = np.zeros(rows.shape[0])
    for i, row in enumerate(rows):
        keep = (row > 0) & (row >= threshold)
        if not keep.any():
            keep = row == row.max()
        kept[i] = keep
        removed[i] = row[~keep].sum()
    return kept, removed


def observation_rows(pomdp: TabularPOMDP, shared: bool) -> np.ndarray:
    """Dense Z rows, once for all actions if ``shared`` (pruning can make the tables equal)."""
    Z = pomdp.dense_observations()
    return Z[0] if shared else Z.reshape(-1, pomdp.n_observations)


@st.composite
def models_and_thresholds(draw):
    S, A, O = draw(st.integers(1, 5)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    pomdp = random_pomdp(draw(st.integers(0, 2**32 - 1)), S, A, O, draw(st.booleans()))
    entries = np.concatenate([pomdp.T_rows.data, pomdp.Z_rows.data])
    threshold = draw(
        st.one_of(
            st.floats(0.0, 1.0, exclude_max=True),
            st.floats(0.0, 0.2),
            st.sampled_from(sorted(set(entries[entries < 1.0].tolist()) or {0.0})),
        )
    )
    return pomdp, threshold


@settings(max_examples=300, deadline=None)
@given(models_and_thresholds())
def test_pruned_rows_match_the_dense_reference(case):
    pomdp, threshold = case
    pruned, dropped = drop_small(pomdp, threshold)
    shared = pomdp.z_stride == 0
    expected = []
    for before, after in (
        (pomdp.T_rows.toarray(), pruned.T_rows.toarray()),
        (observation_rows(pomdp, shared), observation_rows(pruned, shared)),
    ):
        kept, removed = reference(before, threshold)
        assert np.all(after >= 0)
        np.testing.assert_allclose(after.sum(axis=1), 1.0, rtol=0, atol=1e-12)
        assert np.all(after[~kept] == 0)
        # kept entries exactly the original ones, up to the row's renormalisation
        scale = np.where(kept, before, 0).sum(axis=1, keepdims=True)
        np.testing.assert_allclose(np.where(kept, after * scale, 0), np.where(kept, before, 0))
        np.testing.assert_array_equal(after[removed == 0], before[removed == 0])  # untouched
        expected.append((removed.max(), int(np.count_nonzero(before[~kept]))))
    assert dropped.threshold == threshold
    assert dropped.transition == pytest.approx(expected[0][0], abs=1e-15)
    assert dropped.observation == pytest.approx(expected[1][0], abs=1e-15)
    assert dropped.entries_dropped == expected[0][1] + expected[1][1]
    np.testing.assert_array_equal(pruned.R, pomdp.R)
    np.testing.assert_array_equal(pruned.b0, pomdp.b0)
    assert (pruned.states, pruned.actions, pruned.observations) == (
        pomdp.states,
        pomdp.actions,
        pomdp.observations,
    )


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1), st.booleans())
def test_threshold_zero_or_below_every_entry_changes_nothing(seed, shared_z):
    pomdp = random_pomdp(seed, 4, 2, 3, shared_z)
    smallest = min(pomdp.T_rows.data.min(), pomdp.Z_rows.data.min())
    for threshold in (0.0, smallest):
        pruned, dropped = drop_small(pomdp, threshold)
        assert pruned is pomdp
        assert dropped == DroppedMass(threshold, 0.0, 0.0, 0)
        assert dropped.bound_for(pomdp) == 0.0
        np.testing.assert_array_equal(pruned.dense_transitions(), pomdp.dense_transitions())
        np.testing.assert_array_equal(pruned.dense_observations(), pomdp.dense_observations())


def test_a_row_entirely_below_the_threshold_keeps_its_largest_entries():
    T = np.array([[[0.2, 0.3, 0.5], [0.4, 0.4, 0.2], [0.0, 0.0, 1.0]]])
    pomdp = TabularPOMDP(T=T, Z=np.ones((1, 3, 1)), R=np.zeros((3, 1)), discount=0.9,
                         b0=np.full(3, 1 / 3))  # fmt: skip
    pruned, dropped = drop_small(pomdp, 0.6)
    np.testing.assert_allclose(pruned.dense_transitions()[0], [[0, 0, 1], [0.5, 0.5, 0], [0, 0, 1]])
    assert dropped == DroppedMass(0.6, 0.5, 0.0, 3)


@pytest.mark.parametrize("threshold", [-0.1, 1.0, 1.5, math.nan, math.inf, "half", None])
def test_threshold_outside_zero_one_is_refused(threshold):
    with pytest.raises(UsageError, match="threshold"):
        drop_small(tiger(), threshold)


def test_value_bound_formula_and_its_arguments():
    dropped = DroppedMass(0.1, 0.01, 0.02, 5)
    assert dropped.value_bound(-1.0, 3.0, 0.9) == pytest.approx(0.9 * 0.03 * 4.0 / 0.01)
    with pytest.raises(UsageError, match="discount"):
        dropped.value_bound(0.0, 1.0, 1.0)
    with pytest.raises(UsageError, match="r_max"):
        dropped.value_bound(1.0, 0.0, 0.5)


def solved_interval(pomdp: TabularPOMDP, gap: float) -> tuple[float, float]:
    result = PointBased(time_limit=math.inf, max_iterations=20_000, target_gap=gap).solve(pomdp)
    assert result.gap <= gap, result.stop_reason
    return result.lower_bound, result.upper_bound


def value_change(pomdp: TabularPOMDP, pruned: TabularPOMDP, gap=1e-6) -> tuple[float, float]:
    """The least and the largest |V*(b0) − Ṽ*(b0)| that the two solves' bounds allow."""
    (lo, hi), (lo_p, hi_p) = solved_interval(pomdp, gap), solved_interval(pruned, gap)
    return max(lo - hi_p, lo_p - hi, 0.0), max(hi - lo_p, hi_p - lo)


def test_value_bound_holds_on_tiger_with_its_listening_noise_dropped():
    pomdp = tiger()
    pruned, dropped = drop_small(pomdp, 0.2)  # the 0.15 listening errors go: hearing is exact
    assert dropped.observation == pytest.approx(0.15) and dropped.entries_dropped == 2
    least, largest = value_change(pomdp, pruned)
    assert least > 1.0  # a real change of the optimal value...
    assert largest <= dropped.bound_for(pomdp)  # ...within the bound


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_value_bound_holds_on_random_models(seed):
    pomdp = random_pomdp(seed, 5, 3, 3, shared_z=seed % 2 == 0, discount=0.5)
    pruned, dropped = drop_small(pomdp, 0.05)
    assert dropped.transition > 0 and dropped.observation > 0
    least, largest = value_change(pomdp, pruned, gap=1e-4)  # 1e-6 takes a minute
    assert least > 1e-4
    assert largest <= dropped.bound_for(pomdp)


def test_value_bound_is_attained_to_first_order_by_a_leak_to_an_absorbing_state():
    """A rewarded state leaking p to an unrewarded absorbing one: V = 1/(1 − γ(1 − p)), and
    1/(1 − γ) once the leak is dropped, a gap of γp/(1 − γ)² + O(p²) — the bound."""
    p, gamma = 1e-3, 0.9
    T = np.array([[[1 - p, p], [0.0, 1.0]]])
    pomdp = TabularPOMDP(T=T, Z=np.ones((1, 2, 1)), R=np.array([[1.0], [0.0]]), discount=gamma,
                         b0=np.array([1.0, 0.0]))  # fmt: skip
    pruned, dropped = drop_small(pomdp, 0.01)
    assert (dropped.transition, dropped.observation) == (pytest.approx(p), 0.0)
    exact = 1 / (1 - gamma * (1 - p)) - 1 / (1 - gamma)
    least, largest = value_change(pomdp, pruned)
    assert least <= abs(exact) <= largest
    bound = dropped.bound_for(pomdp)
    assert largest <= bound and least >= 0.98 * bound


def test_fisheries_builder_drops_and_reports():
    exact = build_pomdp(n_states=30)
    pruned, dropped = build_pomdp_report(n_states=30, drop_below=1e-6)
    assert pruned.name == f"{exact.name}-drop1e-06"
    again, report = drop_small(exact, 1e-6)
    assert report == dropped and dropped.entries_dropped > 0
    shortcut = build_pomdp(n_states=30, drop_below=1e-6)
    for field in ("T_rows", "Z_rows"):
        assert getattr(pruned, field).nnz < getattr(exact, field).nnz
        for other in (again, shortcut):
            np.testing.assert_array_equal(
                getattr(pruned, field).toarray(), getattr(other, field).toarray()
            )
    assert 0 < dropped.bound_for(exact) < 1e-2


def test_fisheries_builder_default_is_the_exact_model():
    exact, dropped = build_pomdp_report(n_states=20)
    assert dropped == DroppedMass(0.0, 0.0, 0.0, 0)
    same = build_pomdp(n_states=20, drop_below=0.0)
    assert same.name == exact.name == "fisheries-logistic-sg0.15-sm0.1-20"
    np.testing.assert_array_equal(same.dense_transitions(), exact.dense_transitions())
    np.testing.assert_array_equal(same.dense_observations(), exact.dense_observations())


def test_historical_builder_forwards_drop_below():
    model = Logistic(0.6, 1.2)
    pruned = build_historical_pomdp(model, 0.1, n=20, drop_below=1e-4)
    expected, _ = build_pomdp_report(
        model, 0.1, 0.1, 20, upper=4.0, order="recruit_first", drop_below=1e-4
    )
    assert pruned.name == expected.name
    np.testing.assert_array_equal(pruned.dense_transitions(), expected.dense_transitions())


@pytest.mark.parametrize("drop_below", [-1e-3, 1.0])
def test_fisheries_builder_names_drop_below_when_refusing_it(drop_below):
    with pytest.raises(UsageError, match="drop_below"):
        build_pomdp(n_states=10, drop_below=drop_below)
