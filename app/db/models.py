"""SQLAlchemy models. The schema itself comes only from the Alembic migrations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from app.workflow.states import PERSON_ROLES, DraftState, VersionState


def _one_of(column: str, values: Iterable[str]) -> str:
    """Return the CHECK text that keeps `column` within `values` (the workflow's own states and roles)."""
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware datetime so the stored moment is unambiguous")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Jurisdiction(Base):
    """A province, city or county, identified by its 6-digit administrative division code."""

    __tablename__ = "jurisdictions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"), index=True)

    __table_args__ = (CheckConstraint("level IN ('province', 'city', 'county')", name="level"),)


class Department(Base):
    """A purchasing body (购买主体) of one jurisdiction."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)

    jurisdiction: Mapped[Jurisdiction] = relationship(lazy="raise")

    __table_args__ = (UniqueConstraint("jurisdiction_id", "code"),)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())

    __table_args__ = (
        CheckConstraint(_one_of("role", PERSON_ROLES), name="role"),
        CheckConstraint("role <> 'dept_editor' OR department_id IS NOT NULL", name="editor_department"),
    )


class ApiToken(Base):
    """A personal token for other systems; only its SHA-256 is kept, so a leaked table leaks no token."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Catalog(Base):
    """One jurisdiction's guidance catalog, living across years as numbered versions."""

    __tablename__ = "catalogs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    framework: Mapped[str] = mapped_column(String(32))
    publication_period_days: Mapped[int] = mapped_column(SmallInteger, default=10)
    # the form of its codes, one sample per level (app.catalog.codes.CodeScheme): A/01/001/01
    code_scheme: Mapped[str] = mapped_column(String(32), default="A/01/001/01", server_default="A/01/001/01")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())

    jurisdiction: Mapped[Jurisdiction] = relationship(lazy="raise")

    __table_args__ = (CheckConstraint("publication_period_days > 0", name="period_positive"),)


class Version(Base):
    """A numbered snapshot of a catalog; fixed for ever once issued."""

    __tablename__ = "versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    catalog_id: Mapped[int] = mapped_column(ForeignKey("catalogs.id"))
    seq: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default=VersionState.ASSEMBLING.value)
    doc_number: Mapped[str | None] = mapped_column(String(100))
    issued_on: Mapped[date | None] = mapped_column(Date)
    publication_deadline: Mapped[date | None] = mapped_column(Date)
    publish_on: Mapped[date | None] = mapped_column(Date)  # scheduled publication day (Beijing time)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())

    catalog: Mapped[Catalog] = relationship(lazy="raise")

    __table_args__ = (
        UniqueConstraint("catalog_id", "seq"),
        CheckConstraint(_one_of("status", VersionState), name="status"),
        CheckConstraint("seq > 0", name="seq_positive"),
        # the scheduler's question every minute: which issued versions are due today?
        Index("ix_versions_status_publish_on", "status", "publish_on"),
    )


class Node(Base):
    """A node's stable identity across every version of its catalog."""

    __tablename__ = "nodes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    catalog_id: Mapped[int] = mapped_column(ForeignKey("catalogs.id"))
    uid: Mapped[str] = mapped_column(String(32))

    __table_args__ = (UniqueConstraint("catalog_id", "uid"),)


