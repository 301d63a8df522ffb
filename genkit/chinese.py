"""Simplified and traditional Chinese script, by OpenCC (the standard converter, ``opencc`` on PyPI).

The Tang corpus, and so the Tang model's vocabulary, is in traditional script (OpenCC's standard
forms: 爲, 後, 裏). A line typed in simplified script is converted to traditional before it is
encoded (:func:`to_traditional`), and the model's output goes back to simplified when the user
wrote simplified (:func:`script_of`, :func:`to_simplified`).

A character is **simplified-only** when OpenCC's simplified-to-traditional conversion changes it
and it is not one of the ``known`` traditional characters (the model's vocabulary: 床 and 后 are
both, 尽 and 国 only simplified); it is **traditional-only** when the traditional-to-simplified
conversion changes it (盡, 國). Imported by the sentence model, never on a ``--help`` path.
"""

from __future__ import annotations

from collections.abc import Container
from functools import lru_cache

import opencc

SIMPLIFIED, TRADITIONAL = "simplified", "traditional"
_S2T = opencc.OpenCC("s2t")
_T2S = opencc.OpenCC("t2s")


@lru_cache(maxsize=65536)
def _s2t(ch: str) -> str:
    return _S2T.convert(ch)


@lru_cache(maxsize=65536)
def _t2s(ch: str) -> str:
    return _T2S.convert(ch)


def simplified_only(ch: str, known: Container[str] = ()) -> bool:
    """Whether ``ch`` is a character only simplified script uses (not in ``known``)."""
    return ch not in known and _s2t(ch) != ch


def traditional_only(ch: str) -> bool:
    """Whether ``ch`` is a character only traditional script uses."""
    return _t2s(ch) != ch


def script_of(text: str, known: Container[str] = ()) -> str | None:
    """SIMPLIFIED if ``text`` holds a simplified-only character, else TRADITIONAL if it holds a
    traditional-only one, else None (its characters are written alike in both)."""
    if any(simplified_only(ch, known) for ch in text):
        return SIMPLIFIED
    if any(traditional_only(ch) for ch in text):
        return TRADITIONAL
    return None


def to_traditional(text: str, known: Container[str] = ()) -> str:
    """``text`` in traditional script: unchanged unless it holds a simplified-only character;
    else converted by OpenCC (phrase by phrase: 然后 -> 然後), keeping a character as typed
    where it is ``known`` and its conversion is not (床 stays 床 when 牀 is unknown)."""
    if script_of(text, known) != SIMPLIFIED:
        return text
    converted = _S2T.convert(text)
    if len(converted) != len(text):  # not one character for one: convert each alone
        converted = "".join(_s2t(ch) for ch in text)
    return "".join(new if new in known or old not in known else old for old, new in zip(text, converted))


def to_simplified(text: str) -> str:
    """``text`` in simplified script (OpenCC, phrase by phrase)."""
    return _T2S.convert(text)


def variants(ch: str) -> list[str]:
    """Other spellings of one character to look up when it is not in a vocabulary: its
    traditional form, its simplified form, and that one's traditional form (為 -> 为 -> 爲)."""
    out = [_s2t(ch), _t2s(ch), _s2t(_t2s(ch))]
    return [v for v in dict.fromkeys(out) if v != ch and len(v) == 1]


__all__ = ["SIMPLIFIED", "TRADITIONAL", "script_of", "simplified_only", "to_simplified", "to_traditional",
           "traditional_only", "variants"]
