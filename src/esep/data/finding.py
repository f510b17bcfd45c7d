"""One data-quality finding (the record every check produces), and the checks made while
a raw file is read (mixed alphabets). Below both :mod:`esep.data.validate` (which reads)
and :mod:`esep.data.findings` (which runs the schema's checks on what was read)."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from esep.data import schemas

JSON_KEYS = ("report", "period", "source", "table", "row", "column", "declared", "computed", "message")


@dataclass
class Finding:
    report: str
    period: str | None
    source: str
    table: str
    row: int | None
    column: str | None
    declared: Any
    computed: Any
    message: str
    check: str = ""
    message_kk: str = ""
    letter: str | None = None
    printed_in: str = ""      # the row's `source` value: where the document printed it ("3-кесте")
    row_label: str = ""       # the row as a reader names it ("Барлығы", "Ақжайық ауданы")

    def as_json(self) -> dict:
        d = asdict(self)
        d.pop("letter")
        d.pop("printed_in")
        d.pop("row_label")
        return {k: _jsonable(d[k]) for k in (*JSON_KEYS, "check", "message_kk")}

    def text(self) -> str:
        where = [self.source]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f'column {self.letter} "{self.column}"' if self.letter else f'column "{self.column}"')
        per = f" [{self.period}]" if self.period else ""
        return f"warning: {', '.join(where)}{per}: {self.message}"


def _jsonable(v):
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if hasattr(v, "item"):
        return v.item()
    return v


def text_findings(report: str, stem: str, label: str, parsed: pd.DataFrame, texts: list[dict],
                  table: schemas.Table | None) -> list[Finding]:
    """Latin look-alike letters inside Cyrillic words (collected while parsing)."""
    out = []
    groups: dict[tuple, list[dict]] = {}
    for t in texts:  # the same word in the same column: one finding naming every row
        groups.setdefault((t["column"], t["word"]), []).append(t)
    for same in groups.values():
        t = same[0]
        also = [x["row"] for x in same[1:]]
        col = table.columns.get(t["column"]) if table else None
        if col is not None and (col.allowed is not None or col.ref):
            continue  # reported as an error with a hint by the allowed/ref check
        row = parsed.iloc[t["row"] - 2]
        period = row.get("period") if "period" in parsed.columns else None
        odd = ", ".join(f"'{c}'" for c in t["odd"])
        kind = "Latin" if all(re.match(r"[A-Za-z]", c) for c in t["odd"]) else "Cyrillic"
        msg = (f"the word {t['word']!r} mixes Latin and Cyrillic letters ({kind} {odd}); retype it in "
               "one alphabet" + (" (as printed?)" if kind == "Cyrillic" else "")
               + (f"; also in row(s) {', '.join(map(str, also))}" if also else ""))
        kk_kind = "латын" if kind == "Latin" else "кириллица"
        out.append(Finding(report, None if period is None else str(period), label, stem, t["row"],
                           t["column"], t["value"], None, msg, "latin_letters",
                           f"«{t['word']}» сөзінде латын және кириллица әріптері араласқан "
                           f"({kk_kind}: {', '.join(t['odd'])}).", None,
                           str(row.get("source") or "") if "source" in parsed.columns else "", ""))
    return out
