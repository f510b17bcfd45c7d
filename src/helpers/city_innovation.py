"""Builders for the ``city_innovation`` report (a city's innovation projects per semester).

Pure functions over the processed tables of ``data/raw/city_innovation/`` (see its
README): frames in, new frames (or plain numbers) out. Every total, share and change is
computed from the part rows; printed values are only compared (:func:`checks`).
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from . import fmt, tables

TOTAL = tables.TOTAL
HEADLINE_SOURCE = "мәтін (кіріспе)"
FIGURE1_SOURCE = "1-сурет"
ALL_PROJECTS_LABEL = "Барлық инновациялық жобалар"
LEVEL = "level"


def _present(df: pd.DataFrame, periods: Iterable[str]) -> list[str]:
    have = set(df["period"].astype(str))
    return [p for p in periods if p in have]


def _num(x: Any) -> Any:
    """Plain int/float (None for missing) for glue and narrative."""
    if fmt.is_missing(x):
        return None
    v = float(x)
    return int(v) if v.is_integer() else v


def value(df: pd.DataFrame, col: str, **where: Any) -> Any:
    """The single value of ``col`` in the rows matching ``where`` (None if no row, or if
    ``df`` is empty, e.g. a section without data)."""
    if df.empty:
        return None
    rows = tables.only(df, **where)
    if rows.empty:
        return None
    if len(rows) > 1:
        raise ValueError(f"value(): {len(rows)} rows match {where}")
    return _num(rows[col].iloc[0])


def quoted(df: pd.DataFrame) -> dict[str, Any]:
    """``quoted.csv`` rows as {key: value} (one period/city already selected)."""
    return {k: _num(v) for k, v in zip(df["key"], df["value"])}


def total_label_last(df: pd.DataFrame, label_col: Any, label: str = TOTAL) -> pd.DataFrame:
    is_total = (df[label_col] == label).fillna(False).astype(bool)
    return pd.concat([df[~is_total], df[is_total]], ignore_index=True)


def numbered(df: pd.DataFrame, label_col: Any, name: Any = "№", label: str = TOTAL) -> pd.DataFrame:
    """Copy with a first column ``name`` = 1, 2, ... on part rows, empty on the total row."""
    out = df.copy()
    is_total = (out[label_col] == label).fillna(False).astype(bool).to_numpy()
    nums = np.cumsum(~is_total).astype(float)
    nums[is_total] = np.nan
    out.insert(0, name, pd.array([None if np.isnan(n) else int(n) for n in nums], dtype="Int64"))
    return out


# --- headline ------------------------------------------------------------------

def headline(kinds: pd.DataFrame, projects: pd.DataFrame) -> pd.DataFrame:
    """Projects by kind (as stated in the text) with pupils summed from table 5 by kind,
    a computed total row and each kind's share of pupils."""
    text = tables.parts(kinds[kinds["source"] == HEADLINE_SOURCE])
    if text.empty:
        return pd.DataFrame()
    pupils = tables.parts(projects).groupby("kind_key", sort=False)["pupils"].sum(min_count=1)
    out = text[["kind_key", "kind", "projects"]].copy()
    out["pupils"] = pd.array([pupils.get(k, pd.NA) for k in out["kind_key"]], dtype="Int64")
    out = tables.with_total(out, "kind", ["projects", "pupils"])
    return tables.add_share(out, "pupils", "pupils_pct")


def figure1(kinds: pd.DataFrame, source: str = HEADLINE_SOURCE) -> pd.DataFrame:
    """Figure 1 bars: computed "all projects" first, then each kind (as in the seed).

    Drawn from the same rows as the introduction (``source`` = the intro's counts) so the
    figure and the text show one value per kind; the seed's own figure printed other
    numbers (see :func:`figure1_printed`)."""
    fig = tables.parts(kinds[kinds["source"] == source])[["kind_key", "kind", "projects"]]
    if fig.empty:
        return pd.DataFrame()
    out = tables.with_total(fig, "kind", "projects", label=ALL_PROJECTS_LABEL)
    return pd.concat([out.tail(1), out.iloc[:-1]], ignore_index=True)


