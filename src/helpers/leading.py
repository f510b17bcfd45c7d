"""Pure functions specific to the ``leading_schools`` report (NIS "Leading schools").

DataFrame in, DataFrame (or plain value) out; inputs are never mutated; no file I/O.
Generic pieces (totals, shares, declared-vs-computed) come from :mod:`helpers.tables`.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import pandas as pd

from . import fmt, tables

COUNTRY = "all"          # the ``region`` parameter value meaning the whole country
COUNTRY_NAME = "Қазақстан Республикасы"


# Sections (``metadata.esep.section`` of markdown cells) shown in one kind of run only.
COUNTRY_SECTION = "country"   # national sections: world trends, network, pool, training, platform, survey
REGION_SECTION = "region"     # a region report's own intro, heading and short national context


def sections_skipped(region: str) -> list[str]:
    """Sections a run leaves out, glued as ``sections_skipped`` (the renderer drops their
    markdown cells; their code cells display nothing). A region report is about the
    region — its schools, share of the national network and rank — with a short national
    context; the national sections are the country report's."""
    return [REGION_SECTION] if region == COUNTRY else [COUNTRY_SECTION]


class UnknownRegionError(ValueError):
    """The ``region`` parameter is neither ``all`` nor a known region slug."""


def region_slugs(regions: pd.DataFrame) -> list[str]:
    """Region slugs in file order (part rows only, no blanks)."""
    col = tables.parts(regions)["region_slug"]
    return [str(s) for s in col.dropna().tolist() if str(s).strip()]


def check_region(region: Any, regions: pd.DataFrame, default: str = COUNTRY) -> str:
    """Return ``region`` if it is ``default`` or a known slug, else raise a clear error."""
    known = region_slugs(regions)
    if region == default or region in known:
        return str(region)
    raise UnknownRegionError(
        f"unknown region {region!r}: use {default!r} (whole country) or one of the "
        f"region_slug values of data/raw/leading_schools/regions.csv: {', '.join(known)}")


def rank_desc(values: pd.Series) -> pd.Series:
    """Rank, 1 = largest. Ties share the best rank (66, 66 -> 12, 12, next 14);
    missing values get no rank (<NA>)."""
    return pd.to_numeric(values, errors="coerce").rank(method="min", ascending=False).astype("Int64")


def by_region(df: pd.DataFrame, label_col: str = "region",
              counts: Sequence[str] = ("pilot_schools", "leading_schools"),
              totals: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Regions with each count's share of the national total (``<count>_share_pct``,
    missing = 0 in the base) and rank (``<count>_rank``), plus a ``Барлығы`` row.

    Declared total rows are dropped. By default the national total is computed from the
    parts (shares sum to 100). ``totals`` {count: value}: the total the report prints for
    a count (the analyst may keep the source's printed total, see
    ``data/raw/<report>/decisions.yaml``); it is then the ``Барлығы`` value and the base
    of the shares, and the total row's share is the parts' sum as a percent of it.
    The total row's ranks are missing.
    """
    totals = dict(totals or {})
    body = tables.parts(df).reset_index(drop=True)
    shares = []
    for c in counts:
        stem = c.removesuffix("_schools")
        body = tables.add_share(body, c, f"{stem}_share_pct", base=totals.get(c))
        body[f"{stem}_rank"] = rank_desc(body[c])
        shares.append(f"{stem}_share_pct")
    out = tables.with_total(body, label_col, [*counts, *shares])
    is_total = out["row_type"] == "total"
    for c in counts:
        stem = c.removesuffix("_schools")
        out[f"{stem}_rank"] = out[f"{stem}_rank"].astype("Int64")
        if c in totals and not fmt.is_missing(totals[c]):
            out.loc[is_total, c] = totals[c]
    return out


def network_table(network: pd.DataFrame, leading: Any = None, total: Any = None,
                  key: str = "leading") -> pd.DataFrame:
    """The network of schools (parts + ``Барлығы``) with each category's share of the total.

    ``leading``: the number of leading schools the report prints (e.g. the sum over the
    regions) in place of the ``category_key == key`` row's printed value; ``total``: the
    total the report prints (default: the sum of the parts as shown). Shares are of the
    total shown; the total row's share is the sum of the parts' shares.
    """
    body = tables.parts(network).reset_index(drop=True)
    if not fmt.is_missing(leading):
        body["schools"] = body["schools"].astype("object")
        body.loc[body["category_key"] == key, "schools"] = leading
        body["schools"] = pd.to_numeric(body["schools"])
    out = tables.with_total(body, "category", "schools")
    if not fmt.is_missing(total):
        out.loc[out["row_type"] == "total", "schools"] = total
    is_total = out["row_type"] == "total"
    out = tables.add_share(out, "schools", "share_pct", base=out.loc[is_total, "schools"].iloc[0])
    out.loc[is_total, "share_pct"] = out.loc[~is_total, "share_pct"].sum()   # the parts' shares
    return out


def ties(table: pd.DataFrame, slug: str, rank_col: str = "leading_rank") -> list[str]:
    """Names of the other regions sharing ``slug``'s rank (file order); [] without ties."""
    body = tables.parts(table)
    own = body.loc[body["region_slug"] == slug, rank_col]
    if own.empty or pd.isna(own.iloc[0]):
        return []
    same = body[(body[rank_col] == own.iloc[0]) & (body["region_slug"] != slug)]
    return [str(n) for n in same["region"]]


