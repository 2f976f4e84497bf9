"""A small jurisdiction with one user per role (two departments) and their API tokens, for workflow tests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Department
from app.services.people import accounts as people
from tests.factories import ELDERLY, SYSTEM, Built, published_catalog

USERS = {
    "minzheng": ("dept_editor", "101"),  # 民政局: owns i1, i2, i5
    "jiaoyu": ("dept_editor", "102"),  # 教育局: owns i3
    "reviewer": ("finance_reviewer", None),
    "reviewer2": ("finance_reviewer", None),
    "admin": ("finance_admin", None),
    "sysadmin": ("sysadmin", None),
}
PASSWORD = "correct-horse-1"


@dataclass
class World:
    built: Built
    tokens: dict[str, dict[str, str]]

    def auth(self, who: str | None) -> dict[str, str]:
        """Return the headers that sign a request in as `who` (None: anonymous)."""
        return {} if who is None else self.tokens[who]


def world(session: Session) -> World:
    built = published_catalog(session, ELDERLY)
    jurisdiction = built.catalog.jurisdiction_id
    depts = {
        d.code: d.id
        for d in session.scalars(select(Department).where(Department.jurisdiction_id == jurisdiction))
    }
    for name, (role, dept) in USERS.items():
        people.add_user(
            session,
            username=name,
            password=PASSWORD,
            role=role,
            jurisdiction_id=jurisdiction,
            department_id=depts[dept] if dept else None,
        )
    session.commit()
    tokens = {
        name: {"Authorization": f"Bearer {people.create_token(session, name, actor=SYSTEM)}"}
        for name in USERS
    }
    return World(built, tokens)
