"""Kazakh number formatting: ``22 645``, ``80,5%``, ``+3 319``, ``-`` for missing.

One rounding rule everywhere: ROUND_HALF_UP on the decimal representation of the
value (``0.05 -> 0.1``, ``2.675 -> 2.68``), never binary float rounding.
"""
from __future__ import annotations

import math
import os
import re
from contextlib import contextmanager
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Callable, Mapping

import pandas as pd

DASH = "-"          # printed for missing / "none"
THOUSANDS = " "     # plain U+0020 space
DECIMAL = ","       # decimal comma


def is_missing(x: Any) -> bool:
    """True for None, NaN, pd.NA, NaT and empty strings."""
    if x is None:
        return True
    if isinstance(x, str):
        return x.strip() == ""
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def to_decimal(x: Any) -> Decimal:
    """Exact decimal of the value as written (``repr``), so 0.05 stays 0.05."""
    if isinstance(x, Decimal):
        return x
    if hasattr(x, "item"):           # numpy scalar -> python scalar
        x = x.item()
    try:
        return Decimal(repr(x)) if isinstance(x, float) else Decimal(str(x))
    except InvalidOperation:
        raise ValueError(f"not a number: {x!r}") from None


def round_half_up(x: Any, decimals: int = 0) -> Decimal:
    """Round to ``decimals`` places, halves away from zero."""
    return to_decimal(x).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


# One rounding rule per report (spec key ``rounding``: half_up, the default, or truncate
# where the source's convention is proven to cut). The engine sets ESEP_ROUNDING for the
# report's kernel and uses :func:`rounding` while rendering, so tables, text, charts and
# the appendix of one report round alike.
ROUNDING_MODES = ("half_up", "truncate")
_rule = {"mode": os.environ.get("ESEP_ROUNDING", "half_up") if os.environ.get("ESEP_ROUNDING") in ROUNDING_MODES
         else "half_up"}


def rounding_mode() -> str:
    return _rule["mode"]


def set_rounding(mode: str) -> None:
    if mode not in ROUNDING_MODES:
        raise ValueError(f"rounding must be one of {', '.join(ROUNDING_MODES)}, not {mode!r}")
    _rule["mode"] = mode


@contextmanager
def rounding(mode: str):
    """Format with ``mode`` inside the block (the engine's render step)."""
    old = _rule["mode"]
    set_rounding(mode)
    try:
        yield
    finally:
        _rule["mode"] = old


def round_rule(x: Any, decimals: int = 0) -> Decimal:
    """Round by the report's rule (:func:`rounding_mode`)."""
    return truncate(x, decimals) if _rule["mode"] == "truncate" else round_half_up(x, decimals)


def truncate(x: Any, decimals: int = 0) -> Decimal:
    """Cut to ``decimals`` places (toward zero), as some hand-made reports do."""
    return to_decimal(x).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_DOWN)


def rounded(x: Any, decimals: int = 0) -> float | int:
    """Plain Python number rounded by the one rule (int when decimals == 0)."""
    d = round_rule(x, decimals)
    return int(d) if decimals == 0 else float(d)


def _digits(d: Decimal, decimals: int) -> str:
    sign = "-" if d < 0 else ""
    s = f"{abs(d):.{decimals}f}"
    whole, _, frac = s.partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    out = THOUSANDS.join(groups)
    if decimals > 0:
        out += DECIMAL + frac
    return sign + out


def num(x: Any, decimals: int = 0) -> str:
    """``22645 -> "22 645"``, ``2.94 (1) -> "2,9"``, missing -> ``"-"``."""
    if is_missing(x):
        return DASH
    d = round_rule(x, decimals)
    if d == 0:
        d = abs(d)  # no "-0"
    return _digits(d, decimals)


def pct(x: Any, decimals: int = 1) -> str:
    """Value already in percent: ``80.54 -> "80,5%"``."""
    if is_missing(x):
        return DASH
    return num(x, decimals) + "%"


def signed(x: Any, decimals: int = 0) -> str:
    """Change with explicit sign: ``3319 -> "+3 319"``, ``-202 -> "-202"``, 0 -> ``"0"``."""
    if is_missing(x):
        return DASH
    d = round_rule(x, decimals)
    body = _digits(abs(d), decimals)
    if d > 0:
        return "+" + body
    if d < 0:
        return "-" + body
    return body


def signed_pct(x: Any, decimals: int = 1) -> str:
    """``37.5 -> "+37,5%"``."""
    if is_missing(x):
        return DASH
    return signed(x, decimals) + "%"


