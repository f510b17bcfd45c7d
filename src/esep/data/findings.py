"""Data-quality findings: warnings about raw data that reads fine but does not add up.

Declared in ``findings:`` of ``data/raw/<report>/schema.yaml`` (see :mod:`esep.schemas`);
run by ``esep validate`` and before every report is rendered (the report gets a
"Деректер сапасы" appendix and its manifest a ``warnings_count``). Checks:

``total``
    each ``row_type = total`` row against the sum of the ``part`` rows of its group:
    ``{check: total, table: T, values: [col, ...], by: [group columns]}``; optional
    ``where`` (which total rows; ``""`` matches an empty cell) and ``parts`` (which rows
    are the parts, default ``{row_type: part}``; ``parts_not`` drops rows from them, e.g.
    the grand total when the parts are themselves total rows).
``share``
    a printed percentage against ``100 * numerator / denominator``:
    ``{check: share, table: T, where: {...}, declared: col, numerator: col,
    denominator: <selector> | number}``.
``compare``
    a declared value against a value computed from (another) table — a total kept in a
    second table, a declared member count against the listed members, the same entity
    counted in two tables: ``{check: compare, declared: <selector>, computed:
    <selector with agg: sum|count|nunique|value>, on: [columns] | {declared_col: computed_col},
    label: "Kazakh description"}``.
``duplicate_profile``
    an entity whose values repeat another entity's exactly (a copy-paste row):
    ``{check: duplicate_profile, table: T, entity: col, within: [cols], across: col, value: col}``.
``jump``
    a value that changes implausibly between consecutive periods:
    ``{check: jump, table: T, entity: [cols], order: period, value: col, ratio: 3, min: 10}``
    (flags a change by a factor >= ratio, or to/from 0, when the larger value is >= min).

Automatic for every table: Latin look-alike letters inside Cyrillic words (``latin_letters``)
and, for tables without a key, rows repeated exactly (``duplicated_row``).

A selector is ``{table: T, column: C, where: {col: value | [values]}, on: [...], agg: ...}``.
Agreement of a printed value with the computed one is :func:`esep.core.numbers.agrees`: the
printed value must equal the computed one rounded (half up) *or* truncated to the printed
number of decimals, so both habits of hand-made reports pass and real slips do not.

Every finding names the report, period, source file, table, row (as in Excel, 1 =
header), column, the declared and the computed value, and a message (English for the
CLI, Kazakh ``message_kk`` for the report appendix).
"""
from __future__ import annotations

import html
import json
import re
import pandas as pd

from esep.core.numbers import agrees, printed_decimals, round_rule
from esep.core.numbers import auto as _fmt_auto
from esep.core.numbers import num as _fmt_num

from esep.core import periods
from esep.data.finding import Finding


def _n(v) -> str:
    """Kazakh print format of a number (22 645, 80,5); text unchanged."""
    if v is None:
        return "-"
    if isinstance(v, float):
        if v.is_integer():
            return _fmt_auto(int(v))
        return _fmt_num(v, 2).rstrip("0").rstrip(",")
    return _fmt_auto(v)


def _en(v) -> str:
    if v is None:
        return "none"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else f"{v:.2f}".rstrip("0").rstrip(".")
    return str(v)


# --- helpers over parsed frames -------------------------------------------------------

class _Ctx:
    def __init__(self, loaded):
        self.loaded = loaded
        self.report = loaded.report
        self.frames = loaded.frames
        self.out: list[Finding] = []

    def letter(self, label: str, column: str | None) -> str | None:
        src = self.loaded.sources_by_label.get(label)
        return src.letter(column) if src is not None and column else None

    def add(self, table: str, r: pd.Series, column: str | None, declared, computed, message: str,
            message_kk: str, check: str):
        label = r["__source"]
        period = r.get("period") if "period" in r.index else None
        self.out.append(Finding(self.report, None if period is None else str(period), label, table,
                                int(r["__row"]), column, declared, computed, message, check, message_kk,
                                self.letter(label, column), _s(r.get("source")) if "source" in r.index else "",
                                row_label(r)))


