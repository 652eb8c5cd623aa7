"""Problem environments for decide (installed as ``decide.envs``).

Importing this package registers every environment under the ``decide/`` namespace, so
``import decide.envs; gymnasium.make("decide/Fisheries-v0")`` works.
"""

from __future__ import annotations

import gymnasium

__all__ = ["ENV_IDS", "register_envs"]

_FISHERIES = "decide.envs.fisheries"
_PDE = "decide.envs.pde"

_SPECS: dict[str, dict[str, str]] = {
    "decide/Fisheries-v0": {
        "entry_point": f"{_FISHERIES}.fisheries_env:FisheriesEnv",
        "vector_entry_point": f"{_FISHERIES}.fisheries_env:FisheriesVectorEnv",
    },
    "decide/FisheriesDiscrete-v0": {
        "entry_point": f"{_FISHERIES}.discrete_env:FisheriesDiscreteEnv",
    },
    "decide/HeatControl-v0": {
        "entry_point": f"{_PDE}.heat.env:HeatControlEnv",
    },
}

#: Every environment id decide registers.
ENV_IDS: tuple[str, ...] = tuple(_SPECS)


def register_envs() -> tuple[str, ...]:
    """Register every decide environment with Gymnasium; calling it again changes nothing.

    Returns
    -------
    tuple of str
        The registered ids (:data:`ENV_IDS`).
    """
    for env_id, spec in _SPECS.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(id=env_id, **spec)
    return ENV_IDS


register_envs()