def focus_slug(table: pd.DataFrame, region: str, count: str = "leading_schools") -> str:
    """The region a report describes: ``region`` itself, or for the country report the
    region ranked first by ``count`` (first in file order on a tie)."""
    if region != COUNTRY:
        return region
    body = tables.parts(table)
    values = pd.to_numeric(body[count], errors="coerce")
    return str(body.loc[values.idxmax(), "region_slug"])


def profile(table: pd.DataFrame, slug: str) -> dict[str, Any]:
    """One region's figures from a :func:`by_region` table, as plain values.

    Keys: region_slug, region, leading_schools, pilot_schools, leading_share_pct,
    pilot_share_pct, leading_rank, pilot_rank, regions (number of regions ranked).
    """
    body = tables.parts(table)
    row = body[body["region_slug"] == slug]
    if len(row) != 1:
        raise UnknownRegionError(f"region {slug!r}: expected one row, found {len(row)}")
    r = row.iloc[0]
    out = {"region_slug": slug, "region": str(r["region"]), "regions": int(len(body))}
    for key in ("leading_schools", "pilot_schools", "leading_share_pct", "pilot_share_pct",
                "leading_rank", "pilot_rank"):
        v = r[key]
        out[key] = None if pd.isna(v) else (int(v) if key.endswith(("_schools", "_rank")) else float(v))
    return out


def respondents(waves: pd.DataFrame) -> pd.DataFrame:
    """Survey waves wide: one row per wave with heads, teachers, computed total and the
    heads' share of the wave (percent); the printed totals are not used."""
    body = tables.parts(waves)
    keys = ["wave", "period", "school_type"]
    w = tables.wide(body, index=keys, columns="role_key", values="respondents")
    roles = [c for c in w.columns if c not in keys]
    w["total"] = [tables.total(w.loc[i, roles]) for i in w.index]
    w = tables.add_share(w, "heads", "heads_share_pct", base="total")
    return w


def declared_vs_computed(df: pd.DataFrame, label_col: str, value_cols: Sequence[str] | str,
                         table: str, by: Sequence[str] | str | None = None) -> pd.DataFrame:
    """Where a printed total (``row_type == total``) disagrees with the sum of the parts.

    Returns ``table, <by...>, label, column, declared, computed, difference``; empty
    (same columns) when all agree or nothing is printed.
    """
    value_cols = [value_cols] if isinstance(value_cols, str) else list(value_cols)
    by = [by] if isinstance(by, str) else list(by or [])
    printed = tables.declared(df)
    cols = ["table", *by, "label", "column", "declared", "computed", "difference"]
    if printed.empty:
        return pd.DataFrame(columns=cols)
    computed = tables.declared(tables.with_total(df, label_col, value_cols, by=by or None))
    on = [*by, label_col]
    diff = tables.compare_declared(computed, printed, on=on, columns=value_cols,
                                   missing_as_zero=True)
    diff = diff.rename(columns={label_col: "label"})
    diff.insert(0, "table", table)
    return diff[cols].reset_index(drop=True)



# --- the slides' words (texts.csv) ----------------------------------------------------

def text_items(texts: pd.DataFrame, key: str) -> pd.DataFrame:
    """The rows of one ``texts.csv`` key in ``item`` order, as ``title`` / ``text``
    (a printed trailing ``;`` or ``.`` of a list item dropped)."""
    rows = texts[texts["key"] == key].sort_values("item", kind="stable")
    out = pd.DataFrame({
        "title": [None if pd.isna(t) or not str(t).strip() else str(t).strip() for t in rows["title"]]
        if "title" in rows else [None] * len(rows),
        "text": [str(t).strip().rstrip(";").strip() for t in rows["text"]],
    })
    return out.reset_index(drop=True)


def text_value(texts: pd.DataFrame, key: str) -> str | None:
    """The single text of a ``texts.csv`` key (None when absent)."""
    items = text_items(texts, key)
    return None if items.empty else items["text"].iloc[0]


def markdown_list(items: Sequence[str], numbered: bool = False) -> str | None:
    """Items as a Markdown list ("- a;" … "- z." or "1. a;" …); None for no items.
    An item's own final ``.``/``;`` is not doubled."""
    items = [str(i).strip().rstrip(".;").strip() for i in items]
    if not items:
        return None
    last = len(items) - 1
    return "\n".join(f"{f'{n + 1}.' if numbered else '-'} {t}{'.' if n == last else ';'}"
                     for n, t in enumerate(items))


def repeated_names_note(indicators: pd.DataFrame) -> str | None:
    """"7 және 8-көрсеткіштердің атауы слайдта бірдей берілген." when indicators share
    one printed name (numbers from ``indicator_no``); None when every name is unique."""
    dup = indicators[indicators.duplicated("indicator", keep=False)]
    if dup.empty:
        return None
    groups = [[str(int(n)) for n in g["indicator_no"]] for _, g in dup.groupby("indicator", sort=False)]
    said = "; ".join(" және ".join([", ".join(g[:-1]), g[-1]] if len(g) > 1 else g) for g in groups)
    return f"{said}-көрсеткіштердің атауы слайдта бірдей берілген."


def slide_label(source: Any) -> str | None:
    """"«Blog for sharing experience…» слайды" from a ``source`` cell such as
    "slide «Blog for sharing experience…» (platform sections)" (None when it names no slide)."""
    import re

    m = re.search(r"«[^»]*»", "" if source is None or pd.isna(source) else str(source))
    return None if m is None else f"{m.group(0)} слайды"
