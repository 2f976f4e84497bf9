"""Negative-list screening where people work: items of a draft as they are saved, the submit gate,
finance reviewers' overrides, and ad-hoc texts (the public screening API).

Rules storage lives in screening_rules, whole versions in screening_versions and files in
screening_files; the names other services use are re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from app.catalog.nodes import Level, NodeState
from app.catalog.text import normalise
from app.db import draft_store, finding_store, store
from app.db.models import Draft, Override, User, Version
from app.db.models import Finding as FindingRow
from app.errors import Forbidden, InvalidInput, InvalidTransition, NotFound
from app.screening import Field, Finding, Matcher, ScreenItem, Severity, screen
from app.services import access, audit
from app.services.access import Actor
from app.services.screening.rules import active_rules, current_matcher, explanations, load_rules
from app.services.screening.versions import screen_version, version_findings
from app.workflow.states import CLOSED_DRAFT_STATES, FINANCE

__all__ = [
    "MAX_SCREEN_ITEMS",
    "ItemFinding",
    "active_rules",
    "blocking",
    "current_matcher",
    "draft_findings",
    "load_rules",
    "record_override",
    "screen_draft_nodes",
    "screen_states",
    "screen_texts",
    "screen_version",
    "version_findings",
]

REASON_MAX = 1000
MAX_SCREEN_ITEMS = 5000


@dataclass(frozen=True, slots=True)
class ItemFinding(Finding):
    """A finding on one item of a draft, with the item's code and name and any override's reason."""

    uid: str
    node_id: int
    code: str
    name: str
    override: str | None = None  # the finance reviewer's reason, when the finding was overridden

    @property
    def blocks(self) -> bool:
        """Return whether this finding stops a submit: severity block and no override recorded."""
        return self.severity is Severity.BLOCK and self.override is None

    def as_json(self) -> dict[str, object]:
        """Return the finding as the API and a refused submit's details show it."""
        return {
            "uid": self.uid,
            "code": self.code,
            "name": self.name,
            "rule": self.rule_id,
            "article": self.article,
            "severity": str(self.severity),
            "field": str(self.field),
            "match": self.match,
            "explanation": self.explanation,
            "override": self.override,
        }


def screen_states(states: Iterable[NodeState], matcher: Matcher) -> dict[str, list[Finding]]:
    """Return the findings of every item (三级/四级) among `states` by uid; [] for a clean one."""
    items = [s for s in states if s.level >= Level.ITEM]
    return dict(zip((s.uid for s in items), screen(items, matcher), strict=True))


def screen_draft_nodes(session: Session, draft: Draft, uids: Iterable[str]) -> dict[str, list[ItemFinding]]:
    """Screen the draft's current state of the nodes `uids`, replace their stored findings and return them.

    Every existing node asked for gets an entry ([] when clean or withdrawn). Flushes only:
    call it before your commit.
    """
    nodes = _draft_states(session, draft, list(dict.fromkeys(uids)))
    _, matcher = active_rules(session)
    found = _screen(nodes, matcher, finding_store.override_reasons(session, draft.id))
    finding_store.delete_draft_findings(session, draft.id, [node_id for node_id, _ in nodes.values()])
    _store(session, draft, found)
    return {uid: found.get(uid, []) for uid in nodes}


def draft_findings(session: Session, draft_id: int, *, actor: Actor) -> list[ItemFinding]:
    """Return the findings stored for the draft, by item; NotFound if `actor` (None: system) cannot see it."""
    draft = access.visible_draft(session, draft_id, actor)
    rows = finding_store.draft_finding_rows(session, draft.id)
    nodes = _draft_states(session, draft, sorted({uid for _, uid in rows}))
    notes = explanations(session, {row.rules_version for row, _ in rows})
    reasons = finding_store.override_reasons(session, draft.id)
    return [_from_row(row, uid, nodes.get(uid), notes, reasons) for row, uid in rows]


def blocking(session: Session, draft: Draft) -> list[ItemFinding]:
    """Return the `block` findings on items the draft proposes that no finance reviewer overrode.

    Re-screens every item the draft adds or changes with the active rules first and replaces
    the draft's stored findings (flush only; the caller commits, or rolls back on refusal).
    """
    nodes = {c.uid: (c.node_id, c.proposed) for c in draft_store.load_changes(session, draft.id)}
    _, matcher = active_rules(session)
    found = _screen(nodes, matcher, finding_store.override_reasons(session, draft.id))
    finding_store.delete_draft_findings(session, draft.id)
    _store(session, draft, found)
    flat = [f for per_item in found.values() for f in per_item]
    return sorted((f for f in flat if f.blocks), key=lambda f: (f.code, f.uid, f.start))


def record_override(
    session: Session, draft_id: int, uid: str, rule_id: str, *, reason: str, actor: User
) -> Override:
    """Record a finance reviewer's decision that block rule `rule_id` does not apply to the item; commit.

    Recording it again replaces the reason. Audited; Forbidden for any other role.
    """
    if access.role_of(actor) not in FINANCE:
        raise Forbidden("只有财政审核人或财政管理员可以确认筛查例外")
    draft = access.visible_draft(session, draft_id, actor)
    if draft.status in CLOSED_DRAFT_STATES:
        raise InvalidTransition("草稿已合并或已撤回，不能再确认筛查例外")
    reason = _checked_reason(reason)
    hit = _blocking_hit(session, draft, uid, rule_id)
    row = finding_store.override(session, draft.id, hit.node_id, rule_id)
    before = None if row is None else row.reason
    if row is None:
        row = Override(draft_id=draft.id, node_id=hit.node_id, rule_id=rule_id)
        session.add(row)
    row.reason, row.user_id, row.created_at = reason, actor.id, datetime.now(UTC)
    audit.record(
        session,
        actor=actor,
        action="screening.override",
        object_type="draft",
        object_id=draft.id,
        summary={"uid": uid, "rule": rule_id, "match": hit.match, "before": before, "after": reason},
    )
    session.commit()
    return row


