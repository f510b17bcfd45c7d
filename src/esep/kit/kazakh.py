"""Natural Kazakh for generated prose: case endings on numerals and signed changes.

A case ending attached to a numeral (``89-ға``, ``84-і``, ``3 319-ға``, ``25%-ға``) follows
the *spoken* form of the number: its last spoken word decides vowel harmony (back ``а/ы``
or front ``е/і``) and the consonant of the ending (assimilation to the last sound):

- 89 -> "сексен тоғыз" -> тоғыз -> ``89-ға``; 84 -> "сексен төрт" -> ``84-і`` (poss.);
- 3 319 -> "үш мың үш жүз он тоғыз" -> ``3 319-ға``; 2 307 -> "... жеті" -> ``2 307-ге``;
- 80,5 -> "сексен бүтін оннан бес" -> бес -> ``80,5-ке``;
- 25% -> "жиырма бес пайыз" -> пайыз -> ``25%-ға``; 1,3 млн -> миллион -> ``1,3 млн-ға``.

Cases: ``nom`` (no ending), ``gen`` (ілік), ``dat`` (барыс), ``acc`` (табыс), ``loc``
(жатыс), ``abl`` (шығыс), ``ins`` (көмектес), ``poss`` (3rd-person possessive, тәуелдік);
``poss_<case>`` is the possessive followed by a case, which then takes the pronominal
``н`` (``84-іне``, ``84-ін``, ``84-інде``, ``84-інен``, ``25%-ын``, ``36-сын``);
``ord`` writes the ordinal as printed with digits (``7-ші``, ``10-шы``).

A word that already carries the 3rd-person possessive (``бұйрығы``, ``ұйымы``,
``жобасы``) is inflected with ``possessive=True``: ``inflect("бұйрығы", "dat",
possessive=True) == "бұйрығына"`` (not «бұйрығыға»).

The endings follow the tables of T. Valyaeva, «Грамматика казахского языка: просто о
сложном» (kaz-tili.kz): e.g. the instrumental is ``-бен`` only after ж з, ``-пен`` after
voiceless consonants (and б в г д), ``-мен`` after vowels, sonorants (л р у й м н ң) and the
3rd-person possessive: ``10-мен``, ``9-бен``, ``5-пен``.

Changes: :func:`change` writes "25 жобаға азайды", "21 ұйымға (60%-ға) өсті",
"өзгерген жоқ" — the verb carries the direction, so the number is written without a sign.

Pure functions, no I/O; numbers are formatted by :mod:`helpers.fmt` (one rounding rule).
"""
from __future__ import annotations

import re
from typing import Any

from . import fmt

CASES = ("nom", "gen", "dat", "acc", "loc", "abl", "ins", "poss")
# the 3rd-person possessive followed by a case: 84-інің, 84-іне, 84-ін, 84-інде, 84-інен, 84-імен
POSS_CASES = ("poss_gen", "poss_dat", "poss_acc", "poss_loc", "poss_abl", "poss_ins")
FORMS = CASES + POSS_CASES + ("ord",)   # ord: the ordinal "7-ші", "10-шы" (жетінші, оныншы)

UNITS = ["нөл", "бір", "екі", "үш", "төрт", "бес", "алты", "жеті", "сегіз", "тоғыз"]
TENS = ["", "он", "жиырма", "отыз", "қырық", "елу", "алпыс", "жетпіс", "сексен", "тоқсан"]
SCALES = [(10 ** 12, "триллион"), (10 ** 9, "миллиард"), (10 ** 6, "миллион"),
          (10 ** 3, "мың"), (10 ** 2, "жүз")]
ABBREVIATIONS = {"млн": "миллион", "млрд": "миллиард", "мың": "мың", "трлн": "триллион",
                 "%": "пайыз"}

