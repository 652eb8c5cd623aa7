"""An ensemble-robust choice among POMDP-pipeline policies."""
