r"""Candidate policies of the ensemble-robust choice, and their value with one model as the truth.

Every fitted model (r, K, σg) becomes the simulation study's POMDP on grids shared by all
models (:func:`model_pomdp`): logistic growth with harvest first,
:math:`x' \sim \mathcal N(s + r s (1 - s/K), \sigma_g)` with :math:`s = x - h`, surveys
:math:`y \sim \mathcal N(x, \sigma_m)`, reward :math:`\min(x, h)`, uniform initial belief. From
each model come four candidates (:func:`build_candidates`): its POMDP policy (point-based solve
with a trial budget, so the same on any machine), whose manager keeps a Bayes belief *under
that model*, and its CE, MSY and TAC rules as action tables (quota from the last survey only).

:func:`candidate_values` plays every candidate against one true model with the protocol of
:mod:`decide.envs.fisheries.studies.simulation` on shared uniforms (common random numbers): states
and surveys are drawn from the true model, the belief of a POMDP candidate follows its own model.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from decide.envs.fisheries.model.growth import Logistic
from decide.envs.fisheries.model.pomdp_builder import Grids, build_pomdp, make_grids
from decide.envs.fisheries.model.reference import reference_rules
from decide.envs.fisheries.studies.simulation import npv, rollouts
from decide.errors import ModelError
from decide.pomdp.model import TabularPOMDP
from decide.pomdp.pointbased import PointBased
from decide.pomdp.policy import AlphaVectorPolicy

#: Kinds of candidate each fitted model contributes, in this order.
KINDS = ("POMDP", "CE", "MSY", "TAC")
ORDER = "harvest_first"
#: Seconds allowed per solve: far beyond any trial budget here, so the budget ends the solve.


@dataclass(frozen=True)
class PipelineSpec:
    """The POMDP pipeline's fixed part: grids, survey noise, discount, σg cap, the solver."""

    n_grid: int
    upper: float
    survey_sd: float
    discount: float
    sigma_g_cap: float | None
    solver: PointBased

    @property
    def grids(self) -> Grids:
        return make_grids(n_states=self.n_grid, upper=self.upper)


@dataclass(frozen=True)
class Candidates:
    """The candidates of one seed: name, source model, kind, policy, and each model's POMDP.

    ``sources[c]`` is the row of the fits candidate c comes from, and so the index into
    ``pomdps`` of the model whose belief it keeps.
    """

    names: tuple[str, ...]
    sources: tuple[int, ...]
    kinds: tuple[str, ...]
    policies: tuple[AlphaVectorPolicy | np.ndarray, ...]
    pomdps: tuple[TabularPOMDP, ...]


def model_label(index: int) -> str:
    """``"single"`` for row 0 of the fits, ``"bootstrap i"`` for row i + 1."""
    return "single" if index == 0 else f"bootstrap {index - 1}"


def candidate_name(index: int, kind: str) -> str:
    """E.g. ``"single/POMDP"``, ``"boot2/CE"`` (row 3 of the fits)."""
    return f"{'single' if index == 0 else f'boot{index - 1}'}/{kind}"


def model_pomdp(row: np.ndarray, spec: PipelineSpec, *, cap: bool = True) -> TabularPOMDP:
    """The POMDP of one model row (r, K, σg) on the shared grids (σg capped when ``cap``)."""
    r, K, sigma_g = (float(v) for v in row)
    if cap and spec.sigma_g_cap is not None:
        sigma_g = min(sigma_g, spec.sigma_g_cap)
    return build_pomdp(
        Logistic(r=r, K=K),
        sigma_g,
        spec.survey_sd,
        spec.n_grid,
        upper=spec.upper,
        discount=spec.discount,
        order=ORDER,
    )


def build_candidates(models: np.ndarray, spec: PipelineSpec) -> Candidates:
    """Four candidates (:data:`KINDS`) per model row (r, K, σg) of ``models``, in row order."""
    models = np.asarray(models, dtype=float)
    if models.ndim != 2 or models.shape[1] != 3 or not np.all(np.isfinite(models)):
        raise ModelError("models", f"expected finite rows (r, K, sigma_g), got {models.shape}")
    grids = spec.grids
    # Ctrl-C must not leave a cut-short policy among the candidates: the seed is not finished
    solver = replace(spec.solver, on_interrupt="raise")
    names, sources, kinds, policies, pomdps = [], [], [], [], []
    for index, row in enumerate(models):
        pomdp = model_pomdp(row, spec)
        result = solver.solve(pomdp)
        rules = reference_rules(Logistic(r=row[0], K=row[1]), spec.discount, ORDER, spec.upper)
        tables = {name: rule.action_table(grids) for name, rule in rules.items()}
        pomdps.append(pomdp)
        for kind in KINDS:
            names.append(candidate_name(index, kind))
            sources.append(index)
            kinds.append(kind)
            policies.append(result.policy if kind == "POMDP" else tables[kind])
    return Candidates(tuple(names), tuple(sources), tuple(kinds), tuple(policies), tuple(pomdps))


def candidate_values(
    truth: TabularPOMDP, candidates: Candidates, u: np.ndarray, x0: int
) -> tuple[np.ndarray, np.ndarray]:
    r"""Per-replicate NPV and final state of every candidate with ``truth`` as the true model.

    The NPV of a replicate is :math:`\sum_{k=0}^{H-1} \gamma^{k+1} \min(x_k, h_k)` over the
    H = ``u.shape[1]`` simulated years, from state ``x0`` with "no harvest" as the previous
    action; every candidate uses the same uniforms ``u``.

    Returns
    -------
    npv, final : arrays (n_candidates, replicates)
        NPV (reward units) and the state index after the last year.
    """
    values = np.empty((len(candidates.names), u.shape[0]))
    final = np.empty(values.shape, dtype=np.int64)
    for c, policy in enumerate(candidates.policies):
        agent = candidates.pomdps[candidates.sources[c]]
        out = rollouts(truth, policy, u, x0, agent=agent)
        values[c] = npv(truth, out["state"], out["action"])
        final[c] = out["final_state"]
    return values, final
