"""Merging approved drafts into the next version, rebasing drafts, and reverting merges.

The three-way merge runs over the subgraph a draft touches: its nodes, their parents and
ancestors, their children, and any node that already holds a code the draft proposes. The
same uids are read from the base and from the head, so a node missing on one side is truly
absent there. A catalog of 650,000 nodes is never read whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.nodes import Level, NodeState
from app.db import draft_store, store
from app.db.models import Catalog, Draft, MergeConflict, User, Version
from app.errors import InvalidTransition, NotFound
from app.services import audit
from app.services.catalogs import authoring as catalogs
from app.services.drafts import changes as draft_changes
from app.services.drafts import lifecycle as drafts
from app.services.merging import conflicts as merge_conflicts
from app.versioning.merge import merge
from app.versioning.resolve import resolve

CHINA = ZoneInfo("Asia/Shanghai")
MERGEABLE = ("approved",)


@dataclass(frozen=True, slots=True)
class Subgraph:
    base: dict[str, NodeState]
    head: dict[str, store.StoredNode]
    theirs: dict[str, NodeState]


@dataclass(frozen=True, slots=True)
class MergeOutcome:
    merged: bool
    version: Version
    conflicts: list[MergeConflict]
    written: catalogs.WriteSummary | None = None


def subgraph(
    session: Session, draft: Draft, changes: list[draft_store.StoredChange], head_seq: int
) -> Subgraph:
    """Return base, head and draft states of every node the merge of `changes` into `head_seq` can affect."""
    base_seq = session.get_one(Version, draft.base_version_id).seq
    touched = {c.uid for c in changes}
    wanted = set(touched)
    for c in changes:
        wanted.update(s.parent for s in (c.base, c.proposed) if s is not None and s.parent is not None)
    codes = {c.proposed.code for c in changes if c.proposed is not None}
    found = set(store.load_nodes(session, draft.catalog_id, head_seq, uids=wanted, parent_uids=touched))
    found |= set(store.load_nodes(session, draft.catalog_id, base_seq, parent_uids=touched))
    found |= set(store.load_codes(session, draft.catalog_id, head_seq, codes))
    wanted |= found
    base, head = _load_closed(session, draft.catalog_id, base_seq, head_seq, wanted)
    base_states = {u: n.state for u, n in base.items()}
    for c in changes:  # a change remembers the state it started from (it may predate the draft's base)
        if c.base is None:
            base_states.pop(c.uid, None)
        else:
            base_states[c.uid] = c.base
    theirs = dict(base_states)
    for c in changes:
        if c.proposed is None:
            theirs.pop(c.uid, None)
        else:
            theirs[c.uid] = c.proposed
    return Subgraph(base_states, head, theirs)


def _load_closed(
    session: Session, catalog_id: int, base_seq: int, head_seq: int, uids: set[str]
) -> tuple[dict[str, store.StoredNode], dict[str, store.StoredNode]]:
    """Load `uids` from both versions, adding ancestors until every parent is loaded on both sides."""
    base: dict[str, store.StoredNode] = {}
    head: dict[str, store.StoredNode] = {}
    missing = set(uids)
    for _ in range(Level.SUBITEM + 1):
        base.update(store.load_nodes(session, catalog_id, base_seq, uids=missing))
        head.update(store.load_nodes(session, catalog_id, head_seq, uids=missing))
        loaded = missing | base.keys() | head.keys()
        parents = {n.state.parent for n in (*base.values(), *head.values()) if n.state.parent is not None}
        missing = parents - loaded
        uids |= missing
        if not missing:
            break
    return base, head


def merge_draft(
    session: Session, draft_id: int, *, actor: User | None, label: str | None = None
) -> MergeOutcome:
    """Merge an approved draft into the catalog's assembling version, all of it or nothing, in one commit.

    With unresolved conflicts nothing is written to the catalog: the conflicts are stored for a
    reviewer and returned. Resolutions already recorded are applied first.
    """
    draft = _locked(session, draft_id)
    if draft.status not in MERGEABLE:
        raise InvalidTransition(f"草稿当前状态为“{draft.status}”，只有审核通过的草稿才能合并")
    catalog = session.get_one(Catalog, draft.catalog_id)
    head = _assembling(session, catalog, label)
    changes = draft_store.load_changes(session, draft.id)
    sub = subgraph(session, draft, changes, head.seq)
    result = merge(sub.base, {u: n.state for u, n in sub.head.items()}, sub.theirs)
    result = resolve(result, merge_conflicts.choices(session, draft.id, result))
    if result.conflicts:
        stored = merge_conflicts.store_conflicts(session, draft.id, result.conflicts)
        audit.record(
            session,
            actor=actor,
            action="draft.merge_blocked",
            object_type="draft",
            object_id=draft.id,
            summary={"conflicts": len(stored), "version": head.seq},
        )
        session.commit()
        return MergeOutcome(False, head, stored)
    written = catalogs.write_states(session, catalog, head.seq, result.merged, sub.head)
    _remember_before(session, draft.id, sub.head)
    draft.status, draft.merged_version_id = "merged", head.id
    draft.updated_at = datetime.now(UTC)
    audit.record(
        session,
        actor=actor,
        action="draft.merge",
        object_type="draft",
        object_id=draft.id,
        summary={
            "version": head.seq,
            "added": written.added,
            "changed": written.changed,
            "removed": written.removed,
        },
    )
    session.commit()
    return MergeOutcome(True, head, [], written)


def _locked(session: Session, draft_id: int) -> Draft:
    draft = session.scalars(select(Draft).where(Draft.id == draft_id).with_for_update()).first()
    if draft is None:
        raise NotFound(f"没有编号为 {draft_id} 的草稿")
    return draft


def _assembling(session: Session, catalog: Catalog, label: str | None) -> Version:
    """Return the version being assembled, opening the next one when the newest is already issued."""
    latest = drafts.latest_version(session, catalog)
    if latest.status == "assembling":
        return latest
    return catalogs.open_next_version(session, catalog, label or default_label(session, catalog))


def default_label(session: Session, catalog: Catalog, *, today: date | None = None) -> str:
    """Return the label of a version a merge opens: the Beijing year's edition ("2026年版"), or,
    when the catalog already has that label, its next free revision ("2026年第1次修订版")."""
    year = (today or datetime.now(CHINA).date()).year
    taken = set(session.scalars(select(Version.label).where(Version.catalog_id == catalog.id)))
    label, n = f"{year}年版", 0
    while label in taken:
        n += 1
        label = f"{year}年第{n}次修订版"
    return label


def _remember_before(session: Session, draft_id: int, head: dict[str, store.StoredNode]) -> None:
    for row, uid in draft_store.rows_with_uids(session, draft_id):
        row.merged_from = draft_store.state_to_json(head[uid].state if uid in head else None)


# --- rebase and revert ------------------------------------------------------------------------


def rebase(session: Session, draft_id: int, *, actor: User | None) -> list[MergeConflict]:
    """Move an editable draft onto the catalog's newest version; return the conflicts kept for resolution.

    Changes that merge cleanly now start from the new version; a conflicting change keeps the
    state it started from, so the conflict comes back, with its rows, when the draft is merged.
    """
    edit = drafts.begin_edit(session, draft_id, lock=None, actor=actor)
    draft = edit.draft
    catalog = session.get_one(Catalog, draft.catalog_id)
    newest = drafts.latest_version(session, catalog)
    if newest.id == draft.base_version_id:
        return merge_conflicts.conflicts(session, draft_id)
    changes = draft_store.load_changes(session, draft.id)
    sub = subgraph(session, draft, changes, newest.seq)
    result = merge(sub.base, {u: n.state for u, n in sub.head.items()}, sub.theirs)
    held = {c.uid for c in result.conflicts}
    clean = [c for c in changes if c.uid not in held]
    draft_store.delete_changes(session, draft.id, [c.node_id for c in clean])
    session.flush()
    rows = (
        (
            c.node_id,
            sub.head[c.uid].revision_id if c.uid in sub.head else None,
            sub.head[c.uid].state if c.uid in sub.head else None,
            result.merged.get(c.uid),
        )
        for c in clean
        if (sub.head[c.uid].state if c.uid in sub.head else None) != result.merged.get(c.uid)
    )
    draft_store.insert_changes(session, draft.id, rows)
    draft.base_version_id = newest.id
    stored = merge_conflicts.store_conflicts(session, draft.id, result.conflicts)
    edit.done("draft.rebase", "", None, None)
    return stored


def revert_draft(session: Session, draft_id: int, *, actor: User | None) -> Draft:
    """Open a new draft that puts every node a merged draft changed back as it was before that merge."""
    merged = drafts.get_draft(session, draft_id)
    if merged.status != "merged":
        raise InvalidTransition("只有已合并的草稿才能撤回")
    catalog = session.get_one(Catalog, merged.catalog_id)
    draft, base = drafts.new_draft(
        session, catalog, actor=actor, department_id=merged.department_id, title=f"撤回草稿 #{merged.id}"
    )
    draft.reverts_draft_id = merged.id
    rows = draft_store.rows_with_uids(session, merged.id)
    desired = {uid: draft_store.state_from_json(uid, row.merged_from or {}) for row, uid in rows}
    current = store.load_nodes(session, catalog.id, base.seq, uids=desired)
    draft_changes.write_changes(session, draft, desired, current)
    audit.record(
        session,
        actor=actor,
        action="draft.revert",
        object_type="draft",
        object_id=draft.id,
        summary={"reverts": merged.id, "nodes": len(desired)},
    )
    session.commit()
    return draft
