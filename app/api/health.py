"""Liveness for load balancers and the benchmarks' hello-world reference: touches nothing."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

router = APIRouter(tags=["运行状态"])


@router.get("/healthz", summary="进程存活检查")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})