# --- tables by level (1, 2, 4) -------------------------------------------------

def by_level(df: pd.DataFrame, periods: Sequence[str], labels: dict[str, str],
             top: str = "values") -> pd.DataFrame:
    """Levels x periods, projects and orgs, with a computed total per period.

    Only the periods present in ``df`` are kept (empty frame if none)."""
    keep = _present(df, periods)
    d = tables.parts(df[df["period"].isin(keep)])
    if d.empty:
        return pd.DataFrame()
    d = d.assign(period=pd.Categorical(d["period"], categories=keep, ordered=True)).sort_values(
        "period", kind="stable")
    d["period"] = d["period"].astype(str)
    tot = tables.with_total(d[["period", LEVEL, "projects", "orgs"]], LEVEL,
                            ["projects", "orgs"], by="period")
    w = tables.wide(tot, LEVEL, "period", ["projects", "orgs"], labels=labels, top=top)
    return total_label_last(w, (LEVEL, ""))


def level_totals(df: pd.DataFrame, period: str) -> dict[str, Any]:
    """Computed totals of one period: {'projects': .., 'orgs': ..} (None if no data)."""
    d = tables.parts(df[df["period"] == period])
    if d.empty:
        return {"projects": None, "orgs": None}
    return {"projects": tables.total(d["projects"]), "orgs": tables.total(d["orgs"])}


# --- table 3 -------------------------------------------------------------------

def figure1_printed(kinds: pd.DataFrame) -> str | None:
    """The counts the seed's figure 1 printed ("30 / 5 / 0 / 25"), when they differ from
    the introduction's; None when they agree or the figure is absent."""
    printed = figure1(kinds, FIGURE1_SOURCE)
    shown = figure1(kinds)
    if printed.empty or shown.empty:
        return None
    a = [_num(v) for v in printed["projects"]]
    b = dict(zip(shown["kind_key"], shown["projects"]))
    if all(b.get(k) == v for k, v in zip(printed["kind_key"], printed["projects"]) if k in b):
        return None
    return " / ".join(fmt.num(v) for v in a)


def reconcile_load(load: pd.DataFrame, levels: pd.DataFrame) -> pd.DataFrame:
    """Table 3 with one source for the organisations of each level.

    A level printed on one row of table 3 (one project each) counts the same organisations
    as that level's row of table 2 (``levels``: the semester's orgs by level). Where the two
    disagree, table 2's count is used and the printed one is kept in ``declared_orgs``
    (the caller marks the row); other rows keep ``declared_orgs`` empty. Pure."""
    out = tables.parts(load).copy().reset_index(drop=True)
    out["declared_orgs"] = pd.array([pd.NA] * len(out), dtype="Int64")
    lv = tables.parts(levels)
    counts = {_level_key(n): _num(v) for n, v in zip(lv[LEVEL], lv["orgs"])}
    sizes = out.groupby(LEVEL)[LEVEL].transform("size")
    for i, r in out.iterrows():
        want = counts.get(_level_key(r[LEVEL]))
        if sizes[i] == 1 and want is not None and _num(r["orgs"]) != want:
            out.loc[i, "declared_orgs"] = r["orgs"]
            out.loc[i, "orgs"] = want
    return out


def _level_key(name: Any) -> str:
    s = str(name).strip().lower()
    return s[len("негізгі "):] if s.startswith("негізгі ") else s


def project_load(df: pd.DataFrame) -> pd.DataFrame:
    """Orgs by level and number of simultaneous projects, total, share of all orgs."""
    d = tables.parts(df)[[LEVEL, "orgs", "simultaneous_projects"]]
    out = tables.with_total(d, LEVEL, "orgs")
    return tables.add_share(out, "orgs", "share_pct")


