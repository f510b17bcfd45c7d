"""The valid forms' rows into the report's processed tables (called by prepare), the
record of what prepare used (``_forms.json``) and the check that fails one school's unit
when its form is invalid (called by the runner)."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from esep.core import config
from esep.core.errors import DataError
from esep.data import validate
from esep.data.forms.layout import FIX, FORM_TABLES, REPORT, STATUS_FILE, UNITS_FILE
from esep.data.forms.read import form_periods, forms_dir, read_forms

def tables_with_forms(spec, loaded: validate.Loaded) -> tuple[dict[str, pd.DataFrame], dict]:
    """For prepare: the typed tables of ``loaded`` plus the rows of every valid form (a
    report with no form folder gets exactly ``validate.typed_tables``), and the forms'
    status (recorded in ``data/processed/<report>/_forms.json``)."""
    if spec.name != REPORT or not forms_dir(spec.name).is_dir():
        return validate.typed_tables(spec, loaded), {}
    loaded.schema = dataclasses.replace(loaded.schema, tables={**loaded.schema.tables, **FORM_TABLES})
    status = {}
    known = {t: set() for t in ("schools", "projects")}
    for t, col in (("schools", "school_id"), ("projects", "project_key")):
        if t in loaded.frames:
            known[t] = {v for v in loaded.frames[t][col] if v is not None}
    extra: dict[str, list[pd.DataFrame]] = {}   # table -> the forms' rows (one concat at the end: linear in N)
    for period in form_periods(spec.name):
        for f in read_forms(period, spec.name, loaded.frames.get("members")):
            status[validate._rel(f.path)] = {"period": period, "member_id": f.member_id, "valid": f.valid,
                                             "problems": [str(p) for p in f.problems]}
            if not f.valid:
                continue
            for table, parsed in f.parsed.items():
                src = f.sources[table]
                if table in known:
                    col = "school_id" if table == "schools" else "project_key"
                    if parsed[col].iloc[0] in known[table]:
                        continue      # a reference list: the first entry wins
                    known[table].add(parsed[col].iloc[0])
                loaded.sources.setdefault(table, []).append(src)
                extra.setdefault(table, []).append(parsed)
    for table, frames in extra.items():
        base = [loaded.frames[table]] if table in loaded.frames else []
        loaded.frames[table] = validate.stack(base + frames)
    texts = {}
    for table, srcs in loaded.sources.items():     # form rows lack the CSV's extra columns: give them ""
        cols = list(dict.fromkeys(c for s in srcs for c in s.header if not c.startswith("__")))
        frames = [s.frame[[c for c in s.frame.columns if c in cols]] if any(c not in cols for c in s.frame.columns)
                  else s.frame for s in srcs]
        texts[table] = validate.stack(frames, fill="").reindex(columns=cols, fill_value="")
    inputs = tuple(spec.inputs) + tuple(f"{spec.name}/{t}.csv" for t in FORM_TABLES)
    typed = validate.typed_tables(SimpleNamespace(inputs=inputs, text_columns=spec.text_columns), loaded, texts)
    return typed, status


def status_path(report: str = REPORT) -> Path:
    return config.PROCESSED_DIR / report / STATUS_FILE


def check_unit(spec, unit) -> None:
    """Fail one school's report when its returned form is invalid (DataError with every
    problem); any other unit, and a report without forms, passes. Reads what prepare
    recorded (``_forms.json``)."""
    if spec.name != REPORT or not unit.variant or not status_path(spec.name).is_file():
        return
    for rel, st in _invalid(spec.name).get((unit.period, unit.variant), []):
        probs = st["problems"]
        raise DataError("\n".join(probs[:validate.MAX_PER_FILE]) + f"\n{len(probs)} problem(s) in the "
                        f"school form {rel}: this school's report is not built until it is fixed. {FIX}")


_status_memo: dict[str, tuple] = {}


def _invalid(report: str) -> dict[tuple, list]:
    """{(period, member_id): [(form, status)]} of the invalid forms prepare recorded, read
    once per version of ``_forms.json`` (each school's unit asks: no re-read of all N)."""
    import json

    path = status_path(report)
    st = path.stat()
    sig = (st.st_mtime_ns, st.st_size)
    hit = _status_memo.get(report)
    if hit is None or hit[0] != sig:
        out: dict[tuple, list] = {}
        for rel, s in json.loads(path.read_text(encoding="utf-8")).items():
            if not s["valid"]:
                out.setdefault((s["period"], s["member_id"]), []).append((rel, s))
        hit = (sig, out)
        _status_memo[report] = hit
    return hit[1]


def write_status(report: str, status: dict) -> None:
    import json

    from esep.core.fsutil import atomic_write

    path = status_path(report)
    if status or path.exists():
        atomic_write(path, json.dumps(status, ensure_ascii=False, indent=1))


# --- what each school's report reads: one digest per (period, member) ----------------------------

def unit_digests(tables: dict[str, pd.DataFrame]) -> dict[str, str]:
    """``{"<period>/<member_id>": sha256}`` of the rows one school's report reads: its own
    rows of every table keyed by member and period, the row of its school and of its
    project, and any table that is keyed by neither (read whole by every report). The
    cache keys a school's report on this digest and on its own form only
    (:func:`esep.pipeline.cache.unit_inputs`), so one school's new form rebuilds that
    school's report and the period's summary, not every report."""
    import hashlib

    def row_hashes(df: pd.DataFrame):
        return pd.util.hash_pandas_object(df.reset_index(drop=True), index=False).to_numpy()

    def head(name, df):
        return f"{name}|{','.join(map(str, df.columns))}|{','.join(map(str, df.dtypes))}".encode()

    members = next((df for rel, df in tables.items() if rel.endswith("/members.csv")), None)
    if members is None or not {"member_id", "period"} <= set(members.columns):
        return {}
    by_school: dict[str, dict] = {}
    shared = hashlib.sha256()
    per_member: dict[tuple, list[bytes]] = {}
    for rel in sorted(tables):
        df = tables[rel]
        name = rel.rsplit("/", 1)[-1]
        if {"member_id", "period"} <= set(df.columns):
            h = row_hashes(df)
            groups = df.groupby([df["period"].astype(str), df["member_id"].astype(str)], sort=False).indices
            for key, idx in groups.items():
                per_member.setdefault(key, []).append(head(name, df) + h[idx].tobytes())
        elif name in ("schools.csv", "projects.csv"):
            col = "school_id" if name == "schools.csv" else "project_key"
            h = row_hashes(df)
            by_school[col] = {k: head(name, df) + h[idx].tobytes()
                              for k, idx in df.groupby(df[col].astype(str), sort=False).indices.items()}
        else:
            shared.update(head(name, df) + row_hashes(df).tobytes())
    shared_b = shared.digest()
    out = {}
    for r in members[["period", "member_id", "school_id", "project_key"]].astype(str).drop_duplicates(
            ["period", "member_id"]).itertuples(index=False):
        h = hashlib.sha256(shared_b)
        for part in sorted(per_member.get((r.period, r.member_id), [])):
            h.update(part)
        h.update(by_school.get("school_id", {}).get(r.school_id, b"no school"))
        h.update(by_school.get("project_key", {}).get(r.project_key, b"no project"))
        out[f"{r.period}/{r.member_id}"] = h.hexdigest()
    return out


def units_path(report: str = REPORT) -> Path:
    return config.PROCESSED_DIR / report / UNITS_FILE


def write_units(report: str, tables: dict[str, pd.DataFrame]) -> None:
    """Record :func:`unit_digests` for ``report`` (school_project only) beside its tables."""
    import json

    from esep.core.fsutil import atomic_write

    if report != REPORT:
        return
    atomic_write(units_path(report), json.dumps({"version": 1, "units": unit_digests(tables)}, indent=0))
