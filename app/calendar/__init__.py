"""Pure working-day calendar: deadlines counted in Chinese working days (no I/O)."""
