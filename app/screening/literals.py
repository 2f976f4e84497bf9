"""Required literals of a trigger regex, and the fast keyed prefilter built from them.

A set W of required literals of a regex R means: every match of R contains some word of W. So a
text that contains no word of any trigger's W cannot hit any rule and is done after one scan.
CPython's `re` scans fastest when every alternative of a pattern starts with a literal character
(it then skips, in C, every position whose character cannot start a match). The keyed prefilter
therefore starts each word at its rarest character and checks the rest with a lookbehind:
设备 becomes 备(?<=设备). Commonness (app.screening.commonness) only steers speed; results never depend on it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from app.screening.commonness import char_commonness, commonness

if TYPE_CHECKING:  # typeshed describes CPython's regex parser under its pre-3.11 names
    import sre_constants as sre
    import sre_parse
else:
    import re._constants as sre
    import re._parser as sre_parse

LIMIT = 256  # the largest word set worth enumerating
_REPEAT_MAX = 3


def required_literals(pattern: str) -> frozenset[str] | None:
    """Return words one of which every match of `pattern` contains, or None when none can be found."""
    try:
        parsed = sre_parse.parse(pattern)
        found = _required_seq(parsed.data, icase=bool(parsed.state.flags & re.IGNORECASE))
    except Exception:  # an unfamiliar parse tree (a newer Python): the caller falls back to the regex
        return None
    return frozenset(found) if found else None


def _finite_seq(items: Iterable[tuple[Any, Any]], *, icase: bool) -> set[str] | None:
    """Return every string the sequence `items` can match, or None when they are too many or unbounded."""
    out = {""}
    for op, av in items:
        part = _finite_op(op, av, icase=icase)
        if part is None:
            return None
        out = {a + b for a in out for b in part}
        if len(out) > LIMIT:
            return None
    return out


def _finite_op(op: Any, av: Any, *, icase: bool) -> set[str] | None:
    """Return every string one parsed element can match; zero-width assertions match only ""."""
    if op is sre.LITERAL:
        return _cased({chr(av)}, icase=icase)
    if op is sre.IN:
        return _charset(av, icase=icase)
    if op is sre.BRANCH:
        union: set[str] = set()
        for alt in av[1]:
            strings = _finite_seq(alt.data, icase=icase)
            if strings is None or len(union | strings) > LIMIT:
                return None
            union |= strings
        return union
    if op is sre.SUBPATTERN:
        return _finite_seq(av[3].data, icase=_group_icase(av, icase=icase))
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        return _finite_repeat(av, icase=icase)
    if op in (sre.ASSERT, sre.ASSERT_NOT, sre.AT):
        return {""}
    return None


def _finite_repeat(av: Any, *, icase: bool) -> set[str] | None:
    """Return every string a bounded repeat {lo,hi} of a finite element can match, or None."""
    low, high, sub = av
    part = _finite_seq(sub.data, icase=icase)
    if part is None or high > _REPEAT_MAX:
        return None
    out: set[str] = set()
    current = {""}
    for count in range(high + 1):
        if count >= low:
            out |= current
        current = {a + b for a in current for b in part}
    return out if len(out) <= LIMIT else None


def _charset(av: Any, *, icase: bool) -> set[str] | None:
    """Return the characters of a small, non-negated character class, or None."""
    chars: set[str] = set()
    for op, value in av:
        if op is sre.LITERAL:
            chars.add(chr(value))
        elif op is sre.RANGE and value[1] - value[0] < 64:
            chars.update(chr(c) for c in range(value[0], value[1] + 1))
        else:
            return None
    return _cased(chars, icase=icase)


def _cased(chars: set[str], *, icase: bool) -> set[str] | None:
    """Return `chars` with both ASCII cases when matching ignores case; None where `re` folds more.

    Under IGNORECASE, `re` also matches i to İ and ı, k to the Kelvin sign and s to ſ, and folds
    non-ASCII letters its own way: those give up rather than list a case too few.
    """
    if not icase:
        return chars
    if any(c.lower() != c.upper() and (not c.isascii() or c.lower() in "iks") for c in chars):
        return None
    return {v for c in chars for v in (c.lower(), c.upper())}


def _group_icase(av: Any, *, icase: bool) -> bool:
    """Return whether a group's body ignores case, given its inline flags."""
    _, add_flags, del_flags, _ = av
    return bool((icase or add_flags & re.IGNORECASE) and not del_flags & re.IGNORECASE)


def _required_seq(items: list[tuple[Any, Any]], *, icase: bool) -> set[str] | None:
    """Return the rarest required-word set of a sequence: from a literal run or a nested element."""
    candidates: list[set[str]] = []
    run: list[tuple[Any, Any]] = []
    for op, av in [*items, (None, None)]:
        finite = None if op is None else _finite_op(op, av, icase=icase)
        if finite is not None:
            run.append((op, av))
            if "" not in finite:
                candidates.append(finite)
            continue
        product = _finite_seq(run, icase=icase) if len(run) > 1 else None
        if product and "" not in product:
            candidates.append(product)
        run = []
        nested = None if op is None else _required_op(op, av, icase=icase)
        if nested:
            candidates.append(nested)
    return min(candidates, key=_rarity, default=None)


