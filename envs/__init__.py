"""Problem environments for decide (installed as ``decide.envs``)."""