def screen_texts(session: Session, items: Sequence[ScreenItem]) -> tuple[str, list[list[Finding]]]:
    """Return the active rules' version and the findings of each item (at most MAX_SCREEN_ITEMS)."""
    if len(items) > MAX_SCREEN_ITEMS:
        raise InvalidInput(f"一次最多筛查 {MAX_SCREEN_ITEMS:,} 个条目，本次 {len(items):,} 个，请分批提交")
    matcher = current_matcher(session)
    return matcher.version, screen(items, matcher)


def _blocking_hit(session: Session, draft: Draft, uid: str, rule_id: str) -> ItemFinding:
    """Return the item's current `block` finding of `rule_id`; NotFound or InvalidInput when there is none."""
    found = screen_draft_nodes(session, draft, [uid]).get(uid)
    if found is None:
        raise NotFound("草稿中没有这个目录条目")
    hit = next((f for f in found if f.rule_id == rule_id and f.severity is Severity.BLOCK), None)
    if hit is None:
        raise InvalidInput(f"该条目目前没有规则 {rule_id} 的阻止性筛查结果，无需确认例外")
    return hit


def _checked_reason(reason: str) -> str:
    """Return the reason normalised; InvalidInput when it is empty or too long."""
    reason = normalise(reason)
    if not reason:
        raise InvalidInput("确认例外必须填写理由")
    if len(reason) > REASON_MAX:
        raise InvalidInput(f"理由过长：{len(reason)} 个字符，最多 {REASON_MAX} 个")
    return reason


# --- helpers ---------------------------------------------------------------------------------

_Nodes = Mapping[str, tuple[int, NodeState | None]]  # uid → (node id, state in the draft; None: withdrawn)


def _draft_states(session: Session, draft: Draft, uids: list[str]) -> dict[str, tuple[int, NodeState | None]]:
    """Return (node id, state in the draft) of each existing node among `uids`."""
    ids = store.node_ids(session, draft.catalog_id, uids)
    if not ids:
        return {}
    changes = {
        c.uid: c.proposed for c in draft_store.load_changes(session, draft.id, node_ids=[*ids.values()])
    }
    rest = [uid for uid in ids if uid not in changes]
    base_seq = session.get_one(Version, draft.base_version_id).seq
    base = store.load_nodes(session, draft.catalog_id, base_seq, uids=rest) if rest else {}
    return {
        uid: (node_id, changes[uid] if uid in changes else base[uid].state if uid in base else None)
        for uid, node_id in ids.items()
    }


def _screen(
    nodes: _Nodes, matcher: Matcher, reasons: Mapping[tuple[int, str], str]
) -> dict[str, list[ItemFinding]]:
    """Return the findings of the items among `nodes` by uid ([] when clean), overrides attached."""
    live = {uid: (node_id, state) for uid, (node_id, state) in nodes.items() if state is not None}
    found = screen_states((state for _, state in live.values()), matcher)
    return {
        uid: [_from_finding(f, *live[uid], reasons.get((live[uid][0], f.rule_id))) for f in findings]
        for uid, findings in found.items()
    }


def _store(session: Session, draft: Draft, found: Mapping[str, list[ItemFinding]]) -> None:
    finding_store.insert_findings(
        session,
        [
            finding_store.finding_record(f, catalog_id=draft.catalog_id, node_id=f.node_id, draft_id=draft.id)
            for per_item in found.values()
            for f in per_item
        ],
    )


def _from_finding(f: Finding, node_id: int, state: NodeState, override: str | None) -> ItemFinding:
    return ItemFinding(
        uid=state.uid,
        node_id=node_id,
        code=state.code,
        name=state.name,
        rule_id=f.rule_id,
        head=f.head,
        article=f.article,
        severity=f.severity,
        field=f.field,
        match=f.match,
        start=f.start,
        end=f.end,
        explanation=f.explanation,
        rules_version=f.rules_version,
        override=override if f.severity is Severity.BLOCK else None,
    )


def _from_row(
    row: FindingRow,
    uid: str,
    node: tuple[int, NodeState | None] | None,
    notes: Mapping[tuple[str, str], str],
    reasons: Mapping[tuple[int, str], str],
) -> ItemFinding:
    state = None if node is None else node[1]
    return ItemFinding(
        uid=uid,
        node_id=row.node_id,
        code="" if state is None else state.code,
        name="" if state is None else state.name,
        rule_id=row.rule_id,
        head=row.head,
        article=row.article,
        severity=Severity(row.severity),
        field=Field(row.field),
        match=row.match,
        start=row.start,
        end=row.end,
        explanation=notes.get((row.rules_version, row.rule_id), ""),
        rules_version=row.rules_version,
        override=reasons.get((row.node_id, row.rule_id)) if row.severity == Severity.BLOCK else None,
    )
