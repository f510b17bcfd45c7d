"""Pure functions specific to the ``oblast_experiment`` report.

Windows of school years, percentages of an explicit base (the seed's ``%`` rows),
two-level pivots, district rankings and district-vs-oblast comparisons. DataFrame in,
new DataFrame out; inputs never mutated; no file I/O.
"""
from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any, Sequence

import numpy as np
import pandas as pd

from . import fmt, report
from .tables import parts

ROUNDING = {"floor": ROUND_DOWN, "half_up": ROUND_HALF_UP, "round": ROUND_HALF_UP}


def window(available: Sequence[str], period: str, size: int = 3) -> list[str]:
    """The last ``size`` periods of ``available`` up to and including ``period``, oldest first.

    ``window(["2021-2022", "2022-2023", "2023-2024"], "2022-2023")`` ->
    ``["2021-2022", "2022-2023"]`` (the data starts there). Raises ValueError when
    ``period`` is not in ``available``.
    """
    ordered = sorted(dict.fromkeys(str(p) for p in available))
    if str(period) not in ordered:
        raise ValueError(f"period {period!r} not in the data (available: {', '.join(ordered)})")
    upto = [p for p in ordered if p <= str(period)]
    return upto[-size:]


def base_for(bases: pd.DataFrame, table: str, period: str) -> dict:
    """The explicit base row of ``percent_base`` for one table and period.

    Returns ``{"base": int, "rounding": str, "decimals": int}``; KeyError naming the
    table and period when the data has no such row.
    """
    rows = bases[(bases["table"] == table) & (bases["period"].astype(str) == str(period))]
    if len(rows) != 1:
        raise KeyError(f"percent_base: expected one row for table={table!r}, period={period!r}, "
                       f"found {len(rows)}")
    r = rows.iloc[0]
    return {"base": int(r["base"]), "rounding": str(r["rounding"]), "decimals": int(r["decimals"])}


def share_of_base(value: Any, base: Any, decimals: int = 1, rounding: str = "floor") -> float:
    """``value / base * 100`` in exact decimal arithmetic, cut to ``decimals`` places.

    ``rounding``: ``"floor"`` (truncate, as the seed's ``%`` rows do) or ``"half_up"`` (alias ``"round"``).
    Missing value or a zero/missing base -> NaN.
    """
    if rounding not in ROUNDING:
        raise ValueError(f"rounding must be one of {sorted(ROUNDING)}, got {rounding!r}")
    if fmt.is_missing(value) or fmt.is_missing(base) or float(base) == 0:
        return float("nan")
    q = fmt.to_decimal(value) * 100 / fmt.to_decimal(base)
    return float(q.quantize(Decimal(1).scaleb(-decimals), rounding=ROUNDING[rounding]))


def add_base_share(df: pd.DataFrame, col: str, bases: pd.DataFrame, table: str,
                   name: str = "share_pct", period_col: str = "period") -> pd.DataFrame:
    """Copy of ``df`` with ``name`` = ``col`` as a percent of that row's period base
    (from ``percent_base``, with the rounding and decimals recorded there)."""
    out = df.copy()
    vals = []
    for v, p in zip(out[col].tolist(), out[period_col].tolist()):
        b = base_for(bases, table, p)
        vals.append(share_of_base(v, b["base"], b["decimals"], b["rounding"]))
    out[name] = pd.Series(vals, index=out.index, dtype="float64")
    return out


def wide2(df: pd.DataFrame, index: str, columns: Sequence[str], value: str) -> pd.DataFrame:
    """Long -> wide with two-level columns ``(columns[0] value, columns[1] value)``.

    Row and column order is the order of first appearance; the index becomes the first
    column (header ``(index, "")``). Integral float columns come back as int.
    """
    c1, c2 = columns
    dup = df.duplicated(subset=[index, c1, c2])
    if dup.any():
        raise ValueError(f"wide2(): duplicate rows for {[index, c1, c2]}")
    rows = list(dict.fromkeys(df[index].tolist()))
    cols = list(dict.fromkeys(zip(df[c1].tolist(), df[c2].tolist())))
    p = df.pivot(index=index, columns=[c1, c2], values=value)
    p = p.reindex(index=rows, columns=pd.MultiIndex.from_tuples(cols))
    out = p.reset_index()
    out.columns = pd.MultiIndex.from_tuples([(index, "")] + cols)
    for c in out.columns[1:]:
        s = pd.to_numeric(out[c], errors="coerce")
        if s.notna().all() and (s % 1 == 0).all():
            out[c] = s.astype("int64")
        else:
            out[c] = s.astype("float64")
    return out


