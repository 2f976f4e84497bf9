"""Negative-list screening where people work: drafts, files, whole versions and the rule sets."""
