"""The state machines of drafts and versions, as tables, and who may take which action.

The same `allowed_actions` draws the buttons on pages and guards the services, so a page
cannot offer what the service would refuse. Ownership (which department, which
jurisdiction, who edited) is the services' part: it needs the database.
"""

from __future__ import annotations

from enum import StrEnum

from app.errors import InvalidTransition


class Role(StrEnum):
    DEPT_EDITOR = "dept_editor"
    FINANCE_REVIEWER = "finance_reviewer"
    FINANCE_ADMIN = "finance_admin"
    SYSADMIN = "sysadmin"
    SYSTEM = "system"  # the product acting by itself (command line, scheduler); never a person's role

    @property
    def label(self) -> str:
        """Return the role's Chinese name."""
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.DEPT_EDITOR: "部门经办人",
    Role.FINANCE_REVIEWER: "财政审核人",
    Role.FINANCE_ADMIN: "财政管理员",
    Role.SYSADMIN: "系统管理员",
    Role.SYSTEM: "系统",
}
PERSON_ROLES = (
    Role.DEPT_EDITOR,
    Role.FINANCE_REVIEWER,
    Role.FINANCE_ADMIN,
    Role.SYSADMIN,
)  # users hold these
FINANCE = frozenset({Role.FINANCE_REVIEWER, Role.FINANCE_ADMIN})


class DraftState(StrEnum):
    EDITING = "editing"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"
    MERGED = "merged"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        """Return the state's Chinese name."""
        return DRAFT_STATE_LABELS[self]


DRAFT_STATE_LABELS = {
    DraftState.EDITING: "编辑中",
    DraftState.SUBMITTED: "已送审",
    DraftState.RETURNED: "已退回",
    DraftState.APPROVED: "审核通过",
    DraftState.MERGED: "已合并",
    DraftState.WITHDRAWN: "已撤回",
}


class DraftAction(StrEnum):
    EDIT = "edit"
    SUBMIT = "submit"
    RETURN = "return"
    APPROVE = "approve"
    MERGE = "merge"
    WITHDRAW = "withdraw"
    REOPEN = "reopen"

    @property
    def label(self) -> str:
        """Return the action's Chinese name (a button's text)."""
        return DRAFT_ACTION_LABELS[self]


DRAFT_ACTION_LABELS = {
    DraftAction.EDIT: "修改",
    DraftAction.SUBMIT: "送审",
    DraftAction.RETURN: "退回修改",
    DraftAction.APPROVE: "审核通过",
    DraftAction.MERGE: "合并",
    DraftAction.WITHDRAW: "撤回草稿",
    DraftAction.REOPEN: "重新打开",
}

# (state, action) → the state after it. Editing a returned draft takes it back to editing.
DRAFT_TRANSITIONS: dict[tuple[DraftState, DraftAction], DraftState] = {
    (DraftState.EDITING, DraftAction.EDIT): DraftState.EDITING,
    (DraftState.RETURNED, DraftAction.EDIT): DraftState.EDITING,
    (DraftState.EDITING, DraftAction.SUBMIT): DraftState.SUBMITTED,
    (DraftState.RETURNED, DraftAction.SUBMIT): DraftState.SUBMITTED,
    (DraftState.SUBMITTED, DraftAction.RETURN): DraftState.RETURNED,
    (DraftState.SUBMITTED, DraftAction.APPROVE): DraftState.APPROVED,
    (DraftState.APPROVED, DraftAction.MERGE): DraftState.MERGED,
    (DraftState.EDITING, DraftAction.WITHDRAW): DraftState.WITHDRAWN,
    (DraftState.SUBMITTED, DraftAction.WITHDRAW): DraftState.WITHDRAWN,
    (DraftState.RETURNED, DraftAction.WITHDRAW): DraftState.WITHDRAWN,
    # a withdrawn draft may be reopened while its round lasts (the services check the round)
    (DraftState.WITHDRAWN, DraftAction.REOPEN): DraftState.EDITING,
}

# The system (an operator at the command line) may write drafts and merge them, but the review
# decisions are a person's.
DRAFT_ROLES: dict[DraftAction, frozenset[Role]] = {
    DraftAction.EDIT: frozenset({Role.DEPT_EDITOR, *FINANCE, Role.SYSTEM}),
    DraftAction.SUBMIT: frozenset({Role.DEPT_EDITOR, *FINANCE, Role.SYSTEM}),
    DraftAction.RETURN: FINANCE,
    DraftAction.APPROVE: FINANCE,
    DraftAction.MERGE: frozenset({*FINANCE, Role.SYSTEM}),
    DraftAction.WITHDRAW: frozenset({Role.DEPT_EDITOR, *FINANCE, Role.SYSTEM}),
    DraftAction.REOPEN: frozenset({Role.DEPT_EDITOR, *FINANCE, Role.SYSTEM}),
}
CLOSED_DRAFT_STATES = frozenset({DraftState.MERGED, DraftState.WITHDRAWN})


