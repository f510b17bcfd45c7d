"""Render a DataFrame as a captioned HTML table for the report.

Plain, deterministic HTML: ``<table>`` with a real ``<caption>``, a ``<thead>`` whose
spanner cells use ``colspan``/``rowspan`` (pandoc turns this into a real Word table),
and a ``<tbody>``. Every string is HTML-escaped; no external URLs, no scripts, no
random ids. Numbers are formatted with :mod:`helpers.fmt`.
"""
from __future__ import annotations

import html
from decimal import Decimal
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from . import fmt

TOTAL = "Барлығы"

CSS = (
    "<style>"
    "table.esep-table{border-collapse:collapse;margin:0.6em 0 1.2em 0;font-size:0.92em;}"
    "table.esep-table caption{caption-side:top;text-align:left;font-weight:bold;"
    "padding:0 0 0.4em 0;}"
    "table.esep-table th,table.esep-table td{border:1px solid #b8b8b8;padding:3px 7px;"
    "vertical-align:middle;}"
    "table.esep-table thead th{background:#eef2f6;text-align:center;font-weight:bold;}"
    "table.esep-table td.num{text-align:right;white-space:nowrap;"
    "font-variant-numeric:tabular-nums;}"
    "table.esep-table td.text{text-align:left;}"
    "table.esep-table tr.total td{font-weight:bold;background:#f6f6f6;}"
    "</style>"
)


class Table:
    """A rendered report table: ``.html`` (string), ``.caption``, ``.data`` (display text).

    Displays as HTML in Jupyter (``_repr_html_``).
    """

    def __init__(self, html_text: str, caption: str, data: pd.DataFrame):
        self.html = html_text
        self.caption = caption
        self.data = data

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"Table({self.caption!r}, {self.data.shape[0]} rows)"


def _header_tuples(df: pd.DataFrame, spanners: Mapping[str, Sequence[Any]] | None,
                   labels: Mapping[Any, str]) -> list[tuple[str, ...]]:
    """One tuple of header labels per column, top level first ('' = no label)."""
    if isinstance(df.columns, pd.MultiIndex):
        if spanners:
            raise ValueError("table(): use either MultiIndex columns or spanners, not both")
        tuples = [tuple("" if (x is None or (isinstance(x, float) and pd.isna(x)))
                        else str(labels.get(x, x)) for x in col) for col in df.columns]
        return tuples
    spanners = dict(spanners or {})
    owner: dict[Any, str] = {}
    for span, cols in spanners.items():
        for c in cols:
            if c not in df.columns:
                raise KeyError(f"table(): spanner {span!r} names unknown column {c!r}")
            owner[c] = span
    if not owner:
        return [(str(labels.get(c, c)),) for c in df.columns]
    return [(owner[c], str(labels.get(c, c))) if c in owner else (str(labels.get(c, c)), "")
            for c in df.columns]


def _thead(tuples: list[tuple[str, ...]]) -> str:
    """Header rows: a label spans the adjacent columns sharing it (colspan); a column
    whose lower levels are empty spans down to the last header row (rowspan)."""
    n = len(tuples[0])
    depth = [max((i + 1 for i, x in enumerate(t) if x != ""), default=1) for t in tuples]
    rows = []
    for lvl in range(n):
        cells = []
        j = 0
        while j < len(tuples):
            t = tuples[j]
            if depth[j] <= lvl:          # covered by a rowspan from above
                j += 1
                continue
            k = j + 1
            if depth[j] == lvl + 1:      # leaf: spans down to the last header row
                colspan, rowspan = 1, n - lvl
            else:                        # spanner over adjacent columns sharing it
                while k < len(tuples) and depth[k] > lvl + 1 and tuples[k][: lvl + 1] == t[: lvl + 1]:
                    k += 1
                colspan, rowspan = k - j, 1
            attrs = (f' colspan="{colspan}"' if colspan > 1 else "") + \
                    (f' rowspan="{rowspan}"' if rowspan > 1 else "")
            scope = "colgroup" if colspan > 1 else "col"
            cells.append(f'<th scope="{scope}"{attrs}>{html.escape(t[lvl])}</th>')
            j = k
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<thead>" + "".join(rows) + "</thead>"


NUMERIC_SPECS = {"num", "pct", "signed", "signed_pct"}


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, Decimal, np.number)) and not isinstance(v, (bool, np.bool_))


def is_numeric_column(values: pd.Series, spec: Any = None) -> bool:
    """Whether a column is shown as numbers (class ``num``: right-aligned, never wrapped).

    The values decide, not the presence of a format: a numeric dtype, or an object
    column whose every non-missing value is a number. A column formatted ``"text"`` is
    text; a column with no values at all is numeric only if its format is numeric.
    Text columns (names, lists of schools, notes) stay left-aligned and wrap.
    """
    if spec == "text":
        return False
    if pd.api.types.is_bool_dtype(values):
        return False
    if pd.api.types.is_numeric_dtype(values):
        return True
    present_values = [v for v in values.tolist() if not fmt.is_missing(v)]
    if not present_values:
        name = spec[0] if isinstance(spec, tuple) else spec
        return name in NUMERIC_SPECS
    return all(_is_number(v) for v in present_values)


