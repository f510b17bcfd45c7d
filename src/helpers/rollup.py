"""The city report's roll-up of the schools' own reports (``school_project``: returned school
forms and transcribed school reports), beside the city's tables 5-7.

Pure functions: DataFrames in, new DataFrames (or text) out; nothing is read or written.
Per project of the city's list for the period:

- organisations: the member schools listed in 5-кесте against the member schools whose
  report is in the data (one report = one organisation);
- pupils: the sum of the reports' pupils (their grade bands, or the printed total where
  no band gives pupils) against 5-кесте, and by language of instruction against 7-кесте;
- events by kind against 6-кесте, the schools' kinds grouped as 6-кесте groups them
  (:data:`EVENT_GROUPS`).

A school report is matched to the city's list by its school id (``astana-67``, derived
from ``№67 мектеп`` by :func:`esep.data.forms.school_identity`, the one home of that rule)
and its project key; reports of the school year the city's period belongs to are used.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from esep.data.forms import school_identity, short_name

# school_project events.kind_key -> city_innovation events.event_type_key (6-кесте's groups:
# «Семинар/дөңгелек үстел», «жиналыс / конференция», «Шебер сыныптар, тренингтер»,
# «Ашық сабақтар»). A webinar is an online seminar.
EVENT_GROUPS = {"seminar": "seminars", "round_table": "seminars", "webinar": "seminars",
                "conference": "meetings", "master_class": "master_classes", "training": "master_classes",
                "open_lesson": "open_lessons"}
GROUP_ORDER = ["open_lessons", "seminars", "meetings", "master_classes"]
LANGUAGES = ["kaz", "rus", "eng"]
SCHOOL_STEMS = ["members", "grade_bands", "events", "pupils_by_language"]


def _n(v: Any):
    """A plain int (None for missing)."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    return int(v)


def city_members(members: pd.DataFrame) -> pd.DataFrame:
    """The city's member list (project_members of one period) with each member's school_id."""
    out = members[["city", "project_key", "member_name"]].copy()
    out["school_id"] = [school_identity(c, m)[0] for c, m in zip(out["city"], out["member_name"])]
    return out.reset_index(drop=True)


def reports_for(school_members: pd.DataFrame, year: str, city: str | None = None) -> pd.DataFrame:
    """The school reports (members rows) of school year ``year`` (and ``city``)."""
    m = school_members[school_members["period"].astype(str) == str(year)]
    if city is not None and "city" in m.columns:
        m = m[m["city"] == city]
    return m.reset_index(drop=True)


def pupils_per_report(bands: pd.DataFrame) -> pd.DataFrame:
    """member_id, period, pupils: the sum of the bands' pupils, or the printed total when no
    band gives pupils (seed 002 prints «550» only)."""
    rows = []
    for (mid, per), g in bands.groupby(["member_id", "period"], sort=False):
        parts = g[g["row_type"] != "total"]["pupils"].dropna()
        total = g[g["row_type"] == "total"]["pupils"].dropna()
        value = int(parts.sum()) if len(parts) else (int(total.iloc[0]) if len(total) else None)
        rows.append({"member_id": mid, "period": per, "pupils": value})
    return pd.DataFrame(rows, columns=["member_id", "period", "pupils"])


def _sum_or_none(values) -> int | None:
    vals = [int(v) for v in values if v is not None and not pd.isna(v)]
    return sum(vals) if vals else None


def coverage(city_list: pd.DataFrame, projects: pd.DataFrame, project_orgs: pd.DataFrame,
             languages: pd.DataFrame, reports: pd.DataFrame, bands: pd.DataFrame,
             school_langs: pd.DataFrame | None) -> pd.DataFrame:
    """One row per project of 5-кесте: member schools (listed / with a report), pupils in the
    reports and in 5-кесте, pupils by language in the reports and in 7-кесте."""
    listed = city_members(city_list)
    pupils = pupils_per_report(bands)
    rows = []
    for _, p in projects[projects["row_type"] == "part"].iterrows():
        key = p["project_key"]
        mine = reports[reports["project_key"] == key]
        members_listed = listed[listed["project_key"] == key]
        orgs5 = project_orgs[(project_orgs["project_key"] == key) & (project_orgs["source"] == "5-кесте")]["orgs"]
        in_list = mine[mine["school_id"].isin(set(members_listed["school_id"]))]
        ids = set(mine["member_id"])
        row = {
            "project_key": key, "project_name": short_name(p["project_name"]),
            "orgs_city": _n(orgs5.iloc[0]) if len(orgs5) else len(members_listed),
            "orgs_forms": len(mine), "orgs_not_listed": len(mine) - len(in_list),
            "pupils_forms": _sum_or_none(pupils[pupils["member_id"].isin(ids)]["pupils"]) if ids else None,
            "pupils_city": _n(p["pupils"]),
        }
        lang = languages[(languages["project_key"] == key) & (languages["row_type"] == "part")]
        for k in LANGUAGES:
            row[f"{k}_city"] = _sum_or_none(lang[lang["language_key"] == k]["pupils"])
            if school_langs is not None and ids:
                sl = school_langs[school_langs["member_id"].isin(ids) & (school_langs["language_key"] == k)]
                row[f"{k}_forms"] = _sum_or_none(sl["pupils"])
            else:
                row[f"{k}_forms"] = None
        rows.append(row)
    return pd.DataFrame(rows, dtype=object)   # whole numbers stay ints, missing stays None


