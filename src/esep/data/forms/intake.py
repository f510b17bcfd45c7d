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
from esep.data.forms.layout import FIX, FORM_TABLES, REPORT, STATUS_FILE
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
                loaded.frames[table] = pd.concat([loaded.frames[table], parsed], ignore_index=True) \
                    if table in loaded.frames else parsed
    for srcs in loaded.sources.values():     # form rows lack the CSV's extra columns: give them ""
        cols = list(dict.fromkeys(c for s in srcs for c in s.header if not c.startswith("__")))
        for s in srcs:
            s.frame = s.frame.reindex(columns=cols, fill_value="")
    inputs = tuple(spec.inputs) + tuple(f"{spec.name}/{t}.csv" for t in FORM_TABLES)
    typed = validate.typed_tables(SimpleNamespace(inputs=inputs, text_columns=spec.text_columns), loaded)
    return typed, status


def status_path(report: str = REPORT) -> Path:
    return config.PROCESSED_DIR / report / STATUS_FILE


def check_unit(spec, unit) -> None:
    """Fail one school's report when its returned form is invalid (DataError with every
    problem); any other unit, and a report without forms, passes. Reads what prepare
    recorded (``_forms.json``)."""
    if spec.name != REPORT or not unit.variant or not status_path(spec.name).is_file():
        return
    import json

    doc = json.loads(status_path(spec.name).read_text(encoding="utf-8"))
    for rel, st in doc.items():
        if st["member_id"] == unit.variant and st["period"] == unit.period and not st["valid"]:
            probs = st["problems"]
            raise DataError("\n".join(probs[:validate.MAX_PER_FILE]) + f"\n{len(probs)} problem(s) in the "
                            f"school form {rel}: this school's report is not built until it is fixed. {FIX}")


def write_status(report: str, status: dict) -> None:
    import json

    from esep.core.fsutil import atomic_write

    path = status_path(report)
    if status or path.exists():
        atomic_write(path, json.dumps(status, ensure_ascii=False, indent=1))
