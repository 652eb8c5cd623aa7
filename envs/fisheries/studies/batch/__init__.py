"""The RAM Legacy batch: one POMDP per stock and noise level."""
