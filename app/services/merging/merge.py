"""Merging approved drafts into the next version, rebasing drafts, and reverting merges.

The three-way merge runs over the subgraph a draft touches: its nodes, their parents and
ancestors, their children, and any node that already holds a code the draft proposes. The
same uids are read from the base and from the head, so a node missing on one side is truly
absent there. A catalog of 650,000 nodes is never read whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.nodes import Level, NodeState
from app.clock import beijing_today
from app.db import draft_store, store
from app.db.models import Catalog, Draft, MergeConflict, Version
from app.errors import Conflict, InvalidTransition, NotFound
from app.services import access, audit
from app.services.access import Actor
from app.services.catalogs import authoring as catalogs
from app.services.catalogs.codes import scheme_of
from app.services.drafts import changes as draft_changes
from app.services.drafts import lifecycle as drafts
from app.services.merging import conflicts as merge_conflicts
from app.versioning.conflicts import ConflictKey
from app.versioning.merge import MergeResult, merge
from app.versioning.renumber import Renumbering
from app.versioning.resolve import Choice, resolve
from app.workflow.states import CLOSED_DRAFT_STATES, DraftAction, DraftState, VersionState


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
    renumbered: tuple[Renumbering, ...] = ()  # the new items the merge gave other codes (编码调整)


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
    # where the draft places a node anew, the merge may renumber it: every code there counts
    placed = {
        c.proposed.parent
        for c in changes
        if c.proposed is not None
        and c.proposed.parent
        and (c.base is None or c.base.parent != c.proposed.parent)
    }
    found = set(
        store.load_nodes(session, draft.catalog_id, head_seq, uids=wanted, parent_uids=touched | placed)
    )
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


@dataclass(frozen=True, slots=True)
class MergePlan:
    """What merging a draft into the catalog's newest version would write, computed once."""

    draft: Draft
    catalog: Catalog
    head: Version  # the newest version; a merge into an issued one opens the next version
    sub: Subgraph
    raw: MergeResult  # before the reviewers' recorded decisions
    result: MergeResult  # after them: what would be written, or the conflicts still open
    choices: dict[ConflictKey, Choice]  # the recorded decisions that apply


def claim(session: Session, draft_id: int, *, actor: Actor) -> Draft:
    """Return the draft, locked for update before its status is read, if `actor` may merge it now.

    NotFound if the actor may not see it, Forbidden for a role that may not merge,
    InvalidTransition unless it is approved.
    """
    draft = _locked(session, draft_id)
    if not access.can_see(actor, draft, session.get_one(Catalog, draft.catalog_id)):
        raise NotFound(f"没有编号为 {draft_id} 的草稿")
    try:
        access.check_action(draft, DraftAction.MERGE, actor)
    except InvalidTransition:
        state = DraftState(draft.status).label
        raise InvalidTransition(f"草稿现为“{state}”，只有审核通过的草稿才能合并") from None
    return draft


def plan(session: Session, draft: Draft) -> MergePlan:
    """Return the three-way merge of `draft` into the newest version, with the recorded decisions applied."""
    catalog = session.get_one(Catalog, draft.catalog_id)
    head = drafts.latest_version(session, catalog)
    sub = subgraph(session, draft, draft_store.load_changes(session, draft.id), head.seq)
    raw = merge(sub.base, {u: n.state for u, n in sub.head.items()}, sub.theirs, scheme=scheme_of(catalog))
    stored = {(r.uid, r.field): r for r in merge_conflicts.conflicts(session, draft.id)}
    choices = merge_conflicts.choices(stored, {c.key for c in raw.conflicts})
    return MergePlan(draft, catalog, head, sub, raw, resolve(raw, choices), choices)


def merge_draft(session: Session, draft_id: int, *, actor: Actor, label: str | None = None) -> MergeOutcome:
    """Merge an approved draft into the catalog's assembling version, all of it or nothing, in one commit.

    With unresolved conflicts nothing is written to the catalog: the conflicts are stored for a
    reviewer and returned. Resolutions already recorded are applied first.
    """
    return apply(session, plan(session, claim(session, draft_id, actor=actor)), actor=actor, label=label)


