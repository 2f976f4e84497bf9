"""Exporting versions: streamed rows and whole files."""
