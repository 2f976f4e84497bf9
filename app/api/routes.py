"""Every /api/v1 route, in one router: the order here is the order of the OpenAPI document."""

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

router = APIRouter()
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
):
    router.include_router(module.router)
