"""Search over published versions: the query, the index and its worker process."""
