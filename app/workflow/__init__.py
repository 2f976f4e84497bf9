"""Pure workflow: the states of drafts and versions, and who may do what (no I/O)."""
