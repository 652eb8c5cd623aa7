"""Catch series and the models fitted to them."""
