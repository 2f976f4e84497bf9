"""The negative-list rules in use: stored rule sets, the shipped first one, and compiled matchers.

Exactly one stored rule set is active; older ones stay stored so an old finding can still be
explained. Parsing and compiling a rules file costs about 0.3 s, so each process keeps the
matchers it compiled, keyed by the rule set's version (and load time, which tells apart two
databases that happen to use one version string).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from threading import Lock
from typing import Any

from sqlalchemy.orm import Session

from app.config import PROJECT_ROOT
from app.db import finding_store
from app.db.models import RuleSet as RuleSetRow
from app.errors import Forbidden, InvalidInput
from app.screening import Matcher, RuleSet, compile_rules, parse_rules, parse_rules_json
from app.services import audit
from app.services.access import SEED, Actor, role_of, user_id
from app.workflow.states import Role

CATALOGS_DIR = PROJECT_ROOT / "catalogs"
RULES_FILE = Path("screening") / "rules.json"
MATCHERS_KEPT = 8
# the widths of the columns rule sets and findings are stored in
VERSION_MAX, RULE_ID_MAX, ARTICLE_MAX = 32, 64, 200


@dataclass(frozen=True, slots=True)
class ShippedRules:
    """The rules file that ships in catalogs/, parsed and compiled."""

    document: dict[str, Any]
    ruleset: RuleSet
    matcher: Matcher


_Key = tuple[str, int, str]
_matchers: OrderedDict[_Key, Matcher] = OrderedDict()
_shipped: dict[Path, tuple[tuple[int, int], ShippedRules]] = {}
_lock = Lock()


def active_rules(session: Session, *, catalogs_dir: Path = CATALOGS_DIR) -> tuple[RuleSetRow, Matcher]:
    """Return the active rule set and its compiled matcher; store the shipped rules first if none is.

    Storing the shipped rules only flushes: the caller's commit keeps them (idempotent either way).
    """
    row = finding_store.active_rule_set(session)
    if row is None:
        row = _store_shipped(session, catalogs_dir)
    return row, _matcher(row)


def current_matcher(session: Session, *, catalogs_dir: Path = CATALOGS_DIR) -> Matcher:
    """Return the active rules' matcher, or the shipped rules' when none is stored; writes nothing."""
    row = finding_store.active_rule_set(session)
    return shipped_rules(catalogs_dir).matcher if row is None else _matcher(row)


def load_rules(session: Session, text: str, *, actor: Actor) -> RuleSetRow:
    """Validate the rules document `text` whole, make it the active rule set, audit and commit; return it.

    A bad document raises InvalidInput naming every problem and changes nothing; so does a
    rules_version that was loaded before. The previous rule set stays stored, inactive.
    """
    if role_of(actor) not in (Role.FINANCE_ADMIN, Role.SYSTEM):
        raise Forbidden("只有财政管理员可以更新负面清单规则")
    ruleset = parse_rules_json(text)
    _check_widths(ruleset)
    if finding_store.rule_set_by_version(session, ruleset.version) is not None:
        raise InvalidInput(
            f"规则版本 {ruleset.version} 已经载入过，规则未更新：请在新规则文件中修改 rules_version 后再载入"
        )
    old = finding_store.active_rule_set(session, lock=True)
    if old is not None:
        old.active = False
    row = _add(session, json.loads(text), ruleset.version, actor)
    audit.record(
        session,
        actor=actor,
        action="rules.load",
        object_type="rule_set",
        object_id=row.id,
        summary={"before": old.rules_version if old else None, "after": row.rules_version},
    )
    session.commit()
    _remember(row, compile_rules(ruleset))
    return row


def shipped_rules(catalogs_dir: Path = CATALOGS_DIR) -> ShippedRules:
    """Return the rules file shipped in `catalogs_dir`, parsed and compiled once per change of the file."""
    path = (catalogs_dir / RULES_FILE).resolve()
    stat = path.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    with _lock:
        cached = _shipped.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        text = path.read_text(encoding="utf-8")
        ruleset = parse_rules_json(text)
        shipped = ShippedRules(json.loads(text), ruleset, compile_rules(ruleset))
        _shipped[path] = (stamp, shipped)
        return shipped


def explanations(session: Session, versions: set[str]) -> dict[tuple[str, str], str]:
    """Return the explanation of each rule of the stored rule sets `versions`, by (version, rule id)."""
    return {
        (version, rule["id"]): rule.get("explanation", "")
        for version, document in finding_store.rule_documents(session, versions).items()
        for rule in document.get("rules", [])
        if isinstance(rule, dict) and "id" in rule
    }


def _store_shipped(session: Session, catalogs_dir: Path) -> RuleSetRow:
    shipped = shipped_rules(catalogs_dir)
    version = shipped.ruleset.version
    values = {"rules_version": version, "document": shipped.document, "active": True, "loaded_at": _now()}
    inserted = finding_store.add_rule_set_if_absent(session, values)
    row = finding_store.rule_set_by_version(session, version)
    assert row is not None
    if inserted:
        audit.record(
            session,
            actor=SEED,
            action="rules.load",
            object_type="rule_set",
            object_id=row.id,
            summary={"before": None, "after": version, "source": str(RULES_FILE)},
        )
    elif not row.active:  # stored before, yet no rule set is active: make it the active one again
        row.active = True
    _remember(row, shipped.matcher)
    return row


def _add(session: Session, document: dict[str, Any], version: str, actor: Actor) -> RuleSetRow:
    row = RuleSetRow(
        rules_version=version,
        document=document,
        active=True,
        loaded_at=_now(),
        loaded_by_id=user_id(actor),
    )
    session.add(row)
    session.flush()
    return row


def _now() -> datetime:
    """Return the time a rule set is stored at, to the microsecond: part of the matcher cache key."""
    return datetime.now(UTC)


def _check_widths(ruleset: RuleSet) -> None:
    problems = []
    if len(ruleset.version) > VERSION_MAX:
        problems.append(f"rules_version 最长 {VERSION_MAX} 个字符")
    for rule in ruleset.rules:
        if len(rule.id) > RULE_ID_MAX:
            problems.append(f"规则 {rule.id[:20]}…：id 最长 {RULE_ID_MAX} 个字符")
        if len(rule.article) > ARTICLE_MAX:
            problems.append(f"规则 {rule.id}：article 最长 {ARTICLE_MAX} 个字符")
    if problems:
        raise InvalidInput("规则文件无效：\n" + "\n".join(problems))


def _key(row: RuleSetRow) -> _Key:
    return (row.rules_version, row.id, row.loaded_at.isoformat())


def _matcher(row: RuleSetRow) -> Matcher:
    key = _key(row)
    with _lock:
        found = _matchers.get(key)
        if found is not None:
            _matchers.move_to_end(key)
            return found
    matcher = compile_rules(parse_rules(row.document))
    _remember(row, matcher)
    return matcher


def _remember(row: RuleSetRow, matcher: Matcher) -> None:
    with _lock:
        _matchers[_key(row)] = matcher
        while len(_matchers) > MATCHERS_KEPT:
            _matchers.popitem(last=False)
