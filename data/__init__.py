"""Small data shipped with decide (installed as ``decide.data``)."""