def rank(df: pd.DataFrame, value: str, label: str, tiebreak: Sequence[str] = ()) -> pd.DataFrame:
    """Part rows sorted by ``value`` descending with a ``rank`` column (ties share the
    best rank, "min" method); ``tiebreak`` columns only order tied rows, missing = 0."""
    body = parts(df).reset_index(drop=True)
    keys = [value, *tiebreak]
    filled = body[keys].apply(pd.to_numeric, errors="coerce").fillna(0)
    order = filled.sort_values(keys, ascending=False, kind="mergesort").index
    out = body.loc[order].reset_index(drop=True)
    out["rank"] = filled.loc[order, value].rank(method="min", ascending=False).astype("int64").to_numpy()
    return out[[label, *[c for c in out.columns if c not in (label, "rank")], "rank"]]


def versus_oblast(scope: pd.DataFrame, oblast: pd.DataFrame, by: Sequence[str], value: str,
                  n_districts: int) -> pd.DataFrame:
    """The scope's (a district's) sums of ``value`` per ``by`` next to the oblast's.

    Columns: ``by``..., ``district``, ``oblast``, ``share_pct`` (district as percent of
    the oblast), ``oblast_mean`` (oblast sum / ``n_districts``). Sums count missing as
    0. Every row of both frames is summed, so pass part rows, or part rows plus
    computed total rows (``tables.with_total``) whose label sits in a ``by`` column.
    """
    by = list(by)
    # a district's blank cell (all its rows missing) stays missing: printed «-» as in the oblast table
    d = scope.groupby(by, sort=False)[value].sum(min_count=1).rename("district")
    o = oblast.groupby(by, sort=False)[value].sum(min_count=0).rename("oblast")
    present = scope.groupby(by, sort=False)[value].size().rename("n")
    out = pd.concat([d, o, present], axis=1).reindex(o.index)
    out.loc[out["n"].isna(), "district"] = 0           # no row at all for the district: none
    out = out.drop(columns="n").reset_index()
    out["district"] = out["district"].astype("Int64")
    out["oblast"] = out["oblast"].astype("int64")
    out["share_pct"] = (out["district"].astype("float64") / out["oblast"].replace(0, np.nan) * 100).astype("float64")
    out["oblast_mean"] = out["oblast"] / n_districts
    return out


