"""The city report's roll-up of the schools' own reports (``school_project``: returned school
forms and transcribed school reports), beside the city's tables 5-7.

Pure functions: DataFrames in, new DataFrames (or text) out; nothing is read or written.
Per project of the member list (and of 5-кесте, when the city has filled it in):

- organisations: the member schools of the list the forms were made from (the latest list
  of the school year or before it, :func:`member_list`) against the member schools whose
  report is in the data (one report = one organisation); 5-кесте's printed count is kept
  beside the list's (they differ for two projects of seed 000);
- pupils: the sum of the reports' pupils (their grade bands, or the printed total where
  no band gives pupils) against 5-кесте, and by language of instruction against 7-кесте;
- events by kind against 6-кесте, the schools' kinds grouped as 6-кесте groups them
  (:data:`EVENT_GROUPS`).

The city's tables of the report's period may still be empty (a new semester whose forms
come in before the city's tables are filled): the city's columns are then None (never a
value of another period) and only the member list is compared.

A school report is matched to the city's list by its school id (``astana-67``, derived
from ``№67 мектеп`` by :func:`esep.data.forms.school_identity`, the one home of that rule)
and its project key; reports of the school year the city's period belongs to are used,
each with the rows of its own year.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from esep.data.forms import list_period, school_identity, short_name

from . import kazakh as kz

# school_project events.kind_key -> city_innovation events.event_type_key (6-кесте's groups:
# «Семинар/дөңгелек үстел», «жиналыс / конференция», «Шебер сыныптар, тренингтер»,
# «Ашық сабақтар»). A webinar is an online seminar.
EVENT_GROUPS = {"seminar": "seminars", "round_table": "seminars", "webinar": "seminars",
                "conference": "meetings", "master_class": "master_classes", "training": "master_classes",
                "open_lesson": "open_lessons"}
GROUP_ORDER = ["open_lessons", "seminars", "meetings", "master_classes"]
LANGUAGES = ["kaz", "rus", "eng"]
LANGUAGE_KK = {"kaz": "қазақ", "rus": "орыс", "eng": "ағылшын"}
SCHOOL_STEMS = ["members", "grade_bands", "events", "pupils_by_language"]


def _n(v: Any):
    """A plain int (None for missing)."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    return int(v)


def _num(v) -> str:
    return kz.numeral(_n(v))


def member_list(project_members: pd.DataFrame, year: str) -> tuple[str | None, pd.DataFrame]:
    """The member list the forms of school year ``year`` were made from
    (:func:`esep.data.forms.list_period`: the latest list of that year, else the latest
    before it) and its rows; (None, no rows) when there is none."""
    per = list_period(sorted(set(project_members["period"].astype(str))), year)
    if per is None:
        return None, project_members.iloc[0:0]
    return per, project_members[project_members["period"].astype(str) == per].reset_index(drop=True)


def city_members(members: pd.DataFrame) -> pd.DataFrame:
    """The city's member list (project_members of one period) with each member's school_id
    and member_id (the code of its form)."""
    out = members[["city", "project_key", "member_name"]].copy()
    out["school_id"] = [school_identity(c, m)[0] for c, m in zip(out["city"], out["member_name"])]
    out["member_id"] = out["school_id"] + "-" + out["project_key"].astype(str)
    return out.reset_index(drop=True)


def reports_for(school_members: pd.DataFrame, year: str, city: str | None = None) -> pd.DataFrame:
    """The school reports (members rows) of school year ``year`` (and ``city``)."""
    m = school_members[school_members["period"].astype(str) == str(year)]
    if city is not None and "city" in m.columns:
        m = m[m["city"] == city]
    return m.reset_index(drop=True)


def _of(frame: pd.DataFrame | None, reports: pd.DataFrame) -> pd.DataFrame | None:
    """The rows of ``frame`` that belong to ``reports`` (same member and year), with the
    report's project_key."""
    if frame is None:
        return None
    keys = reports[["member_id", "period", "project_key"]].astype({"period": str})
    f = frame.astype({"period": str})
    f = f.drop(columns=[c for c in ("project_key",) if c in f.columns])
    return f.merge(keys, on=["member_id", "period"], how="inner")


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


