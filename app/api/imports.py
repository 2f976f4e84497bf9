"""Import API: a spreadsheet as a new draft (finance roles), or into a department's draft: previewed
(dry run), applied on the draft version the client names, and undone in one step."""

from __future__ import annotations

import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from app.api.drafts import Based, IfMatch, draft_response, lock_of, require_lock
from app.api.schemas import ErrorOut
from app.errors import InvalidInput
from app.formats.import_report import problems_json, write_report_xlsx
from app.formats.sheets import MAX_UPLOAD_BYTES
from app.http import downloads
from app.http.auth import FinanceUser, SignedIn
from app.http.deps import SessionDep, SettingsDep
from app.http.downloads import download
from app.services.imports import into_draft, undo
from app.services.imports.draft_plan import Effect
from app.services.imports.pipeline import (
    ImportMode,
    ImportRequest,
    ImportResult,
    ImportScope,
    import_file,
    report_table,
)

router = APIRouter(prefix="/api/v1", tags=["导入"])
MODE = "add_update：只新增和修改（默认）；replace：替换全部条目，表格中没有的条目将被撤销"


class ProblemOut(BaseModel):
    row: int | None
    column: str | None
    column_letter: str | None
    value: str
    reason: str
    severity: str


class ImportOut(BaseModel):
    ok: bool
    draft_id: int | None
    rows: int
    added: int
    changed: int
    withdrawn: int
    problems: list[ProblemOut]


@router.post(
    "/catalogs/{slug}/imports",
    response_model=ImportOut,
    status_code=201,
    summary="导入目录表格（CSV / XLSX / JSON）",
    description="整个文件校验通过才写入：生成一个草稿；有任何错误则不写入，并返回逐行的问题清单。"
    "`dry_run=true` 只报告将新增、修改、撤销的数量。`report=xlsx` 返回标注了问题单元格的 Excel 报告。"
    "`mode`：`add_update`（默认）只新增和修改，表格中没有的条目保持不变；"
    "`replace` 表格为该部门（或全部）的完整目录，表格中没有的条目将被撤销。",
    responses={
        200: {"description": "试导入（dry_run）或 Excel 报告"},
        401: {"model": ErrorOut},
        403: {"model": ErrorOut},
        413: {"model": ErrorOut},
        422: {"model": ImportOut},
    },
)
def create_import(
    slug: str,
    user: FinanceUser,
    session: SessionDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="CSV（UTF-8 或 GBK）、XLSX 或本系统导出的 JSON")],
    *,
    department: Annotated[str | None, Form(description="部门编码：表格只涉及该部门的条目")] = None,
    sheet: Annotated[str | None, Form(description="XLSX 工作表名称（默认第一个）")] = None,
    dry_run: Annotated[bool, Form()] = False,
    mode: Annotated[ImportScope, Form(description=MODE)] = ImportScope.ADD_UPDATE,
    report: Annotated[Literal["json", "xlsx"], Query()] = "json",
) -> Response:
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return JSONResponse(_too_large(), status_code=413)
    request = ImportRequest(
        catalog=slug,
        data=data,
        filename=file.filename or "",
        department=department or None,
        sheet=sheet or None,
        declared_encoding=_charset(file.content_type),
        mode=ImportMode.DRY_RUN if dry_run else ImportMode.WRITE,
        scope=mode,
    )
    result = import_file(session, request, actor=user, catalogs_dir=settings.catalogs_dir)
    if report == "xlsx":
        return _xlsx_report(result)
    status = 201 if result.draft_id is not None else 200 if result.ok else 422
    return JSONResponse(_body(result), status_code=status)


def _body(result: ImportResult) -> dict[str, Any]:
    return ImportOut(
        ok=result.ok,
        draft_id=result.draft_id,
        rows=result.rows,
        added=result.counts.added,
        changed=result.counts.changed,
        withdrawn=result.counts.withdrawn,
        problems=[ProblemOut(**p) for p in problems_json(result.problems)],
    ).model_dump()


def _xlsx_report(result: ImportResult) -> Response:
    out = io.BytesIO()
    write_report_xlsx(report_table(result), result.problems, out)
    return download(out.getvalue(), "导入问题.xlsx", media_type=downloads.XLSX)


def _charset(content_type: str | None) -> str | None:
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip('"').lower()
    return None


def _too_large() -> dict[str, Any]:
    message = f"文件超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB，请拆分后分别导入"
    return {"error": {"code": InvalidInput.code, "message": message}}


# --- into a department's draft: dry run, apply, undo -----------------------------------------


class ListedOut(BaseModel):
    uid: str | None = Field(description="条目 uid；新增的条目在导入时才确定，预览中为 null")
    code: str
    name: str
    level: int
    fields: list[str] = Field(description="修改的内容（仅“修改”清单）")


class EffectOut(BaseModel):
    mode: ImportScope
    mode_label: str
    added: int
    changed: int
    withdrawn: int


class ItemsOut(BaseModel):
    added: list[ListedOut]
    changed: list[ListedOut]
    withdrawn: list[ListedOut]


