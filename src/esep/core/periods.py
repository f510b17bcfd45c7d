"""The period grammar, one home: ``2023-2024-S2`` (semester), ``2023-2024`` (school year)
and ``2024`` (calendar year): parsing, checking, arithmetic and Kazakh labels.

Used by params (checking), schemas (the ``period`` column type), findings (ordering),
render and index (labels), and by notebooks as ``helpers.periods``."""
from __future__ import annotations

import re

PATTERN = r"^(\d{4})(?:-(\d{4})(?:-S([12]))?)?$"
_RE = re.compile(PATTERN)
HELP = "'2023-2024-S2' (semester), '2023-2024' (school year) or '2024' (calendar year)"


def check(value: object) -> str | None:
    """An error message, or None when ``value`` is a valid period string."""
    if not isinstance(value, str):
        return f"must be a string in quotes, e.g. \"2023-2024-S2\" (got {type(value).__name__} {value!r})"
    m = _RE.match(value)
    if not m:
        return f"{value!r} does not match the period convention: {HELP}"
    if m[2] and int(m[2]) != int(m[1]) + 1:
        return f"{value!r}: a school year spans two consecutive years, e.g. 2023-2024"
    return None


def kind(period: str) -> str:
    """``semester``, ``school_year`` or ``year``."""
    _, y2, sem = parse(period)
    return "semester" if sem else ("school_year" if y2 else "year")


def end_month(period: str | None) -> int | None:
    """Months since year 0 when a period ends (semester 1 in December, semester 2, school
    years and calendar years in June: calendar-year figures of these reports close a
    school year); None for no or an invalid period."""
    if not period:
        return None
    try:
        y1, y2, sem = parse(period)
    except ValueError:
        return None
    if sem:
        return y1 * 12 + 12 if sem == 1 else y2 * 12 + 6
    if y2:
        return y2 * 12 + 6
    return y1 * 12 + 6


def parse(period: str) -> tuple[int, int | None, int | None]:
    """``"2023-2024-S2" -> (2023, 2024, 2)``; ValueError for anything else."""
    m = _RE.match(str(period))
    if not m:
        raise ValueError(f"not a period: {period!r} (expected e.g. 2023-2024-S2, 2023-2024, 2024)")
    y1, y2, sem = m.groups()
    return int(y1), (int(y2) if y2 else None), (int(sem) if sem else None)


def is_semester(period: str) -> bool:
    return parse(period)[2] is not None


def semester(period: str) -> int | None:
    return parse(period)[2]


def school_year(period: str) -> str:
    """School year of a semester (``2023-2024-S2 -> 2023-2024``); a year stays itself."""
    y1, y2, _ = parse(period)
    return f"{y1}-{y2}" if y2 else str(y1)


def shift(period: str, years: int) -> str:
    """Same kind of period ``years`` later (negative: earlier): ``2023-2024-S2, -1 -> 2022-2023-S2``."""
    y1, y2, sem = parse(period)
    out = str(y1 + years)
    if y2:
        out += f"-{y2 + years}"
    if sem:
        out += f"-S{sem}"
    return out


def previous_semester(period: str) -> str:
    """``2023-2024-S2 -> 2023-2024-S1``; ``2023-2024-S1 -> 2022-2023-S2``."""
    y1, y2, sem = parse(period)
    if not sem:
        raise ValueError(f"{period!r} is not a semester")
    return f"{y1}-{y2}-S1" if sem == 2 else f"{y1 - 1}-{y2 - 1}-S2"


FORMS = {
    # form: (semester ending, school-year ending, calendar-year ending)
    "nom": ("жартыжылдығы", "оқу жылы", "жыл"),
    "loc": ("жартыжылдығында", "оқу жылында", "жылы"),
    "attr": ("жартыжылдығындағы", "оқу жылындағы", "жылғы"),
    "abl": ("жартыжылдығымен", "оқу жылымен", "жылмен"),
}


def label(period: str, form: str = "nom") -> str:
    """Kazakh label of a period in a grammatical form.

    ``nom``: "2023-2024 оқу жылының 2-жартыжылдығы" / "2023-2024 оқу жылы" / "2024 жыл";
    ``loc`` (…-да/-де), ``attr`` (…-дағы/-дегі), ``abl`` (…-мен: "compared with").
    """
    if form not in FORMS:
        raise ValueError(f"label(): form must be one of {sorted(FORMS)}")
    sem_end, year_end, cal_end = FORMS[form]
    y1, y2, sem = parse(period)
    if sem:
        return f"{y1}-{y2} оқу жылының {sem}-{sem_end}"
    if y2:
        return f"{y1}-{y2} {year_end}"
    return f"{y1} {cal_end}"