class VersionState(StrEnum):
    ASSEMBLING = "assembling"
    ISSUED = "issued"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"

    @property
    def label(self) -> str:
        """Return the state's Chinese name."""
        return VERSION_STATE_LABELS[self]


VERSION_STATE_LABELS = {
    VersionState.ASSEMBLING: "编制中",
    VersionState.ISSUED: "已印发",
    VersionState.PUBLISHED: "已公开",
    VersionState.SUPERSEDED: "已被新版本替代",
}


PUBLIC_VERSION_STATES = (VersionState.PUBLISHED, VersionState.SUPERSEDED)  # what the public may see
OPEN_VERSION_STATES = (VersionState.ASSEMBLING, VersionState.ISSUED)  # not yet public


class VersionAction(StrEnum):
    OPEN = "open"
    ISSUE = "issue"
    PUBLISH = "publish"
    SCHEDULE = "schedule"
    SUPERSEDE = "supersede"

    @property
    def label(self) -> str:
        """Return the action's Chinese name (a button's text)."""
        return VERSION_ACTION_LABELS[self]


VERSION_ACTION_LABELS = {
    VersionAction.OPEN: "新建版本",
    VersionAction.ISSUE: "印发",
    VersionAction.PUBLISH: "公开",
    VersionAction.SCHEDULE: "安排公开日期",
    VersionAction.SUPERSEDE: "替代",
}

VERSION_TRANSITIONS: dict[tuple[VersionState, VersionAction], VersionState] = {
    (VersionState.ASSEMBLING, VersionAction.ISSUE): VersionState.ISSUED,
    (VersionState.ISSUED, VersionAction.SCHEDULE): VersionState.ISSUED,
    (VersionState.ISSUED, VersionAction.PUBLISH): VersionState.PUBLISHED,
    (VersionState.PUBLISHED, VersionAction.SUPERSEDE): VersionState.SUPERSEDED,
}

# Opening a version needs no transition (there is no version yet): only the role is checked.
# The system publishes what was scheduled; supersession happens to the older version when a
# newer one is published.
VERSION_ROLES: dict[VersionAction, frozenset[Role]] = {
    VersionAction.OPEN: frozenset({Role.FINANCE_ADMIN}),
    VersionAction.ISSUE: frozenset({Role.FINANCE_ADMIN}),
    VersionAction.SCHEDULE: frozenset({Role.FINANCE_ADMIN}),
    VersionAction.PUBLISH: frozenset({Role.FINANCE_ADMIN, Role.SYSTEM}),
    VersionAction.SUPERSEDE: frozenset({Role.SYSTEM}),
}


def allowed_actions(state: DraftState, role: Role) -> list[DraftAction]:
    """Return the draft actions `role` may take in `state`, in the table's order."""
    return [a for (s, a) in DRAFT_TRANSITIONS if s is state and role in DRAFT_ROLES[a]]


def advance(state: DraftState, action: DraftAction, role: Role) -> DraftState:
    """Return the draft state after `action`, or raise InvalidTransition saying why not."""
    if (state, action) not in DRAFT_TRANSITIONS:
        raise InvalidTransition(f"草稿{state.label}时不能{action.label}")
    if role not in DRAFT_ROLES[action]:
        raise InvalidTransition(f"{role.label}不能{action.label}")
    return DRAFT_TRANSITIONS[state, action]


def allowed_version_actions(state: VersionState, role: Role) -> list[VersionAction]:
    """Return the version actions `role` may take in `state`."""
    return [a for (s, a) in VERSION_TRANSITIONS if s is state and role in VERSION_ROLES[a]]


def advance_version(state: VersionState, action: VersionAction, role: Role) -> VersionState:
    """Return the version state after `action` by `role`, or raise InvalidTransition saying why not."""
    if (state, action) not in VERSION_TRANSITIONS:
        raise InvalidTransition(f"版本{state.label}时不能{action.label}")
    if role not in VERSION_ROLES[action]:
        raise InvalidTransition(f"{role.label}不能{action.label}，只有财政管理员可以")
    return VERSION_TRANSITIONS[state, action]
