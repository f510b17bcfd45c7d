"""What each raw file must look like: ``data/raw/<report>/schema.yaml``.

One schema file per report, next to the data and its README. It lists every table (raw
file stem) with its columns, their types and allowed values, the key that must be unique
and the references to other tables; and, under ``findings:``, the data-quality checks
(declared vs computed) that :mod:`esep.findings` runs. Format::

    tables:
      districts:
        key: [district_slug]                 # unique together; duplicates are errors
        columns:
          district_slug: {type: slug, required: true}
          teachers: {type: count}            # whole number >= 0; '22 645', '-' accepted
          level: {type: text, allowed: [Аудандық, Облыстық]}
          region_slug: {type: slug, ref: regions.region_slug, ref_skip: [total]}
    findings:
      - {check: total, table: teacher_categories, values: [teachers], by: [period, category_slug]}

Column types: ``text`` (trimmed, NFC; Latin look-alike letters inside Cyrillic words are
reported as warnings), ``slug`` (lowercase ASCII id), ``int``, ``count`` (int >= 0),
``number``, ``percent`` (number >= 0), ``period`` (2023-2024-S2 / 2023-2024 / 2019),
``date`` (YYYY-MM-DD), ``bool`` (true/false). Column options: ``required`` (no empty
cell), ``allowed`` (list), ``min``, ``max``, ``pattern`` (regex), ``ref`` (``table.column``
the value must exist in; empty cells are not checked), ``ref_skip`` (values exempt from
``ref``, e.g. ``total``), ``description`` (shown in the Excel template). Table option
``period_kind`` (``semester``, ``school_year``, ``year`` or a list): the kind of period
the table's rows are per; a row of another kind is an error naming sheet, row and column.
``history: true``: the report also shows earlier periods of the table (a comparison over
time), so a period's findings include that table's earlier ones. Top-level ``sections:``
(report section -> ``{tables: [...], where: {...}, title: ...}``) says which rows each
section needs, so the sections a period will skip are listed before running
(:mod:`esep.data.completeness`). Other top-level keys (e.g. an ``&anchor`` of shared
columns) are ignored.

The in-frame checks (required, allowed values, ranges, patterns, unique key) run through
pandera (``build_pandera``); cell parsing, references between files and the wording of
the messages are esep's own, because pandera reports dataframe index positions and
check names, not the Excel row, column letter and expected value an analyst needs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from esep.core import config, periods
from esep.core.errors import DataError

TYPES = {"text", "slug", "int", "count", "number", "percent", "period", "date", "bool"}
NUMERIC = {"int", "count", "number", "percent"}
SLUG_RE = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"
PERIOD_RE = periods.PATTERN  # one home: esep.core.periods
DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
COLUMN_KEYS = {"type", "required", "allowed", "min", "max", "pattern", "ref", "ref_skip", "description"}
TABLE_KEYS = {"key", "columns", "description", "template", "period_kind", "history"}
PERIOD_KINDS = {"semester", "school_year", "year"}  # = esep.core.periods.kind()
KIND_WORDS = {"semester": "semester (e.g. 2024-2025-S1)", "school_year": "school year (e.g. 2024-2025)",
              "year": "calendar year (e.g. 2024)"}


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "text"
    required: bool = False
    allowed: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    ref: str | None = None
    ref_skip: tuple[str, ...] = ()
    description: str = ""

    @property
    def numeric(self) -> bool:
        return self.type in NUMERIC

    @property
    def lower(self) -> float | None:
        if self.min is not None:
            return self.min
        return 0 if self.type in ("count", "percent") else None

    def expected(self) -> str:
        """What a cell of this column should hold, in words."""
        base = {
            "text": "text", "slug": "a lowercase ASCII id (letters a-z, digits, '-' or '_')",
            "int": "a whole number", "count": "a whole number, 0 or more",
            "number": "a number (e.g. 80,5 or 80.5)", "percent": "a percentage (e.g. 80,5 or 80,5%)",
            "period": "a period like 2023-2024-S2, 2023-2024 or 2019",
            "date": "a date YYYY-MM-DD", "bool": "true or false",
        }[self.type]
        return base


@dataclass(frozen=True)
class Table:
    name: str
    columns: dict[str, Column]
    key: tuple[str, ...] = ()
    description: str = ""
    template: bool = True  # include in new-period templates
    period_kind: tuple[str, ...] = ()  # kinds of period its rows may have; () = any
    history: bool = False  # the report shows earlier periods' rows too (its findings stay listed)

    def period_words(self) -> str:
        """'one row set per semester (e.g. 2024-2025-S1)' for messages and the Нұсқаулық sheet."""
        return " or ".join(KIND_WORDS[k] for k in self.period_kind)

    def takes(self, period: str) -> bool:
        """Whether rows of ``period`` belong in this table (any, if the schema does not say)."""
        if not self.period_kind:
            return True
        try:
            return periods.kind(period) in self.period_kind
        except ValueError:
            return True  # a malformed period is reported by the type check

    @property
    def has_period(self) -> bool:
        return "period" in self.columns


@dataclass(frozen=True)
class Schema:
    report: str
    path: Path | None
    tables: dict[str, Table] = field(default_factory=dict)
    findings: tuple[dict, ...] = ()
    sections: dict = field(default_factory=dict)  # report section -> {tables, where, title}


def schema_path(report: str) -> Path:
    return config.RAW_DIR / report / "schema.yaml"


_loaded: dict[str, tuple] = {}   # path -> ((mtime_ns, size, root), Schema): YAML parsing is slow


def load(report: str) -> Schema:
    """The report's schema; an empty one (basic checks only) if it has no schema file.
    Parsed once per version of the file (every school form is checked against it)."""
    path = schema_path(report)
    try:
        st = path.stat()
    except OSError:
        return Schema(report, None)
    sig = (st.st_mtime_ns, st.st_size, str(config.ROOT))
    hit = _loaded.get(str(path))
    if hit is not None and hit[0] == sig:
        return hit[1]
    out = _load(report, path)
    _loaded[str(path)] = (sig, out)
    return out


def _load(report: str, path: Path) -> Schema:
    if not path.is_file():
        return Schema(report, None)
    rel = _rel(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise DataError(f"{rel}: not valid YAML: {exc}") from None
    problems: list[str] = []
    tables: dict[str, Table] = {}
    for tname, tdef in (raw.get("tables") or {}).items():
        tdef = tdef or {}
        bad = set(tdef) - TABLE_KEYS
        if bad:
            problems.append(f"{rel}: table '{tname}': unknown key(s) {sorted(bad)}")
        cols: dict[str, Column] = {}
        for cname, cdef in (tdef.get("columns") or {}).items():
            cdef = cdef or {}
            if isinstance(cdef, str):
                cdef = {"type": cdef}
            bad = set(cdef) - COLUMN_KEYS
            if bad:
                problems.append(f"{rel}: {tname}.{cname}: unknown key(s) {sorted(bad)}")
            ctype = str(cdef.get("type", "text"))
            if ctype not in TYPES:
                problems.append(f"{rel}: {tname}.{cname}: unknown type '{ctype}' (one of {sorted(TYPES)})")
                ctype = "text"
            allowed = cdef.get("allowed")
            cols[str(cname)] = Column(
                name=str(cname), type=ctype, required=bool(cdef.get("required", False)),
                allowed=tuple(str(a) for a in allowed) if allowed is not None else None,
                min=cdef.get("min"), max=cdef.get("max"), pattern=cdef.get("pattern"),
                ref=cdef.get("ref"), ref_skip=tuple(str(v) for v in cdef.get("ref_skip") or ()),
                description=str(cdef.get("description", "")),
            )
        pk = tdef.get("period_kind") or ()
        pk = (pk,) if isinstance(pk, str) else tuple(str(k) for k in pk)
        bad = [k for k in pk if k not in PERIOD_KINDS]
        if bad:
            problems.append(f"{rel}: table '{tname}': period_kind {bad} (one of {sorted(PERIOD_KINDS)})")
        key = tuple(tdef.get("key") or ())
        for k in key:
            if k not in cols:
                problems.append(f"{rel}: table '{tname}': key column '{k}' is not among its columns")
        tables[str(tname)] = Table(str(tname), cols, key, str(tdef.get("description", "")),
                                   bool(tdef.get("template", True)), pk, bool(tdef.get("history", False)))
    for t in tables.values():
        for c in t.columns.values():
            if c.ref:
                rt, _, rc = c.ref.partition(".")
                if rt not in tables or rc not in tables[rt].columns:
                    problems.append(f"{rel}: {t.name}.{c.name}: ref '{c.ref}' names no known table.column")
    # YAML 1.1 reads a bare `on:` key as True: give it its name back
    findings = tuple(_fix_on(f) for f in (raw.get("findings") or ()))
    for i, f in enumerate(findings, 1):
        if not isinstance(f, dict) or "check" not in f:
            problems.append(f"{rel}: findings item {i}: needs a 'check' key")
    sections = raw.get("sections") or {}
    if not isinstance(sections, dict):
        problems.append(f"{rel}: sections: expected 'name: {{tables: [...]}}' entries")
        sections = {}
    for sname, sdef in sections.items():
        for t in (sdef or {}).get("tables") or ():
            if t not in tables:
                problems.append(f"{rel}: sections: {sname}: table '{t}' is not among the tables")
    if problems:
        raise DataError("\n".join(problems))
    return Schema(report, path, tables, findings, sections)


def _fix_on(x):
    """YAML 1.1 reads a bare ``on:`` key as True: give it its name back (at any depth)."""
    if isinstance(x, dict):
        return {("on" if k is True else k): _fix_on(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_fix_on(v) for v in x]
    return x


def build_pandera(table: Table, present: list[str]):
    """A pandera DataFrameSchema for the parsed frame of ``table`` (columns in ``present``).

    Type parsing has happened already (cells that failed are None and reported), so the
    schema checks values only: required, allowed, min/max, pattern, unique key. Each check
    is named ``<column>|<what>`` so :mod:`esep.validate` can word the message.
    """
    import pandera.pandas as pa

    cols = {}
    for name, col in table.columns.items():
        if name not in present:
            continue
        checks = []
        if col.allowed is not None:
            allowed = list(col.allowed)
            checks.append(pa.Check(lambda s, a=allowed: s.isna() | s.isin(a), element_wise=False,
                                   name="allowed", ignore_na=True))
        lo, hi = col.lower, col.max
        if col.numeric and lo is not None:
            checks.append(pa.Check(lambda s, v=lo: s.astype(float) >= v, name="min", ignore_na=True))
        if col.numeric and hi is not None:
            checks.append(pa.Check(lambda s, v=hi: s.astype(float) <= v, name="max", ignore_na=True))
        pat = col.pattern or {"slug": SLUG_RE, "period": PERIOD_RE, "date": DATE_RE}.get(col.type)
        if pat:
            rx = re.compile(pat)
            checks.append(pa.Check(lambda s, r=rx: s.map(lambda v: bool(r.match(str(v)))),
                                   name="pattern", ignore_na=True))
        cols[name] = pa.Column(object, checks=checks, nullable=not col.required, coerce=False,
                               required=True)
    key = [k for k in table.key if k in present]
    return pa.DataFrameSchema(cols, unique=key if key and len(key) == len(table.key) else None,
                              strict=False, coerce=False)


from esep.core.fsutil import rel as _rel  # noqa: E402
