"""Built-in POMDPs generated from their published definitions: Tiger and RockSample.

``builtin_problem("tiger")``, ``builtin_problem("rocksample-5-5")`` … build them by name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from decide.errors import ModelError, UsageError
from decide.pomdp.model import TabularPOMDP

#: Largest dense transition array (bytes) a generator will allocate.
MAX_DENSE_BYTES = 2**31


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
    (1 = good), labelled ``s<x><y><r as k binary digits>``; the last state ``st`` is an
    absorbing terminal. Actions ``amn ame ams amw`` (north = y+1, east = x+1), ``ac0 … ac{k-1}``
    (check), ``as`` (sample); observations ``ogood obad``.

    - Moving east off the grid pays +10 and ends in ``st``; any other move off the grid, or
      sampling where there is no rock, pays −100 and ends in ``st``.
    - Sampling a good rock pays +10 and makes it bad; a bad rock pays −10.
    - Check i reports the truth with efficiency :math:`\eta = 2^{-d/d_0}` (d = Euclidean
      distance to rock i): P(ogood | good) = η + (1 − η)/2, P(ogood | bad) = (1 − η)/2.
    - Every other action, and any action in ``st``, observes ``ogood``.

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

    S, A = n * n * 2**k + 1, k + 5
    if A * S * S * 8 > MAX_DENSE_BYTES:
        raise UsageError(
            f"RockSample({n}, {k}) has {S} states: its dense transition array would need "
            f"{A * S * S * 8 / 1e9:.1f} GB (limit {MAX_DENSE_BYTES / 1e9:.1f} GB)"
        )
    T, Z, R = np.zeros((A, S, S)), np.zeros((A, S, 2)), np.zeros((S, A))
    _rock_dynamics(T, R, n, k, rocks)
    _rock_observations(Z, n, k, rocks, half_efficiency_distance, decimals)
    b0 = np.zeros(S)
    b0[(start[0] * n + start[1]) * 2**k : (start[0] * n + start[1] + 1) * 2**k] = 1.0 / 2**k
    return TabularPOMDP(
        T=T,
        Z=Z,
        R=R,
        discount=discount,
        b0=b0,
        states=_rock_state_labels(n, k),
        actions=("amn", "ame", "ams", "amw", *(f"ac{i}" for i in range(k)), "as"),
        observations=("ogood", "obad"),
        name=f"RockSample_{n}_{k}",
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


def _grid(n: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, y and rock bits of every non-terminal state, in state order."""
    index = np.arange(n * n * 2**k)
    cell, bits = np.divmod(index, 2**k)
    x, y = np.divmod(cell, n)
    return x, y, bits


def _rock_dynamics(T: np.ndarray, R: np.ndarray, n: int, k: int, rocks: np.ndarray) -> None:
    """Fill T and R for moves, checks and sampling (in place)."""
    x, y, bits = _grid(n, k)
    s = np.arange(x.size)
    terminal = T.shape[1] - 1
    for a, (dx, dy) in enumerate(_MOVES):
        xp, yp = x + dx, y + dy
        exits = xp >= n
        illegal = ~exits & ((xp < 0) | (yp < 0) | (yp >= n))
        target = np.where(exits | illegal, terminal, (xp * n + yp) * 2**k + bits)
        T[a, s, target] = 1.0
        R[s, a] = np.where(exits, EXIT_REWARD, np.where(illegal, ILLEGAL_PENALTY, 0.0))
    for i in range(k):
        T[4 + i, s, s] = 1.0
    sample = 4 + k
    rock_at = np.full((n, n), -1)
    for i in reversed(range(k)):  # the first rock listed at a cell is the one sampled
        rock_at[rocks[i, 0], rocks[i, 1]] = i
    rock = rock_at[x, y]
    on_rock = rock >= 0
    mask = np.where(on_rock, 1 << np.where(on_rock, k - 1 - rock, 0), 0)
    good = (bits & mask) != 0
    T[sample, s, np.where(on_rock, s - (bits & mask), terminal)] = 1.0
    R[s, sample] = np.where(on_rock, np.where(good, GOOD_SAMPLE, BAD_SAMPLE), ILLEGAL_PENALTY)
    T[:, terminal, terminal] = 1.0


def _rock_observations(
    Z: np.ndarray, n: int, k: int, rocks: np.ndarray, d0: float, decimals: int | None
) -> None:
    """Fill Z (in place): ``ogood`` for everything but checks, the noisy sensor for checks."""
    Z[:, :, 0] = 1.0
    x, y, bits = _grid(n, k)
    s = np.arange(x.size)
    for i in range(k):
        distance = np.hypot(x - rocks[i, 0], y - rocks[i, 1])
        efficiency = np.exp(-distance * math.log(2.0) / d0)
        good = ((bits >> (k - 1 - i)) & 1).astype(np.float64)
        positive = efficiency * good + (1.0 - efficiency) * 0.5
        negative = 1.0 - positive
        Z[4 + i, s, 0] = _round(positive, decimals)
        Z[4 + i, s, 1] = _round(negative, decimals)


def _round(values: np.ndarray, decimals: int | None) -> np.ndarray:
    """Round like C's ``printf("%.<decimals>f")`` (correctly rounded), or not at all."""
    if decimals is None:
        return values
    unique, inverse = np.unique(values, return_inverse=True)
    rounded = np.array([float(f"{v:.{decimals}f}") for v in unique])
    return rounded[inverse]


def _rock_state_labels(n: int, k: int) -> tuple[str, ...]:
    sep = "" if n <= 10 else "_"
    labels = [
        f"s{x}{sep}{y}{sep}{r:0{k}b}" if k else f"s{x}{sep}{y}"
        for x in range(n)
        for y in range(n)
        for r in range(2**k)
    ]
    return (*labels, "st")


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
        for dense arrays.
    """
    key = spec.strip().lower().replace("_", "-")
    if key not in BUILTIN:
        raise UsageError(f"unknown problem {spec!r}; built-in problems are {', '.join(BUILTIN)}")
    return BUILTIN[key]()
