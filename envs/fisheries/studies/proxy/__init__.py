"""Gold against proxy: harvest rules chosen with fitted models."""
