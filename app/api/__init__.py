"""The JSON/CSV API under /api/v1: Pydantic schemas are the public contract, never ORM classes."""