def _rarity(words: set[str]) -> tuple[int, bool, int, int]:
    """Return a sort key that puts rare word sets first: the commonest word, no single characters, size."""
    shortest = min(map(len, words))
    return (max(map(commonness, words)), shortest < 2, len(words), -shortest)


def _required_op(op: Any, av: Any, *, icase: bool) -> set[str] | None:
    """Return required words of an element that is not finite: an alternation, a group or a repeat."""
    if op is sre.BRANCH:
        words: set[str] = set()
        for alt in av[1]:
            part = _required_seq(alt.data, icase=icase)
            if not part:
                return None  # one alternative needs no word: the alternation needs none
            words |= part
        return words
    if op is sre.SUBPATTERN:
        return _required_seq(av[3].data, icase=_group_icase(av, icase=icase))
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and av[0] >= 1:
        return _required_seq(av[2].data, icase=icase)
    return None


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """A word as seen from its key character: the text before and after it, and who needs the word."""

    key: str
    before: str
    after: str
    owners: frozenset[int]

    def occurs_at(self, text: str, at: int) -> bool:
        """Return whether the word occurs in `text` with its key character at index `at`."""
        return (
            at >= len(self.before)
            and text.startswith(self.after, at + 1)
            and text.startswith(self.before, at - len(self.before))
        )


@dataclass(frozen=True, slots=True)
class KeyedWords:
    """Required words indexed by key character, with the regex that finds them.

    Wherever the regex matches a key, `always[key]` applies: the owners of its only word (verified
    by the regex) or of the key alone as a word. Other words of a shared key are found by what
    follows the key (its next two characters, or the next one for words one character longer), or
    for words that end at their key by the character before it, and are then checked.
    """

    pattern: re.Pattern[str]
    always: Mapping[str, frozenset[int]]
    nearby: Mapping[tuple[str, str], tuple[KeyEntry, ...]]  # (key, "+xy" / "+x" / "-x") → words
    shared: frozenset[str]  # the keys that have words in `nearby`

    def owners_by_text(self, texts: list[str]) -> dict[int, set[int]]:
        """Return, for each index of a text that contains some word, the owners of the words it contains.

        All texts are scanned as one string, joined by a newline (no word contains one), so the
        per-text cost is paid only by texts that contain a word.
        """
        joined = "\n".join(texts)
        ends = list(accumulate(map((1).__add__, map(len, texts))))  # text i ends before ends[i]
        found: defaultdict[int, set[int]] = defaultdict(set)
        always, nearby, shared, empty = self.always, self.nearby, self.shared, ()
        for match in self.pattern.finditer(joined):
            at = match.start()
            key = joined[at]
            owners = found[bisect_right(ends, at)]
            if key in always:
                owners |= always[key]
            if key not in shared:
                continue
            for entry in (
                nearby.get((key, "+" + joined[at + 1 : at + 3]), empty)
                + nearby.get((key, "+" + joined[at + 1 : at + 2]), empty)
                + nearby.get((key, "-" + joined[at - 1 : at]), empty)
            ):
                if entry.occurs_at(joined, at):
                    owners |= entry.owners
        return found


def keyed_words(words: Mapping[str, Iterable[int]]) -> KeyedWords:
    """Return the keyed index of `words` (word → the owners that need it) and its prefilter regex."""
    grouped: defaultdict[str, dict[tuple[str, str], set[int]]] = defaultdict(dict)
    for word, owners in words.items():
        if "\n" in word:
            raise ValueError("a required word cannot contain a newline: it separates texts")
        at = min(range(len(word)), key=lambda i: char_commonness(word[i]))
        grouped[word[at]].setdefault((word[:at], word[at + 1 :]), set()).update(owners)
    table = {
        key: tuple(KeyEntry(key, b, a, frozenset(o)) for (b, a), o in sorted(parts.items()))
        for key, parts in sorted(grouped.items())
    }
    always: dict[str, frozenset[int]] = {}
    nearby: defaultdict[tuple[str, str], list[KeyEntry]] = defaultdict(list)
    for key, entries in table.items():
        for entry in entries:
            if len(entries) == 1 or not (entry.before or entry.after):
                always[key] = entry.owners
            else:
                nearby[key, "+" + entry.after[:2] if entry.after else "-" + entry.before[-1]].append(entry)
    return KeyedWords(
        re.compile("|".join(_key_regex(key, entries) for key, entries in table.items())),
        always=always,
        nearby={k: tuple(v) for k, v in nearby.items()},
        shared=frozenset(key for key, _ in nearby),
    )


def _key_regex(key: str, entries: tuple[KeyEntry, ...]) -> str:
    """Return the alternative for one key character: it consumes the key alone, looking around for the rest.

    Consuming one character only means no occurrence can hide another; starting with the key keeps
    the regex on CPython's fast path. The lookbehind runs after the key is consumed, so it spells it.
    """
    if any(not e.before and not e.after for e in entries):
        return re.escape(key)
    rests = "|".join(
        (f"(?<={re.escape(e.before + key)})" if e.before else "")
        + (f"(?={re.escape(e.after)})" if e.after else "")
        for e in entries
    )
    return f"{re.escape(key)}(?:{rests})"
