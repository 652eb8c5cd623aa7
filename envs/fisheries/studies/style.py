"""The look every fisheries study's figure shares: one colour per policy and per objective."""

from __future__ import annotations

#: Colour of each management policy.
POLICY_COLOURS = {
    "CE": "tab:red",
    "MSY": "tab:orange",
    "TAC": "tab:olive",
    "POMDP": "tab:blue",
    "SARSOP": "tab:purple",
}

#: Colour and legend label of each way of choosing with fitted models.
OBJECTIVE_COLOURS = {
    "single": "tab:red",
    "mean": "tab:orange",
    "wco": "tab:blue",
    "uwo": "tab:green",
}
OBJECTIVE_LABELS = {"single": "single fit", "mean": "ensemble mean", "wco": "WCO", "uwo": "UWO"}
