"""Screening API: screen any items against the negative list (public), findings of versions and drafts,
finance reviewers' overrides."""

from __future__ import annotations

import io
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute

from app.api.schemas import ErrorOut
from app.api.screening_schemas import (
    DraftFindingOut,
    OverrideIn,
    OverrideOut,
    RuleCountOut,
    ScreenIn,
    ScreenOut,
    ScreenResult,
    VersionFindingOut,
    VersionFindingsOut,
    VersionScreeningOut,
)
from app.catalog.text import normalise
from app.db.finding_store import VersionFindingRow
from app.http import downloads
from app.http.auth import FinanceUser, SignedIn
from app.http.deps import SessionDep
from app.http.downloads import download
from app.screening import ScreenItem
from app.services.screening import drafts as screening
from app.services.screening.files import item_json
from app.services.screening.versions import FindingFilter, VersionScreening, write_findings_xlsx

MAX_BODY_BYTES = 1024 * 1024
TOO_LARGE = f"请求体超过 1 MB 的上限，请分批提交（每批最多 {screening.MAX_SCREEN_ITEMS:,} 个条目）"


class _CappedRequest(Request):
    """A request whose body is refused (413) past MAX_BODY_BYTES, declared or counted while read."""

    async def body(self) -> bytes:
        if not hasattr(self, "_body"):
            declared = self.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
                raise HTTPException(413, detail=TOO_LARGE)
            chunks, size = [], 0
            async for chunk in self.stream():  # a chunked body has no length to trust: count it
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise HTTPException(413, detail=TOO_LARGE)
                chunks.append(chunk)
            self._body = b"".join(chunks)
        return self._body


class CappedBodyRoute(APIRoute):
    """A route that reads its body through _CappedRequest, so an oversized body is never held whole."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def capped(request: Request) -> Response:
            return await handler(_CappedRequest(request.scope, request.receive))

        return capped


router = APIRouter(
    prefix="/api/v1",
    tags=["负面清单筛查"],
    route_class=CappedBodyRoute,
    responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}},
)


@router.post(
    "/screen",
    response_model=ScreenOut,
    summary="按负面清单筛查条目（无需登录）",
    description="按《政府购买服务管理办法》第十条负面清单规则筛查名称和服务内容，每个条目返回命中的规则。"
    f"每次最多 {screening.MAX_SCREEN_ITEMS:,} 个条目，请求体最大 1 MB（超出返回 413）。",
    responses={413: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)
def screen_items(body: ScreenIn, session: SessionDep) -> ScreenOut:
    items = [ScreenItem(i.name, i.description) for i in body.items]
    version, found = screening.screen_texts(session, items)
    results = [
        ScreenResult.model_validate(item_json(n, normalise(i.name), f))
        for n, (i, f) in enumerate(zip(items, found, strict=True), 1)
    ]
    return ScreenOut(rules_version=version, results=results)


@router.get(
    "/catalogs/{slug}/versions/{seq}/findings",
    response_model=VersionFindingsOut,
    summary="版本的负面清单筛查结果（财政）",
    description="列出该版本保存的全部筛查结果；`format=xlsx` 下载 Excel。"
    "结果由 POST 同一地址或 `guidecat screen --catalog` 生成。",
    responses={200: {"content": {downloads.XLSX: {}}}},
)
def version_findings(
    slug: str,
    seq: int,
    user: FinanceUser,
    session: SessionDep,
    fmt: Annotated[Literal["json", "xlsx"], Query(alias="format")] = "json",
    rule: Annotated[str | None, Query(description="只看该规则")] = None,
    severity: Annotated[Literal["block", "warn"] | None, Query()] = None,
    department: Annotated[str | None, Query(description="部门编码")] = None,
) -> Any:
    flt = FindingFilter(rule=rule, severity=severity, department=department)
    found = screening.version_findings(session, slug, seq, filters=flt, actor=user)
    if fmt == "xlsx":
        return _xlsx(found, f"负面清单筛查结果-{slug}-第{seq}版")
    return VersionFindingsOut(catalog=slug, version=seq, count=len(found), findings=[_out(f) for f in found])


@router.post(
    "/catalogs/{slug}/versions/{seq}/findings",
    response_model=VersionScreeningOut,
    summary="用现行规则重新筛查整个版本（财政）",
    description="替换该版本此前保存的筛查结果，返回按规则统计的数量。",
)
def screen_version(slug: str, seq: int, user: FinanceUser, session: SessionDep) -> VersionScreeningOut:
    return _summary(screening.screen_version(session, slug, seq, actor=user))


@router.get(
    "/drafts/{draft_id}/findings",
    response_model=list[DraftFindingOut],
    summary="草稿各条目的筛查结果",
)
def draft_findings(draft_id: int, user: SignedIn, session: SessionDep) -> list[DraftFindingOut]:
    found = screening.draft_findings(session, draft_id, actor=user)
    return [
        DraftFindingOut(
            **_brief(f), uid=f.uid, code=f.code, name=f.name, override=f.override, blocks=f.blocks
        )
        for f in found
    ]


@router.post(
    "/drafts/{draft_id}/overrides",
    response_model=OverrideOut,
    status_code=201,
    summary="确认筛查例外（财政审核人）：记录理由后，该条目的这条阻止性规则不再阻止送审",
    responses={409: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)
def record_override(draft_id: int, body: OverrideIn, user: FinanceUser, session: SessionDep) -> OverrideOut:
    row = screening.record_override(session, draft_id, body.uid, body.rule, reason=body.reason, actor=user)
    return OverrideOut(
        draft_id=draft_id,
        uid=body.uid,
        rule=row.rule_id,
        reason=row.reason,
        by=user.username,
        at=row.created_at,
    )


def _brief(f: screening.ItemFinding) -> dict[str, Any]:
    return {
        "rule": f.rule_id,
        "head": f.head,
        "article": f.article,
        "severity": f.severity.value,
        "field": f.field.value,
        "match": f.match,
        "explanation": f.explanation,
        "rules_version": f.rules_version,
    }


def _out(f: VersionFindingRow) -> VersionFindingOut:
    return VersionFindingOut(
        uid=f.uid,
        code=f.code,
        name=f.name,
        department=f.department_code,
        department_name=f.department_name,
        rule=f.rule_id,
        head=f.head,
        article=f.article,
        severity=f.severity,
        field=f.field,
        match=f.match,
        explanation=f.explanation,
        rules_version=f.rules_version,
    )


def _summary(s: VersionScreening) -> VersionScreeningOut:
    by_rule = [
        RuleCountOut(
            rule=r.rule_id,
            head=r.head,
            article=r.article,
            severity=r.severity.value,
            findings=r.findings,
            items=r.items,
        )
        for r in s.by_rule
    ]
    return VersionScreeningOut(
        catalog=s.catalog,
        version=s.seq,
        rules_version=s.rules_version,
        items=s.items,
        flagged=s.flagged,
        findings=s.findings,
        by_rule=by_rule,
    )


def _xlsx(found: list[VersionFindingRow], name: str) -> Response:
    out = io.BytesIO()
    write_findings_xlsx(found, out, title="筛查结果")
    return download(out.getvalue(), f"{name}.xlsx", media_type=downloads.XLSX)
