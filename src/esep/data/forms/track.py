"""Submission tracking: per period, project and member school, a valid form, an invalid
one (its first error) or nothing (``esep status``, ``esep forms --check``, the index)."""
from __future__ import annotations

import pandas as pd

from esep.core import config
from esep.core.errors import EsepError
from esep.data import validate
from esep.data.forms.layout import REPORT, members
from esep.data.forms.read import Form, form_periods, read_forms


TRACK_COLUMNS = ["period", "project_key", "project_name", "member_id", "member_name", "state", "file", "error"]
STATE_KK = {"valid": "дұрыс форма", "invalid": "қатесі бар", "missing": "жіберілмеген",
            "unknown": "тізімде жоқ"}


def tracking(period: str | None = None, report: str = REPORT) -> pd.DataFrame:
    """Per period, project and member school: ``valid`` (a form that passes every check),
    ``invalid`` (with its first error), ``missing`` (nothing sent), or ``unknown`` (a file
    that names no member of the list). Periods: ``period`` or every period with forms
    returned or generated."""
    rows = []
    existing = None
    members_csv = config.RAW_DIR / report / "members.csv"
    if members_csv.is_file():
        existing = validate.read_csv_source(members_csv, "members").frame
    for p in ([period] if period else form_periods(report)):
        try:
            roster = members(p)
        except EsepError:
            roster = pd.DataFrame(columns=["member_id", "member_name", "project_key", "project_name"])
        forms = read_forms(p, report, existing, light=True)
        by_member: dict[str, Form] = {}
        for f in forms:
            if f.member_id and (f.member_id not in by_member or f.valid):
                by_member[f.member_id] = f
        listed = set(roster["member_id"])
        for m in roster.to_dict("records"):
            f = by_member.get(m["member_id"])
            state = "missing" if f is None else ("valid" if f.valid else "invalid")
            rows.append({"period": p, "project_key": m["project_key"], "project_name": m["project_name"],
                         "member_id": m["member_id"], "member_name": m["member_name"], "state": state,
                         "file": validate._rel(f.path) if f else "", "error": f.first_error if f else ""})
        for f in forms:
            if f.member_id not in listed:
                rows.append({"period": p, "project_key": "", "project_name": "", "member_id": f.member_id or "",
                             "member_name": "", "state": "unknown", "file": validate._rel(f.path),
                             "error": f.first_error or "the file name starts with no form code of the list"})
    return pd.DataFrame(rows, columns=TRACK_COLUMNS)


def tracking_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per period and project: members, valid, invalid, missing."""
    if table.empty:
        return pd.DataFrame(columns=["period", "project_key", "project_name", "members", "valid", "invalid",
                                     "missing"])
    t = table[table["state"] != "unknown"]
    g = t.groupby(["period", "project_key", "project_name"], sort=False)["state"]
    out = g.agg(members="size", valid=lambda s: int((s == "valid").sum()),
                invalid=lambda s: int((s == "invalid").sum()), missing=lambda s: int((s == "missing").sum()))
    return out.reset_index()