def orgs_with(load: pd.DataFrame, level_prefix: str, n: int | None = None) -> Any:
    """Orgs of the levels starting with ``level_prefix`` (optionally with ``n`` projects)."""
    d = tables.parts(load)
    d = d[d[LEVEL].str.startswith(level_prefix).fillna(False).astype(bool)]
    if n is not None:
        d = d[d["simultaneous_projects"] == n]
    return tables.total(d["orgs"]) if len(d) else None


# --- table 5 -------------------------------------------------------------------

_SCHOOL = re.compile(r"^№\s*(\d+)\s*мектеп$")


def member_text(members: pd.DataFrame) -> pd.Series:
    """Per project_key: "№№ 27, 35, … мектептер; №2 арнайы мектеп" (order as listed)."""
    out = {}
    for key, g in members.sort_values("member_no", kind="stable").groupby("project_key", sort=False):
        nums, other = [], []
        for name in g["member_name"].astype(str):
            m = _SCHOOL.match(name)
            (nums.append(m.group(1)) if m else other.append(name))
        parts = []
        if nums:
            parts.append(("№№ " if len(nums) > 1 else "№") + ", ".join(nums) +
                         (" мектептер" if len(nums) > 1 else " мектеп"))
        parts.extend(other)
        out[key] = "; ".join(parts)
    return pd.Series(out, dtype=object)


def projects_table(projects: pd.DataFrame, orgs: pd.DataFrame, members: pd.DataFrame,
                   base_orgs: Any) -> pd.DataFrame:
    """Table 5: project, area, orgs (printed count) and member list, coverage share of
    ``base_orgs`` (orgs running innovation projects), pupils; computed total row."""
    p = tables.parts(projects)[["project_key", "project_name", "kind_key", "area", "pupils"]].copy()
    o = orgs[orgs["source"] == "5-кесте"].set_index("project_key")["orgs"]
    listed = members.groupby("project_key")["member_name"].count()
    p["orgs"] = pd.array([_num(o.get(k)) for k in p["project_key"]], dtype="Int64")
    p["members"] = p["project_key"].map(member_text(members)).astype(object)
    p["members_listed"] = pd.array([_num(listed.get(k)) for k in p["project_key"]], dtype="Int64")
    p["coverage_pct"] = tables.share(p["orgs"].astype("Float64"), base_orgs)
    return tables.with_total(p, "project_name", ["pupils"])


def member_orgs(members: pd.DataFrame, keys: Iterable[str] | None = None) -> pd.DataFrame:
    """Distinct member organisations (over the given projects) counted by level."""
    m = members if keys is None else members[members["project_key"].isin(list(keys))]
    uniq = m.drop_duplicates(["member_level", "member_name"])
    out = uniq.groupby("member_level", sort=False).size().rename("orgs").reset_index()
    return tables.with_total(out, "member_level", "orgs")


# --- tables 6 and 7 --------------------------------------------------------------

def events_table(events: pd.DataFrame, orgs: pd.DataFrame) -> pd.DataFrame:
    """Table 6: projects x event types, computed per-project total and share of all events."""
    p = tables.parts(events)
    types = list(dict.fromkeys(p["event_type_key"]))
    w = tables.wide(p, ["row_no", "project_key", "project_name"], "event_type_key", "events")
    w["events_total"] = w[types].apply(lambda r: tables.total(r.tolist()), axis=1)
    o = orgs[orgs["source"] == "6-кесте"].set_index("project_key")["orgs"]
    w.insert(3, "orgs", pd.array([_num(o.get(k)) for k in w["project_key"]], dtype="Int64"))
    out = tables.with_total(w.drop(columns="row_no"), "project_name", types + ["events_total"])
    return tables.add_share(out, "events_total", "events_pct")


def event_types(events: pd.DataFrame) -> dict[str, str]:
    """{event_type_key: printed label} for the part event types, in printed order."""
    p = tables.parts(events)
    return dict(zip(p["event_type_key"], p["event_type"]))


