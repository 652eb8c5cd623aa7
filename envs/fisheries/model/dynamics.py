r"""The fisheries dynamics as pure functions on arrays, shared by every fisheries env.

Continuous model (one year, :math:`x` the true stock, :math:`h` the quota):

.. math::

    \text{reward} = \min(x, h), \qquad
    x' \sim \text{noise}\big(f(x, h), \sigma_g\big), \qquad
    y' = \operatorname{clip}\big(x' + \sigma_m \varepsilon, 0, x_{\max}\big),

with :math:`f` from :func:`decide.envs.fisheries.model.growth.expected_next` and an extinct stock
surveyed as 0. Grid model: the same on the grid points, with the next state and the observation
drawn from the paper code's discretised densities (:func:`grid_probabilities`).

Every function takes arrays of any shape (one entry per sub-environment) and draws from the
generator it is given, in a fixed order, so a single env and a vectorised env with one copy
produce the same trajectory from the same seed.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from decide.envs.fisheries.model.growth import NoiseKind, add_process_noise, expected_next, survey
from decide.envs.fisheries.model.params import FisheriesParams
from decide.errors import ModelError


def step_stock(
    params: FisheriesParams, x: np.ndarray, h: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One year of the continuous model: ``(next stock, realised harvest min(x, h))``."""
    mean, harvest = expected_next(params.model, x, h, params.order)
    return add_process_noise(mean, params.sigma_g, rng, params.noise), harvest


def survey_stock(params: FisheriesParams, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    r"""Survey :math:`y \sim \mathrm{Normal}(x, \sigma_m)`, censored to ``[0, x_max]``.

    An extinct stock (x = 0) is surveyed as 0, as in the paper's observation matrix.
    """
    x = np.asarray(x, dtype=float)
    y = survey(x, params.sigma_m, rng)
    return np.clip(np.where(x > 0.0, y, 0.0), 0.0, params.stock_max)


def nearest_index(grid: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Index of the grid point nearest each value (the lower one on a tie, as R's ``which.min``)."""
    values = np.asarray(values, dtype=float)
    return np.abs(values[..., None] - grid).argmin(axis=-1)


def grid_probabilities(
    grid: np.ndarray, mean: np.ndarray, sigma: float, kind: NoiseKind = "normal"
) -> np.ndarray:
    r"""Distribution over ``grid`` (which starts at 0) of a noisy value around ``mean``.

    The discretisation of the paper's code (R package ``sarsop`` 0.5.0, ``fisheries_matrices``):

    1. :math:`p_i \propto \varphi(g_i)`, the density at the grid points (not integrated over bins);
       for ``"normal"`` the density at the mirrored points :math:`-g_i` (i ≥ 1), i.e. the mass below
       0, is added to :math:`p_0`;
    2. the row is scaled to sum to :math:`N = \Phi(g_{\text{top}})` and :math:`1 - N` is added to
       the top point;
    3. ``mean <= 0`` puts all mass on point 0 (extinction is absorbing).

    ``sigma == 0`` puts all mass on the nearest grid point (the code's identity matrix for
    σm = 0). Where every density underflows (σ far below the grid spacing), the mass also goes
    to the nearest point; the R code sends it to point 0 instead, which never happens with the
    paper's parameters.

    Returns
    -------
    array (..., len(grid))
        Rows summing to 1.
    """
    grid = np.asarray(grid, dtype=float)
    mean = np.asarray(mean, dtype=float)
    nearest = np.where(mean > 0.0, nearest_index(grid, mean), 0)
    fallback = (np.arange(grid.size) == nearest[..., None]).astype(float)
    if sigma == 0:
        return fallback
    m = mean[..., None]
    if kind == "normal":
        dens = np.exp(-0.5 * ((grid - m) / sigma) ** 2)
        dens[..., 0] += np.exp(-0.5 * ((-grid[1:] - m) / sigma) ** 2).sum(axis=-1)
        upper = ndtr((grid[-1] - mean) / sigma)
    elif kind == "lognormal":
        meanlog = np.log(np.where(mean > 0.0, mean, 1.0)) - 0.5 * sigma**2
        inner = grid[1:]
        dens = np.zeros(mean.shape + grid.shape)
        dens[..., 1:] = np.exp(-0.5 * ((np.log(inner) - meanlog[..., None]) / sigma) ** 2) / inner
        upper = ndtr((np.log(grid[-1]) - meanlog) / sigma)
    else:
        raise ValueError(f"unknown noise kind {kind!r}")
    total = dens.sum(axis=-1)
    usable = (mean > 0.0) & (total > 0.0)
    probs = dens * (upper / np.where(total > 0.0, total, 1.0))[..., None]
    probs[..., -1] += 1.0 - upper
    return np.where(usable[..., None], probs, fallback)


def sample_index(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One index per row of ``probs`` (..., n) by inversion of the cumulative sums."""
    u = rng.random(probs.shape[:-1])
    index = (np.cumsum(probs, axis=-1) < u[..., None]).sum(axis=-1)
    return np.minimum(index, probs.shape[-1] - 1)


def step_grid(
    params: FisheriesParams,
    grid: np.ndarray,
    s: np.ndarray,
    a: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """One year on the grid: ``(next state index, realised harvest min(grid[s], grid[a]))``."""
    mean, harvest = expected_next(params.model, grid[s], grid[a], params.order)
    probs = grid_probabilities(grid, mean, params.sigma_g, params.noise)
    return sample_index(probs, rng), harvest


def survey_grid(
    params: FisheriesParams, grid: np.ndarray, s: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Observation index for state index ``s``, drawn from the discretised survey density."""
    return sample_index(grid_probabilities(grid, grid[s], params.sigma_m, "normal"), rng)


def initial_stock(
    params: FisheriesParams, rng: np.random.Generator, n: int, options: dict | None = None
) -> np.ndarray:
    """Starting stocks of ``n`` episodes: ``options["x0"]``, else as ``params.initial`` says."""
    x0 = (options or {}).get("x0")
    if x0 is not None:
        x0 = np.broadcast_to(np.asarray(x0, dtype=float), (n,)).copy()
        if not np.all(np.isfinite(x0) & (x0 >= 0.0)):
            raise ModelError("options.x0", f"expected finite stocks >= 0, got {x0}")
        return x0
    if params.initial == "uniform":
        return rng.uniform(0.0, params.stock_max, n)
    return np.full(n, params.stock0)


def initial_index(
    params: FisheriesParams,
    grid: np.ndarray,
    rng: np.random.Generator,
    n: int,
    options: dict | None = None,
) -> np.ndarray:
    """Starting grid states: nearest point to ``options["x0"]`` or ``params.stock0``, or uniform."""
    if (options or {}).get("x0") is None and params.initial == "uniform":
        return rng.integers(0, grid.size, n)
    return nearest_index(grid, initial_stock(params, rng, n, options))
