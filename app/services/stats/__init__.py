"""Statistics of published versions: counts, tables and charts, the half-year report."""
