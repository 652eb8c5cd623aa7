"""``make_bandit``: build a bandit by its method name."""

from __future__ import annotations

import inspect

import numpy as np
from numpy.typing import ArrayLike

from decide.bandits.base import Bandit
from decide.bandits.chebcb import ChebCB
from decide.bandits.tensorcb import TensorChebCB
from decide.bandits.tsallis import TsallisINF, TsallisINFCB
from decide.errors import UsageError

#: Method names accepted by :func:`make_bandit`.
BANDITS: dict[str, type[Bandit]] = {
    "tsallis-inf": TsallisINF,
    "tsallis-inf-cb": TsallisINFCB,
    "chebcb": ChebCB,
    "tensor-chebcb": TensorChebCB,
}


def make_bandit(
    name: str,
    arms: ArrayLike,
    *,
    context_range: tuple[float, float] | None = None,
    seed: int | np.random.Generator | None = None,
    **options,
) -> Bandit:
    """The bandit called ``name`` over ``arms``.

    Parameters
    ----------
    name : {"tsallis-inf", "tsallis-inf-cb", "chebcb", "tensor-chebcb"}
        Method name (case and ``_``/``-`` are not significant).
    arms : array_like
        The arm grid as data.
    context_range : (float, float) or None
        Required by the contextual methods; ignored by ``"tsallis-inf"``, so callers can pass
        the same arguments to every method.
    seed : int, numpy.random.Generator or None
        Source of the arm draws.
    **options
        Further constructor options (``bins`` of Tsallis-INF-CB; ``terms``, ``eta_factor``,
        ``target`` of ChebCB; ``context_degree``, ``arm_degree``, ``ridge``, ``warm_up``,
        ``eta_factor`` of TensorChebCB).

    Raises
    ------
    UsageError
        Unknown method name.
    TypeError
        An option the method does not have.
    """
    key = name.strip().lower().replace("_", "-")
    if key not in BANDITS:
        raise UsageError(f"unknown bandit {name!r}; choose from {', '.join(BANDITS)}")
    cls = BANDITS[key]
    params = inspect.signature(cls.__init__).parameters
    known = {p for p in params if p not in ("self", "arms", "seed", "context_range")}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(
            f"{key} has no option {', '.join(map(repr, unknown))}; "
            f"options: {', '.join(sorted(known)) or 'none'}"
        )
    if cls.contextual:
        options["context_range"] = context_range
    return cls(arms, seed=seed, **options)
