"""What HTML pages and the JSON API share: dependencies, auth, sessions, errors, caching, URLs."""
