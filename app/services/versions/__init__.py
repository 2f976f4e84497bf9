"""Versions: opening, issuing (印发), publishing (公开) and scheduling them; the deadline board."""
