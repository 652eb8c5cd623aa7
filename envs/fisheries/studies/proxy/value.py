r"""Candidate harvest rules of the proxy study, their value under a model, and the objectives.

4. **Policy family**: :math:`h = \min\bigl(F x,\ \max(x - S, 0)\bigr)`, escapement
   :math:`S \sim U[0, K_{\text{gold}}]` and rate cap :math:`F \sim U[0, 1]`, ``n_candidates``
   (2000) rules drawn at random (:func:`draw_rules`). A rule sees the stock without error when it
   is applied (survey error lives only in the records).
5. **Value** of a rule under a model (r, K, σg): its expected net present value
   :math:`\mathbb E \sum_{t=0}^{H-1} \gamma^t \min(x_t, h_t)`, H = ``horizon`` (50) years from
   :math:`x_0` = ``start`` (0.5), estimated by :func:`rule_npv` over ``replicates`` (100) process
   noise paths shared by every rule and model (common random numbers). The gold value uses an
   independent set of ``gold_replicates`` (400) paths, so selecting on a proxy's noise cannot
   flatter the gold estimate.

**Objectives** (:data:`OBJECTIVES`) and what each maximises, its **proxy value**, reported in NPV
units (:func:`proxy_objectives`):

* ``"single"``: the NPV under the single fit;
* ``"mean"``, ``"wco"``, ``"uwo"``: the ensemble objective :math:`J_c` of
  :func:`decide.robust.ensemble.ensemble_objective` over the k bootstrap fits' NPVs, each
  standardised over the candidates (λ = ``lam`` = 0.5 for UWO), mapped back to NPV units by the
  ensemble's average location and scale, :math:`\bar a + \bar s\, J_c` with
  :math:`\bar a = \frac1k\sum_m \bar v_m` and :math:`\bar s = \frac1k\sum_m s_m` (for ``"mean"``
  with equal scales this is the mean NPV over the ensemble; the map is increasing, so it ranks
  candidates exactly as :math:`J_c` does).
"""

from __future__ import annotations

import numpy as np

from decide.envs.fisheries.studies.proxy.records import grow
from decide.errors import ModelError
from decide.robust.ensemble import ensemble_objective

#: Objectives in the order of the Dataset's ``objective`` coordinate.
OBJECTIVES = ("single", "mean", "wco", "uwo")


def draw_rules(n: int, K: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Escapements S ~ U[0, K] and rate caps F ~ U[0, 1] of n random rules."""
    unit = rng.uniform(size=(2, n))
    return unit[0] * K, unit[1]


def rule_npv(
    models: np.ndarray,
    escapement: np.ndarray,
    cap: np.ndarray,
    noise: np.ndarray,
    *,
    start: float,
    gamma: float,
) -> np.ndarray:
    r"""Expected NPV of each rule :math:`h = \min(F x, \max(x - S, 0))` under each model.

    For every model row (r, K, σg), rule (S, F) and noise path ε (the rows of ``noise`` are
    years, its columns replicates), from :math:`x_0` = ``start``:

    .. math::

        h_t = \min\bigl(F x_t, \max(x_t - S, 0)\bigr), \quad s_t = x_t - h_t, \quad
        x_{t+1} = \max(s_t + r s_t (1 - s_t/K) + \sigma_g \varepsilon_t, 0)

    (0 absorbing), and the value is :math:`\frac1R \sum_{\text{paths}} \sum_{t<H} \gamma^t h_t`.
    Every rule and model uses the same paths (common random numbers). Vectorised over
    models × rules × paths, one numpy pass per year.

    Parameters
    ----------
    models : array (m, 3)
        (r, K, σg) per model.
    escapement, cap : arrays (n,)
        S ≥ 0 and F in [0, 1] per rule.
    noise : array (H, R)
        Standard normal draws; H is the horizon.
    start, gamma : float
        Initial stock and discount factor.

    Returns
    -------
    numpy.ndarray (m, n)
    """
    models = np.asarray(models, dtype=float)
    if models.ndim != 2 or models.shape[1] != 3:
        raise ModelError("models", f"expected rows (r, K, sigma_g), got shape {models.shape}")
    r, K, sigma = (models[:, j, None, None] for j in range(3))
    S = np.asarray(escapement, dtype=float)[None, :, None]
    F = np.asarray(cap, dtype=float)[None, :, None]
    x = np.full((models.shape[0], S.shape[1], noise.shape[1]), float(start))
    value = np.zeros_like(x)
    for t, eps in enumerate(noise):
        harvest = np.minimum(F * x, np.maximum(x - S, 0.0))
        value += gamma**t * harvest
        x = grow(x - harvest, r, K, sigma, eps)
    return value.mean(axis=-1)


def proxy_objectives(
    npv: np.ndarray, lam: float
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    r"""Per objective: the score it maximises over the candidates, and that score in NPV units.

    Parameters
    ----------
    npv : array (1 + k, n)
        NPV of each candidate under the single fit (row 0) and the k bootstrap fits.
    lam : float
        UWO weight λ.

    Returns
    -------
    score, value : dict of arrays (n,), keyed by :data:`OBJECTIVES`
        ``value`` is ``score`` for ``"single"`` and :math:`\bar a + \bar s\, J_c` for the
        ensemble objectives (see the module docstring).
    """
    single, ensemble = npv[0], npv[1:]
    location = ensemble.mean(axis=1).mean()
    scale = ensemble.std(axis=1).mean()
    score = {"single": single}
    value = {"single": single}
    for name in OBJECTIVES[1:]:
        score[name] = ensemble_objective(ensemble, name, lam=lam)
        value[name] = location + scale * score[name]
    return score, value
