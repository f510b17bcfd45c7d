"""Is a period's data complete? What each table holds for a period, and which report
sections will be skipped for lack of data — said *before* anything runs.

The schema says which kind of period each table is per (``period_kind``) and which
tables (and rows) each section of the report needs (``sections:``)::

    sections:
      headline: {tables: [projects_by_kind], where: {source: мәтін (кіріспе)},
                 title: "Кіріспе: жобалар мен оқушылар"}

For a semester report (``2024-2025-S1``) a yearly table is read for its school year
(``2024-2025``); a section whose needed table has no row for that period is listed by
``esep validate --period P``, ``esep run`` (before running) and on the Нұсқаулық sheet.
"""
from __future__ import annotations

from dataclasses import dataclass

from esep.core import periods


def wanted_period(table, period: str) -> str | None:
    """The period whose rows ``table`` must hold for a report of ``period`` (None: any)."""
    kinds = getattr(table, "period_kind", ()) or ()
    if not kinds:
        return None
    try:
        kind = periods.kind(period)
    except ValueError:
        return None
    if kind in kinds:
        return period
    if kind == "semester" and "school_year" in kinds:
        return periods.school_year(period)
    return period  # e.g. a semester table for a school-year report: it holds no such rows


def _s(v) -> str:
    if v is None:
        return ""
    try:
        import pandas as pd

        if pd.isna(v):
            return ""
    except (TypeError, ValueError):
        pass
    return str(v)


def rows_for(loaded, stem: str, period: str, where: dict | None = None) -> int:
    """Rows of table ``stem`` (raw + incoming) that a report of ``period`` reads."""
    frame = loaded.frames.get(stem)
    if frame is None or len(frame) == 0:
        return 0
    table = loaded.schema.tables.get(stem)
    want = wanted_period(table, period) if table is not None else None
    df = frame
    if want is not None and "period" in df.columns:
        df = df[df["period"].map(_s) == want]
    for c, v in (where or {}).items():
        if c in df.columns:
            vals = {str(x) for x in (v if isinstance(v, list) else [v])}
            df = df[df[c].map(_s).isin(vals)]
    return int(len(df))


@dataclass
class Read:
    table: str
    rows: int            # rows for the period (all sources)
    incoming: int        # of which from incoming/<period>/
    where: str           # the sources, as the user names them
    period: str | None   # the period the rows were looked up for


def rows_read(loaded, period: str) -> list[Read]:
    """Per table: how many rows for ``period`` were read, and how many came from
    ``incoming/<period>/`` (the analyst's new workbook or CSVs)."""
    out = []
    for stem, table in loaded.schema.tables.items():
        srcs = loaded.sources.get(stem, [])
        want = wanted_period(table, period) if table.period_kind else None
        n = rows_for(loaded, stem, period) if table.has_period else len(loaded.frames.get(stem, []))
        inc = 0
        labels = []
        for s in srcs:
            if "/incoming/" in s.label:
                f = s.frame
                inc += int((f["period"] == want).sum()) if want and "period" in f.columns else len(f)
            labels.append(s.label)
        out.append(Read(stem, n, inc, "; ".join(labels), want))
    return out


def skipped_sections(loaded, period: str) -> list[tuple[str, str, str]]:
    """(section, why, its title) for each section of the schema's ``sections:`` that has
    no data for ``period``."""
    out = []
    for name, sdef in (getattr(loaded.schema, "sections", None) or {}).items():
        sdef = sdef or {}
        missing = []
        for stem in sdef.get("tables") or ():
            if rows_for(loaded, stem, period, sdef.get("where")) == 0:
                table = loaded.schema.tables.get(stem)
                want = wanted_period(table, period) if table is not None else period
                cond = "".join(f", {c} = {v}" for c, v in (sdef.get("where") or {}).items())
                missing.append(f"no rows for {want} in {stem}{cond}")
        if missing:
            out.append((str(name), "; ".join(missing), str(sdef.get("title") or name)))
    return out
