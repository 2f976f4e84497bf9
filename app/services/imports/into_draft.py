"""A department's spreadsheet into its draft: previewed first, applied on confirmation, undone in one step.

The clerk chooses what the file is (`ImportScope`): rows to add or update (the default; the
draft's other items and edits stay as they are), or the department's whole list (items it
leaves out are withdrawn). The preview lists 新增 / 修改 / 撤销 against the draft as it stands
and keeps the file on the server under a token; the confirmation applies that very file, and
only if the draft is still as the preview saw it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from app.db import store
from app.db.models import Draft, DraftImport
from app.errors import Conflict, InvalidInput
from app.services import access, audit
from app.services.access import Actor
from app.services.drafts import changes as draft_changes
from app.services.drafts import lifecycle as drafts
from app.services.imports import draft_plan, undo, uploads
from app.services.imports.draft_plan import DraftContent, DraftPlan, Effect, ReadFile
from app.services.imports.pipeline import ImportResult, ImportScope
from app.services.screening import files as screening_files
from app.workflow.states import DraftAction


@dataclass
class UploadPreview:
    """What an upload does (or did) to a draft: the file's report, and the lists of the chosen scope.

    `other` is the same file in the other scope (its counts say, for one, how many items
    replacing the department's list would withdraw). `token` names the file kept for the
    confirmation; `import_id` is set once the upload is applied (undo names it).
    """

    draft_id: int
    filename: str
    result: ImportResult
    scope: ImportScope
    lock_version: int
    sha256: str
    effect: Effect | None = None
    other: Effect | None = None
    token: str = ""
    import_id: int | None = None

    @property
    def ok(self) -> bool:
        """Return whether the file has no error (warnings allowed)."""
        return self.result.ok


def preview_upload(
    session: Session,
    draft_id: int,
    *,
    data: bytes | None,
    filename: str = "",
    token: str = "",
    scope: ImportScope = ImportScope.ADD_UPDATE,
    actor: Actor,
    catalogs_dir: Path,
) -> UploadPreview:
    """Return what the upload would do in `scope`, keeping a valid file for its confirmation.

    With `data` None, the file kept under `token` is previewed again (in another scope, say)
    against the draft as it now stands. The draft itself is not written.
    """
    draft = _editable(session, draft_id, actor)
    if data is None and not token:
        raise InvalidInput("请选择要导入的表格文件（CSV、XLSX 或 JSON）")
    kept = data
    if kept is None:
        row = uploads.kept(session, draft, token, actor=actor)
        assert row.data is not None  # kept() refuses a row without its file
        kept, filename = row.data, row.filename
        row.previewed_lock = draft.lock_version
    else:
        row = None
    preview = _preview(session, draft, kept, filename, scope, catalogs_dir)
    if preview.ok:
        row = row or uploads.keep(session, draft, data=kept, filename=filename, actor=actor)
        preview.token = row.token
        session.commit()
    return preview


def dry_run(
    session: Session,
    draft_id: int,
    *,
    data: bytes,
    filename: str,
    scope: ImportScope = ImportScope.ADD_UPDATE,
    actor: Actor,
    catalogs_dir: Path,
) -> UploadPreview:
    """Return what the upload would do in `scope`; writes nothing at all."""
    draft = _editable(session, draft_id, actor)
    return _preview(session, draft, data, filename, scope, catalogs_dir)


def apply_upload(
    session: Session, draft_id: int, *, token: str, scope: ImportScope, actor: Actor, catalogs_dir: Path
) -> UploadPreview:
    """Apply the file previewed under `token` in `scope` (one commit); Conflict if the draft changed since."""
    draft = _editable(session, draft_id, actor)
    row = uploads.kept(session, draft, token, actor=actor)
    if row.previewed_lock != draft.lock_version:
        raise Conflict(
            "预览之后草稿已有修改，这份预览已过期：请重新上传文件预览后再确认",
            details=drafts.changes_since(session, draft_id, row.previewed_lock),
        )
    assert row.data is not None
    data, lock = row.data, row.previewed_lock
    return _apply(session, draft, row, data, scope, lock=lock, actor=actor, catalogs_dir=catalogs_dir)


def import_into_draft(
    session: Session,
    draft_id: int,
    *,
    data: bytes,
    filename: str,
    scope: ImportScope = ImportScope.ADD_UPDATE,
    lock: int | None,
    expected_sha256: str | None = None,
    actor: Actor,
    catalogs_dir: Path,
) -> UploadPreview:
    """Validate the file and apply it in `scope` at once, based on the draft's version `lock`.

    A file with any error gets its row-by-row problems and writes nothing; so does a file
    whose hash is not `expected_sha256` (the one its client previewed), with InvalidInput.
    """
    draft = _editable(session, draft_id, actor)
    if expected_sha256 and expected_sha256.strip().lower() != uploads.digest(data):
        raise InvalidInput("文件与预览时的不同（SHA-256 不符），未导入：请重新预览后再导入")
    row = DraftImport(
        draft_id=draft.id,
        user_id=access.user_id(actor),
        token=uploads.new_token(),
        filename=filename[:200],
        sha256=uploads.digest(data),
        previewed_lock=draft.lock_version if lock is None else lock,
        summary={},
    )
    return _apply(session, draft, row, data, scope, lock=lock, actor=actor, catalogs_dir=catalogs_dir)


def _editable(session: Session, draft_id: int, actor: Actor) -> Draft:
    """Return the draft if `actor` may edit it now (nothing is written)."""
    draft = access.visible_draft(session, draft_id, actor)
    access.check_action(draft, DraftAction.EDIT, actor)
    return draft


def _preview(
    session: Session, draft: Draft, data: bytes, filename: str, scope: ImportScope, catalogs_dir: Path
) -> UploadPreview:
    draft_plan.department_of(session, draft)  # a draft of no department is refused before any reading
    read = draft_plan.read_file(session, draft, data, filename, catalogs_dir)
    preview = UploadPreview(draft.id, filename, read.result, scope, draft.lock_version, uploads.digest(data))
    if read.result.ok:
        target = draft_plan.content(session, draft)
        chosen = _planned(target, read, scope)
        other_scope = ImportScope.REPLACE if scope is ImportScope.ADD_UPDATE else ImportScope.ADD_UPDATE
        preview.effect, preview.other = chosen.effect, draft_plan.plan(target, read.items, other_scope).effect
    return preview


def _planned(target: DraftContent, read: ReadFile, scope: ImportScope) -> DraftPlan:
    planned = draft_plan.plan(target, read.items, scope)
    read.result.problems.extend(planned.problems)
    read.result.counts = planned.effect.counts
    return planned


def _apply(
    session: Session,
    draft: Draft,
    row: DraftImport,
    data: bytes,
    scope: ImportScope,
    *,
    lock: int | None,
    actor: Actor,
    catalogs_dir: Path,
) -> UploadPreview:
    """Write the upload in `scope` as the draft's changes, keeping what undoing it restores; one commit."""
    read = draft_plan.read_file(session, draft, data, row.filename, catalogs_dir)
    preview = UploadPreview(draft.id, row.filename, read.result, scope, draft.lock_version, row.sha256)
    if not read.result.ok:
        session.rollback()
        return preview
    edit = drafts.begin_edit(session, draft.id, lock=lock, actor=actor)  # Conflict when stale
    target = draft_plan.content(session, edit.draft)
    planned = _planned(target, read, scope)
    rewritten = _node_ids(session, target, planned.rewritten)
    row.restore = undo.snapshot(session, draft.id, rewritten)
    undo.clear(session, draft.id, rewritten)
    draft_changes.write_changes(session, edit.draft, planned.writes, target.base)
    assert read.screened is not None
    screening_files.store_import_findings(session, edit.draft, planned.writes, target.base, read.screened)
    if rewritten is not None:
        written = _node_ids(session, target, frozenset(planned.writes)) or []
        row.restore = row.restore | {"nodes": sorted(set(rewritten) | set(written))}
    _applied(session, row, edit.draft, planned, read.result)
    audit.record(
        session, actor=actor, action="draft.import", object_type="draft", object_id=draft.id,
        summary={"file": row.filename, "import": row.id} | row.summary,
    )  # fmt: skip
    session.commit()
    preview.effect, preview.import_id, preview.lock_version = planned.effect, row.id, edit.draft.lock_version
    return preview


def _node_ids(session: Session, target: DraftContent, uids: frozenset[str] | None) -> list[int] | None:
    """Return the ids of the nodes `uids` that exist (None stays None: the whole draft)."""
    if uids is None:
        return None
    return sorted(store.node_ids(session, target.catalog.id, sorted(uids)).values())


def _applied(
    session: Session, row: DraftImport, draft: Draft, planned: DraftPlan, result: ImportResult
) -> None:
    """Record the upload as applied: its scope, the lock it left, what it did; the file is let go."""
    now = datetime.now(UTC)
    counts = planned.effect.counts
    row.scope, row.applied_lock, row.applied_at, row.data = planned.scope.value, draft.lock_version, now, None
    row.summary = {
        "scope": planned.scope.value,
        "rows": result.rows,
        "added": counts.added,
        "changed": counts.changed,
        "withdrawn": counts.withdrawn,
    }
    draft.updated_at = now
    session.add(row)
    session.flush()
