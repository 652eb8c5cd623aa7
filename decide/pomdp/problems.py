"""Built-in POMDPs generated from their published definitions: Tiger and RockSample.

``builtin_problem("tiger")``, ``builtin_problem("rocksample-5-5")`` … build them by name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
from scipy import sparse

from decide.errors import ModelError, UsageError
from decide.pomdp.model import TabularPOMDP

#: Largest model (bytes of sparse rows and rewards) a generator will build.
MAX_MODEL_BYTES = 2**31


def tiger(noise: float = 0.15, discount: float = 0.95) -> TabularPOMDP:
    r"""The Tiger problem (Kaelbling, Littman & Cassandra 1998), as in Cassandra's Tiger.pomdp.

    A tiger is behind the left or the right door. ``listen`` costs 1 and leaves the state
    unchanged; it reports the tiger's side correctly with probability :math:`1 - \text{noise}`.
    Opening a door pays +10 if the tiger is behind the other one and −100 otherwise, then the
    problem resets to a uniformly random side and the observation is uniform. b0 is uniform.

    Parameters
    ----------
    noise : float
        Probability that listening reports the wrong side, in [0, 1].
    discount : float
        Discount factor γ.
    """
    if not 0.0 <= noise <= 1.0:
        raise ModelError("noise", f"expected a probability in [0, 1], got {noise}")
    listen = np.array([[1.0 - noise, noise], [noise, 1.0 - noise]])
    half = np.full((2, 2), 0.5)
    T = np.stack([np.eye(2), half, half])
    Z = np.stack([listen, half, half])
    R = np.array([[-1.0, -100.0, 10.0], [-1.0, 10.0, -100.0]])
    return TabularPOMDP(
        T=T,
        Z=Z,
        R=R,
        discount=discount,
        b0=np.full(2, 0.5),
        states=("tiger-left", "tiger-right"),
        actions=("listen", "open-left", "open-right"),
        observations=("obs-left", "obs-right"),
        name="Tiger",
    )


@dataclass(frozen=True)
class RockSampleInstance:
    """A published RockSample(n, k) instance: rock positions, start and sensor half distance."""

    rocks: tuple[tuple[int, int], ...]
    start: tuple[int, int]
    half_efficiency_distance: float


#: Instances of ZMDP's generators (Smith & Simmons 2004); positions are (x, y).
#: RockSample_4_4.pomdp was written with efficiency exp(-d), i.e. a half distance of ln 2.
ROCKSAMPLE_INSTANCES: dict[tuple[int, int], RockSampleInstance] = {
    (4, 4): RockSampleInstance(((3, 1), (2, 1), (1, 3), (1, 0)), (0, 2), math.log(2.0)),
    (5, 5): RockSampleInstance(((2, 4), (0, 4), (3, 3), (2, 2), (4, 1)), (0, 2), 4.0),
    (5, 7): RockSampleInstance(
        ((1, 0), (2, 1), (1, 2), (2, 2), (4, 2), (0, 3), (3, 4)), (0, 2), 20.0
    ),
    (7, 8): RockSampleInstance(
        ((2, 0), (0, 1), (3, 1), (6, 3), (2, 4), (3, 4), (5, 5), (1, 6)), (0, 3), 20.0
    ),
    (10, 10): RockSampleInstance(
        ((0, 3), (0, 7), (1, 8), (3, 3), (3, 8), (4, 3), (5, 8), (6, 1), (9, 3), (9, 9)),
        (0, 5),
        20.0,
    ),
    # as in POMCP's rocksample.cpp ("equivalent to RockSample_11_11.pomdp(x)")
    (11, 11): RockSampleInstance(
        ((0, 3), (0, 7), (1, 8), (2, 4), (3, 3), (3, 8), (4, 3), (5, 8), (6, 1), (9, 3), (9, 9)),
        (0, 5),
        20.0,
    ),
}

_MOVES = ((0, 1), (1, 0), (0, -1), (-1, 0))  # amn, ame, ams, amw
EXIT_REWARD, ILLEGAL_PENALTY, GOOD_SAMPLE, BAD_SAMPLE = 10.0, -100.0, 10.0, -10.0


def rock_sample(
    n: int,
    k: int,
    rock_positions: Sequence[tuple[int, int]] | None = None,
    start: tuple[int, int] | None = None,
    discount: float = 0.95,
    half_efficiency_distance: float | None = None,
    decimals: int | None = 6,
) -> TabularPOMDP:
    r"""RockSample(n, k) (Smith & Simmons 2004) with the conventions of ZMDP's generator.

    The robot's cell (x, y) on an n×n grid is known; each of k rocks is good or bad with
    probability 1/2. State ``((x n + y) 2^k) + r`` where bit ``k-1-i`` of ``r`` is rock i
    (1 = good), labelled ``s<x><y><r as k binary digits>`` (``s<x>_<y>_<r>`` for n > 10); the
    last state ``st`` is an absorbing terminal. Actions ``amn ame ams amw`` (north = y+1,
    east = x+1), ``ac0 … ac{k-1}`` (check), ``as`` (sample); observations ``ogood obad``.

    - Moving east off the grid pays +10 and ends in ``st``; any other move off the grid, or
      sampling where there is no rock, pays −100 and ends in ``st``.
    - Sampling a good rock pays +10 and makes it bad; a bad rock pays −10.
    - Check i reports the truth with efficiency :math:`\eta = 2^{-d/d_0}` (d = Euclidean
      distance to rock i): P(ogood | good) = η + (1 − η)/2, P(ogood | bad) = (1 − η)/2.
    - Every other action, and any action in ``st``, observes ``ogood``.

    The rows are built sparse (one transition per row), so RockSample(11, 11), 247,809 states,
    takes a few hundred MB. The robot's cell (``st`` its own value) is the model's observed part:
    solvers keep vectors over the 2^k rock states per cell.

    Parameters
    ----------
    n, k : int
        Grid side and number of rocks.
    rock_positions : sequence of (x, y), optional
        Defaults to the published instance (see :data:`ROCKSAMPLE_INSTANCES`).
    start : (x, y), optional
        Initial cell; default the instance's, else ``(0, n // 2)``.
    discount : float
        Discount factor γ.
    half_efficiency_distance : float, optional
        d0; default the instance's, else 20.
    decimals : int or None
        Round the check probabilities to this many decimals, as ZMDP writes them (``%f``), so
        that the arrays equal the distributed ``.pomdp`` files; ``None`` keeps them exact.

    Raises
    ------
    UsageError
        Without ``rock_positions`` for an unpublished (n, k), or when the model would exceed
        :data:`MAX_MODEL_BYTES`.
    """
    instance = ROCKSAMPLE_INSTANCES.get((n, k))
    if rock_positions is None:
        if instance is None:
            known = ", ".join(f"({a}, {b})" for a, b in ROCKSAMPLE_INSTANCES)
            raise UsageError(f"rock_positions: required for RockSample({n}, {k}); known {known}")
        rock_positions = instance.rocks
    rocks = np.array(rock_positions, dtype=np.int64).reshape(-1, 2)
    start = start if start is not None else (instance.start if instance else (0, n // 2))
    if half_efficiency_distance is None:
        half_efficiency_distance = instance.half_efficiency_distance if instance else 20.0
    _check_rock_sample(n, k, rocks, start, half_efficiency_distance)
    _check_rock_sample_size(n, k)
    grid = _grid(n, k)
    targets, R = _rock_dynamics(grid, n, k, rocks)
    b0 = np.zeros(targets.shape[1])
    first = (start[0] * n + start[1]) * 2**k
    b0[first : first + 2**k] = 1.0 / 2**k
    return TabularPOMDP(
        T=_deterministic_rows(targets),
        Z=_rock_observations(grid, k, rocks, half_efficiency_distance, decimals),
        R=R,
        discount=discount,
        b0=b0,
        states=_rock_state_labels(n, k),
        actions=("amn", "ame", "ams", "amw", *(f"ac{i}" for i in range(k)), "as"),
        observations=("ogood", "obad"),
        name=f"RockSample_{n}_{k}",
        observed=np.append(grid[0] * n + grid[1], n * n),
    )


def _check_rock_sample(n: int, k: int, rocks: np.ndarray, start, d0: float) -> None:
    if n < 1 or k < 0:
        raise ModelError("n", f"expected n >= 1 and k >= 0, got n={n}, k={k}")
    if rocks.shape[0] != k:
        raise ModelError("rock_positions", f"{rocks.shape[0]} positions for k={k} rocks")
    if np.any((rocks < 0) | (rocks >= n)):
        raise ModelError("rock_positions", f"every (x, y) must lie in [0, {n - 1}]")
    if not (0 <= start[0] < n and 0 <= start[1] < n):
        raise ModelError("start", f"{tuple(start)} is off the {n}x{n} grid")
    if not d0 > 0:
        raise ModelError("half_efficiency_distance", f"expected > 0, got {d0}")


def _rock_sample_bytes(n: int, k: int) -> int:
    """Bytes of RockSample(n, k)'s sparse rows and rewards (12 per entry, 4 per row, 8 per R)."""
    S, A = n * n * 2**k + 1, k + 5
    entries = A * S + (A * S + k * S)  # one per transition row; one or two per observation row
    return 12 * entries + 4 * 2 * A * S + 8 * S * A


