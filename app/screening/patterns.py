"""Regex plumbing shared by rule validation and the engine: terms, checks, unions, cleared spans."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# `{name}` refers to a term of the rules file; `{0,8}` and other quantifiers never match this.
_TERM_REF = re.compile(r"(?<!\\)\{([a-z][a-z0-9_]*)\}")
_BACKREF = re.compile(r"\\[1-9]|\(\?P=")


class UnknownTerm(KeyError):
    """A pattern names a term the rules file does not define."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def term_refs(pattern: str) -> list[str]:
    """Return the term names `pattern` refers to, in order."""
    return _TERM_REF.findall(pattern)


def term_regex(alternatives: Iterable[str]) -> str:
    """Return one non-capturing group matching any of `alternatives` (each a regex fragment)."""
    return "(?:" + "|".join(alternatives) + ")"


def expand(pattern: str, terms: Mapping[str, str]) -> str:
    """Return `pattern` with every `{term}` replaced by its group; raise UnknownTerm for an undefined one."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in terms:
            raise UnknownTerm(name)
        return terms[name]

    return _TERM_REF.sub(replace, pattern)


def pattern_problem(pattern: str, *, fragment: bool = False) -> str | None:
    """Return why `pattern` cannot serve as a trigger or clear (in Chinese), or None when it can.

    The pattern must compile alone and inside a union, take no back-references (a union renumbers
    groups) and, unless it is a `fragment` (a term), never match the empty string.
    """
    if _BACKREF.search(pattern):
        return "不支持反向引用"
    try:
        compiled = re.compile(pattern)
        re.compile(f"(?:{pattern})|x")
    except re.error as error:
        return f"不是有效的正则表达式（{error}）"
    if not fragment and compiled.match("") is not None:
        return "能匹配空字符串"
    return None


def union(patterns: Iterable[str]) -> str:
    """Return one regex source that matches wherever any of `patterns` matches."""
    return "|".join(f"(?:{p})" for p in patterns)


def overlaps(pattern: re.Pattern[str], text: str, start: int, end: int) -> bool:
    """Return whether some non-empty match of `pattern` in `text` shares a character with [start, end)."""
    pos = 0
    while (m := pattern.search(text, pos)) is not None and m.start() < end:
        if m.end() > start and m.end() > m.start():
            return True
        pos = m.start() + 1
    return False


def uncleared_spans(
    text: str, trigger: re.Pattern[str], clears: tuple[re.Pattern[str], ...]
) -> list[tuple[int, int]]:
    """Return the spans where `trigger` matches `text` and no clear overlaps, without overlaps among them.

    The search restarts one character after each match, so a cleared match cannot hide another
    trigger match that overlaps it (实施工作 clears 施工, but 设施工程建设 still yields 工程建设).
    """
    spans: list[tuple[int, int]] = []
    last_end = 0
    pos = 0
    while (m := trigger.search(text, pos)) is not None:
        start, end = m.span()
        pos = start + 1
        if end == start or start < last_end:
            continue
        if any(overlaps(clear, text, start, end) for clear in clears):
            continue
        spans.append((start, end))
        last_end = end
    return spans


def rule_spans(
    text: str, triggers: Iterable[re.Pattern[str]], clears: tuple[re.Pattern[str], ...]
) -> list[tuple[int, int]]:
    """Return the uncleared matches of any of `triggers` in `text`, in order, overlaps merged away."""
    spans = sorted(
        (span for trigger in triggers for span in uncleared_spans(text, trigger, clears)),
        key=lambda span: (span[0], -span[1]),
    )
    kept: list[tuple[int, int]] = []
    for start, end in spans:
        if not kept or start >= kept[-1][1]:
            kept.append((start, end))
    return kept


def matched_texts(text: str, triggers: tuple[str, ...], clears: tuple[str, ...]) -> list[str]:
    """Return the uncleared trigger matches in `text` (already normalised), for checking one rule alone."""
    compiled = [re.compile(t) for t in triggers]
    return [text[s:e] for s, e in rule_spans(text, compiled, tuple(re.compile(c) for c in clears))]
