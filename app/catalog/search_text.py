"""Search text, pure: query terms, pinyin keys, the bigram tokens of the short-term index, highlights.

Both databases answer the same question, "does this term occur in the name, the description,
the name's full pinyin or its pinyin initials", and both index exactly what this module
produces, so they cannot disagree: terms of three or more characters go to a trigram index
(FTS5 `trigram`, `pg_trgm`); terms of one or two characters to an index of character
bigrams, each bigram spelled as one ASCII-letter token (FTS5 `unicode61`, `tsvector`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

MAX_TERMS = 5
MAX_TERM_LENGTH = 50
SEPARATOR = "\x01"  # between the fields of the trigram text: no term can span two fields
_END = "\x00"  # the bigram of a field's last character with this marks the end, so 1-character terms match it
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ALNUM = re.compile(r"[^a-z0-9]")
_PINYIN_TERM = re.compile(r"[a-z0-9]+")
# pypinyin keeps each unknown character as an item of its own when `errors` returns a list
_EACH_CHAR: Any = list
_LETTERS = "abcdefghijklmnop"  # a code point in base 16, one letter a digit: tokens of letters only


class Field(StrEnum):
    NAME = "name"
    DESCRIPTION = "description"


@dataclass(frozen=True, slots=True)
class Span:
    """A highlighted stretch of a field: characters [start, end)."""

    field: Field
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Keys:
    """What the indexes hold of one item: its texts lowercased, and its name's pinyin."""

    name: str
    description: str
    pinyin: str
    initials: str

    def fields(self) -> tuple[str, str, str, str]:
        """Return the four searched texts, in a fixed order."""
        return (self.name, self.description, self.pinyin, self.initials)

    def trigram_text(self) -> str:
        """Return the text the trigram index holds: the four fields joined by a separator."""
        return SEPARATOR.join(self.fields())

    def gram_tokens(self) -> str:
        """Return the distinct bigram tokens of the four fields, space-separated."""
        grams: set[str] = set()
        for text in self.fields():
            spelled = text.translate(_SPELLING) + _END_SPELLED
            grams.update(spelled[i : i + 2 * _WIDTH] for i in range(0, _WIDTH * len(text), _WIDTH))
        return " ".join(grams)


def lower(text: str) -> str:
    """Return `text` lowercased character by character, so every offset stays valid."""
    low = text.lower()
    if len(low) == len(text):  # nearly always; the slow path only for the odd İ
        return low
    return "".join(c if len(low := c.lower()) != 1 else low for c in text)


def terms(query: str) -> list[str]:
    """Return the distinct search terms of `query` (split on spaces, lowercased), at most MAX_TERMS."""
    out: list[str] = []
    for raw in _CONTROL.sub(" ", query).split():
        term = lower(raw)[:MAX_TERM_LENGTH]
        if term not in out:
            out.append(term)
    return out[:MAX_TERMS]


class _Spelling(dict[int, str]):
    """Code point -> its six letters, for str.translate; filled as characters are first seen."""

    def __missing__(self, code_point: int) -> str:
        spelled = "".join(_LETTERS[int(d, 16)] for d in f"{code_point:06x}")
        self[code_point] = spelled
        return spelled


_SPELLING = _Spelling()
_WIDTH = 6
_END_SPELLED = _END.translate(_SPELLING)


def token(gram: str) -> str:
    """Return the index token spelling a one- or two-character `gram` (a lone character: its prefix)."""
    return gram.translate(_SPELLING)


@lru_cache(maxsize=65536)
def syllables(name: str) -> tuple[str, ...]:
    """Return one pinyin syllable per character of `name` (lowercase a-z0-9; '' for punctuation).

    pypinyin reads by phrase, so heteronyms take their reading in context (重点 zhong, 重新 chong;
    银行 hang, 执行 xing); characters it does not know are kept as themselves.
    """
    from pypinyin import lazy_pinyin  # 1-2 s and ~55 MB: loaded on first use, not at every start

    text = lower(name)
    parts = lazy_pinyin(text, errors=_EACH_CHAR)
    if len(parts) != len(text):  # never seen; keep offsets right whatever pypinyin returns
        parts = [lazy_pinyin(c, errors=_EACH_CHAR)[0] for c in text]
    return tuple(_ALNUM.sub("", p.lower()) for p in parts)


def keys(name: str, description: str) -> Keys:
    """Return the index keys of an item."""
    sy = syllables(name)
    return Keys(
        name=lower(name),
        description=lower(description),
        pinyin="".join(sy),
        initials="".join(s[:1] for s in sy),
    )


def spans(name: str, description: str, words: Sequence[str]) -> list[Span]:
    """Return the merged, ordered stretches of name and description that the terms `words` match.

    A term matching the name's pinyin or initials marks the characters those letters spell.
    """
    low_name, low_desc = lower(name), lower(description)
    found: list[Span] = []
    for w in words:
        found += [Span(Field.NAME, s, e) for s, e in _find(low_name, w)]
        found += [Span(Field.DESCRIPTION, s, e) for s, e in _find(low_desc, w)]
        if _PINYIN_TERM.fullmatch(w):  # only letters and digits can match pinyin
            found += [Span(Field.NAME, s, e) for s, e in _pinyin_spans(syllables(name), w)]
    return _merge(found)


def _find(text: str, word: str) -> Iterable[tuple[int, int]]:
    start = text.find(word)
    while start >= 0:
        yield start, start + len(word)
        start = text.find(word, start + 1)


def _pinyin_spans(sy: tuple[str, ...], word: str) -> Iterable[tuple[int, int]]:
    for letters in (list(sy), [s[:1] for s in sy]):
        ends, pos = [], 0
        for s in letters:
            pos += len(s)
            ends.append(pos)
        joined = "".join(letters)
        for start, end in _find(joined, word):
            first = next(i for i, e in enumerate(ends) if e > start)
            last = next(i for i, e in enumerate(ends) if e >= end)
            yield first, last + 1


def _merge(found: list[Span]) -> list[Span]:
    out: list[Span] = []
    for span in sorted(set(found), key=lambda s: (s.field != Field.NAME, s.start, s.end)):
        if out and out[-1].field == span.field and span.start <= out[-1].end:
            last = out[-1]
            out[-1] = Span(last.field, last.start, max(last.end, span.end))
        else:
            out.append(span)
    return out
