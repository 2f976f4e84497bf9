"""A department's spreadsheet into its draft: validated whole, then made the draft's changes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from app.catalog.columns import map_columns
from app.catalog.nodes import NodeState
from app.catalog.validation import validate
from app.db import draft_store, finding_store, store
from app.db.models import Catalog, Department, User, Version
from app.errors import InvalidInput
from app.formats.sheets import FileProblem, read_table
from app.services import access, audit
from app.services.drafts import changes as draft_changes
from app.services.drafts import lifecycle as drafts
from app.services.imports import pipeline as imports
from app.services.imports.pipeline import ImportResult
from app.services.screening import files as screening_files


def import_into_draft(
    session: Session,
    draft_id: int,
    *,
    data: bytes,
    filename: str,
    lock: int | None,
    actor: User,
    catalogs_dir: Path,
) -> ImportResult:
    """Validate the department's whole spreadsheet against the draft's base; if valid, make it the draft.

    The file is the department's complete catalog (as for `guidecat import`): the draft's
    changes become exactly what turns the base into the file, in one commit. A file with any
    error gets its row-by-row problems and writes nothing.
    """
    draft = access.visible_draft(session, draft_id, actor)
    department = session.get(Department, draft.department_id) if draft.department_id else None
    if department is None:
        raise InvalidInput("只有部门的草稿可以导入表格")
    catalog = session.get_one(Catalog, draft.catalog_id)
    seq = session.get_one(Version, draft.base_version_id).seq
    result, desired, screened = _validated(
        session, catalog, seq, department.code, data, filename, catalogs_dir
    )
    if not result.ok or desired is None or screened is None:
        return result
    edit = drafts.begin_edit(session, draft_id, lock=lock, actor=actor)
    base = store.load_version(session, catalog.id, seq)
    draft_store.delete_changes(session, draft.id)
    finding_store.delete_draft_findings(session, draft.id)
    result.counts = draft_changes.write_changes(session, edit.draft, desired, base)
    screening_files.store_import_findings(session, edit.draft, desired, base, screened)
    summary = {"file": filename, "rows": result.rows, "added": result.counts.added}
    summary |= {"changed": result.counts.changed, "withdrawn": result.counts.withdrawn}
    audit.record(
        session, actor=actor, action="draft.import", object_type="draft", object_id=draft.id, summary=summary
    )
    edit.draft.updated_at = datetime.now(UTC)
    session.commit()
    return result


def _validated(
    session: Session,
    catalog: Catalog,
    seq: int,
    department: str,
    data: bytes,
    filename: str,
    catalogs_dir: Path,
) -> tuple[ImportResult, dict[str, NodeState | None] | None, screening_files.ImportScreening | None]:
    """Return the import's report and, when the file is valid, the draft's changes and their screening."""
    result = ImportResult()
    try:
        result.table = read_table(data, filename=filename)
    except FileProblem as exc:
        result.problems.extend(exc.problems)
        return result, None, None
    result.problems.extend(result.table.warnings)
    columns, problems = map_columns(result.table, department_fixed=True)
    result.problems.extend(problems)
    if not result.ok:
        return result, None, None
    ctx = imports._context(session, catalog, seq, department, catalogs_dir)  # the import service's own
    items, problems = validate(result.table, columns, ctx)
    result.problems.extend(problems)
    result.rows = len(items)
    screened = screening_files.screen_parsed(session, items, result.table, columns)
    result.problems.extend(screened.problems)
    if not result.ok:
        return result, None, None
    desired, problems = imports.plan(items, store.load_version(session, catalog.id, seq), department)
    result.problems.extend(problems)
    return result, desired, screened
