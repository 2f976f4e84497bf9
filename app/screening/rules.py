"""Negative-list rules as values, parsed and validated from a catalogs/screening/rules.json document.

A rules document is checked whole before it is used: every problem is reported at once, in
Chinese, naming the rule; a caller that gets InvalidInput keeps the rules it had.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.catalog.text import normalise
from app.errors import InvalidInput
from app.screening.patterns import (
    UnknownTerm,
    expand,
    matched_texts,
    pattern_problem,
    term_refs,
    term_regex,
    union,
)

HEAD_LABELS = {1: "（一）", 2: "（二）", 3: "（三）", 4: "（四）", 5: "（五）", 6: "（六）"}
TOP_KEYS = frozenset({"rules_version", "source", "terms", "rules"})
RULE_KEYS = frozenset(
    {"id", "head", "article", "basis", "severity", "fields", "triggers", "clears", "explanation", "examples"}
)
REQUIRED_RULE_KEYS = ("id", "head", "article", "severity", "fields", "triggers", "explanation")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_TERM_NAME = re.compile(r"[a-z][a-z0-9_]*")


class Severity(StrEnum):
    BLOCK = "block"  # stops a draft at submit until fixed or overridden by a finance reviewer
    WARN = "warn"  # shown to clerk and reviewer; does not stop submit


class Field(StrEnum):
    NAME = "name"
    DESCRIPTION = "description"


@dataclass(frozen=True, slots=True)
class Rule:
    """One negative-list rule; `triggers` and `clears` hold regexes with every `{term}` expanded."""

    id: str
    head: int
    article: str
    severity: Severity
    fields: tuple[Field, ...]
    triggers: tuple[str, ...]
    clears: tuple[str, ...]
    explanation: str
    basis: str = ""
    flag_examples: tuple[str, ...] = ()
    pass_examples: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleSet:
    version: str
    source: str
    rules: tuple[Rule, ...]

    def head_counts(self) -> dict[int, int]:
        """Return how many rules each head of 第十条 (1–6) has, zeros included."""
        return {head: sum(r.head == head for r in self.rules) for head in HEAD_LABELS}


def parse_rules_json(text: str) -> RuleSet:
    """Return the rule set in the JSON `text`, or raise InvalidInput listing every problem."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            f"规则文件不是有效的 JSON（第 {error.lineno} 行第 {error.colno} 列：{error.msg}）"
        ) from None
    return parse_rules(doc)


def parse_rules(doc: object) -> RuleSet:
    """Return the rule set `doc` describes, or raise InvalidInput listing every problem in it."""
    problems: list[str] = []
    if not isinstance(doc, dict):
        raise InvalidInput("规则文件无效：顶层必须是 JSON 对象")
    problems += [
        f"规则文件含未知字段 {key}" for key in sorted(doc.keys() - TOP_KEYS) if not key.startswith("_")
    ]
    version = doc.get("rules_version")
    if not isinstance(version, str) or not version.strip():
        problems.append("规则文件缺少 rules_version（规则版本号，非空字符串）")
    source = doc.get("source", "")
    if not isinstance(source, str):
        problems.append("source 必须是字符串")
    terms = _parse_terms(doc.get("terms", {}), problems)
    rules = _parse_rule_list(doc.get("rules"), terms, problems)
    if problems:
        raise InvalidInput("规则文件无效：\n" + "\n".join(problems))
    return RuleSet(version=str(version).strip(), source=str(source), rules=tuple(rules))


def _parse_terms(raw: object, problems: list[str]) -> dict[str, str]:
    """Return each valid term as one regex group; append a problem for each invalid one."""
    if not isinstance(raw, dict):
        problems.append("terms 必须是对象：词表名 → 正则片段列表")
        return {}
    terms: dict[str, str] = {}
    for name, alternatives in raw.items():
        where = f"词表 {{{name}}}"
        if not _TERM_NAME.fullmatch(name):
            problems.append(f"{where}：名称只能由小写字母、数字和下划线组成，且以字母开头")
        elif not _is_text_list(alternatives):
            problems.append(f"{where}：必须是非空的字符串列表")
        elif any(term_refs(a) for a in alternatives):
            problems.append(f"{where}：词表中不能再引用其他词表")
        elif (problem := pattern_problem(term_regex(alternatives), fragment=True)) is not None:
            problems.append(f"{where}：{problem}")
        else:
            terms[name] = term_regex(alternatives)
    return terms


def _parse_rule_list(raw: object, terms: Mapping[str, str], problems: list[str]) -> list[Rule]:
    """Return the valid rules of `raw`; append a problem for each invalid rule and each duplicate id."""
    if not isinstance(raw, list) or not raw:
        problems.append("rules 必须是非空列表")
        return []
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, item in enumerate(raw, start=1):
        rule_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(rule_id, str) and rule_id in seen:
            problems.append(f"规则 {rule_id}：id 重复")
            continue
        if isinstance(rule_id, str):
            seen.add(rule_id)
        rule = _parse_rule(item, index, terms, problems)
        if rule is not None:
            rules.append(rule)
    return rules


