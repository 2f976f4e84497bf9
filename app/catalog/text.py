"""Text normalisation shared by import, screening and name matching."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# Characters that NFKC may change, minus the ones we keep as they are: ASCII, CJK
# punctuation (、。《》【】…), CJK ideographs and full-width punctuation (，；：（）！？).
# Full-width letters and digits are deliberately left in the class, so NFKC makes them ASCII.
_COMPAT = re.compile(
    r"[^\x00-\x7f\u3001-\u303f\u4e00-\u9fff"
    r"\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff5e]"
)


# Anything that could make `normalise` change a string: a character NFKC might touch,
# whitespace other than a plain space, or two spaces in a row. Most catalog text has none.
_UNCLEAN = re.compile(
    r"[^\x20-\x7e\u3001-\u303f\u4e00-\u9fff"
    r"\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff5e]|  "
)


_UNCLEAN_OR_NUL = re.compile(_UNCLEAN.pattern.replace("[^\\x20", "[^\\x00\\x20", 1))


def _nfkc(match: re.Match[str]) -> str:
    return unicodedata.normalize("NFKC", match.group())


def normalise(text: str) -> str:
    """Return `text` with full-width letters and digits made ASCII, spaces trimmed and collapsed.

    NFKC applies to every compatibility character except Chinese punctuation, which is kept.
    """
    if _UNCLEAN.search(text) is None:
        return text.strip()
    return _SPACES.sub(" ", _COMPAT.sub(_nfkc, text)).strip()


def normalise_all(texts: list[str]) -> list[str]:
    """Return `normalise(t)` for every text, computed in one pass over all of them.

    Joined by NUL (which normalise keeps and never makes), a whole column is searched once;
    a column with nothing to change, the usual one, is only stripped.
    """
    if not texts:
        return []
    joined = "\x00".join(texts)
    if joined.count("\x00") != len(texts) - 1:
        return [normalise(t) for t in texts]
    if _UNCLEAN_OR_NUL.search(joined) is None:
        return list(map(str.strip, texts))
    return [piece.strip() for piece in normalise(joined).split("\x00")]


def name_key(text: str) -> str:
    """Return a comparison key for names: normalised, without spaces, brackets unified."""
    return normalise(text).replace(" ", "").replace("（", "(").replace("）", ")")
