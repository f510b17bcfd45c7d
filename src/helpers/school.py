"""Pure functions specific to the ``school_project`` report (one school's yearly report on
one innovation project, seed 002).

DataFrame (or plain values) in, a new DataFrame, dict or text out; inputs are never
mutated; no file I/O. The two Kazakh forms the report's headings and sentences need,
:func:`locative` (a school's name "in" it) and :func:`numeral_case` (89-ға, 84-і, 36-ны),
are thin wrappers over :mod:`helpers.kazakh`, the one home of the grammar.
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from . import fmt, kazakh
from .tables import TOTAL, declared, parts, with_total

# --- Kazakh: the report's two grammar needs, from helpers.kazakh (one home) --------------

def numeral_case(value: Any, case: str, *, percent: bool = False, decimals: int = 0) -> str:
    """A number in Kazakh print with its case ending: ``numeral_case(89, "dat") == "89-ға"``,
    ``(84, "poss") -> "84-і"``, ``(36, "acc") -> "36-ны"``, ``(84, "dat", percent=True)``
    -> ``"84%-ға"`` (read "пайызға"), ``(22645, "loc") -> "22 645-те"``
    (:func:`helpers.kazakh.numeral`)."""
    return kazakh.numeral(value, case, decimals=decimals, pct=percent)


def locative(name: str) -> str:
    """``name`` in the locative ("in ..."): «…№67 гимназиясы» -> «…№67 гимназиясында»,
    «№5 мектеп-лицей» -> «№5 мектеп-лицейде», «№27 мектеп» -> «№27 мектепте».

    A name ending in ы/і is taken to end with the 3rd-person possessive (the usual form of
    an official school name) and takes -нда/-нде; a name ending in digits follows the
    spoken number (:mod:`helpers.kazakh`).
    """
    name = name.rstrip()
    if not name:
        raise ValueError("locative(): empty name")
    last = name.split()[-1]
    head = name[: len(name) - len(last)]
    if last[-1].isdigit():
        digits = "".join(ch for ch in reversed(last) if ch.isdigit())[::-1]
        return f"{name}-{kazakh.ending(kazakh.last_spoken_word(digits), 'loc')}"
    return head + kazakh.inflect(last, "loc", possessive=last[-1].lower() in "ыі")


# --- the member (school x project x period) ----------------------------------------

def member_info(members: pd.DataFrame, schools: pd.DataFrame, projects: pd.DataFrame,
                member_id: str, period: str) -> dict | None:
    """One member's facts for one period as a dict (members row joined to its school and
    project), or None when the member has no row for that period.

    Raises ValueError naming the known ids when ``member_id`` is not in ``members``.
    """
    known = list(dict.fromkeys(members["member_id"].astype(str)))
    if str(member_id) not in known:
        raise ValueError(f"member {member_id!r} is not in school_project/members.csv "
                         f"(known: {', '.join(known) or 'none'})")
    rows = members[(members["member_id"].astype(str) == str(member_id))
                   & (members["period"].astype(str) == str(period))]
    if len(rows) == 0:
        return None
    m = rows.iloc[0].to_dict()
    s = schools[schools["school_id"] == m["school_id"]]
    p = projects[projects["project_key"] == m["project_key"]]
    if len(s) != 1 or len(p) != 1:
        raise ValueError(f"member {member_id!r}: school {m['school_id']!r} or project "
                         f"{m['project_key']!r} not found exactly once")
    s, p = s.iloc[0].to_dict(), p.iloc[0].to_dict()
    return {**{k: (None if fmt.is_missing(v) else v) for k, v in m.items() if k != "source"},
            "school_name": s["school_name"], "school_no": s.get("school_no"),
            "project_name": p["project_name"], "project_kind": p.get("kind")}


def for_member(df: pd.DataFrame, member_id: str, period: str, order: str | None = "item") -> pd.DataFrame:
    """Rows of one member and period (sorted by ``order`` when the frame has it)."""
    out = df[(df["member_id"].astype(str) == str(member_id)) & (df["period"].astype(str) == str(period))]
    if order and order in out.columns:
        out = out.sort_values(order, kind="mergesort")
    return out.reset_index(drop=True)


# --- text pieces --------------------------------------------------------------------

def numbered(items: Iterable[Any]) -> str:
    """``["a", "b"]`` -> ``"1. a; 2. b"`` (one item: the item alone)."""
    items = [str(i).strip() for i in items if not fmt.is_missing(i)]
    if len(items) == 1:
        return items[0]
    return "; ".join(f"{i}. {t}" for i, t in enumerate(items, 1))


def joined(items: Iterable[Any], sep: str = ", ") -> str:
    """Non-missing items as text joined by ``sep`` (``-`` when there is none)."""
    items = [str(i).strip() for i in items if not fmt.is_missing(i)]
    return sep.join(items) if items else fmt.DASH


def value_range(first: Any, last: Any, sep: str = "-") -> str:
    """``(20, 30)`` -> ``"20-30"``; ``("қыркүйек", "сәуір", " – ")`` -> ``"қыркүйек – сәуір"``;
    one side missing -> the other; both -> ``-``."""
    def show(x: Any) -> str:
        return fmt.num(x) if isinstance(x, (int, float, np.number)) else str(x)
    vals = [show(x) for x in (first, last) if not fmt.is_missing(x)]
    if len(vals) == 2 and vals[0] == vals[1]:
        vals = vals[:1]
    return sep.join(vals) if vals else fmt.DASH


def pct_text(value: Any) -> str:
    """A percent as printed, with the decimals the value has: 84 -> ``84%``, 80.5 -> ``80,5%``."""
    if fmt.is_missing(value):
        return fmt.DASH
    from .tables import printed_decimals
    return fmt.pct(value, min(printed_decimals(value), 1))


def count_phrase(df: pd.DataFrame, label: str, value: str) -> str:
    """``"5 семинар, 1 конференция"`` from a frame of labels and counts (part rows, in
    order; zero and missing counts left out)."""
    body = parts(df)
    pieces = [f"{fmt.num(v)} {lab}" for lab, v in zip(body[label], body[value])
              if not fmt.is_missing(v) and float(v) != 0]
    return ", ".join(pieces) if pieces else fmt.DASH


def blank(x: Any) -> str:
    """Cell formatter: text as is, missing as an empty cell (not ``-``)."""
    return "" if fmt.is_missing(x) else str(x)


# --- grade bands: classes, pupils, teachers ---------------------------------------

def bands_table(bands: pd.DataFrame, values: Sequence[str] = ("teachers", "pupils")) -> pd.DataFrame:
    """Grade bands (part rows, lowest grade first) plus a computed «Барлығы» row.

    Columns ``grade_band``, the ``values`` that at least one band carries, ``row_type``.
    The printed total row is not used (see :func:`declared_vs_parts`).
    """
    body = parts(bands)
    if "grade_from" in body.columns:
        body = body.assign(_o=pd.to_numeric(body["grade_from"], errors="coerce")).sort_values(
            "_o", kind="mergesort").drop(columns="_o")
    cols = [c for c in values if c in body.columns and body[c].notna().any()]
    out = with_total(body[["grade_band", *cols, "row_type"]], "grade_band", cols)
    return out.reset_index(drop=True)


def declared_vs_parts(df: pd.DataFrame, values: Sequence[str]) -> pd.DataFrame:
    """For each value column: the printed total (``row_type == total``), the sum of the part
    rows (None when no part carries the value) and whether they agree.

    Columns: ``column``, ``declared``, ``computed``, ``agrees`` (None when one side is
    missing: nothing to compare).
    """
    rows = []
    tot, body = declared(df), parts(df)
    for c in values:
        dv = tot[c].iloc[0] if c in tot.columns and len(tot) and not fmt.is_missing(tot[c].iloc[0]) else None
        has = c in body.columns and body[c].notna().any()
        cv = pd.to_numeric(body[c], errors="coerce").sum() if has else None
        cv = None if cv is None else (int(cv) if float(cv).is_integer() else float(cv))
        dv = None if dv is None else (int(dv) if float(dv).is_integer() else float(dv))
        agrees = None if dv is None or cv is None else bool(dv == cv)
        rows.append({"column": c, "declared": dv, "computed": cv, "agrees": agrees})
    # object columns: None stays None (not NaN), so callers can test `is None`
    return pd.DataFrame(rows, columns=["column", "declared", "computed", "agrees"], dtype=object)


def value_or_declared(df: pd.DataFrame, column: str) -> tuple[Any, str | None]:
    """The figure to report for ``column``: the sum of the parts when any part carries it
    (``"parts"``), else the printed total (``"declared"``: the source gives no parts),
    else ``(None, None)``."""
    r = declared_vs_parts(df, [column]).iloc[0]
    if r["computed"] is not None and not fmt.is_missing(r["computed"]):
        return r["computed"], "parts"
    if r["declared"] is not None and not fmt.is_missing(r["declared"]):
        return r["declared"], "declared"
    return None, None


def band_phrase(bands: pd.DataFrame, value: str = "teachers", noun: str = "мұғалім") -> str:
    """``"1-4 сыныптар арасында 25 мұғалім, 5-8 сыныптар арасында 17 мұғалім"`` (part rows)."""
    body = parts(bands)
    pieces = [f"{b} сыныптар арасында {fmt.num(v)} {noun}" for b, v in zip(body["grade_band"], body[value])
              if not fmt.is_missing(v)]
    return ", ".join(pieces) if pieces else fmt.DASH


# --- events --------------------------------------------------------------------------

LEVELS = {"school": "мектепішілік", "city": "қалалық", "republic": "республикалық",
          "international": "халықаралық"}
NO_LEVEL = "деңгейі көрсетілмеген"
NO_LEVEL_SHORT = "көрсетілмеген"   # as a table row label (keeps the table portrait)


def level_counts(events: pd.DataFrame) -> pd.DataFrame:
    """Events per level (school, city, republic, international; then the events whose
    level is not given, if any): columns ``level_key``, ``level``, ``events``."""
    keys = events["level_key"].where(events["level_key"].notna(), None)
    rows = [{"level_key": k, "level": lab, "events": int((keys == k).sum())}
            for k, lab in LEVELS.items() if (keys == k).any()]
    extra = sorted({str(k) for k in keys.dropna()} - set(LEVELS))
    for k in extra:
        lab = events.loc[keys == k, "level"].iloc[0]
        rows.append({"level_key": k, "level": lab, "events": int((keys == k).sum())})
    n_none = int(keys.isna().sum())
    if n_none:
        rows.append({"level_key": "none", "level": NO_LEVEL, "events": n_none})
    return pd.DataFrame(rows, columns=["level_key", "level", "events"])


def kind_counts(events: pd.DataFrame) -> pd.DataFrame:
    """Events per kind, in order of first appearance: ``kind_key``, ``kind``, ``events``."""
    g = events.groupby(["kind_key", "kind"], sort=False).size().rename("events").reset_index()
    return g.astype({"events": "int64"})


def events_matrix(events: pd.DataFrame) -> pd.DataFrame:
    """Level x kind counts: one row per level (see :func:`level_counts`) plus «Барлығы»; one
    column per kind (first appearance) plus «Барлығы». Computed from the event rows; zero
    cells are 0. (Levels as rows: kinds are short words, so the table stays portrait.)"""
    lv = level_counts(events)
    key = events["level_key"].astype(object).where(events["level_key"].notna(), "none")
    kinds = kind_counts(events)
    rows = []
    for lk, lab in zip(lv["level_key"], lv["level"]):
        sel = events["kind_key"][(key == lk).to_numpy()]
        row = {"level": NO_LEVEL_SHORT if lk == "none" else lab}
        for kk, kind in zip(kinds["kind_key"], kinds["kind"]):
            row[kind] = int((sel == kk).sum())
        row[TOTAL] = int(len(sel))
        row["row_type"] = "part"
        rows.append(row)
    out = pd.DataFrame(rows, columns=["level", *kinds["kind"], TOTAL, "row_type"])
    tot = {"level": TOTAL, **{c: int(out[c].sum()) for c in [*kinds["kind"], TOTAL]}, "row_type": "total"}
    return pd.concat([out, pd.DataFrame([tot])], ignore_index=True)


# --- lists: SWOT, recommendations ------------------------------------------------------

SWOT_ORDER = ["strengths", "weaknesses", "threats", "opportunities"]


def grouped_list(df: pd.DataFrame, group: str, text: str, order_key: str | None = None,
                 order: Sequence[str] = ()) -> pd.DataFrame:
    """Items listed under their group: columns ``group`` (label on the group's first row
    only, None below it), ``no`` (1.. within the group), ``text``. Groups in ``order`` (by
    ``order_key``) first, then in order of appearance; items by ``item`` when present."""
    d = df.copy()
    if order_key:
        rank = {k: i for i, k in enumerate(order)}
        d["_g"] = d[order_key].map(lambda k: rank.get(k, len(rank)))
    else:
        d["_g"] = 0
    d["_a"] = d[group].map({g: i for i, g in enumerate(dict.fromkeys(d[group]))})
    sort = ["_g", "_a"] + (["item"] if "item" in d.columns else [])
    d = d.sort_values(sort, kind="mergesort")
    d["no"] = d.groupby(group, sort=False).cumcount() + 1
    labels = d[group].astype(object).tolist()
    shown = [g if i == 0 or g != labels[i - 1] else None for i, g in enumerate(labels)]
    out = d[["no", text]].reset_index(drop=True)
    out.insert(0, group, pd.Series(shown, dtype=object))
    return out


# --- summary of the period -------------------------------------------------------------

def summary(members: pd.DataFrame, schools: pd.DataFrame, projects: pd.DataFrame,
            bands: pd.DataFrame, events: pd.DataFrame, quality: pd.DataFrame,
            period: str) -> pd.DataFrame:
    """One row per member report of ``period``: ``member_id``, ``school``, ``project``,
    ``pupils``, ``teachers`` (parts, else the printed total), ``events`` (rows of
    events.csv), ``quality_pct`` (mean of the member's quality rows, unweighted)."""
    m = members[members["period"].astype(str) == str(period)]
    rows = []
    for _, r in m.iterrows():
        s = schools[schools["school_id"] == r["school_id"]]
        p = projects[projects["project_key"] == r["project_key"]]
        b = for_member(bands, r["member_id"], period)
        q = for_member(quality, r["member_id"], period)
        qv = pd.to_numeric(q["quality_pct"], errors="coerce").dropna() if len(q) else pd.Series(dtype=float)
        rows.append({
            "member_id": r["member_id"], "city": r["city"],
            "school": s["school_name"].iloc[0] if len(s) else r["school_id"],
            "project": p["project_name"].iloc[0] if len(p) else r["project_key"],
            "pupils": value_or_declared(b, "pupils")[0] if len(b) else None,
            "teachers": value_or_declared(b, "teachers")[0] if len(b) else None,
            "events": int(len(for_member(events, r["member_id"], period))),
            "quality_pct": float(qv.mean()) if len(qv) else None,
        })
    cols = ["member_id", "city", "school", "project", "pupils", "teachers", "events", "quality_pct"]
    out = pd.DataFrame(rows, columns=cols)
    for c in ("pupils", "teachers"):
        s = pd.to_numeric(out[c], errors="coerce")
        out[c] = s.astype("int64") if len(s) and s.notna().all() else s
    out["quality_pct"] = pd.to_numeric(out["quality_pct"], errors="coerce").astype("float64")
    return out


# --- courses ---------------------------------------------------------------------------

def course_phrase(courses: pd.DataFrame, noun: str = "мұғалім") -> str:
    """``"«Іс-әрекеттгі зерттеу» тренері – 5 мұғалім"``: per course, the role in the
    possessive (тренер -> тренері) when given, then the number of teachers; courses
    joined by "; " (``-`` when there is none)."""
    pieces = []
    for course, role, n in zip(courses["course"], courses["role"], courses["teachers"]):
        who = f" {kazakh.inflect(str(role), 'poss')}" if not fmt.is_missing(role) else ""
        pieces.append(f"{course}{who} – {fmt.num(n)} {noun}")
    return "; ".join(pieces) if pieces else fmt.DASH


# --- charts ------------------------------------------------------------------------------

def whole_number_ticks(fig):
    """Value axis of a count chart with whole-number ticks only (no «2.5 іс-шара»); returns
    the same figure (``helpers.charts.bar`` leaves the ticks to matplotlib)."""
    from matplotlib.ticker import MaxNLocator

    for ax in fig.axes:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return fig
