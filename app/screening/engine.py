"""Screen catalog items against a rule set: compile once into a Matcher, then screen many items.

Text is normalised first (app.catalog.text.normalise); spans in a Finding refer to the normalised
field text. Per field, one literal prefilter (app.screening.literals: the words every trigger
needs) finds in one fast scan which rules could match; only those rules then run their full
trigger regex and clearing phrases. Most items of a real catalog stop after the scan. Triggers
whose required words cannot be derived go into a second, plain-regex prefilter: slower, never wrong.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from app.catalog.text import normalise_all
from app.screening.literals import KeyedWords, keyed_words, required_literals
from app.screening.patterns import rule_spans, union
from app.screening.rules import Field, Rule, RuleSet, Severity


class Screenable(Protocol):
    """Anything with a name and a description: a NodeState, a draft change, a CSV row object."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class ScreenItem:
    name: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule hit: which rule and article, in which field, on which span of the normalised text."""

    rule_id: str
    head: int
    article: str
    severity: Severity
    field: Field
    match: str
    start: int
    end: int
    explanation: str
    rules_version: str

    @property
    def blocks(self) -> bool:
        """Return whether this finding stops a submit (severity block)."""
        return self.severity is Severity.BLOCK


@dataclass(frozen=True, slots=True)
class _CompiledRule:
    rule: Rule
    triggers: tuple[re.Pattern[str], ...]
    clears: tuple[re.Pattern[str], ...]


@dataclass(frozen=True, slots=True)
class _FieldScan:
    """What screening one field needs; an owner is a (rule index, trigger index) pair."""

    field: Field
    rules: tuple[_CompiledRule, ...]
    keyed: KeyedWords | None  # required words → owners, as owner ids into `owners`
    raw: re.Pattern[str] | None  # union of the triggers without required words
    raw_owners: frozenset[int]
    owners: tuple[tuple[int, int], ...]
    triggers: tuple[re.Pattern[str], ...]  # triggers[owner], the trigger of each (rule, trigger) pair


@dataclass(frozen=True, slots=True)
class Matcher:
    """A rule set compiled once; build it with compile_rules() and share it between calls."""

    version: str
    name: _FieldScan
    description: _FieldScan


def compile_rules(ruleset: RuleSet) -> Matcher:
    """Return the Matcher for `ruleset`: per field, a literal prefilter over every trigger's words."""
    compiled = [
        _CompiledRule(
            rule, tuple(re.compile(t) for t in rule.triggers), tuple(re.compile(c) for c in rule.clears)
        )
        for rule in ruleset.rules
    ]
    return Matcher(
        version=ruleset.version,
        name=_field_scan(Field.NAME, compiled),
        description=_field_scan(Field.DESCRIPTION, compiled),
    )


def _field_scan(field: Field, compiled: list[_CompiledRule]) -> _FieldScan:
    """Return the scan of `field`: its rules, the words their triggers need, and the raw leftovers."""
    rules = tuple(c for c in compiled if field in c.rule.fields)
    owners = tuple((r, t) for r, c in enumerate(rules) for t in range(len(c.triggers)))
    words: defaultdict[str, set[int]] = defaultdict(set)
    raw: list[str] = []
    raw_owners: set[int] = set()
    for owner, (r, t) in enumerate(owners):
        required = required_literals(rules[r].triggers[t].pattern)
        if required is None:
            raw.append(rules[r].triggers[t].pattern)
            raw_owners.add(owner)
        for word in required or ():
            words[word].add(owner)
    return _FieldScan(
        field=field,
        rules=rules,
        keyed=keyed_words(words) if words else None,
        raw=re.compile(union(raw)) if raw else None,
        raw_owners=frozenset(raw_owners),
        owners=owners,
        triggers=tuple(rules[r].triggers[t] for r, t in owners),
    )


def screen_one(name: str, description: str | None, matcher: Matcher) -> list[Finding]:
    """Return the findings for one item, name findings first, each field in text order."""
    return screen([ScreenItem(name, description or "")], matcher)[0]


def screen(items: Iterable[Screenable], matcher: Matcher) -> list[list[Finding]]:
    """Return one list of findings per item, in input order (an empty list for a clean item).

    Within an item, name findings come first, then description findings, each by position.
    Each distinct text is screened once: a catalog repeats its wording (650,000 items hold
    about 12,000 names and 260,000 descriptions).
    """
    listed = list(items)
    results: list[list[Finding]] = [[] for _ in listed]
    fields = (
        (matcher.name, [item.name for item in listed]),
        (matcher.description, [item.description or "" for item in listed]),
    )
    for scan, raw in fields:
        distinct = list(dict.fromkeys(raw))
        texts = normalise_all(distinct)
        found: dict[str, list[Finding]] = {}
        for index, owners in sorted(_candidates(texts, scan).items()):
            if hits := _findings(texts[index], owners, scan, matcher.version):
                found[distinct[index]] = hits
        if found:
            for result, text in zip(results, raw, strict=True):
                if text in found:
                    result += found[text]
    return results


def _candidates(texts: list[str], scan: _FieldScan) -> dict[int, set[int]]:
    """Return, for each text that may hit a rule, the owners (rule, trigger) whose words it contains."""
    found = scan.keyed.owners_by_text(texts) if scan.keyed is not None and texts else {}
    if scan.raw is not None:
        for index, text in enumerate(texts):
            if scan.raw.search(text) is not None:
                found.setdefault(index, set()).update(scan.raw_owners)
    return found


def _findings(text: str, owners: set[int], scan: _FieldScan, version: str) -> list[Finding]:
    """Return the findings in `text` of the candidate triggers `owners`, sorted by position then rule."""
    # Most candidates stop here: the word is there, but not the context the trigger asks for.
    hits = sorted(o for o in owners if scan.triggers[o].search(text) is not None)
    if not hits:
        return []
    by_rule: defaultdict[int, list[re.Pattern[str]]] = defaultdict(list)
    for owner in hits:
        by_rule[scan.owners[owner][0]].append(scan.triggers[owner])
    findings = [
        _finding(scan.rules[r].rule, scan.field, text, start, end, version)
        for r, triggers in by_rule.items()
        for start, end in rule_spans(text, triggers, scan.rules[r].clears)
    ]
    findings.sort(key=lambda f: (f.start, f.rule_id))
    return findings


def _finding(rule: Rule, field: Field, text: str, start: int, end: int, version: str) -> Finding:
    """Return the finding of `rule` on text[start:end]."""
    return Finding(
        rule_id=rule.id,
        head=rule.head,
        article=rule.article,
        severity=rule.severity,
        field=field,
        match=text[start:end],
        start=start,
        end=end,
        explanation=rule.explanation,
        rules_version=version,
    )
