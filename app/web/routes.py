"""Every page router, in order (none is in the OpenAPI document)."""

from __future__ import annotations

from fastapi import APIRouter

from app.web import editor, merge, public, review, search, signin, statistics
from app.web.admin import calendar, departments, rules, users, versions

# main includes each one itself: a router nested in another costs every request a level of matching
ROUTERS: tuple[APIRouter, ...] = tuple(
    module.router
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
        calendar,
    )
)
