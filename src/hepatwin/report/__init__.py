"""Plots and HTML reports built from results (never from the engine directly)."""