def apply(session: Session, planned: MergePlan, *, actor: Actor, label: str | None = None) -> MergeOutcome:
    """Write `planned` (claimed by `claim`) and commit; or store its open conflicts and commit those."""
    draft, catalog, result = planned.draft, planned.catalog, planned.result
    if result.conflicts:
        stored = merge_conflicts.store_conflicts(session, draft.id, result.conflicts)
        _audit(session, actor, "draft.merge_blocked", draft, conflicts=len(stored), version=planned.head.seq)
        session.commit()
        return MergeOutcome(merged=False, version=planned.head, conflicts=stored)
    head = _assembling(session, catalog, planned.head, label)
    written = catalogs.write_states(session, catalog, head.seq, result.merged, planned.sub.head)
    renumbered = {r.uid: r.final for r in result.code_changes}
    _remember_before(session, draft.id, planned.sub.head, renumbered)
    draft.status = access.check_action(draft, DraftAction.MERGE, actor)
    draft.merged_version_id, draft.updated_at = head.id, datetime.now(UTC)
    _audit(
        session, actor, "draft.merge", draft, version=head.seq, added=written.added,
        changed=written.changed, removed=written.removed, renumbered=len(renumbered),
    )  # fmt: skip
    session.commit()
    return MergeOutcome(
        merged=True, version=head, conflicts=[], written=written, renumbered=result.code_changes
    )


def _audit(session: Session, actor: Actor, action: str, draft: Draft, **summary: object) -> None:
    audit.record(
        session, actor=actor, action=action, object_type="draft", object_id=draft.id, summary=summary
    )


def _locked(session: Session, draft_id: int) -> Draft:
    draft = session.scalars(select(Draft).where(Draft.id == draft_id).with_for_update()).first()
    if draft is None:
        raise NotFound(f"没有编号为 {draft_id} 的草稿")
    return draft


def _assembling(session: Session, catalog: Catalog, latest: Version, label: str | None) -> Version:
    """Return the version being assembled, opening the next one when the newest is already issued."""
    if latest.status == VersionState.ASSEMBLING:
        return latest
    return catalogs.open_next_version(session, catalog, label or default_label(session, catalog))


def default_label(session: Session, catalog: Catalog, *, today: date | None = None) -> str:
    """Return the label of a version a merge opens: the Beijing year's edition ("2026年版"), or,
    when the catalog already has that label, its next free revision ("2026年第1次修订版")."""
    year = (today or beijing_today()).year
    taken = set(session.scalars(select(Version.label).where(Version.catalog_id == catalog.id)))
    label, n = f"{year}年版", 0
    while label in taken:
        n += 1
        label = f"{year}年第{n}次修订版"
    return label


def _remember_before(
    session: Session, draft_id: int, head: dict[str, store.StoredNode], renumbered: dict[str, str]
) -> None:
    for row, uid in draft_store.rows_with_uids(session, draft_id):
        row.merged_from = draft_store.state_to_json(head[uid].state if uid in head else None)
        row.merged_code = renumbered.get(uid)


@dataclass(frozen=True, slots=True)
class CodeChange:
    """A new item its merge gives (or gave) another code than its draft proposed: 编码调整."""

    uid: str
    name: str
    provisional: str
    final: str


def code_changes(session: Session, draft: Draft) -> list[CodeChange]:
    """Return the draft's new items whose code in the catalog differs from the one it proposed: as
    its merge wrote them, or, for a draft still on its way, as merging it now would."""
    state = DraftState(draft.status)
    if state is DraftState.MERGED:
        rows = draft_store.rows_with_uids(session, draft.id)
        return [
            CodeChange(uid, row.fields["name"], row.fields["code"], row.merged_code)
            for row, uid in rows
            if row.merged_code
        ]
    if state in CLOSED_DRAFT_STATES:
        return []
    result = plan(session, draft).result
    return [CodeChange(r.uid, result.merged[r.uid].name, r.provisional, r.final) for r in result.code_changes]


# --- rebase and revert ------------------------------------------------------------------------


def rebase(session: Session, draft_id: int, *, actor: Actor) -> list[MergeConflict]:
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
    result = merge(sub.base, {u: n.state for u, n in sub.head.items()}, sub.theirs, scheme=scheme_of(catalog))
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


def revert_draft(session: Session, draft_id: int, *, actor: Actor) -> Draft:
    """Open a new draft that puts every node a merged draft changed back as it was before that merge.

    The new draft is reviewed and merged like any other (finance roles; the system). One open
    revert at a time: while one is under way, asking again is a Conflict naming it.
    """
    merged = drafts.get_draft(session, draft_id, actor=actor)
    access.require_finance(actor)
    if merged.status != DraftState.MERGED:
        raise InvalidTransition("只有已合并的草稿才能撤回")
    pending = session.scalars(
        select(Draft).where(
            Draft.reverts_draft_id == merged.id, Draft.status.not_in(list(CLOSED_DRAFT_STATES))
        )
    ).first()
    if pending is not None:
        raise Conflict(
            f"已有撤回这次合并的草稿 #{pending.id}（{DraftState(pending.status).label}），请在那里继续"
        )
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