def table(df: pd.DataFrame, caption: str, *, formats: Mapping[Any, Any] | None = None,
          spanners: Mapping[str, Sequence[Any]] | None = None,
          labels: Mapping[Any, str] | None = None, total_label: str | None = TOTAL,
          note: str | None = None, marks: Mapping[tuple[Any, Any], str] | None = None,
          ledger: Any = None, figures: Mapping[tuple[Any, Any], str] | None = None) -> Table:
    """Captioned HTML table.

    - ``formats``: column -> fmt spec (``"num"``, ``"pct"``, ``("num", 1)``, callable...);
      other columns: integers ``22 645``, floats one decimal, text as is, missing ``-``.
      A format does not make a column numeric: only columns whose values are numbers
      are right-aligned and unwrapped (see :func:`is_numeric_column`).
    - ``spanners``: {"Іс-шаралар": [col, col, ...]} puts a spanning header over
      adjacent columns (flat columns only). MultiIndex columns (e.g. from
      :func:`helpers.tables.wide`) become multi-row headers automatically.
    - ``labels``: column (or header level value) -> displayed header text.
    - ``total_label``: rows whose any cell equals it (or whose ``row_type`` is
      ``total``) are shown bold; their missing cells stay blank (not applicable)
      instead of ``-``. A ``row_type`` column is never displayed.
    - ``note``: optional source/footnote line under the table.
    - ``marks`` + ``ledger``: {(row index label, column): figure name, or a list of names} of
      cells whose value differs from the source's print (or sits on a flagged base); each
      carries the figure's footnote mark from the
      :class:`helpers.corrections.Ledger` (see that module).
    - ``figures``: {(row index label, column): glued figure name} of cells that print a
      named figure; recorded (``helpers.report.shown``) so that a test fails when the text
      and the table print one quantity with two values (``esep.notebook.consistency``).
    """
    labels = dict(labels or {})
    data = df.copy()
    is_total = pd.Series(False, index=data.index)
    if "row_type" in data.columns and not isinstance(data.columns, pd.MultiIndex):
        is_total |= (data["row_type"] == "total").fillna(False).astype(bool)
        data = data.drop(columns="row_type")
    if total_label is not None:
        is_total |= data.apply(lambda r: any(isinstance(v, str) and v.strip() == total_label
                                             for v in r.tolist()), axis=1)
    formats = dict(formats or {})
    numeric = {c: is_numeric_column(data[c], formats.get(c)) for c in data.columns}
    shown = fmt.format_frame(data, formats)
    tuples = _header_tuples(data, spanners, labels)
    body = []
    for i, (idx, row) in enumerate(shown.iterrows()):
        total_row = bool(is_total.loc[idx])
        cls = ' class="total"' if total_row else ""
        tds = []
        for c, v, raw in zip(shown.columns, row.tolist(), data.loc[idx].tolist()):
            if total_row and fmt.is_missing(raw):
                v = ""
            kind = "num" if numeric[c] else "text"
            figure = (marks or {}).get((idx, c))
            cell = html.escape(str(v))
            # one figure, or several (e.g. a corrected share that also sits on a flagged base)
            for k, f in enumerate([figure] if isinstance(figure, str) else list(figure or [])):
                if ledger is not None:
                    cell = ledger.mark(f, cell, shown_is_html=True)
                    if k:   # a second mark reads "7,6¹⁶˒¹⁹", not "7,6¹⁶¹⁹"
                        cell = cell.replace('</span><sup class="esep-mark"><a', '</span><sup class="esep-mark">,<a', 1)
            tds.append(f'<td class="{kind}">{cell}</td>')
        body.append(f"<tr{cls}>" + "".join(tds) + "</tr>")
    parts = [CSS, '<table class="esep-table">',
             f"<caption>{html.escape(caption)}</caption>", _thead(tuples),
             "<tbody>" + "".join(body) + "</tbody>", "</table>"]
    if note:
        parts.append(f'<p class="esep-table-note">{html.escape(note)}</p>')
    if figures:
        from .report import shown as record_shown

        number = caption.split(".")[0]
        for (idx, col), name in figures.items():
            if idx in data.index and col in data.columns:
                label = next((v for v in data.loc[idx].tolist() if isinstance(v, str) and v.strip()
                              and not v.strip().replace(" ", "").isdigit()), idx)
                record_shown(name, data.loc[idx, col], f"{number}, «{label}» жолы")
    shown.columns = data.columns
    return Table("".join(parts), caption, shown)
