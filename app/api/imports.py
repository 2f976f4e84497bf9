"""Import API: upload a spreadsheet; get every problem, or a draft. Finance roles only."""

from __future__ import annotations

import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from app.api.schemas import ErrorOut
from app.errors import InvalidInput
from app.formats.import_report import problems_json, write_report_xlsx
from app.formats.sheets import MAX_UPLOAD_BYTES
from app.http import downloads
from app.http.auth import FinanceUser
from app.http.deps import SessionDep, SettingsDep
from app.http.downloads import download
from app.services.imports.pipeline import ImportMode, ImportRequest, ImportResult, import_file, report_table

router = APIRouter(prefix="/api/v1", tags=["导入"])


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
    "`dry_run=true` 只报告将新增、修改、撤销的数量。`report=xlsx` 返回标注了问题单元格的 Excel 报告。",
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
    department: Annotated[str | None, Form(description="部门编码：表格为该部门的完整目录")] = None,
    sheet: Annotated[str | None, Form(description="XLSX 工作表名称（默认第一个）")] = None,
    dry_run: Annotated[bool, Form()] = False,
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