def _check_rock_sample_size(n: int, k: int) -> None:
    size = _rock_sample_bytes(n, k)
    if size > MAX_MODEL_BYTES:
        raise UsageError(
            f"RockSample({n}, {k}) has {n * n * 2**k + 1} states: its sparse model would need "
            f"{size / 1e9:.1f} GB (limit {MAX_MODEL_BYTES / 1e9:.1f} GB)"
        )


Grid = tuple[np.ndarray, np.ndarray, np.ndarray]


def _grid(n: int, k: int) -> Grid:
    """x, y and rock bits of every non-terminal state, in state order."""
    index = np.arange(n * n * 2**k)
    cell, bits = np.divmod(index, 2**k)
    x, y = np.divmod(cell, n)
    return x, y, bits


def _rock_dynamics(grid: Grid, n: int, k: int, rocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The successor ``targets[a, s]`` of every (deterministic) transition, and R (S, A)."""
    x, y, bits = grid
    S, A = x.size + 1, k + 5
    terminal = S - 1
    targets = np.empty((A, S), dtype=_index_dtype(A * S))
    R = np.zeros((S, A))
    for a, (dx, dy) in enumerate(_MOVES):
        xp, yp = x + dx, y + dy
        exits = xp >= n
        illegal = ~exits & ((xp < 0) | (yp < 0) | (yp >= n))
        targets[a, :-1] = np.where(exits | illegal, terminal, (xp * n + yp) * 2**k + bits)
        R[:-1, a] = np.where(exits, EXIT_REWARD, np.where(illegal, ILLEGAL_PENALTY, 0.0))
    targets[4 : 4 + k] = np.arange(S)
    sample = 4 + k
    mask = _sampled_rock_bit(n, k, rocks)[x, y]
    sampled = bits & mask
    targets[sample, :-1] = np.where(mask > 0, np.arange(x.size) - sampled, terminal)
    R[:-1, sample] = np.where(
        mask > 0, np.where(sampled > 0, GOOD_SAMPLE, BAD_SAMPLE), ILLEGAL_PENALTY
    )
    targets[:, terminal] = terminal
    return targets, R


def _sampled_rock_bit(n: int, k: int, rocks: np.ndarray) -> np.ndarray:
    """(n, n): the state bit of the rock sampled at each cell, 0 where there is none."""
    mask = np.zeros((n, n), dtype=np.int64)
    for i in reversed(range(k)):  # the first rock listed at a cell is the one sampled
        mask[rocks[i, 0], rocks[i, 1]] = 1 << (k - 1 - i)
    return mask


def _index_dtype(n_entries: int) -> type[np.signedinteger]:
    return np.int32 if n_entries < 2**31 else np.int64


def _deterministic_rows(targets: np.ndarray) -> sparse.csr_array:
    """(A*S, S) rows with a single 1 at ``targets[a, s]`` in row ``a S + s``."""
    A, S = targets.shape
    indptr = np.arange(A * S + 1, dtype=_index_dtype(A * S + 1))
    return sparse.csr_array((np.ones(A * S), targets.reshape(-1), indptr), shape=(A * S, S))


def _rock_observations(
    grid: Grid, k: int, rocks: np.ndarray, d0: float, decimals: int | None
) -> sparse.csr_array:
    """(A*S, 2) rows: ``ogood`` for everything but checks, the noisy sensor for checks."""
    S = grid[0].size + 1
    always_good = sparse.csr_array(
        (np.ones(S), np.zeros(S, dtype=np.int32), np.arange(S + 1, dtype=_index_dtype(S + 1))),
        shape=(S, 2),
    )
    checks = [_check_action_rows(grid, rocks[i], k - 1 - i, d0, decimals) for i in range(k)]
    return sparse.vstack([always_good] * 4 + checks + [always_good], format="csr")


def _check_action_rows(
    grid: Grid, rock: np.ndarray, bit: int, d0: float, decimals: int | None
) -> sparse.csr_array:
    """(S, 2) observation rows of checking the rock at ``rock`` whose state bit is ``bit``."""
    x, y, bits = grid
    distance = np.hypot(x - rock[0], y - rock[1])
    efficiency = np.exp(-distance * math.log(2.0) / d0)
    good = ((bits >> bit) & 1).astype(np.float64)
    positive = efficiency * good + (1.0 - efficiency) * 0.5
    rows = np.zeros((x.size + 1, 2))
    rows[:-1, 0] = _round(positive, decimals)
    rows[:-1, 1] = _round(1.0 - positive, decimals)
    rows[-1, 0] = 1.0
    return sparse.csr_array(rows)


def _round(values: np.ndarray, decimals: int | None) -> np.ndarray:
    """Round like C's ``printf("%.<decimals>f")`` (correctly rounded), or not at all."""
    if decimals is None:
        return values
    unique, inverse = np.unique(values, return_inverse=True)
    rounded = np.array([float(f"{v:.{decimals}f}") for v in unique])
    return rounded[inverse]


def _rock_state_labels(n: int, k: int) -> tuple[str, ...]:
    """``s<x><y><rock bits>`` per state (``_``-separated for n > 10), then ``st``."""
    sep = "" if n <= 10 else "_"
    cells = [f"s{x}{sep}{y}" for x in range(n) for y in range(n)]
    rocks = [f"{sep}{r:0{k}b}" for r in range(2**k)] if k else [""]
    return (*(cell + rock for cell in cells for rock in rocks), "st")


#: Built-in problems by name; ``builtin_problem`` also accepts ``RockSample_5_5`` spellings.
BUILTIN: dict[str, Callable[[], TabularPOMDP]] = {
    "tiger": tiger,
    **{f"rocksample-{n}-{k}": partial(rock_sample, n, k) for n, k in ROCKSAMPLE_INSTANCES},
}


def builtin_problem(spec: str) -> TabularPOMDP:
    """The built-in problem named ``spec`` (case-insensitive; ``_`` and ``-`` are equivalent).

    Raises
    ------
    UsageError
        For an unknown name (the message lists the known ones), or an instance too large
        (:data:`MAX_MODEL_BYTES`).
    """
    key = spec.strip().lower().replace("_", "-")
    if key not in BUILTIN:
        raise UsageError(f"unknown problem {spec!r}; built-in problems are {', '.join(BUILTIN)}")
    return BUILTIN[key]()