LABEL_SKIP = ("period", "city", "oblast", "source", "row_type", "note", "__source", "__row")


def row_label(r: pd.Series) -> str:
    """The row as a reader names it: its first text cell that is not a key, period,
    place or bookkeeping column, nor a code ("Барлығы", "Мектепке дейінгі білім беру")."""
    for col, v in r.items():
        col = str(col)
        if col in LABEL_SKIP or col.endswith(("_slug", "_key", "_id")) or col.startswith("declared"):
            continue
        if isinstance(v, str) and v.strip() and _num(v) is None and not _CODE.fullmatch(v.strip()):
            return v.strip()
    return ""


# a code, not a name: a snake_case key ("partner_schools") or a one-letter tag ("B")
_CODE = re.compile(r"[a-z][a-z0-9_]*|[A-Z]")


def _s(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def select(frames: dict, sel: dict, default_table: str | None = None) -> pd.DataFrame:
    table = sel.get("table", default_table)
    df = frames.get(table)
    if df is None:
        return pd.DataFrame()
    for c, v in (sel.get("where") or {}).items():
        if c not in df.columns:
            return df.iloc[0:0]
        vals = {_s(x) for x in (v if isinstance(v, list) else [v])}
        df = df[df[c].map(_s).isin(vals)]
    return df


def _num(v):
    if v is None:
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _agg(df: pd.DataFrame, column: str | None, agg: str):
    if agg == "count":
        return float(len(df))
    if agg.startswith("nunique"):
        col = agg.partition(":")[2] or column
        return float(df[col].dropna().nunique()) if len(df) else 0.0
    if len(df) == 0:
        return None
    vals = [_num(v) for v in df[column]]
    if agg == "sum":
        return float(sum(v for v in vals if v is not None))
    if agg == "value":
        return vals[0]
    raise ValueError(f"unknown agg {agg!r}")


def _on_pairs(on) -> list[tuple[str, str]]:
    if isinstance(on, dict):
        return [(str(k), str(v)) for k, v in on.items()]
    return [(str(c), str(c)) for c in (on or [])]


def _match(df: pd.DataFrame, r: pd.Series, pairs) -> pd.DataFrame:
    for dc, cc in pairs:
        if cc not in df.columns:
            return df.iloc[0:0]
        df = df[df[cc].map(_s) == _s(r.get(dc))]
    return df


# --- checks --------------------------------------------------------------------------

def _check_total(ctx: _Ctx, spec: dict):
    t = spec["table"]
    df = ctx.frames.get(t)
    if df is None or "row_type" not in df.columns:
        return
    by = list(spec.get("by") or [])
    totals = select(ctx.frames, {"where": {"row_type": "total", **(spec.get("where") or {})}}, t)
    parts = select(ctx.frames, {"where": spec.get("parts") or {"row_type": "part"}}, t)
    for c, v in (spec.get("parts_not") or {}).items():  # e.g. the grand total row itself
        if c in parts.columns:
            vals = {_s(x) for x in (v if isinstance(v, list) else [v])}
            parts = parts[~parts[c].map(_s).isin(vals)]
    for _, r in totals.iterrows():
        grp = _match(parts, r, [(c, c) for c in by])
        for col in spec["values"]:
            dv = _num(r.get(col))
            if dv is None or len(grp) == 0:
                continue
            cv = float(sum(v for v in (_num(x) for x in grp[col]) if v is not None))
            if not agrees(cv, dv):
                ctx.add(t, r, col, dv, cv,
                        f"declared total {_en(dv)} but the {len(grp)} part rows add up to {_en(cv)}",
                        f"«Барлығы» жолында {_n(dv)} көрсетілген, бөліктерінің қосындысы {_n(cv)}.", "total")


def _check_share(ctx: _Ctx, spec: dict):
    t = spec["table"]
    rows = select(ctx.frames, spec, t)
    den_spec = spec["denominator"]
    col = spec["declared"]
    for _, r in rows.iterrows():
        dv = _num(r.get(col))
        if dv is None:
            continue
        num_spec = spec["numerator"]
        if isinstance(num_spec, dict):
            num = _agg(_match(select(ctx.frames, num_spec, t), r, _on_pairs(num_spec.get("on"))),
                       num_spec.get("column"), num_spec.get("agg", "sum"))
        else:
            num = _num(r.get(num_spec))
        if isinstance(den_spec, (int, float)):
            den = float(den_spec)
        else:
            den = _agg(_match(select(ctx.frames, den_spec, t), r, _on_pairs(den_spec.get("on"))),
                       den_spec.get("column"), den_spec.get("agg", "sum"))
        if num is None or not den:
            continue
        cv = 100.0 * num / den
        if not agrees(cv, dv):
            ctx.add(t, r, col, dv, round(cv, 2),
                    f"declared {_en(dv)}% but {_en(num)} / {_en(den)} = {cv:.2f}%",
                    # the reader's line prints the computed share as the report's tables do:
                    # one decimal (or the printed precision) by the report's rounding rule
                    f"Көрсетілген пайыз {_n(dv)}%, есептелгені "
                    f"{_n(float(round_rule(cv, max(1, printed_decimals(dv)))))}% "
                    f"({_n(num)} / {_n(den)}).", "share")


def _check_compare(ctx: _Ctx, spec: dict):
    dsel, csel = spec["declared"], spec["computed"]
    t = dsel["table"]
    pairs = _on_pairs(spec.get("on"))
    agg = csel.get("agg", "sum")
    label = spec.get("label", "")
    label_en = spec.get("label_en", "")
    ctable = csel.get("table", t)
    comp_all = select(ctx.frames, csel)
    if dsel["table"] not in ctx.frames or ctable not in ctx.frames:
        return
    for _, r in select(ctx.frames, dsel).iterrows():
        dv = _num(r.get(dsel["column"]))
        if dv is None:
            continue
        grp = _match(comp_all, r, pairs)
        if len(grp) == 0 and agg not in ("count", "nunique") and not spec.get("empty_as_zero"):
            continue
        cv = _agg(grp, csel.get("column"), agg) if len(grp) else 0.0
        if cv is None or agrees(cv, dv):
            continue
        what = {"count": "rows listed", "sum": "sum", "value": "value"}.get(agg.split(":")[0], agg)
        ctx.add(t, r, dsel["column"], dv, cv,
                f"{label_en + ': ' if label_en else ''}declared {_en(dv)}, {what} in {ctable} is {_en(cv)}",
                f"{label + ': ' if label else ''}{_n(dv)} көрсетілген, «{ctable}» кестесі бойынша {_n(cv)}.",
                "compare")


def _check_duplicate_profile(ctx: _Ctx, spec: dict):
    t = spec["table"]
    df = select(ctx.frames, spec, t)
    if df.empty:
        return
    ent, across, val = spec["entity"], spec["across"], spec["value"]
    within = list(spec.get("within") or [])
    name_col = spec.get("name", ent)
    groups = df.groupby([df[c].map(_s) for c in within], sort=False) if within else [((), df)]
    for _, g in groups:
        seen: dict[tuple, tuple[str, pd.Series]] = {}
        for e, eg in g.groupby(g[ent].map(_s), sort=False):
            prof = tuple(sorted((_s(a), _num(v)) for a, v in zip(eg[across], eg[val])))
            nonzero = [v for _, v in prof if v]
            if len(nonzero) < spec.get("min_values", 2):
                continue
            if prof in seen:
                other_name, _ = seen[prof]
                r = eg.iloc[0]
                values = ", ".join(_en(v) for _, v in prof)
                this_name = _s(r.get(name_col))
                ctx.add(t, r, val, values, other_name,
                        f"the values of {this_name} ({values}) repeat those of {other_name} exactly "
                        "(a copied row?)",
                        f"{this_name} мәндері ({', '.join(_n(v) for _, v in prof)}) {other_name} "
                        "мәндерін толық қайталайды (көшіріліп қойылған жол болуы мүмкін).",
                        "duplicate_profile")
            else:
                seen[prof] = (_s(eg.iloc[0].get(name_col)), eg.iloc[0])


def _check_jump(ctx: _Ctx, spec: dict):
    t = spec["table"]
    df = select(ctx.frames, spec, t)
    if df.empty:
        return
    ent = list(spec["entity"]) if isinstance(spec["entity"], list) else [spec["entity"]]
    order, val = spec.get("order", "period"), spec["value"]
    ratio, lo = float(spec.get("ratio", 3)), float(spec.get("min", 10))
    for _, g in df.groupby([df[c].map(_s) for c in ent], sort=False):
        g = g.assign(__o=g[order].map(_s)).sort_values("__o")
        prev = None
        for _, r in g.iterrows():
            v = _num(r.get(val))
            if prev is not None and v is not None and prev[1] is not None:
                a, b = prev[1], v
                big, small = max(a, b), min(a, b)
                if big >= lo and (small == 0 or big / small >= ratio):
                    who = " / ".join(_s(r.get(c)) for c in spec.get("label_columns", ent))
                    ctx.add(t, r, val, b, a,
                            f"{who}: {_en(a)} in {prev[0]} -> {_en(b)} in {_s(r.get(order))} "
                            f"(an implausible jump?)",
                            f"{who}: {prev[0]} — {_n(a)}, {_s(r.get(order))} — {_n(b)}: күрт өзгеріс, "
                            "тексеру қажет.", "jump")
            prev = (_s(r.get(order)), v)


def _check_duplicated_rows(ctx: _Ctx, table: str, df: pd.DataFrame):
    cols = [c for c in df.columns if not c.startswith("__")]
    seen: dict[tuple, int] = {}
    for _, r in df.iterrows():
        k = tuple(_s(r[c]) for c in cols)
        if k in seen:
            ctx.add(table, r, None, None, None, f"this row repeats row {seen[k]} exactly",
                    f"Бұл жол {seen[k]}-жолды толық қайталайды.", "duplicated_row")
        else:
            seen[k] = int(r["__row"])


CHECKS = {"total": _check_total, "share": _check_share, "compare": _check_compare,
          "duplicate_profile": _check_duplicate_profile, "jump": _check_jump}


def compute(loaded) -> list[Finding]:
    """Every finding for a loaded (error-free) report: text checks + declared checks."""
    ctx = _Ctx(loaded)
    for f in loaded.warnings:
        f.letter = ctx.letter(f.source, f.column)
    ctx.out.extend(loaded.warnings)
    for stem, df in loaded.frames.items():
        table = loaded.schema.tables.get(stem)
        if table is None or not table.key:
            _check_duplicated_rows(ctx, stem, df)
    for spec in loaded.schema.findings:
        fn = CHECKS.get(spec.get("check"))
        if fn is None:
            continue
        try:
            fn(ctx, spec)
        except KeyError as exc:  # a misconfigured check names a missing key/column
            ctx.out.append(Finding(loaded.report, None, str(loaded.schema.path), spec.get("table", ""),
                                   None, None, None, None,
                                   f"check {spec.get('check')!r} could not run: missing {exc}", "config"))
    return ctx.out


# --- periods --------------------------------------------------------------------------

period_end = periods.end_month  # one home: esep.core.periods


def for_period(found: list[Finding], period: str | None, schema=None) -> list[Finding]:
    """Findings a report for ``period`` shows: those about that period's rows (for a
    semester, also its school year's rows: the yearly tables it prints), those not tied to
    a period, and earlier periods' findings only in tables the report compares over time
    (``history: true`` in the schema, or a ``jump`` check on the table)."""
    if not period:
        return found
    end = period_end(period)
    own = {period}
    try:
        if periods.is_semester(period):
            own.add(periods.school_year(period))
    except ValueError:
        pass
    compared = {f.get("table") for f in (getattr(schema, "findings", None) or ())
                if isinstance(f, dict) and f.get("check") == "jump"}
    compared |= {t.name for t in (getattr(schema, "tables", None) or {}).values() if t.history}
    out = []
    for f in found:
        if f.period is None or f.period in own:
            out.append(f)
            continue
        fe = period_end(f.period)
        if (f.table in compared or f.check == "jump") and fe is not None and end is not None and fe <= end:
            out.append(f)
    return out


# --- entry points ---------------------------------------------------------------------

def findings_for(spec, period: str | None = None, incoming: str | None = None):
    """(findings, loaded) for a report; ``loaded.problems`` non-empty = errors, no findings."""
    from esep.data import validate

    from esep.core import numbers

    loaded = validate.load_report(spec, incoming=incoming)
    if loaded.problems:
        return [], loaded
    with numbers.rounding(spec.rounding):  # agreement at the report's own rounding rule
        return for_period(compute(loaded), period, loaded.schema), loaded


_FRAMES: dict[tuple, dict] = {}  # parsed raw frames of the last report asked (for_variant)


def for_variant(found: list[Finding], spec, variant: str | None) -> list[Finding]:
    """The findings a region/district report shows: drop those about a row that belongs to
    another region/district (its expand column, e.g. ``district_slug``, names another
    value). Findings about rows without that column (national tables, totals) stay."""
    if not variant or not getattr(spec, "expand", None) or not found:
        return list(found)
    from esep.data import validate

    column = spec.expand.values_from.partition("#")[2]
    key = ("__frames__", spec.name, tuple((str(p), p.stat().st_mtime_ns)
                                         for p in validate.input_files(spec) if p.is_file()))
    if key not in _FRAMES:
        _FRAMES.clear()
        _FRAMES[key] = validate.load_report(spec).frames
    frames = _FRAMES[key]
    keep = []
    for f in found:
        df = frames.get(f.table)
        if f.row is None or df is None or column not in df.columns or "__row" not in df.columns:
            keep.append(f)
            continue
        hit = df[df["__row"] == f.row]
        if hit.empty:
            keep.append(f)
            continue
        row = hit.iloc[0]
        slug = row[column]
        is_total = "row_type" in row.index and str(row["row_type"]) == "total"
        if is_total or pd.isna(slug) or str(slug).strip() in ("", variant, "total", spec.expand.default):
            keep.append(f)
    return keep


def format_json(found: list[Finding]) -> str:
    return "\n".join(json.dumps(f.as_json(), ensure_ascii=False) for f in found)


APPENDIX_LIMIT = 40


def where_kk(f: Finding, numbers: dict | None = None) -> str:
    """Where a reader finds the figure: the report's own table number for the raw table
    (``numbers``: glued by the notebook's captions), else where the document printed it,
    and the row's label: "3-кесте, «Барлығы» жолы". A report that numbers its tables
    (``numbers`` given) but does not show this one names the document's table as the
    document's ("бастапқы құжаттағы 2-кесте"): its own "2-кесте" may be another table."""
    place = (numbers or {}).get(f.table) or f.printed_in or ""
    if numbers is not None and f.table not in numbers and re.match(r"^\d+-(кесте|сурет)$", place):
        place = f"бастапқы құжаттағы {place}"
    label = f.row_label
    row = (f"{label} жолы" if "«" in label else f"«{label}» жолы") if label else ""
    return ", ".join(x for x in (place, row) if x) or "бастапқы деректер"


_RAW_TABLE = re.compile(r"«([a-z][a-z0-9_]*)» кестесі")


def _table_names(text: str, numbers: dict | None) -> str:
    """A raw table's file name in a remark becomes the report's table ("4-кесте")."""
    return _RAW_TABLE.sub(lambda m: (numbers or {}).get(m.group(1)) or "бастапқы деректер", text)


def reviewer_rows(found: list[Finding], numbers: dict | None = None) -> list[dict]:
    """One row per distinct remark (duplicates merged: the same remark in several places
    lists every place once), in order of first appearance."""
    groups: dict[str, dict] = {}
    for f in found:
        text = _table_names(f.message_kk or f.message, numbers)
        g = groups.setdefault(text, {"text": text, "where": [], "periods": []})
        w = where_kk(f, numbers)
        if w not in g["where"]:
            g["where"].append(w)
        if f.period and f.period not in g["periods"]:
            g["periods"].append(f.period)
    return list(groups.values())


def appendix_markdown(found: list[Finding], report: str, numbers: dict | None = None) -> str:
    """The «Деректер сапасы» appendix for reviewers (Kazakh, by the report's tables and
    rows, duplicates merged); the analyst's file/row/column detail follows collapsed."""
    head = "## Деректер сапасы\n\n"
    if not found:
        return head + ("Бастапқы деректерді автоматты тексеру ешқандай сәйкессіздік таппады: "
                       "көрсетілген жиынтық мәндер мен пайыздар бөліктерден есептелгенмен сәйкес келеді.\n")
    e = html.escape
    rows = reviewer_rows(found, numbers)
    intro = (f"Бастапқы деректерді автоматты тексеру {len(rows)} ескерту берді: құжатта басылған мәндер "
             "бөліктерінен есептелген мәндермен сәйкес келмейтін немесе күмәнді көрінетін жерлер. "
             "Деректер түзетілмеді; баяндамадағы жиынтықтар мен үлестер бөліктерден есептелген "
             "(талдаушы шешімі бойынша өзгеше көрсетілгендері «Түзетулер» кестесінде).\n\n")
    body = []
    for i, r in enumerate(rows[:APPENDIX_LIMIT], 1):
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in (
            i, e("; ".join(r["where"])), e(r["text"]), e(", ".join(r["periods"])))) + "</tr>")
    more = ""
    if len(rows) > APPENDIX_LIMIT:
        more = (f"\n\nТағы {len(rows) - APPENDIX_LIMIT} ескерту бар; толық тізім: "
                f"<code>esep validate {e(report)}</code>.\n")
    table = ("<table class=\"data-quality\">\n<thead><tr><th>№</th><th>Қайда</th><th>Ескерту</th>"
             "<th>Кезең</th></tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>")
    detail = []
    for i, f in enumerate(found[:APPENDIX_LIMIT], 1):
        col = f"{f.letter} ({f.column})" if f.letter and f.column else (f.column or "")
        detail.append("<tr>" + "".join(f"<td>{c}</td>" for c in (
            i, e(f.source.split("/")[-1]), "" if f.row is None else f.row, e(col), e(f.message))) + "</tr>")
    analyst = ("\n\n<details class=\"esep-analyst\"><summary>Талдаушыға: файл, жол және баған "
               "(<code>esep validate</code>)</summary>\n<table class=\"data-quality-detail\">\n<thead><tr>"
               "<th>№</th><th>Файл</th><th>Жол</th><th>Баған</th><th>Ескерту (English)</th></tr></thead>\n"
               "<tbody>\n" + "\n".join(detail) + "\n</tbody>\n</table>\n</details>\n")
    return head + intro + table + more + analyst


def appendix_cell(found: list[Finding], report: str, numbers: dict | None = None):
    import nbformat

    cell = nbformat.v4.new_markdown_cell(appendix_markdown(found, report, numbers))
    cell.metadata["tags"] = ["data-quality"]
    return cell


_CACHE: dict[tuple, list[Finding]] = {}


def for_unit(spec, period: str) -> list[Finding]:
    """Findings for a run unit (cached per report and input file state)."""
    from esep.data import validate

    files = validate.input_files(spec)
    key = (spec.name, period, tuple((str(p), p.stat().st_mtime_ns) for p in files if p.is_file()))
    if key not in _CACHE:
        found, loaded = findings_for(spec, period)
        _CACHE[key] = found
    return _CACHE[key]