def language_table(pupils: pd.DataFrame, orgs: pd.DataFrame) -> pd.DataFrame:
    """Table 7: projects x language of instruction (pupils), computed total row."""
    p = tables.parts(pupils)
    w = tables.wide(p, ["row_no", "project_key", "project_name"], "language_key", "pupils")
    langs = list(dict.fromkeys(p["language_key"]))
    o = orgs[orgs["source"] == "7-кесте"].set_index("project_key")["orgs"]
    w.insert(3, "orgs", pd.array([_num(o.get(k)) for k in w["project_key"]], dtype="Int64"))
    for c in langs:
        w[c] = pd.array([_num(v) for v in w[c]], dtype="Int64")
    return tables.with_total(w.drop(columns="row_no"), "project_name", langs)


# --- figure 2 and the city's organisations ---------------------------------------

def international_orgs(df: pd.DataFrame, periods: Sequence[str]) -> pd.DataFrame:
    """Figure 2 data (long): per period the computed "all" (sum of the part levels) and
    every printed category, in printed order."""
    keep = _present(df, periods)
    rows = []
    for per in keep:
        d = df[df["period"] == per]
        allv = tables.total(tables.parts(d)["orgs"])
        for _, r in d.iterrows():
            v = allv if r["row_type"] == "total" else _num(r["orgs"])
            rows.append({"period": per, "category_key": r["category_key"],
                         "category": r["category"], "orgs": v})
    return pd.DataFrame(rows, columns=["period", "category_key", "category", "orgs"])


def org_growth(df: pd.DataFrame, key: str, before: str, after: str) -> dict[str, Any]:
    """{'before', 'after', 'change', 'change_pct'} of one project's orgs between two years."""
    b = value(df, "orgs", project_key=key, period=before) if len(df) else None
    a = value(df, "orgs", project_key=key, period=after) if len(df) else None
    if b is None or a is None:
        return {"before": b, "after": a, "change": None, "change_pct": None}
    return {"before": b, "after": a, "change": _num(tables.change(b, a)),
            "change_pct": tables.growth_pct(b, a)}


# --- declared vs computed ----------------------------------------------------------

CHECK_COLUMNS = ["where", "row", "column", "declared", "computed"]
QUOTED_WHERE = "Мәтіндегі сандар"        # ``where`` of the numbers quoted in the narrative
NOTEBOOK_ONLY_COLUMNS = ["where", "item", "declared", "computed"]
COLUMN_LABELS = {"projects": "жобалар саны", "orgs": "ББҰ саны", "pupils": "оқушылар саны"}


def _check(where: str, computed: pd.DataFrame, declared: pd.DataFrame, on: str,
           columns: dict[str, str], decimals: int | None = None) -> pd.DataFrame:
    out = tables.compare_declared(computed, declared, on=on, columns=columns, decimals=decimals)
    if out.empty:
        return pd.DataFrame(columns=CHECK_COLUMNS)
    out = out.rename(columns={on: "row"})
    out.insert(0, "where", where)
    return out[CHECK_COLUMNS]


def check_values(where: str, pairs: Sequence[tuple[str, str, Any, Any]]) -> pd.DataFrame:
    """Scalar checks: (row, column, declared, computed) tuples -> disagreements."""
    rows = [{"where": where, "row": r, "column": c, "declared": d, "computed": v}
            for r, c, d, v in pairs
            if not fmt.is_missing(d) and not tables.agrees(v, d)]
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)


def check_totals(where: str, df: pd.DataFrame, label_col: str, value_cols: Sequence[str],
                 by: str | None = None) -> pd.DataFrame:
    """Printed total rows of ``df`` vs totals recomputed from its part rows."""
    comp = tables.declared(tables.with_total(df, label_col, list(value_cols), by=by))
    decl = tables.declared(df)
    on = by or label_col
    if decl.empty:
        return pd.DataFrame(columns=CHECK_COLUMNS)
    res = _check(where, comp, decl, on, {c: c for c in value_cols})
    res["column"] = [COLUMN_LABELS.get(c, c) for c in res["column"]]
    if by:
        res["row"] = [f"{TOTAL} ({r})" for r in res["row"]]
    return res


