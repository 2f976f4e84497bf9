"""Merging approved drafts into the next version: conflicts, their resolution, the preview, reverts."""