def project_keys(city_list: pd.DataFrame, projects: pd.DataFrame, reports: pd.DataFrame,
                 names: dict[str, str] | None = None) -> dict[str, str]:
    """project_key -> short name, in 5-кесте's order: the period's 5-кесте, then the member
    list's projects, then projects that only reports name. ``names`` (key -> name, e.g. as
    the forms name the projects) comes first, else 5-кесте's name, else the key."""
    out: dict[str, str] = {}
    for _, p in projects[projects["row_type"] == "part"].iterrows():
        out[p["project_key"]] = p["project_name"]
    for key in list(dict.fromkeys(city_list["project_key"])) + list(dict.fromkeys(reports["project_key"])):
        out.setdefault(key, key)
    return {k: short_name((names or {}).get(k) or v) for k, v in out.items()}


def coverage(city_list: pd.DataFrame, projects: pd.DataFrame, project_orgs: pd.DataFrame,
             languages: pd.DataFrame, reports: pd.DataFrame, bands: pd.DataFrame,
             school_langs: pd.DataFrame | None, names: dict[str, str] | None = None,
             invalid: set[str] | None = None) -> pd.DataFrame:
    """One row per project: member schools (``orgs_listed``: on the member list the forms were
    made from; ``orgs_city``: 5-кесте's printed count; ``orgs_forms``: with a report;
    ``orgs_invalid``: whose returned form is invalid), pupils in the reports and in 5-кесте,
    pupils by language in the reports and in 7-кесте. ``projects``, ``project_orgs`` and
    ``languages`` are the city's tables of the report's period (empty: their columns are None);
    ``invalid``: member ids with an invalid form and no valid one."""
    listed = city_members(city_list)
    pupils = pupils_per_report(bands)
    pupils = _of(pupils, reports) if len(pupils) else pupils.assign(project_key=None)
    langs = _of(school_langs, reports)
    rows = []
    for key, name in project_keys(city_list, projects, reports, names).items():
        mine = reports[reports["project_key"] == key]
        members_listed = listed[listed["project_key"] == key]
        orgs5 = project_orgs[(project_orgs["project_key"] == key) & (project_orgs["source"] == "5-кесте")]["orgs"]
        p5 = projects[(projects["project_key"] == key) & (projects["row_type"] == "part")]["pupils"]
        in_list = mine[mine["school_id"].isin(set(members_listed["school_id"]))]
        row = {
            "project_key": key, "project_name": name,
            "orgs_listed": len(members_listed) if len(members_listed) else None,
            "orgs_city": _n(orgs5.iloc[0]) if len(orgs5) else None,
            "orgs_forms": len(mine), "orgs_not_listed": len(mine) - len(in_list),
            "orgs_invalid": len(set(members_listed["member_id"]) & set(invalid or ())),
            "pupils_forms": _sum_or_none(pupils[pupils["project_key"] == key]["pupils"]) if len(mine) else None,
            "pupils_city": _n(p5.iloc[0]) if len(p5) else None,
        }
        lang = languages[(languages["project_key"] == key) & (languages["row_type"] == "part")]
        for k in LANGUAGES:
            row[f"{k}_city"] = _sum_or_none(lang[lang["language_key"] == k]["pupils"])
            row[f"{k}_forms"] = (_sum_or_none(langs[(langs["project_key"] == key) & (langs["language_key"] == k)]
                                              ["pupils"]) if langs is not None and len(mine) else None)
        rows.append(row)
    return pd.DataFrame(rows, dtype=object)   # whole numbers stay ints, missing stays None


def invalid_forms(status: dict, year: str) -> set[str]:
    """Member ids whose returned form for school year ``year`` is invalid and that sent no
    valid one (``status``: what prepare recorded, ``data/processed/school_project/_forms.json``)."""
    bad = {s["member_id"] for s in status.values() if s.get("period") == year and not s.get("valid")}
    good = {s["member_id"] for s in status.values() if s.get("period") == year and s.get("valid")}
    return {m for m in bad - good if m}