def checks(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate check frames into one list of disagreements."""
    frames = [p for p in parts if p is not None and not p.empty]
    if not frames:
        return pd.DataFrame(columns=CHECK_COLUMNS)
    return pd.concat(frames, ignore_index=True)


# --- per-table checks used by the notebook's appendix -----------------------------

def _key(x: Any) -> Any:
    return None if fmt.is_missing(x) else x


def check_headline(kinds: pd.DataFrame, head: pd.DataFrame) -> pd.DataFrame:
    """Text's pupils and shares by kind vs table-5 sums; figure 1's kinds vs the text."""
    if head.empty:
        return pd.DataFrame(columns=CHECK_COLUMNS)
    text = kinds[kinds["source"] == HEADLINE_SOURCE]
    fig = kinds[kinds["source"] == FIGURE1_SOURCE]
    pairs = []
    for _, r in text.iterrows():
        pairs.append((r["kind"], "білім алушылар", r["declared_pupils"],
                      value(head, "pupils", kind=r["kind"])))
        pairs.append((r["kind"], "білім алушылар үлесі, %", r["declared_pupils_share_pct"],
                      value(head, "pupils_pct", kind=r["kind"])))
    text_projects = dict(zip(text["kind_key"], text["projects"]))
    fig_pairs = [(r["kind"], "жобалар: 1-сурет / мәтін", r["projects"],
                  _num(text_projects.get(r["kind_key"], 0 if r["row_type"] == "part" else None)))
                 for _, r in fig.iterrows()]
    return checks([check_values("Кіріспе мәтіні", pairs),
                   check_values("1-сурет", [p for p in fig_pairs if p[3] is not None]),
                   check_totals("1-сурет", fig, "kind", ["projects"]) if len(fig) else None])


def check_project_load(load: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    if load.empty:
        return pd.DataFrame(columns=CHECK_COLUMNS)
    shares = tables.parts(table)["share_pct"].tolist()
    pairs = [(f"{r[LEVEL]} ({_num(r['simultaneous_projects'])} жоба)", "үлесі, %",
              r["declared_share_pct"], s)
             for (_, r), s in zip(tables.parts(load).iterrows(), shares)]
    return checks([check_totals("3-кесте", load, LEVEL, ["orgs"]), check_values("3-кесте", pairs)])


def check_projects(projects: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    if table.empty:
        return pd.DataFrame(columns=CHECK_COLUMNS)
    body = tables.parts(table)
    cover = dict(zip(body["project_key"], body["coverage_pct"]))
    pairs = [(r["project_name"], "қамту үлесі, %", r["declared_coverage_pct"],
              cover.get(r["project_key"])) for _, r in tables.parts(projects).iterrows()]
    pairs += [(r["project_name"], "ұйымдар саны (басылған) / тізімдегі ұйымдар", r["orgs"],
               r["members_listed"]) for _, r in body.iterrows()]
    return checks([check_totals("5-кесте", projects, "project_name", ["pupils"]),
                   check_values("5-кесте", pairs)])


def check_events(events: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    if table.empty:
        return pd.DataFrame(columns=CHECK_COLUMNS)
    decl = tables.declared(events)
    pairs = []
    for _, r in decl.iterrows():
        key = _key(r["project_key"])
        where = {"project_key": key} if key else {"row_type": "total"}
        if r["event_type_key"] == "total":
            pairs.append((r["project_name"], "іс-шара саны", r["events"],
                          value(table, "events_total", **where)))
            pairs.append((r["project_name"], "%", r["declared_share_pct"],
                          value(table, "events_pct", **where)))
        else:
            pairs.append((r["project_name"], r["event_type"], r["events"],
                          value(table, r["event_type_key"], **where)))
    return check_values("6-кесте", pairs)


def check_languages(languages: pd.DataFrame, table: pd.DataFrame,
                    projects_table: pd.DataFrame) -> pd.DataFrame:
    if table.empty:
        return pd.DataFrame(columns=CHECK_COLUMNS)
    pairs = [(TOTAL, r["language"], r["pupils"], value(table, r["language_key"], row_type="total"))
             for _, r in tables.declared(languages).iterrows()]
    langs = list(dict.fromkeys(tables.parts(languages)["language_key"]))
    if len(projects_table):
        pupils5 = dict(zip(tables.parts(projects_table)["project_key"],
                           tables.parts(projects_table)["pupils"]))
        for _, r in tables.parts(table).iterrows():
            if r["project_key"] in pupils5:
                pairs.append((r["project_name"], "5-кесте оқушылары / 7-кесте (каз. + рус.)",
                              pupils5[r["project_key"]], tables.total(r[langs].tolist())))
    return check_values("7-кесте", pairs)


def check_project_orgs(orgs: pd.DataFrame, base: str = "5-кесте") -> pd.DataFrame:
    """The same project's org count printed in different tables."""
    ref = orgs[orgs["source"] == base].set_index("project_key")["orgs"]
    pairs = [(r["project_name"], f"ББҰ саны: {base} / {r['source']}", ref.get(r["project_key"]),
              r["orgs"]) for _, r in orgs[orgs["source"] != base].iterrows()
             if r["project_key"] in ref.index]
    return check_values("ББҰ саны (кестелер арасында)", pairs)


def check_international(raw: pd.DataFrame, computed: pd.DataFrame) -> pd.DataFrame:
    decl = tables.declared(raw[raw["period"].isin(set(computed["period"]))])
    pairs = [(f"{r['category']} ({r['period']})", "ББҰ саны", r["orgs"],
              value(computed, "orgs", period=r["period"], category_key=r["category_key"]))
             for _, r in decl.iterrows()]
    return check_values("2-сурет", pairs)


def check_quoted(quoted_values: dict[str, Any], labels: dict[str, str],
                 computed: dict[str, Any]) -> pd.DataFrame:
    """Numbers quoted in the text vs the same figure computed from the tables."""
    pairs = [(labels.get(k) or k, k, quoted_values.get(k), v) for k, v in computed.items()
             if quoted_values.get(k) is not None and v is not None]
    return check_values(QUOTED_WHERE, pairs)


def notebook_only(slips: pd.DataFrame) -> pd.DataFrame:
    """The disagreements only the notebook finds, for its appendix: numbers quoted in the
    text (``where == QUOTED_WHERE``) and shares recomputed from the parts (a ``%`` column).

    Printed «Барлығы» rows and a count printed in two tables are also checked from the
    raw files by the pipeline (``findings:`` of data/raw/city_innovation/schema.yaml) and
    listed in the report's «Деректер сапасы» appendix, so the notebook's appendix leaves
    them out instead of showing them twice. Columns: ``where`` (``Мәтін`` for the text),
    ``item`` (the row, with the column for a share: ``… (1 жоба): үлесі, %``),
    ``declared``, ``computed``."""
    quoted = slips["where"] == QUOTED_WHERE
    share = slips["column"].astype(str).str.contains("%", regex=False)
    out = slips[quoted | share]
    item = [str(r) if q else f"{r}: {c}"
            for r, c, q in zip(out["row"], out["column"], quoted[out.index])]
    return pd.DataFrame({"where": ["Мәтін" if q else w for w, q in zip(out["where"], quoted[out.index])],
                         "item": item, "declared": out["declared"].tolist(),
                         "computed": out["computed"].tolist()}, columns=NOTEBOOK_ONLY_COLUMNS)
