"""The admin's negative-list rules: the rules in force, every stored rule set, loading a new one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from app.db import finding_store
from app.db.models import RuleSet, User
from app.services.access import require_admin
from app.services.screening import rules as screening_rules


def rule_sets(session: Session, actor: User) -> list[RuleSet]:
    """Return every stored rule set, newest first (documents load only when read)."""
    require_admin(actor)
    return list(session.scalars(select(RuleSet).options(defer(RuleSet.document)).order_by(RuleSet.id.desc())))


def active_rules(session: Session, actor: User) -> tuple[str, dict[str, Any], bool]:
    """Return the rules in force as (version, document, stored); the shipped file until first stored."""
    require_admin(actor)
    row = finding_store.active_rule_set(session)
    if row is not None:
        return row.rules_version, row.document, True
    shipped = screening_rules.shipped_rules()
    return shipped.ruleset.version, shipped.document, False


def load_rules(session: Session, text: str, *, actor: User) -> RuleSet:
    """Load a new rules document (validated whole) as the active rule set; see screening_rules.load_rules."""
    require_admin(actor)
    return screening_rules.load_rules(session, text, actor=actor)