def passport_rows(passport: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """One row per passport key in ``keys`` order, as ``label`` / ``text``; list-valued
    keys become one text ``1. ...; 2. ...`` (items in ``item`` order). Unknown keys
    are skipped."""
    rows = []
    for k in keys:
        items = passport[passport["key"] == k].sort_values("item")
        if len(items) == 0:
            continue
        if len(items) > 1:
            # an item printed with its own full stop must not become ".;"
            text = "; ".join(f"{int(i)}. {str(v).strip().rstrip('.;').strip()}"
                             for i, v in zip(items["item"], items["value"])) + "."
        else:
            text = str(items["value"].iloc[0])
        rows.append({"label": str(items["label"].iloc[0]), "text": text})
    return pd.DataFrame(rows, columns=["label", "text"])



def add_row_total(df: pd.DataFrame, cols: Sequence[str], name: str = "total") -> pd.DataFrame:
    """Copy of ``df`` with ``name`` = row-wise sum of ``cols`` (missing counts as 0)."""
    out = df.copy()
    vals = out[list(cols)].apply(pd.to_numeric, errors="coerce").fillna(0).sum(axis=1)
    out[name] = vals.astype("int64") if (vals % 1 == 0).all() else vals
    return out


def slips(named: dict, item_cols: Sequence[str] = ("category", "level"),
          column_labels: dict | None = None) -> pd.DataFrame:
    """Stack ``compare_declared`` results of several tables into one frame.

    ``named`` maps a table title -> its compare_declared frame. Columns: ``table``,
    ``period``, ``item`` (the first present of ``item_cols``), ``column`` (relabelled by
    ``column_labels``), ``declared``, ``computed``, ``difference``. Empty when all agree.
    """
    labels = dict(column_labels or {})
    cols = ["table", "period", "item", "column", "declared", "computed", "difference"]
    pieces = []
    for title, df in named.items():
        if df is None or len(df) == 0:
            continue
        item = next((c for c in item_cols if c in df.columns), None)
        # the computed value as the tables print it (the report's one rounding rule), and the
        # difference between the two printed values (8,6 against 8,5 is -0,1, never 0,0)
        computed = [float(fmt.rounded(v, 1)) if not fmt.is_missing(v) else float("nan")
                    for v in pd.to_numeric(df["computed"], errors="coerce").tolist()]
        declared = pd.to_numeric(df["declared"], errors="coerce").astype("float64").tolist()
        pieces.append(pd.DataFrame({
            "table": title,
            "period": df["period"].astype(str).tolist(),
            "item": df[item].astype(str).tolist() if item else "",
            "column": [labels.get(c, c) for c in df["column"]],
            "declared": declared,
            "computed": computed,
            "difference": [round(c - d, 6) for c, d in zip(computed, declared)],
        }))
    if not pieces:
        return pd.DataFrame(columns=cols)
    return pd.concat(pieces, ignore_index=True)[cols]


def glue(name: str, value: Any) -> Any:
    """:func:`helpers.report.glue`, safe for text values.

    scrapbook's json encoder runs ``json.loads`` on a ``str`` (so ``"2024"`` would come
    back as the int 2024 and ``"Ақжайық"`` fails); text is therefore glued as its JSON
    document. Everything else goes through ``report.glue`` unchanged.
    """
    v = report.plain(value)
    if isinstance(v, str):
        import json

        if not name.isidentifier() or name != name.lower():
            raise ValueError(f"glue name must be snake_case: {name!r}")
        report.emit_scrap(name, json.dumps(v, ensure_ascii=False), "json")  # = scrapbook.glue
        return v
    return report.glue(name, v)


def sum_by(df: pd.DataFrame, by: Sequence[str] | str, value: str, keep_missing: bool = False) -> pd.DataFrame:
    """Sums of ``value`` over the part rows per ``by`` group (order of first appearance;
    missing counts as 0; an all-missing group sums to 0, or stays missing with
    ``keep_missing``: one district's blank cell prints «-» as in the oblast table)."""
    by = [by] if isinstance(by, str) else list(by)
    body = parts(df)
    vals = pd.to_numeric(body[value], errors="coerce")
    out = (body.assign(**{value: vals if keep_missing else vals.fillna(0)})
           .groupby(by, sort=False, dropna=False)[value].sum(min_count=1 if keep_missing else 0).reset_index())
    if out[value].notna().all() and (out[value] % 1 == 0).all():
        out[value] = out[value].astype("int64")
    elif (out[value].dropna() % 1 == 0).all():
        out[value] = out[value].astype("Int64")
    return out


def passport_value(passport: pd.DataFrame, key: str) -> Any:
    """The single value of a passport key (None when absent)."""
    v = passport[passport["key"] == key]["value"]
    return None if v.empty else v.iloc[0]


def order_line(passport: pd.DataFrame, oblast: str) -> str:
    """"Батыс Қазақстан облысы білім басқармасының 2024 жылғы 28 қарашадағы №1402 бұйрығы",
    from the passport's ``order_date`` and ``order_number`` rows."""
    from . import kazakh

    num, date = passport_value(passport, "order_number"), passport_value(passport, "order_date")
    if num is None:
        return "-"
    when = "" if date is None else kazakh.date_attr(date) + " "
    return f"{oblast} білім басқармасының {when}№{num} бұйрығы"


def order_value(order: pd.DataFrame, key: str) -> Any:
    """The single ``value`` of an ``order.csv`` key (None when absent)."""
    v = order[order["key"] == key].sort_values("item")["value"]
    return None if v.empty else v.iloc[0]


def order_preamble(order: pd.DataFrame) -> str | None:
    """The order's basis and purpose as one clause, from ``order.csv``:
    "Білім басқармасының 2022 жылғы 26 қыркүйектегі №763 бұйрығына сәйкес … мақсатында".
    None when the data has no basis row."""
    from . import kazakh

    issuer, num = order_value(order, "basis_issuer"), order_value(order, "basis_number")
    if issuer is None or num is None:
        return None
    *head, last = str(issuer).split()
    who = " ".join([*head, kazakh.inflect(last, "gen")])
    date = order_value(order, "basis_date")
    when = "" if date is None else kazakh.date_attr(date) + " "
    purpose = order_value(order, "purpose")
    return (f"{who} {when}№{num} бұйрығына сәйкес"
            + ("" if purpose is None else f" {str(purpose).strip().rstrip('.')} мақсатында"))


def numbered_points(order: pd.DataFrame, key: str = "point") -> str | None:
    """The order's numbered points as a Markdown list ("1. …;" … "6. …."), items in
    ``item`` order; a printed trailing ``;`` or ``.`` is not doubled. None when absent."""
    items = order[order["key"] == key].sort_values("item")
    if items.empty:
        return None
    texts = [str(v).strip().rstrip(".;").strip() for v in items["value"]]
    return "\n".join(f"{int(i)}. {t}{';' if n < len(texts) - 1 else '.'}"
                     for n, (i, t) in enumerate(zip(items["item"], texts)))


def signature(passport: pd.DataFrame) -> str | None:
    """"Басқарма басшысы Е.Сафуллин": the passport's ``issuer`` row (label = the post)."""
    rows = passport[passport["key"] == "issuer"]
    if rows.empty:
        return None
    r = rows.iloc[0]
    return " ".join(str(x).strip() for x in (r.get("label"), r["value"]) if not fmt.is_missing(x))


def paragraphs(texts: pd.DataFrame, key: str) -> str | None:
    """The ``text`` paragraphs of one key of a texts table, blank-line separated (None when absent)."""
    rows = texts[texts["key"] == key].sort_values("item")
    return None if rows.empty else "\n\n".join(str(t).strip() for t in rows["text"])


def percent_base_note(bases: pd.DataFrame, table: str, what: str) -> str:
    """The "%" row note from ``percent_base.csv``: the base and how the seed cut it."""
    b = bases[bases["table"] == table]
    if b.empty:
        return f"«%» жолы: {what} үлесі."
    values = sorted({int(v) for v in b["base"]})
    rule = {"floor": "қиылған", "half_up": "дөңгелектенген", "round": "дөңгелектенген"}
    cut = sorted({rule.get(str(r), str(r)) for r in b["rounding"]})
    dec = sorted({int(d) for d in b["decimals"]})
    places = {0: "бүтін санға", 1: "бір ондық белгіге", 2: "екі ондық белгіге"}
    return (f"«%» жолы: {what} жоба қатысушыларының белгіленген санына "
            f"({', '.join(fmt.num(v) for v in values)}) шаққандағы үлесі, "
            f"{' / '.join(places.get(d, f'{d} белгіге') for d in dec)} дейін {' / '.join(cut)} "
            "(баяндамадағыдай).")


# --- bases the data-quality check flags (copied rows, implausible jumps) --------------

def flagged_cells(df: pd.DataFrame, copies: pd.DataFrame, jumps: pd.DataFrame, item: str) -> pd.DataFrame:
    """The part cells of ``df`` that the «Деректер сапасы» appendix points at: every cell
    of a district's row (one period) that repeats another district's row (``copies``:
    :func:`helpers.quality.flagged` of the ``duplicate_profile`` rules), and the later cell
    of an implausible jump (``jumps``: of the ``jump`` rules). Columns ``district_slug``,
    ``district``, ``period``, ``item`` (the value of column ``item``), ``value``, ``why``
    (``copy`` / ``jump``), ``copy_of`` (copied district), ``before_period``, ``before``."""
    cols = ["district_slug", "district", "period", "item", "value", "why", "copy_of", "before_period", "before"]
    body = parts(df)
    rows = []
    for c in (copies.itertuples() if len(copies) else []):
        hit = body[(body["district_slug"] == c.entity) & (body["period"].astype(str) == str(c.period))]
        for r in hit.itertuples():
            rows.append({"district_slug": r.district_slug, "district": r.district, "period": str(r.period),
                         "item": getattr(r, item), "value": getattr(r, "achievements", None)
                         if "achievements" in body.columns else getattr(r, "teachers", None),
                         "why": "copy", "copy_of": c.copy_of, "before_period": None, "before": None})
    for j in (jumps.itertuples() if len(jumps) else []):
        hit = body[(body["district_slug"] == j.district_slug) & (body["period"].astype(str) == str(j.after_period))
                   & (body[item] == getattr(j, item))]
        for r in hit.itertuples():
            rows.append({"district_slug": r.district_slug, "district": r.district, "period": str(r.period),
                         "item": getattr(r, item), "value": j.after, "why": "jump", "copy_of": None,
                         "before_period": str(j.before_period), "before": j.before})
    out = pd.DataFrame(rows, columns=cols)
    return out.drop_duplicates(subset=["district_slug", "period", "item"]).reset_index(drop=True)


def with_flags(df: pd.DataFrame, cells: pd.DataFrame, item: str, name: str = "flagged") -> pd.DataFrame:
    """Copy of ``df`` with a boolean column ``name``: the row's cell is one of ``cells``
    (:func:`flagged_cells`); a total row (``row_type == "total"``) or a row whose
    ``district_slug`` is missing is False (aggregate the part rows' flags instead)."""
    keys = set(zip(cells["district_slug"], cells["period"].astype(str), cells["item"]))
    out = df.copy()
    out[name] = [(d, str(p), i) in keys for d, p, i in
                 zip(out["district_slug"], out["period"], out[item])]
    return out


def any_by(df: pd.DataFrame, by: Sequence[str] | str, flag: str = "flagged") -> pd.DataFrame:
    """``flag`` aggregated with any() over the part rows per ``by`` group (order of first
    appearance)."""
    by = [by] if isinstance(by, str) else list(by)
    return parts(df).groupby(by, sort=False, dropna=False)[flag].any().reset_index()


def flag_text(cells: pd.DataFrame, item_labels: dict | None = None, short: bool = False) -> str:
    """Kazakh words for flagged cells: "Шыңғырлау ауданының 2023, 2024 жылғы мәндері Ақжайық
    ауданының мәндерін толық қайталайды" / "Сырым / Зерттеуші: 2022-2023 — 0 (2021-2022
    жылы 10)"; '' when none."""
    if cells is None or cells.empty:
        return ""
    labels = dict(item_labels or {})
    out = []
    copies = cells[cells["why"] == "copy"]
    for (d, src), g in copies.groupby(["district", "copy_of"], sort=False):
        years = ", ".join(dict.fromkeys(g["period"].astype(str)))
        if short:      # for the «Түзетулер» table: "Шыңғырлау 2023, 2024 – Ақжайық жолдарының көшірмесі"
            out.append(f"{d} {years} – {src} жолдарының көшірмесі")
            continue
        out.append(f"{d} ауданының {years} жылғы мәндері {src} ауданының мәндерін толық қайталайды, "
                   "тексеру оларды көшірме деп белгіледі")
    jumps = []
    for r in cells[cells["why"] == "jump"].itertuples():
        if short:      # "Сырым / Зерттеуші 2022-2023: 10 -> 0"
            out.append(f"{r.district} / {labels.get(r.item, r.item)} {r.period}: {fmt.auto(r.before)} → "
                       f"{fmt.auto(r.value)} (күрт өзгеріс)")
            continue
        jumps.append(f"{r.district} / {labels.get(r.item, r.item)} ({r.before_period} – {fmt.auto(r.before)}, "
                     f"{r.period} – {fmt.auto(r.value)})")
    if jumps:
        out.append(f"{', '.join(jumps)} мәндерін тексеру күрт өзгеріс деп белгіледі")
    return "; ".join(out)


def flag_cells_of(flags: pd.DataFrame, index_col: Any, value_cols: Sequence[Any]) -> list[tuple[Any, Any]]:
    """(row index, column) of every True cell of a boolean frame shaped like a printed
    table (``index_col`` holds row labels and is skipped)."""
    out = []
    for i in flags.index:
        for c in value_cols:
            v = flags.loc[i, c]
            if c != index_col and not fmt.is_missing(v) and not isinstance(v, str) and bool(v):
                out.append((i, c))
    return out


def flag_marks(ledger: Any, flags: pd.DataFrame, label_col: Any, figure: str, label: str, why: str,
               named: dict | None = None) -> tuple[dict, set]:
    """Caveat marks for a printed table's cells that rest on a flagged base.

    ``flags``: a boolean (or 0/1) frame shaped like the printed table (same index and
    columns; ``label_col`` holds the row labels). Cells listed in ``named`` ({cell: figure})
    print a figure the text prints too and carry that figure's mark; the other flagged
    cells share one ledger entry ``figure`` (``label``: which table and cells, ``why``: the
    reason). Returns ({cell: [figure, ...]}, cells to withhold) as decisions.yaml says."""
    named = dict(named or {})
    cells = flag_cells_of(flags, label_col, [c for c in flags.columns if c != label_col])
    marks: dict = {}
    withheld: set = set()
    group = [c for c in cells if c not in named]
    if group:
        ledger.flagged(figure, "кестеде", why, label=label)
        c = ledger.get(figure)
        if c is not None:
            for cell in group:
                marks[cell] = [figure]
            if c.kept == "withheld":
                withheld |= set(group)
    for cell in cells:
        if cell in named:
            c = ledger.get(named[cell])
            if c is not None:
                marks[cell] = [named[cell]]
                if c.kept == "withheld":
                    withheld.add(cell)
    return marks, withheld


def merge_marks(*many: dict) -> dict:
    """{cell: [figure, ...]} of several mark dicts (a value may be a name or a list)."""
    out: dict = {}
    for m in many:
        for cell, f in (m or {}).items():
            out.setdefault(cell, []).extend([f] if isinstance(f, str) else list(f))
    return out


def blank(df: pd.DataFrame, cells: Any) -> pd.DataFrame:
    """Copy of ``df`` with the given (row index, column) cells missing (withheld)."""
    out = df.copy()
    for i, c in cells:
        if pd.api.types.is_integer_dtype(out[c]):
            out[c] = out[c].astype("float64")
        out.loc[i, c] = np.nan
    return out


def headline(ledger: Any, name: str, first: Any, last: Any, flagged_first: bool, flagged_last: bool,
             flag_words: str, unit: str, since: str, where: str, first_label: str, last_label: str,
             why: str | None = None) -> dict:
    """The text's first/last totals and their change, as glued figures (``{name}_total_first``,
    ``_last``, ``_change``, ``_change_pct``, ``_change_text``, ``_caveat``).

    A total that includes a flagged cell (``flagged_first`` / ``flagged_last``) and the change
    computed from it go through ``ledger.flagged``: marked (caveat, the default), withheld
    (None; the text says so) or shown plainly, as decisions.yaml says. ``flag_words``: the
    flagged cells in words (:func:`flag_text`); ``since``: "2021-2022 оқу жылымен
    салыстырғанда"; ``where``: the table that prints the totals ("3-кесте")."""
    from . import kazakh, tables

    why = why or f"деректер сапасы тексеруі белгілеген мәндерді қамтиды: {flag_words}"
    kept: list[str] = []

    def flag(fig: str, value: Any, on: bool, label: str, shown: Any = None) -> Any:
        if not on or value is None:
            return value
        ledger.flagged(fig, value if shown is None else shown, why, label=label)
        c = ledger.get(fig)
        if c is None:
            return value
        kept.append(c.kept)
        return None if c.kept == "withheld" else value

    out = {}
    first_v = flag(f"{name}_total_first", first, flagged_first, f"{where}, «Барлығы» жолы, {first_label}")
    last_v = flag(f"{name}_total_last", last, flagged_last, f"{where}, «Барлығы» жолы, {last_label}")
    change = None if fmt.is_missing(first) or fmt.is_missing(last) else tables.change(first, last)
    pct = None if change is None else tables.growth_pct(first, last)
    pct = None if fmt.is_missing(pct) else pct
    if change is not None and (flagged_first or flagged_last):
        shown = f"{fmt.signed(change)} ({fmt.signed_pct(pct)})" if pct is not None else fmt.signed(change)
        if flag(f"{name}_total_change", change, True,
                f"{where}, «Барлығы» жолы: {first_label} – {last_label} өзгерісі", shown) is None:
            change = pct = None
        ledger.also(f"{name}_total_change", f"{name}_total_change_pct", f"{name}_total_change_text")
    if first_v is None or last_v is None:
        change = pct = None
    out[f"{name}_total_first"] = first_v
    out[f"{name}_total_last"] = last_v
    out[f"{name}_total_change"] = change
    out[f"{name}_total_change_pct"] = pct
    # kazakh.change rounds half up: give it the share already cut by the report's one rule
    out[f"{name}_total_change_text"] = (f"{since} {kazakh.change(change, unit, pct=None if pct is None else fmt.rounded(pct, 1))}"
                                        if change is not None
                                        else "өзгерісі көрсетілмеді")
    if "withheld" in kept:
        out[f"{name}_total_caveat"] = f" ({flag_words}: сондықтан бұл мәндерге сүйенетін сандар көрсетілмеді)"
    elif "caveat" in kept:
        out[f"{name}_total_caveat"] = f" (ескерту: {flag_words}; бұл мәндерге сүйенетін сандар сенімсіз)"
    else:
        out[f"{name}_total_caveat"] = ""
    return out
