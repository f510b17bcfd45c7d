"""Kazakh alphabetical order, for lists a reader scans (the index's places).

Python's default order puts ә, ғ, қ, ң, ө, ұ, ү, һ, і after я (by code point); the Kazakh
alphabet places each beside its base letter: А Ә Б В Г Ғ Д Е Ё Ж З И Й К Қ Л М Н Ң О Ө П
Р С Т У Ұ Ү Ф Х Һ Ц Ч Ш Щ Ъ Ы І Ь Э Ю Я. Latin letters and digits sort before Cyrillic.
"""
from __future__ import annotations

ALPHABET = "аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя"
_RANK = {ch: i for i, ch in enumerate(ALPHABET)}


def kazakh_key(text: object) -> tuple:
    """Sort key: ``sorted(names, key=kazakh_key)`` gives Kazakh alphabetical order."""
    out = []
    for ch in str(text or "").lower():
        if ch in _RANK:
            out.append((2, _RANK[ch]))
        elif ch.isalnum():
            out.append((1, ord(ch)))
        else:
            out.append((0, ord(ch)))
    return tuple(out)