def _parse_rule(raw: object, index: int, terms: Mapping[str, str], problems: list[str]) -> Rule | None:
    """Return the rule `raw` describes, or None after appending its problems."""
    if not isinstance(raw, dict):
        problems.append(f"第 {index} 条规则必须是 JSON 对象")
        return None
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not _ID.fullmatch(rule_id):
        problems.append(f"第 {index} 条规则缺少有效的 id（字母、数字、连字符、下划线或点）")
        return None
    found: list[str] = []
    where = f"规则 {rule_id}"
    found += [f"{where}：未知字段 {key}" for key in sorted(raw.keys() - RULE_KEYS)]
    found += [f"{where}：缺少字段 {key}" for key in REQUIRED_RULE_KEYS if key not in raw]
    if found:
        problems += found
        return None
    rule = _build_rule(raw, rule_id, terms, found)
    if rule is not None and not found:
        found += _example_problems(rule)
    problems += found
    return None if found else rule


def _build_rule(raw: dict[str, Any], rule_id: str, terms: Mapping[str, str], found: list[str]) -> Rule | None:
    """Return the rule made of `raw`'s checked fields, or None; append each problem to `found`."""
    where = f"规则 {rule_id}"
    head = raw["head"]
    if isinstance(head, bool) or not isinstance(head, int) or head not in HEAD_LABELS:
        found.append(f"{where}：head 必须是 1–6 的整数（第十条第（一）至（六）项），而不是 {head!r}")
    severity = raw["severity"]
    if severity not in {s.value for s in Severity}:
        found.append(f"{where}：severity 只能是 block 或 warn，而不是 {severity!r}")
    fields = raw["fields"]
    if not _is_text_list(fields) or not set(fields) <= {f.value for f in Field}:
        found.append(f"{where}：fields 必须是由 name、description 组成的非空列表")
    texts = {key: _text(raw, key, where, found) for key in ("article", "explanation", "basis")}
    triggers = _patterns(raw, "triggers", where, terms, found, required=True)
    clears = _patterns(raw, "clears", where, terms, found, required=False)
    flag_examples, pass_examples = _examples(raw.get("examples", {}), where, found)
    if found:
        return None
    return Rule(
        id=rule_id,
        head=head,
        article=texts["article"],
        severity=Severity(severity),
        fields=tuple(Field(f) for f in dict.fromkeys(fields)),
        triggers=triggers,
        clears=clears,
        explanation=texts["explanation"],
        basis=texts["basis"],
        flag_examples=flag_examples,
        pass_examples=pass_examples,
    )


def _text(raw: dict[str, Any], key: str, where: str, found: list[str]) -> str:
    """Return `raw[key]` when it is a non-empty string (basis may be absent); else note the problem."""
    value = raw.get(key, "" if key == "basis" else None)
    if key == "basis" and value == "":
        return ""
    if not isinstance(value, str) or not value.strip():
        found.append(f"{where}：{key} 必须是非空字符串")
        return ""
    return value.strip()


def _patterns(
    raw: dict[str, Any], key: str, where: str, terms: Mapping[str, str], found: list[str], *, required: bool
) -> tuple[str, ...]:
    """Return the expanded, checked patterns under `key`; note each bad one in `found`."""
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        found.append(f"{where}：{key} 必须是字符串列表")
        return ()
    if required and not value:
        found.append(f"{where}：{key} 不能为空")
    expanded: list[str] = []
    for pattern in value:
        try:
            regex = expand(pattern, terms)
        except UnknownTerm as error:
            found.append(f"{where}：{key} 中的 “{pattern}” 引用了未定义的词表 {{{error.name}}}")
            continue
        if not pattern.strip():
            found.append(f"{where}：{key} 中有空模式")
        elif (problem := pattern_problem(regex)) is not None:
            found.append(f"{where}：{key} 中的 “{pattern}” {problem}")
        else:
            expanded.append(regex)
    if len(expanded) == len(value) and expanded and pattern_problem(union(expanded)) is not None:
        found.append(f"{where}：{key} 合并后不是有效的正则表达式")
    return tuple(expanded)


def _examples(raw: object, where: str, found: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return the (flag, pass) example texts of a rule; note a malformed examples object."""
    if not isinstance(raw, dict) or not raw.keys() <= {"flag", "pass"}:
        found.append(f"{where}：examples 必须是只含 flag、pass 两个列表的对象")
        return (), ()
    flag, passing = raw.get("flag", []), raw.get("pass", [])
    if not all(isinstance(v, list) and all(isinstance(t, str) for t in v) for v in (flag, passing)):
        found.append(f"{where}：examples 的 flag、pass 必须是字符串列表")
        return (), ()
    return tuple(flag), tuple(passing)


def _example_problems(rule: Rule) -> list[str]:
    """Return a problem for each example the rule misjudges: a flag example it passes or the reverse."""
    problems = [
        f"规则 {rule.id}：示例 “{text}” 应当命中，实际未命中"
        for text in rule.flag_examples
        if not matched_texts(normalise(text), rule.triggers, rule.clears)
    ]
    for text in rule.pass_examples:
        hits = matched_texts(normalise(text), rule.triggers, rule.clears)
        if hits:
            problems.append(f"规则 {rule.id}：示例 “{text}” 应当放行，实际命中 “{hits[0]}”")
    return problems


def _is_text_list(value: object) -> bool:
    """Return whether `value` is a non-empty list of non-empty strings."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) and v.strip() for v in value)
