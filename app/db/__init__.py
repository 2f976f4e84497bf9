"""Storage: the models, the engine and the queries that are shared, hot or dialect-specific.

Not the only home of SQL: a service may build its own small ORM query when it alone asks that
question (docs/architecture.md, "Where SQL lives"). Pages and the API never build SQL.
"""