class NodeRevision(Base):
    """A node's content over the versions valid_from <= seq < valid_to (valid_to NULL: still current).

    Append-only: content never changes and no revision is deleted; only valid_to is set, once.
    """

    __tablename__ = "node_revisions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    catalog_id: Mapped[int] = mapped_column(ForeignKey("catalogs.id"))
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id"))
    level: Mapped[int] = mapped_column(SmallInteger)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    sort_key: Mapped[int] = mapped_column(Integer, default=0)
    attrs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    valid_from: Mapped[int] = mapped_column(Integer)
    valid_to: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 4", name="level"),
        # valid_to == valid_from: superseded while its version was still assembling (seen by no version)
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_range"),
        # children of P in version S: equality on parent, then a short range filter
        Index("ix_node_revisions_parent", "parent_id", "valid_from"),
        # one level of a version (classes; item counts per type), covering so counts need no table reads
        Index(
            "ix_node_revisions_catalog_level", "catalog_id", "level", "valid_from", "valid_to", "parent_id"
        ),
        # revisions that start / end between versions A and B: the cost of a diff
        Index("ix_node_revisions_catalog_from", "catalog_id", "valid_from"),
        Index("ix_node_revisions_catalog_to", "catalog_id", "valid_to"),
        # a whole version in code order, keyset-paginated
        Index("ix_node_revisions_catalog_code", "catalog_id", "code", "node_id"),
        # one node's history
        Index("ix_node_revisions_node", "node_id", "valid_from"),
        Index("ix_node_revisions_department", "department_id", "valid_from"),
    )


class Draft(Base):
    """A set of proposed changes on top of a base version."""

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    catalog_id: Mapped[int] = mapped_column(ForeignKey("catalogs.id"), index=True)
    base_version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default=DraftState.EDITING.value)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    merged_version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"))
    reverts_draft_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    return_reason: Mapped[str | None] = mapped_column(Text)
    withdraw_reason: Mapped[str | None] = mapped_column(Text)  # finance's, shown to the department
    request_token: Mapped[str | None] = mapped_column(String(64), unique=True)  # the form that made it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())

    __table_args__ = (CheckConstraint(_one_of("status", DraftState), name="status"),)


class DraftChange(Base):
    """One proposed change to one node; editing the same node again updates this row."""

    __tablename__ = "draft_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"))
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"))
    kind: Mapped[str] = mapped_column(String(16))
    base_revision_id: Mapped[int | None] = mapped_column(ForeignKey("node_revisions.id"))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # the head's state of the node just before the merge wrote this change (null: it did not exist)
    merged_from: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # a new item's code as the merge wrote it, when the merge renumbered its provisional code
    merged_code: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())

    __table_args__ = (
        UniqueConstraint("draft_id", "node_id"),
        CheckConstraint("kind IN ('add', 'update', 'move', 'delete')", name="kind"),
    )


class MergeConflict(Base):
    """A conflict a merge or rebase found, kept until a reviewer resolves it."""

    __tablename__ = "merge_conflicts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    uid: Mapped[str] = mapped_column(String(32))
    field: Mapped[str] = mapped_column(String(32), default="")  # '' : the whole node
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    base: Mapped[Any] = mapped_column(JSON, nullable=True)
    ours: Mapped[Any] = mapped_column(JSON, nullable=True)  # the head
    theirs: Mapped[Any] = mapped_column(JSON, nullable=True)  # the draft
    resolution: Mapped[str | None] = mapped_column(String(16))  # ours | theirs | edit
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("draft_id", "uid", "field"),
        CheckConstraint("resolution IS NULL OR resolution IN ('ours', 'theirs', 'edit')", name="resolution"),
    )


class AuditEvent(Base):
    """An append-only record of one change: who, when, what, before and after."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now(), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    request_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)


class LoginAttempt(Base):
    """One sign-in attempt, kept to throttle guessing per account and per address (across workers)."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(default=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())

    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
    )


class Comment(Base):
    """A comment on a draft, or on one changed item of it (node_id set); kept after the merge."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"), index=True)
    node_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())


class CalendarYear(Base):
    """A year whose official holiday arrangement is loaded; a year absent here is not guessed."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(300))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())


class CalendarDay(Base):
    """A statutory rest day (kind rest) or a make-up working weekend day (kind work)."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("calendar_years.year", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(32), default="")

    __table_args__ = (CheckConstraint("kind IN ('rest', 'work')", name="kind"),)


class RuleSet(Base):
    """A negative-list rules file as loaded; exactly one is active, older ones explain old findings."""

    __tablename__ = "rule_sets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rules_version: Mapped[str] = mapped_column(String(32), unique=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(default=False)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
    loaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Finding(Base):
    """A screening finding on one node, in a draft or a version, with the rules version it came from."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    catalog_id: Mapped[int] = mapped_column(ForeignKey("catalogs.id"))
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"), index=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), index=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    head: Mapped[int] = mapped_column(SmallInteger)
    article: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(8))
    field: Mapped[str] = mapped_column(String(16))
    match: Mapped[str] = mapped_column(String(200))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    rules_version: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())

    __table_args__ = (CheckConstraint("severity IN ('block', 'warn')", name="severity"),)


