"""Screening in storage: rule sets as loaded, findings on draft and version nodes, reviewers' overrides."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, Select, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, defer

from app.db.models import Department, Node, NodeRevision, Override, RuleSet
from app.db.models import Finding as FindingRow
from app.db.queries import in_version
from app.screening import Field, Severity

CHUNK = 5000
MATCH_MAX = 200  # the width of findings.match


def active_rule_set(session: Session, *, lock: bool = False) -> RuleSet | None:
    """Return the active rule set (its document loads only when read), or None before the first load."""
    stmt = select(RuleSet).where(RuleSet.active).options(defer(RuleSet.document)).order_by(RuleSet.id.desc())
    return session.scalars(stmt.with_for_update() if lock else stmt).first()


def rule_set_by_version(session: Session, rules_version: str) -> RuleSet | None:
    """Return the stored rule set with `rules_version`, active or not."""
    return session.scalars(select(RuleSet).where(RuleSet.rules_version == rules_version)).first()


def add_rule_set_if_absent(session: Session, values: dict[str, Any]) -> bool:
    """Insert a rule set unless one with its rules_version exists (one stored at this moment too).

    Return whether this call inserted it. ON CONFLICT rather than a savepoint: pysqlite would
    commit a savepoint taken outside a transaction when it is released.
    """
    dialect = session.get_bind().dialect.name
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert_(RuleSet).values(**values).on_conflict_do_nothing(index_elements=["rules_version"])
    return bool(cast(CursorResult[Any], session.execute(stmt)).rowcount)


def rule_documents(session: Session, versions: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Return the stored rules documents of `versions`, by rules_version (unknown ones left out)."""
    wanted = sorted(set(versions))
    if not wanted:
        return {}
    stmt = select(RuleSet.rules_version, RuleSet.document).where(RuleSet.rules_version.in_(wanted))
    return {version: document for version, document in session.execute(stmt)}  # noqa: C416


def insert_findings(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert finding rows (dicts of Finding columns) in bulk."""
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(FindingRow), list(rows[start : start + CHUNK]))


def delete_draft_findings(session: Session, draft_id: int, node_ids: Sequence[int] | None = None) -> None:
    """Delete the draft's findings on `node_ids` (all of the draft's findings when None)."""
    stmt = delete(FindingRow).where(FindingRow.draft_id == draft_id)
    if node_ids is None:
        session.execute(stmt)
        return
    for start in range(0, len(node_ids), CHUNK):
        session.execute(stmt.where(FindingRow.node_id.in_(node_ids[start : start + CHUNK])))


def delete_version_findings(session: Session, version_id: int) -> None:
    """Delete every finding stored for version `version_id`."""
    session.execute(delete(FindingRow).where(FindingRow.version_id == version_id))


def draft_finding_rows(session: Session, draft_id: int) -> list[tuple[FindingRow, str]]:
    """Return the draft's stored findings with their nodes' uids, by node then field and position."""
    stmt = (
        select(FindingRow, Node.uid)
        .join(Node, Node.id == FindingRow.node_id)
        .where(FindingRow.draft_id == draft_id)
        .order_by(FindingRow.node_id, FindingRow.field.desc(), FindingRow.start, FindingRow.id)
    )
    return [(row, uid) for row, uid in session.execute(stmt)]


def override_reasons(session: Session, draft_id: int) -> dict[tuple[int, str], str]:
    """Return the reasons of the draft's overrides, by (node id, rule id)."""
    stmt = select(Override.node_id, Override.rule_id, Override.reason).where(Override.draft_id == draft_id)
    return {(node_id, rule_id): reason for node_id, rule_id, reason in session.execute(stmt)}


def override(session: Session, draft_id: int, node_id: int, rule_id: str) -> Override | None:
    """Return the override of `rule_id` on the node in the draft, if one was recorded."""
    stmt = select(Override).where(
        Override.draft_id == draft_id, Override.node_id == node_id, Override.rule_id == rule_id
    )
    return session.scalars(stmt).first()


@dataclass(frozen=True, slots=True)
class VersionFindingRow:
    """A stored finding of a version with the item it is on, as that version has it."""

    uid: str
    code: str
    name: str
    department_code: str | None
    department_name: str | None
    rule_id: str
    head: int
    article: str
    severity: str
    field: str
    match: str
    rules_version: str
    explanation: str = ""  # not stored with the finding: the service reads it from the rule set


def version_finding_rows(
    session: Session,
    version_id: int,
    seq: int,
    *,
    rule_id: str | None = None,
    severity: str | None = None,
    department_id: int | None = None,
) -> list[VersionFindingRow]:
    """Return the findings stored for the version, filtered, in item code order."""
    stmt = _version_select(version_id, seq)
    if rule_id is not None:
        stmt = stmt.where(FindingRow.rule_id == rule_id)
    if severity is not None:
        stmt = stmt.where(FindingRow.severity == severity)
    if department_id is not None:
        stmt = stmt.where(NodeRevision.department_id == department_id)
    return [VersionFindingRow(*row) for row in session.execute(stmt)]


def _version_select(version_id: int, seq: int) -> Select[*tuple[Any, ...]]:
    f, r = FindingRow, NodeRevision
    stmt: Select[*tuple[Any, ...]] = (
        select(
            Node.uid,
            r.code,
            r.name,
            Department.code,
            Department.name,
            f.rule_id,
            f.head,
            f.article,
            f.severity,
            f.field,
            f.match,
            f.rules_version,
        )
        .join(Node, Node.id == f.node_id)
        .join(r, (r.node_id == f.node_id) & in_version(seq))
        .outerjoin(Department, Department.id == r.department_id)
        .where(f.version_id == version_id)
        .order_by(r.code, f.node_id, f.field.desc(), f.start, f.id)
    )
    return stmt


class Screened(Protocol):
    """What storing a finding needs: the engine's Finding, or a finding already placed on an item."""

    @property
    def rule_id(self) -> str: ...
    @property
    def head(self) -> int: ...
    @property
    def article(self) -> str: ...
    @property
    def severity(self) -> Severity: ...
    @property
    def field(self) -> Field: ...
    @property
    def match(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def rules_version(self) -> str: ...


def finding_record(
    finding: Screened,
    *,
    catalog_id: int,
    node_id: int,
    draft_id: int | None = None,
    version_id: int | None = None,
) -> dict[str, Any]:
    """Return the row that stores `finding` on a node of a draft or of a version (match cut to fit)."""
    return {
        "catalog_id": catalog_id,
        "draft_id": draft_id,
        "version_id": version_id,
        "node_id": node_id,
        "rule_id": finding.rule_id,
        "head": finding.head,
        "article": finding.article,
        "severity": finding.severity.value,
        "field": finding.field.value,
        "match": finding.match[:MATCH_MAX],
        "start": finding.start,
        "end": finding.end,
        "rules_version": finding.rules_version,
    }
