"""Review: submitting, returning, approving and withdrawing drafts; the queue, the desk, the diff page."""
