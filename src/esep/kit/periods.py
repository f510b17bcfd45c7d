"""Period arithmetic for ``2023-2024-S2`` (semester), ``2023-2024`` (school year) and
``2024`` (calendar year) strings, plus their Kazakh labels."""
from __future__ import annotations

import re

_RE = re.compile(r"^(\d{4})(?:-(\d{4})(?:-S([12]))?)?$")


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