class DraftImportOut(BaseModel):
    ok: bool
    draft_id: int
    applied: bool = Field(description="true：已写入草稿；false：只是预览（dry_run）或文件有错误")
    import_id: int | None = Field(description="已写入时：撤销这次导入用的编号")
    lock_version: int = Field(description="草稿的版本：预览所依据的，或写入之后的")
    sha256: str = Field(description="文件的 SHA-256")
    rows: int
    mode: ImportScope
    mode_label: str
    added: int
    changed: int
    withdrawn: int
    items: ItemsOut | None = Field(description="新增、修改、撤销的条目（文件有错误时为 null）")
    other_mode: EffectOut | None = Field(description="另一种导入方式的数量（如替换全部条目将撤销多少项）")
    problems: list[ProblemOut]


@router.post(
    "/drafts/{draft_id}/imports",
    response_model=DraftImportOut,
    status_code=201,
    summary="把表格导入部门草稿（可先预览）",
    description="`mode`：`add_update`（默认）只新增和修改，表格中没有的条目和草稿中已有的其他修改保持不变；"
    "`replace` 表格为本部门的全部条目，表格中没有的本部门条目将被撤销。"
    "`dry_run=true` 只预览：返回将新增、修改、撤销的条目和数量，不写入。"
    "写入时须带上所依据的草稿版本（If-Match 头或 `lock_version` 字段，可用预览返回的 `lock_version`）："
    "草稿在此之后有修改则返回 409。可带上预览返回的 `sha256`，确保写入的是预览过的文件。"
    "文件有任何错误则不写入，返回 422 和逐行的问题清单。",
    responses={
        200: {"description": "预览（dry_run）", "model": DraftImportOut},
        404: {"model": ErrorOut},
        409: {"model": ErrorOut},
        413: {"model": ErrorOut},
        422: {"model": DraftImportOut},
    },
)
def import_into_draft(
    draft_id: int,
    user: SignedIn,
    session: SessionDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="CSV（UTF-8 或 GBK）、XLSX 或本系统导出的 JSON")],
    *,
    mode: Annotated[ImportScope, Form(description=MODE)] = ImportScope.ADD_UPDATE,
    dry_run: Annotated[bool, Form()] = False,
    lock_version: Annotated[int | None, Form(description="所依据的草稿版本（或用 If-Match 头）")] = None,
    sha256: Annotated[str | None, Form(description="预览时文件的 SHA-256（可选）")] = None,
    if_match: IfMatch = None,
) -> Response:
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return JSONResponse(_too_large(), status_code=413)
    name, dir_ = file.filename or "", settings.catalogs_dir
    if dry_run:
        preview = into_draft.dry_run(
            session, draft_id, data=data, filename=name, scope=mode, actor=user, catalogs_dir=dir_
        )
        return JSONResponse(_draft_body(preview), status_code=200 if preview.ok else 422)
    lock = require_lock(lock_of(draft_id, if_match, Based(lock_version=lock_version)))
    done = into_draft.import_into_draft(
        session, draft_id, data=data, filename=name, scope=mode, lock=lock, expected_sha256=sha256,
        actor=user, catalogs_dir=dir_,
    )  # fmt: skip
    status = 201 if done.import_id is not None else 422
    headers = {"ETag": f'"draft-{draft_id}-{done.lock_version}"'} if done.import_id is not None else None
    return JSONResponse(_draft_body(done), status_code=status, headers=headers)


@router.post(
    "/drafts/{draft_id}/imports/{import_id}/undo",
    summary="撤销一次导入（草稿恢复到导入之前）",
    description="只有导入之后草稿没有再修改时才能一步撤销，否则返回 409。"
    "须带上草稿版本（If-Match 或 lock_version）。返回撤销之后的草稿。",
    responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
)
def undo_import(
    draft_id: int,
    import_id: int,
    session: SessionDep,
    user: SignedIn,
    body: Based | None = None,
    if_match: IfMatch = None,
) -> Response:
    lock = require_lock(lock_of(draft_id, if_match, body))
    undo.undo_import(session, draft_id, import_id, lock=lock, actor=user)
    return draft_response(session, draft_id, user)


def _draft_body(preview: into_draft.UploadPreview) -> dict[str, Any]:
    effect = preview.effect
    counts = effect.counts if effect is not None else None
    return DraftImportOut(
        ok=preview.ok,
        draft_id=preview.draft_id,
        applied=preview.import_id is not None,
        import_id=preview.import_id,
        lock_version=preview.lock_version,
        sha256=preview.sha256,
        rows=preview.result.rows,
        mode=preview.scope,
        mode_label=preview.scope.label,
        added=counts.added if counts else 0,
        changed=counts.changed if counts else 0,
        withdrawn=counts.withdrawn if counts else 0,
        items=None if effect is None else _items(effect),
        other_mode=None if preview.other is None else _effect(preview.other),
        problems=[ProblemOut(**p) for p in problems_json(preview.result.problems)],
    ).model_dump(mode="json")


def _items(effect: Effect) -> ItemsOut:
    def listed(items: tuple[Any, ...]) -> list[ListedOut]:
        return [ListedOut.model_validate(it.as_json()) for it in items]

    return ItemsOut(
        added=listed(effect.added), changed=listed(effect.changed), withdrawn=listed(effect.withdrawn)
    )


def _effect(effect: Effect) -> EffectOut:
    c = effect.counts
    return EffectOut(
        mode=effect.scope,
        mode_label=effect.scope.label,
        added=c.added,
        changed=c.changed,
        withdrawn=c.withdrawn,
    )
