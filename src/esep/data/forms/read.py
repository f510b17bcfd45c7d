"""Reading a returned form and checking it on its own, with :mod:`esep.data.validate`'s
parsing and wording (file, sheet, cell, value found, what is expected); then every form of
a period, with the forms that repeat a report already in the data refused."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from esep.core import config, periods
from esep.core.errors import DataError, EsepError
from esep.core.reports import FORMS_DIR, form_member
from esep.data import schemas, validate, xlsx
from esep.data.forms.layout import (DERIVED_KEYS, FIX, KIND_OF_PROJECT, MEMBERS_FROM, NOTE_SHEET, PASSPORT,
                                    PASSPORT_FIELDS, REPORT, SHEETS, Sheet, members, school_schema)

# --- reading a returned form ---------------------------------------------------------------------

@dataclass
class FormProblem:
    """One thing wrong with a returned form, worded for the school that fills it in."""
    file: str
    message: str
    sheet: str | None = None
    cell: str | None = None
    label: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.sheet:
            where.append(f'sheet "{self.sheet}"')
        if self.cell:
            where.append(f"cell {self.cell}" + (f' "{self.label}"' if self.label else ""))
        elif self.label:
            where.append(f'column "{self.label}"')
        found = f"found {self.value!r}, " if self.value not in (None, "") else ""
        return ", ".join(where) + f": {found}{self.message}"


@dataclass
class Form:
    """A returned form as read: its member, its problems and, when valid, its rows."""
    path: Path
    period: str
    member_id: str | None
    problems: list[FormProblem] = field(default_factory=list)
    parsed: dict[str, pd.DataFrame] = field(default_factory=dict)    # table -> parsed (+__source/__row)
    sources: dict[str, validate.Source] = field(default_factory=dict)  # table -> text rows (raw columns)

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def first_error(self) -> str:
        return str(self.problems[0]) if self.problems else ""

    def error_text(self) -> str:
        shown = [str(p) for p in self.problems[:validate.MAX_PER_FILE]]
        more = len(self.problems) - len(shown)
        return "\n".join(shown + ([f"… and {more} more problem(s) in this form"] if more > 0 else [])
                         + [f"{len(self.problems)} problem(s) in the form {validate._rel(self.path)}. {FIX}"])


def _blank(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or (not isinstance(v, str) and bool(pd.isna(v)))


def read_form(path: Path, period: str, roster: pd.DataFrame | None, schema: schemas.Schema) -> Form:
    """Read and check one returned form on its own (no other form or file is looked at)."""
    path = Path(path)
    rel = validate._rel(path)
    form = Form(path, period, form_member(path.name))
    if not path.name.lower().endswith(".xlsx"):
        form.problems.append(FormProblem(rel, "not an .xlsx workbook: open it in Excel and save it as "
                                              "'Excel Workbook (*.xlsx)' under the name <form code>.xlsx"))
        return form
    try:
        sheets = validate.workbook_sheets(path)
    except DataError as exc:
        form.problems.append(FormProblem(rel, str(exc).partition(": ")[2] or str(exc)))
        return form
    _read_passport(form, sheets, roster, schema, rel)
    for sh in SHEETS:
        _read_sheet(form, sh, sheets, schema, rel)
    known = {PASSPORT, NOTE_SHEET, *(s.title for s in SHEETS)}
    for name in sheets:
        if name not in known and not validate.is_note_sheet(name):
            form.problems.append(FormProblem(rel, "a sheet the form does not have; move its rows to the form's "
                                                  f"sheets ({', '.join(s.title for s in SHEETS)}) and delete it",
                                             name))
    return form


def _read_passport(form: Form, sheets, roster, schema, rel: str) -> None:
    if PASSPORT not in sheets:
        form.problems.append(FormProblem(rel, f'no sheet "{PASSPORT}": use the form as it was sent (do not '
                                              "rename or delete its sheets)"))
        return
    _, rows = sheets[PASSPORT]
    cells = {}
    for i, r in enumerate(rows, 2):
        if len(r) >= 3 and r[2]:
            cells[r[2]] = (r[1], f"B{i}")
    labels = {k: lab for k, lab, *_ in PASSPORT_FIELDS}

    def problem(key, msg, value=None):
        cell = cells.get(key, (None, None))[1]
        form.problems.append(FormProblem(rel, msg, PASSPORT, cell, labels.get(key), value))

    for key, *_ in PASSPORT_FIELDS:
        if key not in cells:
            problem(key, f'the row "{labels[key]}" is missing: use the form as it was sent')
    if form.problems:
        return
    member_id = cells["member_id"][0]
    if form.member_id != member_id:
        problem("member_id", f"the file name says {form.member_id!r}, the form says {member_id!r}: "
                             f"rename the file to {member_id}.xlsx", form.path.name)
        return
    if cells["period"][0] != form.period:
        problem("period", f"this form is for {cells['period'][0]}, but it is in the folder of {form.period}: "
                          f"move it to {FORMS_DIR}/{cells['period'][0]}/", cells["period"][0])
        return
    m = None
    if roster is not None:
        ids = roster["member_id"].tolist()
        if member_id not in ids:
            problem("member_id", f"not a member school of any project in the member list of {form.period} "
                                 f"({MEMBERS_FROM}); use the form generated for this school", member_id)
            return
        m = roster.iloc[ids.index(member_id)].to_dict()   # its first row in the list
    m = m or {"city": cells["city"][0], "school_id": member_id.rpartition("-")[0],
              "project_key": member_id.rpartition("-")[2], "school_no": cells["school_no"][0],
              "project_name": cells["project_name"][0], "project_kind": ""}
    source = f"форма {form.path.name}"
    one = {
        "members": {"member_id": member_id, "period": form.period, "city": m["city"],
                    "school_id": m["school_id"], "project_key": m["project_key"]},
        "schools": {"city": m["city"], "school_id": m["school_id"],
                    "school_no": "" if _blank(m["school_no"]) else str(int(m["school_no"]))},
        "projects": {"project_key": m["project_key"], "project_name": m["project_name"],
                     "kind": KIND_OF_PROJECT.get(m["project_kind"], ""), "kind_key": m["project_kind"] or ""},
    }
    where = {}
    for key, _, table, column, editable in PASSPORT_FIELDS:
        if editable:
            one[table][column] = cells[key][0]
            where[(table, column)] = key
    for table, row in one.items():
        row["source"] = source
        t = schema.tables[table]
        header = list(row)
        if all(type(v) is str for v in row.values()):     # the usual case, on plain lists
            cols = {k: [v] for k, v in row.items()}
            src = validate.Source(table, form.path, PASSPORT, header, pd.DataFrame(cols, dtype=str))
            parsed, probs = _parse(src, cols, t, validate.sheet_label(rel, PASSPORT))
        else:
            src = validate.Source(table, form.path, PASSPORT, header, pd.DataFrame([row], dtype=str))
            parsed, probs, _ = validate.parse_source(src, t)
            probs += validate.check_values(parsed, t, {src.label: src})
        for p in probs:
            key = where.get((table, p.column))
            problem(key or p.column, p.message, p.value)
        form.parsed[table], form.sources[table] = parsed, src


def _read_sheet(form: Form, sh: Sheet, sheets, schema, rel: str) -> None:
    if sh.title not in sheets:
        form.problems.append(FormProblem(rel, "the sheet is missing: use the form as it was sent (do not "
                                              "rename or delete its sheets)", sh.title))
        return
    header, rows = sheets[sh.title]
    table = schema.tables[sh.table]
    by_label = {lab.casefold(): col for col, lab in sh.fields}
    label_of = dict(sh.fields)
    names = []
    for j, h in enumerate(header):
        col = by_label.get(validate._clean(h).casefold())
        if h and col is None:
            form.problems.append(FormProblem(rel, "a column the form does not have: delete it (the form's columns: "
                                                  + ", ".join(label_of.values()) + ")", sh.title,
                                             f"{validate.col_letter(j)}1", None, h))
        names.append(col or f"__extra{j}")
    for col, lab in sh.fields:
        if col not in names:
            form.problems.append(FormProblem(rel, f'row 1 has no column "{lab}": restore the header row as sent',
                                             sh.title))
    if not rows or any(p.sheet == sh.title for p in form.problems):
        return
    keep = [c for c in names if not c.startswith("__extra")]
    if len(set(keep)) == len(keep):
        # the usual case, on plain lists: one frame built at the end (the same frame)
        at = {c: j for j, c in enumerate(names)}
        cols = _derive_columns({c: [str(r[at[c]]) for r in rows] for c in keep}, sh, table, form)
        src = validate.Source(sh.table, form.path, sh.title, names + [c for c in cols if c not in names],
                              pd.DataFrame(cols, dtype=str))
        parsed, probs = _parse(src, cols, table, validate.sheet_label(rel, sh.title))
    else:   # a column label given twice: pandas' own handling of repeated columns
        text = pd.DataFrame(rows, columns=names, dtype=object).astype(str)
        text = text[keep]
        text = _derive(text, sh, table, form)
        src = validate.Source(sh.table, form.path, sh.title, names + [c for c in text.columns if c not in names],
                              text)
        parsed, probs, _ = validate.parse_source(src, table)
        probs += validate.check_values(parsed, table, {src.label: src})
    user = {c for c, _ in sh.fields}
    for p in probs:
        if p.column is not None and p.column not in user:
            if p.message.startswith("duplicate key"):
                p.column = sh.fields[0][0]
                p.letter = src.letter(p.column)
            else:
                continue   # a derived column: its label cell is reported instead
        cell = f"{p.letter}{p.row}" if p.letter and p.row else (str(p.row) if p.row else None)
        form.problems.append(FormProblem(rel, p.message, sh.title, cell, label_of.get(p.column), p.value))
    form.parsed[sh.table], form.sources[sh.table] = parsed, src


def _derive(text: pd.DataFrame, sh: Sheet, table: schemas.Table, form: Form) -> pd.DataFrame:
    """Add member_id, period, item and the keys the school does not type."""
    out = text.copy()
    for label, key in DERIVED_KEYS.items():
        if label in out.columns and key in table.columns:
            lc, kc = table.columns[label], table.columns[key]
            mapping = dict(zip(lc.allowed or (), kc.allowed or ()))
            out[key] = [mapping.get(validate._clean(v), "") for v in out[label]]
    if sh.table == "grade_bands":
        band = out["grade_band"].map(validate._clean)
        total = band.str.casefold() == "барлығы"
        out["grade_band"] = band.where(~total, "Барлығы")
        parts = band.str.extract(r"^(\d{1,2})(?:-(\d{1,2}))?$")
        out["grade_from"] = parts[0].fillna("")
        out["grade_to"] = parts[1].fillna(parts[0]).fillna("")
        out["row_type"] = ["total" if t else "part" for t in total]
    if sh.numbered is not None and "item" in table.columns:
        if sh.numbered:
            out["item"] = (out.groupby(out[sh.numbered]).cumcount() + 1).astype(str)
        else:
            out["item"] = [str(i) for i in range(1, len(out) + 1)]
    out.insert(0, "period", form.period)
    out.insert(0, "member_id", form.member_id or "")
    out["source"] = f"форма {form.path.name}, парақ «{sh.title}»"
    return out


def _parse(src: validate.Source, cols: dict[str, list[str]], table: schemas.Table, label: str):
    """:func:`validate.parse_source` then :func:`validate.check_values` of a source whose
    text cells are ``cols`` (its frame's columns as lists of str): (parsed frame, problems).
    ``label``: ``src.label``, made once per form (it is asked of the project root each time)."""
    values, probs, _ = validate.parse_columns(src, cols, table)
    n = len(src.frame)
    probs += [validate.Problem(label, "empty row inside the data (delete it)", i + 2)
              for i in range(n) if all(cols[c][i] == "" for c in cols)]
    parsed = validate.parsed_frame(values, label, n)
    probs += validate.check_values(parsed, table, {label: src}, values)
    return parsed, probs


def _derive_columns(cols: dict[str, list[str]], sh: Sheet, table: schemas.Table, form: Form) -> dict[str, list[str]]:
    """:func:`_derive` on plain lists (column -> text cells): the same columns in the same order."""
    out = dict(cols)
    n = len(next(iter(cols.values()))) if cols else 0
    for label, key in DERIVED_KEYS.items():
        if label in out and key in table.columns:
            lc, kc = table.columns[label], table.columns[key]
            mapping = dict(zip(lc.allowed or (), kc.allowed or ()))
            out[key] = [mapping.get(validate._clean(v), "") for v in out[label]]
    if sh.table == "grade_bands":
        band = [validate._clean(v) for v in out["grade_band"]]
        total = [b.casefold() == "барлығы" for b in band]
        out["grade_band"] = ["Барлығы" if t else b for b, t in zip(band, total)]
        parts = [_BAND.match(b) for b in band]
        out["grade_from"] = [m.group(1) if m else "" for m in parts]
        out["grade_to"] = [(m.group(2) or m.group(1)) if m else "" for m in parts]
        out["row_type"] = ["total" if t else "part" for t in total]
    if sh.numbered is not None and "item" in table.columns:
        if sh.numbered:
            seen: dict[str, int] = {}
            item = []
            for v in out[sh.numbered]:
                seen[v] = seen.get(v, 0) + 1
                item.append(str(seen[v]))
            out["item"] = item
        else:
            out["item"] = [str(i) for i in range(1, n + 1)]
    out = {"member_id": [form.member_id or ""] * n, "period": [form.period] * n, **out}
    out["source"] = [f"форма {form.path.name}, парақ «{sh.title}»"] * n
    return out


_BAND = re.compile(r"^(\d{1,2})(?:-(\d{1,2}))?$")


# --- every returned form of a report -------------------------------------------------------------

def forms_dir(report: str = REPORT) -> Path:
    return config.RAW_DIR / report / FORMS_DIR


def form_periods(report: str = REPORT) -> list[str]:
    """Periods with returned forms (data/raw) or generated ones (output/forms)."""
    out = set()
    for base in (forms_dir(report), config.OUTPUT_DIR / "forms"):
        if base.is_dir():
            out |= {p.name for p in base.iterdir() if p.is_dir() and not periods.check(p.name)}
    return sorted(out)


def read_forms(period: str, report: str = REPORT, existing: pd.DataFrame | None = None,
               light: bool = False) -> list[Form]:
    """Every file in ``forms/<period>/``, each checked on its own; then the forms that would
    repeat a report already in the data (``existing``: members.csv rows) or another form.

    A form is read once per content: the result of :func:`read_form` is kept in
    ``output/.esep/cache/forms/`` under a key of the file's bytes, its name and place, the
    period, its member's row of the member list and the code and schema that read it
    (:func:`form_key`), so prepare, ``esep status`` and the index re-read only the forms
    that changed. Many forms not read yet are read by a few processes at once. ``light``:
    each form's member and problems only, without its rows (tracking: cheaper to load)."""
    folder = forms_dir(report) / period
    if not folder.is_dir():
        return []
    try:
        roster = members(period)
    except EsepError:
        roster = None
    schema = school_schema()
    files = [p for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith((".", "~$"))]
    out = _read_cached(files, period, roster, schema, light)
    have = set()
    if existing is not None and len(existing):
        have = {(str(r["member_id"]), str(r["period"])) for _, r in existing.iterrows()}
    by_member: dict[str, list[Form]] = {}
    for f in out:
        if f.member_id:
            by_member.setdefault(f.member_id, []).append(f)
    for mid, fs in by_member.items():
        for f in fs:
            cell = "B2"
            if (mid, period) in have:
                f.problems.insert(0, FormProblem(validate._rel(f.path),
                                  f"the report of {mid} for {period} is already in {REPORT}/members.csv; "
                                  "remove those rows or this form (keep one)", PASSPORT, cell, "Форманың коды", mid))
            elif len(fs) > 1:
                others = ", ".join(g.path.name for g in fs if g is not f)
                f.problems.insert(0, FormProblem(validate._rel(f.path), f"the same school and project is also "
                                  f"sent as {others}; keep one file", PASSPORT, cell, "Форманың коды", mid))
    return out


# --- reading each form once per content ----------------------------------------------------------

CACHE_VERSION = 1
# forms not read yet from which a pool of processes reads them. A form reads in ~0.035 s of
# CPU here (esep.data.xlsx); a forked pool costs more than that (each form pickled twice, fork
# and pipes: 200 forms cold, 0.054 s CPU per form and more wall time than in this process on
# the shared 2-core machine), so only very many forms are worth one.
PARALLEL_FROM = 2000
_memo: dict[str, bytes] = {}     # key.meta -> pickled light Form (this process)
_code_sig: list[str] = []


def _code_signature() -> str:
    """The code and schema that decide how a form reads (this package, validate, xlsx, schemas)."""
    import hashlib

    if not _code_sig:
        h = hashlib.sha256()
        here = Path(__file__).parent
        for f in [*sorted(here.glob("*.py")), Path(validate.__file__), Path(xlsx.__file__), Path(schemas.__file__)]:
            h.update(f.name.encode() + b"\0" + f.read_bytes())
        _code_sig.append(h.hexdigest())
    sp = schemas.schema_path(REPORT)
    return _code_sig[0] + (":" + _sha(sp) if sp.is_file() else "")


def _sha(path: Path) -> str:
    from esep.core.fsutil import sha256_file

    return sha256_file(path)


def _roster_rows(roster: pd.DataFrame | None) -> dict | None:
    """member_id -> its rows of the member list as plain text (one pass over the list)."""
    if roster is None:
        return None
    out: dict[str, list] = {}
    for r in roster.to_dict("records"):
        out.setdefault(r["member_id"], []).append({k: (None if _blank(v) else str(v)) for k, v in r.items()})
    return out


def form_key(path: Path, period: str, rows: dict | None) -> str:
    """What a form's reading depends on: its bytes, its path, the period, its member's rows
    of the member list (``rows``: :func:`_roster_rows`; None: no list) and the code and
    schema that read it."""
    import hashlib
    import json

    row = None if rows is None else rows.get(form_member(path.name), [])
    blob = json.dumps([CACHE_VERSION, _code_signature(), str(path), period, _sha(path), row],
                      ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _cache_path(key: str, light: bool = False) -> Path:
    return config.STATE_DIR / "cache" / "forms" / key[:2] / f"{key}{'.meta' if light else ''}.pickle"


def _load_cached(key: str, light: bool = False) -> Form | None:
    """The form read earlier under ``key`` (a fresh object each time: callers add problems
    to it); ``light``: its member and problems only (no rows: what tracking needs)."""
    import pickle

    mkey = key + (".meta" if light else "")
    blob = _memo.get(mkey)
    if blob is None:
        try:
            blob = _cache_path(key, light).read_bytes()
        except OSError:
            return None
    try:
        form = pickle.loads(blob)
    except Exception:  # noqa: BLE001 - unreadable: read the form again
        return None
    if light:
        _memo[mkey] = blob
    return form if isinstance(form, Form) else None


def _write(path: Path, blob: bytes) -> None:
    import os

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(blob)
        os.replace(tmp, path)
    except OSError:
        pass          # a read-only output/: the form is read again next time, nothing else changes


def _store(key: str, blob: bytes, form: Form) -> None:
    import pickle

    meta = pickle.dumps(Form(form.path, form.period, form.member_id, list(form.problems)),
                        protocol=pickle.HIGHEST_PROTOCOL)
    _memo[key + ".meta"] = meta          # (rows are read from disk when needed: memory stays flat)
    _write(_cache_path(key), blob)
    _write(_cache_path(key, True), meta)


_job: dict = {}    # what forked readers need (set before the pool forks)


def _read_one(path: str) -> bytes:
    import pickle

    form = read_form(Path(path), _job["period"], _job["roster"], _job["schema"])
    return pickle.dumps(form, protocol=pickle.HIGHEST_PROTOCOL)


def _read_cached(files: list[Path], period: str, roster, schema, light: bool = False) -> list[Form]:
    import pickle

    rows = _roster_rows(roster)
    keys = [form_key(p, period, rows) for p in files]
    out: list[Form | None] = [_load_cached(k, light) for k in keys]
    todo = [i for i, f in enumerate(out) if f is None]
    if not todo:
        return out
    import os

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    blobs = None
    if len(todo) >= PARALLEL_FROM and cores > 1:
        try:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            _job.update(period=period, roster=roster, schema=schema)
            with ProcessPoolExecutor(min(cores, 4), mp_context=mp.get_context("fork")) as pool:
                blobs = list(pool.map(_read_one, [str(files[i]) for i in todo], chunksize=8))
        except Exception:  # noqa: BLE001 - no pool here (a daemon process...): read them one by one
            blobs = None
        finally:
            _job.clear()
    if blobs is None:   # read here: each form as read, pickled once for the cache (not read back)
        fresh = [read_form(files[i], period, roster, schema) for i in todo]
        blobs = [pickle.dumps(f, protocol=pickle.HIGHEST_PROTOCOL) for f in fresh]
    else:
        fresh = [pickle.loads(blob) for blob in blobs]
    for i, blob, form in zip(todo, blobs, fresh):
        _store(keys[i], blob, form)
        out[i] = Form(form.path, form.period, form.member_id, form.problems) if light else form
    return out
