"""Every /api/v1 router, in order: the order here is the order of the OpenAPI document."""

from __future__ import annotations

from fastapi import APIRouter

from app.api import (
    audit,
    catalogs,
    changes,
    draft_workflow,
    drafts,
    health,
    imports,
    publication,
    screening,
    search,
    versions,
    workdays,
)

# main includes each one itself: a router nested in another costs every request a level of matching
ROUTERS: tuple[APIRouter, ...] = tuple(
    module.router
    for module in (
        health,
        catalogs,
        imports,
        screening,
        changes,
        drafts,
        draft_workflow,
        versions,
        workdays,
        publication,
        audit,
        search,
    )
)
