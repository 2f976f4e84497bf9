"""Catalogs: reading published versions, what changed between them, and writing their content."""