def dash(x: Any, formatter: Callable[..., str] = num, **kwargs: Any) -> str:
    """``"-"`` for missing, otherwise ``formatter(x, **kwargs)``."""
    return DASH if is_missing(x) else formatter(x, **kwargs)


def auto(x: Any) -> str:
    """Default cell formatter: integers as ``num(x)``, other floats with 1 decimal,
    text unchanged, missing as ``"-"``."""
    if is_missing(x):
        return DASH
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, (int, float)) or hasattr(x, "dtype"):
        try:
            v = float(x)
        except (TypeError, ValueError):
            return str(x)
        if math.isfinite(v) and v == int(v):
            return num(int(v))
        return num(x, 1)
    return str(x)


FORMATTERS: dict[str, Callable[..., str]] = {
    "num": num, "int": num, "pct": pct, "signed": signed, "signed_pct": signed_pct,
    "auto": auto, "text": lambda x: DASH if is_missing(x) else str(x),
}


def formatter(spec: Any) -> Callable[[Any], str]:
    """Turn a spec into a one-argument formatter.

    ``"num"``, ``"pct"``, ``"signed"``, ``"signed_pct"``, ``"auto"``, ``"text"``;
    ``("num", 1)`` / ``("pct", 0)`` for explicit decimals; or any callable.
    """
    if callable(spec):
        return spec
    if isinstance(spec, str):
        if spec not in FORMATTERS:
            raise ValueError(f"unknown format {spec!r}; known: {sorted(FORMATTERS)}")
        return FORMATTERS[spec]
    if isinstance(spec, tuple) and len(spec) == 2:
        name, decimals = spec
        f = formatter(name)
        return lambda x: f(x, decimals)
    raise ValueError(f"bad format spec {spec!r}")


def format_frame(df: pd.DataFrame, spec: Mapping[Any, Any] | None = None,
                 default: Any = "auto") -> pd.DataFrame:
    """Copy of ``df`` with every cell turned into display text.

    ``spec`` maps column -> format spec (see :func:`formatter`); other columns use
    ``default`` (``"auto"``: integers ``22 645``, floats ``2,9``, text unchanged,
    missing ``-``).
    """
    spec = dict(spec or {})
    unknown = [c for c in spec if c not in df.columns]
    if unknown:
        raise KeyError(f"format_frame: columns not in frame: {unknown}")
    out = pd.DataFrame(index=df.index, columns=df.columns, dtype=object)
    for col in df.columns:
        f = formatter(spec.get(col, default))
        out[col] = [f(v) for v in df[col].tolist()]
    return out


# --- parsing (raw files) ----------------------------------------------------------

NONE_VALUES = {"", "-", "–", "—"}   # a cell that means "none"
NUM_RE = re.compile(r"^[+-]?(\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:[.,](\d+))?(%?)$")

def parse_number(text: str) -> tuple[float | None, bool]:
    """'22 645' -> (22645.0, False); '80,5%' -> (80.5, True); '-' -> (None, False)."""
    t = re.sub(r"\s+%$", "%", text.strip())
    if t in NONE_VALUES:
        return None, False
    m = NUM_RE.match(t)
    if not m:
        raise ValueError(text)
    pct = bool(m.group(3))
    t = t.rstrip("%")
    for ch in (" ", "\u00a0", "\u202f"):
        t = t.replace(ch, "")
    return float(t.replace(",", ".")), pct


# --- declared vs computed ----------------------------------------------------------

def printed_decimals(x: Any) -> int:
    """Decimals a printed value shows: 32.5 -> 1, 28.0 -> 0, 9.25 -> 2."""
    d = to_decimal(x).normalize()
    return max(0, -d.as_tuple().exponent)


def agrees(computed: Any, printed: Any, decimals: int | None = None) -> bool:
    """Does ``printed`` match ``computed`` at the printed precision?

    The computed value is rounded by the report's one rule (:func:`rounding_mode`:
    half up unless the report's spec says ``rounding: truncate``), as its tables and text
    print it: a printed 8,6 where the rule gives 8,5 is a finding, not a silent pass.
    ``decimals`` None -> inferred from the printed value. Both missing agree; one missing
    does not.
    """
    pm, cm = is_missing(printed), is_missing(computed)
    if pm or cm:
        return pm and cm
    d = printed_decimals(printed) if decimals is None else decimals
    p = round_half_up(printed, d)
    c = to_decimal(computed)
    return round_rule(c, d) == p
