"""Drafts: a department's proposed changes, edited item by item, and the editor's view of them."""