def events_by_group(city_events: pd.DataFrame, reports: pd.DataFrame, school_events: pd.DataFrame) -> pd.DataFrame:
    """Long table: project_key, project_name, group (6-кесте's event_type_key), event_type,
    events_forms (counted from the reports), events_city (6-кесте)."""
    ev = city_events[(city_events["row_type"] == "part") & city_events["project_key"].notna()
                     & (city_events["project_key"] != "")]
    labels = dict(zip(ev["event_type_key"], ev["event_type"]))
    se = school_events[school_events["member_id"].isin(set(reports["member_id"]))
                       & school_events["period"].isin(set(reports["period"]))].copy()
    se["group"] = se["kind_key"].map(EVENT_GROUPS)
    se = se.merge(reports[["member_id", "project_key"]], on="member_id", how="inner")
    rows = []
    for key, name in dict(zip(ev["project_key"], ev["project_name"].map(short_name))).items():
        has_report = key in set(reports["project_key"])
        for g in GROUP_ORDER:
            city_v = ev[(ev["project_key"] == key) & (ev["event_type_key"] == g)]["events"]
            rows.append({"project_key": key, "project_name": name, "group": g, "event_type": labels.get(g, g),
                         "events_forms": int(((se["project_key"] == key) & (se["group"] == g)).sum())
                         if has_report else None,
                         "events_city": _n(city_v.iloc[0]) if len(city_v) else None})
    return pd.DataFrame(rows, columns=["project_key", "project_name", "group", "event_type", "events_forms",
                                       "events_city"], dtype=object)


def _num(v) -> str:
    v = _n(v)
    return "-" if v is None else f"{v:,}".replace(",", "\u00a0")


def findings(cov: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Data-quality findings where the schools' reports and the city's tables disagree
    (projects with at least one report): project, finding (Kazakh), finding_en."""
    rows = []
    for _, r in cov[cov["orgs_forms"] > 0].iterrows():
        name = r["project_name"]
        head = f"есеп берген мүше мектептер – {r['orgs_forms']} / {r['orgs_city']}"
        head_en = f"{r['orgs_forms']} of {r['orgs_city']} member schools reported"
        if r["pupils_forms"] != r["pupils_city"]:
            rows.append((r["project_key"], f"{name}: {head}; мектептердің есептерінде {_num(r['pupils_forms'])} білім алушы, "
                         f"5-кестеде {_num(r['pupils_city'])}",
                         f"{name}: {head_en}; {_num(r['pupils_forms'])} pupils in the forms, "
                         f"{_num(r['pupils_city'])} in 5-кесте"))
        elif r["orgs_forms"] != r["orgs_city"]:
            rows.append((r["project_key"], f"{name}: {head}", f"{name}: {head_en}"))
        if r["orgs_not_listed"]:
            rows.append((r["project_key"], f"{name}: {r['orgs_not_listed']} есеп 5-кестенің тізімінде жоқ "
                         "мектептен", f"{name}: {r['orgs_not_listed']} report(s) from schools not listed in 5-кесте"))
        for k, label in (("kaz", "қазақ"), ("rus", "орыс")):
            f_, c_ = r[f"{k}_forms"], r[f"{k}_city"]
            if f_ is not None and f_ != c_:
                rows.append((r["project_key"], f"{name}: {label} тілінде мектептердің есептерінде {_num(f_)}, 7-кестеде {_num(c_)}",
                             f"{name}: {k} {_num(f_)} pupils in the forms, {_num(c_)} in 7-кесте"))
    ev = events[events["events_forms"].notna()]
    for (key, name), g in ev.groupby(["project_key", "project_name"], sort=False):
        diff = g[[_n(a) != (_n(b) or 0) for a, b in zip(g["events_forms"], g["events_city"])]]
        if len(diff):
            parts = ", ".join(f"{t}: {_num(a)} / {_num(b)}" for t, a, b in
                              zip(diff["event_type"], diff["events_forms"], diff["events_city"]))
            rows.append((key, f"{name}: іс-шаралар, мектептердің есептері / 6-кесте – {parts}",
                         f"{name}: events, forms / 6-кесте – {parts}"))
    return pd.DataFrame(rows, columns=["project_key", "finding", "finding_en"])


def coverage_table(cov: pd.DataFrame) -> pd.DataFrame:
    """The displayed coverage table (one row per project, forms beside the city's values)."""
    cols = ["project_name", "orgs_city", "orgs_forms", "pupils_city", "pupils_forms",
            "kaz_city", "kaz_forms", "rus_city", "rus_forms"]
    return cov[cols].reset_index(drop=True)


def events_table(events: pd.DataFrame) -> pd.DataFrame:
    """Projects with a report, one row each: 6-кесте's groups side by side, city and forms
    (columns ``<group>_city``, ``<group>_forms``)."""
    ev = events[events["events_forms"].notna()]
    rows = []
    for (key, name), g in ev.groupby(["project_key", "project_name"], sort=False):
        row = {"project_name": name}
        for grp in GROUP_ORDER:
            hit = g[g["group"] == grp]
            row[f"{grp}_city"] = _n(hit["events_city"].iloc[0]) if len(hit) else None
            row[f"{grp}_forms"] = _n(hit["events_forms"].iloc[0]) if len(hit) else None
        rows.append(row)
    return pd.DataFrame(rows, columns=["project_name"] + [f"{g}_{s}" for g in GROUP_ORDER
                                                          for s in ("city", "forms")])
