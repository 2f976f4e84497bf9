"""Every page route, in one router (none is in the OpenAPI document)."""

from __future__ import annotations

from fastapi import APIRouter

from app.web import editor, merge, public, review, search, signin, statistics
from app.web.admin import departments, rules, users, versions

router = APIRouter()
for module in (
    public,
    signin,
    versions,
    search,
    statistics,
    editor,
    review,
    merge,
    users,
    departments,
    rules,
):
    router.include_router(module.router)