class Override(Base):
    """A finance reviewer's recorded decision that a blocking finding on an item does not apply."""

    __tablename__ = "overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"))
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"))
    rule_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())

    __table_args__ = (UniqueConstraint("draft_id", "node_id", "rule_id"),)


# tsvector on PostgreSQL; on SQLite the bigram tokens live in an FTS5 table and this stays NULL
GramVector = Text().with_variant(TSVECTOR(), "postgresql")


class SearchEntry(Base):
    """One item (三级 or 四级) of one published version, as the search indexes hold it.

    A version's entries take consecutive ids in code order (so in type order): a search
    scoped to some versions walks their id ranges, and a page is the next ids after a cursor.
    `search_text` and `grams` are filled on PostgreSQL (pg_trgm and tsvector GIN indexes);
    SQLite keeps both in FTS5 tables (app.db.search_store) and leaves them NULL, so there the two
    indexes below only hold NULLs.
    """

    __tablename__ = "search_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)  # SQLite: the rowid
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))
    catalog_id: Mapped[int] = mapped_column(ForeignKey("catalogs.id"))
    node_id: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[str] = mapped_column(String(32))
    level: Mapped[int] = mapped_column(SmallInteger)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    class_code: Mapped[str] = mapped_column(String(32))
    type_code: Mapped[str] = mapped_column(String(32))
    type_uid: Mapped[str] = mapped_column(String(32))
    type_name: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(String(400))
    department_code: Mapped[str] = mapped_column(String(32), default="")
    department_name: Mapped[str] = mapped_column(String(100), default="")
    pinyin: Mapped[str] = mapped_column(String(600), default="")
    initials: Mapped[str] = mapped_column(String(100), default="")
    search_text: Mapped[str | None] = mapped_column(Text)
    grams: Mapped[str | None] = mapped_column(GramVector)

    __table_args__ = (
        Index(
            "ix_search_entries_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
            postgresql_with={"fastupdate": "off"},
        ),
        Index(
            "ix_search_entries_grams", "grams", postgresql_using="gin", postgresql_with={"fastupdate": "off"}
        ),
    )


class SearchVersion(Base):
    """A version whose items are in the search index, with the id range its entries occupy."""

    __tablename__ = "search_versions"

    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), primary_key=True, autoincrement=False)
    catalog_id: Mapped[int] = mapped_column(ForeignKey("catalogs.id"))
    first_id: Mapped[int] = mapped_column(BigInteger)
    last_id: Mapped[int] = mapped_column(BigInteger)  # first_id - 1 when the version has no items
    items: Mapped[int] = mapped_column(Integer)
    indexed_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())


class DraftImport(Base):
    """A spreadsheet uploaded into a draft: kept while its preview waits for confirmation, and once
    applied, what undoing it restores (the draft's changes and findings on the nodes it rewrote)."""

    __tablename__ = "draft_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    token: Mapped[str] = mapped_column(String(64), unique=True)  # names the preview to its confirmation
    filename: Mapped[str] = mapped_column(String(200), default="")
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes | None] = mapped_column(deferred=True)  # the file, until it is applied
    previewed_lock: Mapped[int] = mapped_column(Integer)  # the draft's lock_version the preview saw
    scope: Mapped[str | None] = mapped_column(String(16))  # add_update | replace, once applied
    applied_lock: Mapped[int | None] = mapped_column(Integer)  # the draft's lock_version the apply left
    restore: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("scope IS NULL OR scope IN ('add_update', 'replace')", name="scope"),)
