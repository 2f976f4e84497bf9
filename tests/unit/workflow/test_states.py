"""The state machines as tables: every (state, action, role) case."""

from __future__ import annotations

import itertools

import pytest

from app.errors import InvalidTransition
from app.workflow.states import (
    DRAFT_TRANSITIONS,
    DraftAction,
    DraftState,
    Role,
    VersionAction,
    VersionState,
    advance,
    advance_version,
    allowed_actions,
    allowed_version_actions,
)

S, A, R = DraftState, DraftAction, Role

EXPECTED = {
    (S.EDITING, R.DEPT_EDITOR): [A.EDIT, A.SUBMIT, A.WITHDRAW],
    (S.EDITING, R.FINANCE_REVIEWER): [A.EDIT, A.SUBMIT, A.WITHDRAW],
    (S.EDITING, R.FINANCE_ADMIN): [A.EDIT, A.SUBMIT, A.WITHDRAW],
    (S.EDITING, R.SYSADMIN): [],
    (S.SUBMITTED, R.DEPT_EDITOR): [A.WITHDRAW],
    (S.SUBMITTED, R.FINANCE_REVIEWER): [A.RETURN, A.APPROVE, A.WITHDRAW],
    (S.SUBMITTED, R.FINANCE_ADMIN): [A.RETURN, A.APPROVE, A.WITHDRAW],
    (S.SUBMITTED, R.SYSADMIN): [],
    (S.RETURNED, R.DEPT_EDITOR): [A.EDIT, A.SUBMIT, A.WITHDRAW],
    (S.RETURNED, R.FINANCE_REVIEWER): [A.EDIT, A.SUBMIT, A.WITHDRAW],
    (S.APPROVED, R.DEPT_EDITOR): [],
    (S.APPROVED, R.FINANCE_REVIEWER): [A.MERGE],
    (S.APPROVED, R.FINANCE_ADMIN): [A.MERGE],
    (S.MERGED, R.FINANCE_ADMIN): [],
    (S.WITHDRAWN, R.DEPT_EDITOR): [A.REOPEN],  # while its round lasts (the service checks)
}


@pytest.mark.parametrize(("case", "actions"), EXPECTED.items(), ids=lambda v: str(v))
def test_allowed_actions_table(case: tuple[DraftState, Role], actions: list[DraftAction]) -> None:
    assert allowed_actions(*case) == actions


@pytest.mark.parametrize(("state", "action", "role"), list(itertools.product(DraftState, DraftAction, Role)))
def test_advance_agrees_with_allowed_actions(state: DraftState, action: DraftAction, role: Role) -> None:
    if action in allowed_actions(state, role):
        assert advance(state, action, role) == DRAFT_TRANSITIONS[state, action]
    else:
        with pytest.raises(InvalidTransition):
            advance(state, action, role)


def test_refusals_say_why_in_chinese() -> None:
    with pytest.raises(InvalidTransition, match="草稿已合并时不能修改"):
        advance(S.MERGED, A.EDIT, R.FINANCE_ADMIN)
    with pytest.raises(InvalidTransition, match="部门经办人不能审核通过"):
        advance(S.SUBMITTED, A.APPROVE, R.DEPT_EDITOR)


def test_editing_a_returned_draft_reopens_it() -> None:
    assert advance(S.RETURNED, A.EDIT, R.DEPT_EDITOR) is S.EDITING


def test_only_the_finance_admin_issues_schedules_and_publishes() -> None:
    assert allowed_version_actions(VersionState.ASSEMBLING, R.FINANCE_ADMIN) == [VersionAction.ISSUE]
    assert allowed_version_actions(VersionState.ISSUED, R.FINANCE_ADMIN) == [
        VersionAction.SCHEDULE,
        VersionAction.PUBLISH,
    ]
    for role in (R.DEPT_EDITOR, R.FINANCE_REVIEWER, R.SYSADMIN):
        assert allowed_version_actions(VersionState.ASSEMBLING, role) == []
        with pytest.raises(InvalidTransition, match="只有财政管理员可以"):
            advance_version(VersionState.ISSUED, VersionAction.PUBLISH, role)
    assert (
        advance_version(VersionState.PUBLISHED, VersionAction.SUPERSEDE, R.SYSTEM) is VersionState.SUPERSEDED
    )
    with pytest.raises(InvalidTransition):
        advance_version(VersionState.PUBLISHED, VersionAction.ISSUE, R.FINANCE_ADMIN)