def events_by_group(city_events: pd.DataFrame, reports: pd.DataFrame, school_events: pd.DataFrame,
                    names: dict[str, str] | None = None, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """Long table: project_key, project_name, group (6-кесте's event_type_key), event_type,
    events_forms (counted from the reports; None for a project without a report),
    events_city (6-кесте; None for a project 6-кесте does not list), in_city (6-кесте lists
    the project). ``names``: more projects (key -> name) than 6-кесте lists, e.g. those of
    the member list when 6-кесте is not filled in yet; ``labels``: group labels to use when
    6-кесте of the period gives none (6-кесте of another period)."""
    ev = city_events[(city_events["row_type"] == "part") & city_events["project_key"].notna()
                     & (city_events["project_key"] != "")]
    labels = {**(labels or {}), **dict(zip(ev["event_type_key"], ev["event_type"]))}
    se = _of(school_events, reports)
    se["group"] = se["kind_key"].map(EVENT_GROUPS)
    projects = dict(zip(ev["project_key"], ev["project_name"]))
    for key in list(names or {}) + list(reports["project_key"]):
        projects.setdefault(key, key)
    projects = {k: short_name((names or {}).get(k) or v) for k, v in projects.items()}
    with_report = set(reports["project_key"])
    rows = []
    for key, name in projects.items():
        mine = ev[ev["project_key"] == key]
        for g in GROUP_ORDER:
            city_v = mine[mine["event_type_key"] == g]["events"]
            rows.append({"project_key": key, "project_name": name, "group": g, "event_type": labels.get(g, g),
                         "events_forms": int(((se["project_key"] == key) & (se["group"] == g)).sum())
                         if key in with_report else None,
                         "events_city": _n(city_v.iloc[0]) if len(city_v) else None,
                         "in_city": bool(len(mine))})
    return pd.DataFrame(rows, columns=["project_key", "project_name", "group", "event_type", "events_forms",
                                       "events_city", "in_city"], dtype=object)


CITY_TABLES = {"projects": "5-кесте", "events": "6-кесте", "languages": "7-кесте"}


def table_list(labels: list[str]) -> str:
    """``["5-кесте", "6-кесте", "7-кесте"]`` -> ``5-, 6-, 7-кесте`` ("" for none)."""
    nums = [lab.removesuffix("-кесте") for lab in labels]
    if not nums:
        return ""
    return "".join(f"{n}-, " for n in nums[:-1]) + f"{nums[-1]}-кесте"


def findings(cov: pd.DataFrame, events: pd.DataFrame, city_tables: dict[str, str] | None = None) -> pd.DataFrame:
    """Data-quality findings where the schools' reports and the member list or the city's
    tables disagree (projects with at least one report; a city table not filled in for the
    period is not compared): project, finding (Kazakh), finding_en. ``city_tables``: this
    report's numbers of the city's tables (``{"projects": "5-кесте", ...}``, the default)."""
    t = CITY_TABLES if city_tables is None else city_tables
    loc = {k: kz.inflect(v, "loc") for k, v in t.items()}
    rows = []
    for _, r in cov[cov["orgs_forms"] > 0].iterrows():
        name, n, of = r["project_name"], r["orgs_forms"] - r["orgs_not_listed"], r["orgs_listed"]
        if of is not None:
            head = f"тізімдегі {kz.numeral(of)} мүше мектептің {kz.numeral(n, 'poss')} есеп берді"
            head_en = f"{n} of {of} member schools reported"
        else:
            head = f"{kz.numeral(r['orgs_forms'])} мектеп есеп берді, жоба мүшелер тізімінде жоқ"
            head_en = f"{r['orgs_forms']} schools reported; the project is on no member list"
        pf, pc = r["pupils_forms"], r["pupils_city"]
        if pc is not None and "projects" in t and pf != pc:
            rows.append((r["project_key"], f"{name}: {head}; мектептердің есептерінде {_num(pf)} білім алушы, "
                         f"{loc['projects']} {_num(pc)}",
                         f"{name}: {head_en}; {_num(pf)} pupils in the forms, {_num(pc)} in {t['projects']}"))
        elif of is None or n != of:
            rows.append((r["project_key"], f"{name}: {head}", f"{name}: {head_en}"))
        if r["orgs_not_listed"] and of is not None:
            rows.append((r["project_key"], f"{name}: мүшелер тізімінде жоқ {kz.numeral(r['orgs_not_listed'])} "
                         "мектептің есебі бар", f"{name}: {r['orgs_not_listed']} report(s) from schools not on "
                         "the member list"))
        for k in LANGUAGES:
            f_, c_ = r[f"{k}_forms"], r[f"{k}_city"]
            if "languages" in t and f_ is not None and cov[f"{k}_city"].notna().any() and f_ != c_:
                rows.append((r["project_key"], f"{name}: {LANGUAGE_KK[k]} тілінде оқитындар – мектептердің "
                             f"есептерінде {_num(f_)}, {loc['languages']} {_num(c_)}",
                             f"{name}: {k} {_num(f_)} pupils in the forms, {_num(c_)} in {t['languages']}"))
    ev = events[events["events_forms"].notna() & events["in_city"].astype(bool)] if "events" in t else events.iloc[0:0]
    for (key, name), g in ev.groupby(["project_key", "project_name"], sort=False):
        diff = g[[_n(a) != (_n(b) or 0) for a, b in zip(g["events_forms"], g["events_city"])]]
        if len(diff):
            parts = ", ".join(f"{t[:1].lower() + t[1:]} – {_num(a)} / {_num(b)}" for t, a, b in
                              zip(diff["event_type"], diff["events_forms"], diff["events_city"]))
            parts_en = ", ".join(f"{t}: {_num(a)} / {_num(b)}" for t, a, b in
                                 zip(diff["event_type"], diff["events_forms"], diff["events_city"]))
            rows.append((key, f"{name}: іс-шаралар саны (мектептердің есептерінде / {loc['events']}): {parts}",
                         f"{name}: events, forms / {t['events']} – {parts_en}"))
    return pd.DataFrame(rows, columns=["project_key", "finding", "finding_en"])


def languages_shown(cov: pd.DataFrame, city: bool = True) -> list[str]:
    """The languages with a value in the reports (or, with ``city``, in 7-кесте)."""
    return [k for k in LANGUAGES if cov[f"{k}_forms"].notna().any() or (city and cov[f"{k}_city"].notna().any())]


def coverage_table(cov: pd.DataFrame, city: bool = True) -> pd.DataFrame:
    """The displayed coverage table (one row per project): member schools on the list and
    with a report, then pupils (all and by language) in 5-/7-кесте beside the reports
    (``city``) or in the reports only (the city's tables not filled in for the period)."""
    cols = ["project_name", "orgs_listed", "orgs_forms"]
    if city:
        cols += ["pupils_city", "pupils_forms"] + [f"{k}_{s}" for k in languages_shown(cov) for s in ("city", "forms")]
    else:
        cols += ["pupils_forms"] + [f"{k}_forms" for k in languages_shown(cov, city=False)]
    return cov[cols].reset_index(drop=True)


def list_differences(cov: pd.DataFrame) -> pd.DataFrame:
    """Projects whose 5-кесте prints another organisation count than the member list has."""
    d = cov[cov["orgs_city"].notna() & cov["orgs_listed"].notna()]
    return d[[_n(a) != _n(b) for a, b in zip(d["orgs_city"], d["orgs_listed"])]].reset_index(drop=True)


def events_table(events: pd.DataFrame, city: bool = True) -> pd.DataFrame:
    """Projects with a report, one row each: 6-кесте's groups side by side, city and forms
    (columns ``<group>_city``, ``<group>_forms``), or (no ``city``) the forms' counts and
    their total (``events_forms``)."""
    ev = events[events["events_forms"].notna()]
    rows = []
    for (key, name), g in ev.groupby(["project_key", "project_name"], sort=False):
        row = {"project_name": name}
        for grp in GROUP_ORDER:
            hit = g[g["group"] == grp]
            if city:
                row[f"{grp}_city"] = _n(hit["events_city"].iloc[0]) if len(hit) else None
            row[f"{grp}_forms"] = _n(hit["events_forms"].iloc[0]) if len(hit) else None
        if not city:
            row["events_forms"] = sum(_n(v) or 0 for v in g["events_forms"])
        rows.append(row)
    cols = ["project_name"] + ([f"{g}_{s}" for g in GROUP_ORDER for s in ("city", "forms")] if city
                               else [f"{g}_forms" for g in GROUP_ORDER] + ["events_forms"])
    return pd.DataFrame(rows, columns=cols)