BACK_VOWELS = set("аоұы")
FRONT_VOWELS = set("әөүіеэ")
VOWELS = BACK_VOWELS | FRONT_VOWELS | set("я")
VOICELESS = set("пфктсшщхцчқһбвгд")   # final б/в/г/д are devoiced: клубқа
NASALS = set("мнң")
# sonorants and glides behave like vowels for the dative/locative, like consonants for
# the genitive/accusative/possessive: елу -> елуге, елудің, елуді, елуі; и and ю end in the
# glide й (и = ій, ю = йу): genitive/accusative as after й (-дың, -ды)
SONORANTS = set("лруйўию")
# Russian loans ending in these clusters take front endings whatever their vowel
# (паркте, очеркке, банкте, бокске): the orthography rules of the Kazakh language
FRONT_CLUSTERS = ("рк", "рг", "кс", "лк", "кл", "нк")


def spoken_int(n: int) -> list[str]:
    """Words of a whole number: ``3319 -> ["үш", "мың", "үш", "жүз", "он", "тоғыз"]``."""
    n = abs(int(n))
    if n == 0:
        return ["нөл"]
    words: list[str] = []
    for size, name in SCALES:
        if n >= size:
            head, n = divmod(n, size)
            if head > 1 or size > 100:
                words += spoken_int(head)
            words.append(name)
    if n >= 10:
        words.append(TENS[n // 10])
        n %= 10
    if n:
        words.append(UNITS[n])
    return words


def last_spoken_word(text: Any) -> str:
    """Last spoken word of a number as printed (``"80,5"``, ``"3 319"``, ``"25%"``,
    ``"1,3 млн"``, ``"+21"``) or of a plain number (formatted by :func:`helpers.fmt.auto`)."""
    if not isinstance(text, str):
        text = fmt.auto(text)
    s = text.strip().replace("\u00a0", " ").replace("\u202f", " ")
    for abbr, word in ABBREVIATIONS.items():
        if s.endswith(abbr):
            return word
    m = re.search(r"(\d[\d ]*)(?:,(\d+))?$", s)
    if not m:
        raise ValueError(f"not a printed number: {text!r}")
    whole, frac = m.group(1).replace(" ", ""), m.group(2)
    if frac:                        # 80,5 -> "сексен бүтін оннан бес": the fraction's last word
        return spoken_int(int(frac))[-1]
    return spoken_int(int(whole))[-1]


def _harmony(word: str) -> str:
    w = word.lower()
    if w.endswith(FRONT_CLUSTERS):
        return "front"
    for ch in reversed(w):
        if ch in BACK_VOWELS:
            return "back"
        if ch in FRONT_VOWELS:
            return "front"
    return "back"


def _final(word: str) -> str:
    """Class of the last sound: vowel, sonorant (л р у й), nasal (м н ң), voiced (ж з),
    voiceless (the rest)."""
    ch = word.lower().rstrip()[-1]
    if ch in SONORANTS:
        return "sonorant"
    if ch in VOWELS:
        return "vowel"
    if ch in NASALS:
        return "nasal"
    if ch in VOICELESS:
        return "voiceless"
    return "voiced"


# case -> final sound class -> (back form, front form)
_ENDINGS = {
    "gen": {"vowel": ("ның", "нің"), "nasal": ("ның", "нің"), "sonorant": ("дың", "дің"),
            "voiced": ("дың", "дің"), "voiceless": ("тың", "тің")},
    "acc": {"vowel": ("ны", "ні"), "nasal": ("ды", "ді"), "sonorant": ("ды", "ді"),
            "voiced": ("ды", "ді"), "voiceless": ("ты", "ті")},
    "dat": {"vowel": ("ға", "ге"), "nasal": ("ға", "ге"), "sonorant": ("ға", "ге"),
            "voiced": ("ға", "ге"), "voiceless": ("қа", "ке")},
    "loc": {"vowel": ("да", "де"), "nasal": ("да", "де"), "sonorant": ("да", "де"),
            "voiced": ("да", "де"), "voiceless": ("та", "те")},
    "abl": {"vowel": ("дан", "ден"), "nasal": ("нан", "нен"), "sonorant": ("дан", "ден"),
            "voiced": ("дан", "ден"), "voiceless": ("тан", "тен")},
    # -бен only after ж з; after м н ң as after vowels (қаламмен, мұрынмен, онмен)
    "ins": {"vowel": ("мен", "мен"), "nasal": ("мен", "мен"), "sonorant": ("мен", "мен"),
            "voiced": ("бен", "бен"), "voiceless": ("пен", "пен")},
    "poss": {"vowel": ("сы", "сі"), "nasal": ("ы", "і"), "sonorant": ("ы", "і"),
             "voiced": ("ы", "і"), "voiceless": ("ы", "і")},
}
# after a 3rd-person possessive (-ы/-і/-сы/-сі) the case takes the pronominal н:
# бұйрығына, бұйрығын, бұйрығында, бұйрығынан; genitive and instrumental as after a vowel
_AFTER_POSSESSIVE = {"nom": ("", ""), "gen": ("ның", "нің"), "dat": ("на", "не"),
                     "acc": ("н", "н"), "loc": ("нда", "нде"), "abl": ("нан", "нен"),
                     "ins": ("мен", "мен")}


def _split_case(case: str) -> tuple[str, bool]:
    """``"poss_dat" -> ("dat", True)``; ``"dat" -> ("dat", False)``."""
    if case not in FORMS:
        raise ValueError(f"unknown case {case!r}; known: {', '.join(FORMS)}")
    if case.startswith("poss_"):
        return case[len("poss_"):], True
    return case, False


def is_possessive_stem(word: str) -> bool:
    """Whether a word can end in the 3rd-person possessive (its last letter is ы or і)."""
    return word.strip().lower()[-1:] in ("ы", "і")


def ending(word: str, case: str, *, possessive: bool = False) -> str:
    """The case ending a word takes (without hyphen): ``ending("тоғыз", "dat") == "ға"``.

    ``possessive=True``: ``word`` already carries the 3rd-person possessive (``бұйрығы``),
    so the case takes the pronominal ``н``: ``ending("бұйрығы", "dat", possessive=True)
    == "на"``. ``case="poss_dat"``: the possessive and then the case, on a bare word:
    ``ending("тоғыз", "poss_dat") == "ына"``, ``ending("алты", "poss_acc") == "сын"``.
    """
    base, add_poss = _split_case(case)
    if possessive:
        if add_poss or base in ("poss", "ord"):
            raise ValueError(f"{word!r} already carries the possessive: {case!r} does not apply")
        if not is_possessive_stem(word):
            raise ValueError(f"{word!r} does not end in a 3rd-person possessive (-ы/-і/-сы/-сі)")
        back, front = _AFTER_POSSESSIVE[base]
        return back if _harmony(word) == "back" else front
    if add_poss:
        poss = ending(word, "poss")
        return poss + ending(poss, base, possessive=True)
    if base == "nom":
        return ""
    if base == "ord":
        return "шы" if _harmony(word) == "back" else "ші"
    final = _final(word)
    if word.lower().endswith(("к", "қ")) and base == "dat":
        # қырық -> қырыққа, бөлек -> бөлекке (к/қ doubles, the ending follows the letter)
        return "қа" if _harmony(word) == "back" else "ке"
    back, front = _ENDINGS[base][final]
    return back if _harmony(word) == "back" else front


# the 3rd-person possessive voices a final п к қ after a vowel: мектеп -> мектебі,
# бұйрық -> бұйрығы, тілек -> тілегі (numerals never need it: төрт, бес, үш, алпыс ...)
_VOICING = {"п": "б", "к": "г", "қ": "ғ"}


def _possessive_stem(word: str) -> str:
    w = word.rstrip()
    if len(w) >= 2 and w[-1].lower() in _VOICING and w[-2].lower() in VOWELS:
        voiced = _VOICING[w[-1].lower()]
        w = w[:-1] + (voiced.upper() if w[-1].isupper() else voiced)
    return w


def inflect(word: str, case: str, *, possessive: bool = False) -> str:
    """A word (or a phrase, on its last word) with its case ending:
    ``inflect("жоба", "dat") == "жобаға"``, ``inflect("мектеп", "loc") == "мектепте"``.

    ``possessive=True``: the word already carries the 3rd-person possessive, and the case
    takes the pronominal ``н``: ``inflect("бұйрығы", "dat", possessive=True) ==
    "бұйрығына"``, ``inflect("білім беру ұйымы", "loc", possessive=True) ==
    "білім беру ұйымында"``. ``case="poss"`` / ``"poss_<case>"`` adds the possessive to a
    bare noun first: ``inflect("бұйрық", "poss_dat") == "бұйрығына"``,
    ``inflect("жоба", "poss_acc") == "жобасын"``. An abbreviation takes a hyphen:
    ``inflect("ББҰ", "gen") == "ББҰ-ның"``.
    """
    last = word.split()[-1]
    base, add_poss = _split_case(case)
    if _is_abbreviation(last):
        # an abbreviation takes its ending after a hyphen: ББҰ-ға, ББҰ-ның (harmony from its
        # last letter as written; a consonant letter's spoken name is not modelled)
        return f"{word}-{ending(last, case)}" if base != "nom" else word
    if possessive or not (add_poss or base == "poss"):
        return word + ending(last, case, possessive=possessive)
    head = word[: len(word) - len(last)]
    stem = _possessive_stem(last)
    return head + stem + ending(stem, case)


def _is_abbreviation(word: str) -> bool:
    """ББҰ, ТжКБ, ИЖ: two or more letters, more capitals than not (ТжКБ has a small ж)."""
    letters = [ch for ch in word if ch.isalpha()]
    return len(letters) >= 2 and sum(ch.isupper() for ch in letters) > len(letters) / 2


def plural(word: str) -> str:
    """The plural (көптік жалғау) of a word or of a phrase's last word: ``-лар/-лер``
    after vowels and р у й, ``-дар/-дер`` after л м н ң ж з, ``-тар/-тер`` after voiceless
    consonants (and б в г д): ``plural("мектеп") == "мектептер"``,
    ``plural("жетекші мектеп") == "жетекші мектептер"``, ``plural("ұйым") == "ұйымдар"``."""
    last = word.split()[-1].lower()
    ch = last[-1]
    if ch in VOWELS or ch in "руйўию":
        back, front = "лар", "лер"
    elif ch in "лмнңжз":
        back, front = "дар", "дер"
    else:
        back, front = "тар", "тер"
    return word + (back if _harmony(last) == "back" else front)


def numeral(x: Any, case: str = "nom", *, decimals: int | None = None, pct: bool = False,
            unit: str | None = None, possessive: bool = False) -> str:
    """A number as printed in the report, with a case ending after a hyphen.

    ``numeral(89, "dat") == "89-ға"``, ``numeral(84, "poss") == "84-і"``,
    ``numeral(84, "poss_acc") == "84-ін"`` (also ``numeral(84, "acc", possessive=True)``:
    a printed number never carries the possessive itself, so the flag adds it),
    ``numeral(8.6, "poss_acc", pct=True) == "8,6%-ын"``,
    ``numeral(25, "dat", pct=True, decimals=0) == "25%-ға"``,
    ``numeral(80.5, "loc", decimals=1) == "80,5-те"``; missing -> ``"-"``.
    ``decimals`` None: whole numbers without decimals, others with one (as ``fmt.auto``).
    ``unit`` (e.g. ``"млн"``) is printed after the number and takes the ending.
    """
    if fmt.is_missing(x):
        return fmt.DASH
    if isinstance(x, str):
        text = x
    elif pct:
        text = fmt.pct(x, 1 if decimals is None else decimals)
    elif decimals is None:
        text = fmt.auto(x)
    else:
        text = fmt.num(x, decimals)
    if unit:
        text = f"{text} {unit}"
    if possessive:
        if case in ("poss", "ord") or case.startswith("poss_"):
            raise ValueError(f"numeral(): possessive=True with case {case!r}")
        case = "poss" if case == "nom" else f"poss_{case}"
    _split_case(case)
    if case == "nom":
        return text
    return f"{text}-{ending(last_spoken_word(text), case)}"


def forms(x: Any, *, decimals: int | None = None, pct: bool = False,
          cases: tuple[str, ...] = CASES) -> dict[str, str]:
    """``{case: printed form}`` for a number, e.g. ``forms(89)["dat"] == "89-ға"``,
    ``forms(84, cases=POSS_CASES)["poss_acc"] == "84-ін"``."""
    return {c: numeral(x, c, decimals=decimals, pct=pct) for c in cases}


VERBS = {
    # style: (up, down, none)
    "өсті": ("өсті", "азайды", "өзгерген жоқ"),
    "артты": ("артты", "кеміді", "өзгерген жоқ"),
}


def verb(delta: Any, style: str = "өсті") -> str:
    """``өсті`` / ``азайды`` / ``өзгерген жоқ`` (style ``"артты"``: ``артты`` / ``кеміді``)."""
    up, down, none = VERBS[style]
    if fmt.is_missing(delta):
        raise ValueError("verb(): no change to describe (missing value)")
    d = fmt.to_decimal(delta)
    return up if d > 0 else down if d < 0 else none


def change(delta: Any, unit: str | None = None, *, pct: Any = None, decimals: int = 0,
           pct_decimals: int = 1, style: str = "өсті") -> str:
    """A signed change in words; the verb carries the sign.

    ``change(-25, "жоба") == "25 жобаға азайды"``;
    ``change(21, "ұйым", pct=60) == "21 ұйымға (60,0%-ға) өсті"``;
    ``change(0, "жоба") == "өзгерген жоқ"``; ``change(202) == "202-ге өсті"``.
    The amount is rounded first (by :mod:`helpers.fmt`), so a change that prints as 0 is
    "өзгерген жоқ". Missing -> ``"-"``.
    """
    if fmt.is_missing(delta):
        return fmt.DASH
    shown = fmt.round_half_up(delta, decimals)
    if shown == 0:
        return VERBS[style][2]
    amount = fmt.num(abs(shown), decimals)
    if unit:
        head = f"{amount} {inflect(unit, 'dat')}"
    else:
        head = numeral(amount, "dat")
    if not fmt.is_missing(pct):
        head += f" ({numeral(abs(fmt.round_half_up(pct, pct_decimals)), 'dat', pct=True, decimals=pct_decimals)})"
    return f"{head} {verb(shown, style)}"


MONTHS = ["қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз",
          "қыркүйек", "қазан", "қараша", "желтоқсан"]


def date_range(start: Any, end: Any) -> str:
    """``"2018-04-26", "2018-05-12" -> "2018 ж. 26 сәуір – 12 мамыр"`` (one year printed
    once; two years: ``"2018 ж. 26 желтоқсан – 2019 ж. 12 қаңтар"``); missing -> ``"-"``."""
    import pandas as pd

    if fmt.is_missing(start) or fmt.is_missing(end):
        return fmt.DASH
    a, b = pd.Timestamp(start), pd.Timestamp(end)
    left = f"{a.year} ж. {a.day} {MONTHS[a.month - 1]}"
    right = f"{b.day} {MONTHS[b.month - 1]}" if a.year == b.year else f"{b.year} ж. {b.day} {MONTHS[b.month - 1]}"
    return f"{left} – {right}"


def shared_rank(rank: Any, others: list[str]) -> str:
    """A rank said with its ties: ``shared_rank(8, ["Қызылорда обл."]) ==
    "8 (Қызылорда обл. да осы орында)"``; no ties -> ``"8"``; missing -> ``"-"``."""
    if fmt.is_missing(rank):
        return fmt.DASH
    shown = fmt.num(rank)
    if not others:
        return shown
    last = others[-1].rstrip(".").split()[-1]
    return f"{shown} ({', '.join(others)} {ending(last, 'loc')} осы орында)"


def date_attr(d: Any) -> str:
    """A date as an attribute: ``"2024-11-28" -> "2024 жылғы 28 қарашадағы"``."""
    import pandas as pd

    if fmt.is_missing(d):
        return fmt.DASH
    try:
        t = pd.Timestamp(d)
    except (ValueError, TypeError):  # not a date (a typo in a text column): shown as written
        return str(d)
    month = MONTHS[t.month - 1]
    return f"{t.year} жылғы {t.day} {month}{ending(month, 'loc')}{'ғы' if _harmony(month) == 'back' else 'гі'}"


def quoted(name: Any) -> str:
    """``name`` in Kazakh quotation marks, unless it already opens with one:
    ``quoted("SHARE") == "«SHARE»"``, ``quoted("«PASСH»") == "«PASСH»"``."""
    text = str(name).strip()
    return text if text.startswith(("«", '"', "“")) else f"«{text}»"
