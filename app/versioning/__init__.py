"""Pure versioning domain: diffs between versions and the three-way merge of drafts (no I/O)."""
