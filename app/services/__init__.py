"""Use cases: one function each, owning its transaction, its checks and its audit event."""
