"""Report types, declared one per ``notebooks/<name>.report.yaml``.

A spec says everything the pipeline needs to know about a report type: its title, its
template notebook, its parameter schema, the raw files it reads and, optionally, the
parameter it expands over (one run per region/district). Adding a report type means
adding a notebook and its spec: no runner code changes.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import yaml

from esep.core import config
from esep.core.errors import EsepError

PARAM_TYPES = {"period", "str", "int", "float", "bool", "path"}


# --- returned school forms (the one home of their file naming; esep.data.forms reads them) ---

FORMS_DIR = "forms"            # data/raw/<report>/forms/<period>/<member_id>.xlsx
_FORM_NAME = re.compile(r"^([a-z0-9]+(?:[-_][a-z0-9]+)*)")


def form_member(filename: str) -> str | None:
    """The member id a returned form's file name starts with: ``astana-67-share.xlsx`` and
    ``astana-67-share (1).xlsx`` -> ``astana-67-share``; None for ``~$`` lock files, non-.xlsx
    files and names that start with no id."""
    name = Path(filename).name
    if name.startswith(("~$", ".")) or not name.lower().endswith(".xlsx"):
        return None
    m = _FORM_NAME.match(name[: -len(".xlsx")])
    return m.group(1) if m else None


def form_members(raw_folder: Path, period: str) -> list[str]:
    """Member ids of the forms in ``<raw_folder>/forms/<period>/`` (file names only: cheap)."""
    folder = Path(raw_folder) / FORMS_DIR / period
    if not folder.is_dir():
        return []
    out: list[str] = []
    for p in sorted(folder.iterdir()):
        m = form_member(p.name)
        if m and m not in out:
            out.append(m)
    return out


@dataclass(frozen=True)
class Expand:
    param: str
    default: str
    values_from: str  # "<file relative to data/raw>#<column>"

    def values(self, period: str | None = None) -> list[str]:
        """Every value '*' expands to (order of first appearance in the source file; for
        ``period``, only its rows when the file has a ``period`` column: a school's report of
        2023-2024 is no unit of 2024-2025), then, for ``period``, the members whose school forms
        were returned for it (file names in ``forms/<period>/`` next to the source file, see
        :func:`form_member`)."""
        vals = self._file_values(period)
        if period:
            for v in form_members(config.RAW_DIR / Path(self.values_from.partition("#")[0]).parent, period):
                if v not in vals and v != self.default:
                    vals.append(v)
        return vals

    def _file_values(self, period: str | None = None) -> list[str]:
        import csv  # not pandas: planning a build must stay cheap (see esep/cache.py)

        from esep.core.fsutil import confined, os_error_message, rel as _rel

        rel, _, column = self.values_from.partition("#")
        path = confined(config.RAW_DIR / rel, "expand.values_from")
        try:
            with open(path, encoding="utf-8-sig", newline="") as fh:
                rows = list(csv.reader(fh))
        except FileNotFoundError:
            raise EsepError(f"{_rel(path)}: file not found (the list of values of '{self.param}' "
                            f"comes from it: expand.values_from); restore it (e.g. `git checkout "
                            f"{_rel(path)}`)") from None
        except OSError as exc:
            raise EsepError(os_error_message(exc)) from None
        header = [h.strip() for h in rows[0]] if rows else []
        if column not in header:
            raise EsepError(f"{path}: column '{column}' (expand.values_from) not found")
        i = header.index(column)
        if period and "period" in header:
            k = header.index("period")
            rows = rows[:1] + [r for r in rows[1:] if len(r) > k and r[k].strip() == str(period)]
        import re

        vals = []
        for n, r in enumerate(rows[1:], start=2):
            v = r[i].strip() if len(r) > i else ""
            if not v:
                continue
            if v != self.default and not re.match(r"^[A-Za-z0-9_-]+$", v):
                raise EsepError(f"{_rel(path)}, row {n}, column '{column}': {v!r} is not a slug "
                                f"(letters, digits, '-', '_'): it names output files "
                                f"(output/<period>/<report>/<{column}>.html)")
            vals.append(v)
        seen: dict[str, None] = {}
        for v in vals:
            if v != self.default:
                seen.setdefault(v, None)
        return list(seen)


# Optional spec keys (each read by a ReportSpec property or by resolve below);
# any other key is refused, so a typo such as ``roundng:`` cannot pass unseen.
OPTIONAL_KEYS = ("formats", "place_params", "rounding", "text_columns", "uses")


@dataclass(frozen=True)
class ReportSpec:
    name: str
    title: str
    notebook: Path
    params: dict[str, str]
    inputs: tuple[str, ...]
    expand: Expand | None = None
    spec_path: Path | None = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def input_paths(self) -> list[Path]:
        return [config.RAW_DIR / p for p in self.inputs]

    @property
    def uses(self) -> tuple[str, ...]:
        """Other reports whose processed data this one reads (spec key ``uses``, e.g. the
        city report rolls up ``school_project``): their raw and processed files are part of
        this report's cache key and they are prepared before it runs."""
        return tuple(str(r) for r in (self.extra.get("uses") or ()))

    @property
    def place_params(self) -> tuple[str, ...]:
        """Parameters that name the report's place, most specific first (spec key
        ``place_params``); the first whose value is not the expand default is shown as the
        report's place when the notebook glues no ``report_place``."""
        return tuple(str(p) for p in (self.extra.get("place_params") or ()))

    @property
    def rounding(self) -> str:
        """The report's one rounding rule (spec key ``rounding``): ``half_up`` (default) or
        ``truncate``; used by its kernel (ESEP_ROUNDING) and by the render step."""
        mode = str(self.extra.get("rounding") or "half_up")
        from esep.core.numbers import ROUNDING_MODES

        if mode not in ROUNDING_MODES:
            raise EsepError(f"{self.spec_path or self.name}: key 'rounding' must be one of "
                            f"{', '.join(ROUNDING_MODES)}, not {mode!r}")
        return mode

    @property
    def text_columns(self):
        """Compiled regex of raw columns kept as text although they look numeric (spec key
        ``text_columns``); columns the schema declares are typed by the schema."""
        import re

        pat = self.extra.get("text_columns")
        return re.compile(str(pat)) if pat else None

    def processed_path(self, raw_rel: str) -> Path:
        return config.PROCESSED_DIR / Path(raw_rel).with_suffix(".parquet")

    @property
    def params_dir(self) -> Path:
        return config.PARAMS_DIR / self.name

    def periods(self) -> list[str]:
        if not self.params_dir.is_dir():
            return []
        return sorted(p.stem for p in self.params_dir.glob("*.yaml"))


def _load_spec(path: Path) -> ReportSpec:
    name = path.name[: -len(".report.yaml")]
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise EsepError(f"{path}: not valid YAML: {exc}") from None
    for key in ("title", "notebook", "params", "inputs"):
        if key not in raw:
            raise EsepError(f"{path}: missing key '{key}'")
    params = {str(k): str(v) for k, v in (raw["params"] or {}).items()}
    bad = {k: v for k, v in params.items() if v not in PARAM_TYPES}
    if bad:
        raise EsepError(f"{path}: unknown parameter type(s) {bad}; allowed: {sorted(PARAM_TYPES)}")
    if "period" not in params:
        raise EsepError(f"{path}: every report needs a 'period' parameter")
    exp = raw.get("expand")
    expand = None
    if exp:
        expand = Expand(param=exp["param"], default=str(exp.get("default", "all")),
                        values_from=exp["values_from"])
        if expand.param not in params:
            raise EsepError(f"{path}: expand.param '{expand.param}' is not a parameter")
    from esep.core.fsutil import check_relative

    inputs = raw["inputs"] or ()
    if not isinstance(inputs, (list, tuple)):
        raise EsepError(f"{path}: key 'inputs': expected a list of files under data/raw/")
    where = [("notebook", raw["notebook"])] + [("inputs", i) for i in inputs]
    if expand:
        where.append(("expand.values_from", expand.values_from.partition("#")[0]))
    for key, value in where:
        msg = check_relative(str(value), f"key '{key}':")
        if msg:
            raise EsepError(f"{path}: {msg}")
    known = {"title", "notebook", "params", "inputs", "expand"}
    unknown = sorted(set(map(str, raw)) - known - set(OPTIONAL_KEYS))
    if unknown:
        import difflib

        key = unknown[0]
        near = difflib.get_close_matches(key, sorted(known | set(OPTIONAL_KEYS)), n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        raise EsepError(f"{path}: unknown key '{key}'{hint}; a report spec knows "
                        f"{', '.join(sorted(known))} and optionally {', '.join(OPTIONAL_KEYS)}")
    return ReportSpec(
        name=name,
        title=str(raw["title"]),
        notebook=path.parent / raw["notebook"],
        params=params,
        inputs=tuple(str(i) for i in inputs),
        expand=expand,
        spec_path=path,
        extra={k: v for k, v in raw.items() if k not in known},
    )


def all_reports() -> dict[str, ReportSpec]:
    specs = {}
    for path in sorted(config.NOTEBOOKS_DIR.glob("*.report.yaml")):
        spec = _load_spec(path)
        specs[spec.name] = spec
    return specs


def get(name: str) -> ReportSpec:
    specs = all_reports()
    if name not in specs:
        known = ", ".join(specs) or "none"
        raise EsepError(f"unknown report '{name}' (known: {known})")
    return specs[name]


# --- which formats (one home: --to > ESEP_FORMATS > the spec's formats: > HTML + PDF) ---

FORMATS = ("html", "pdf", "docx")
DEFAULT = ("html", "pdf")
ENV = "ESEP_FORMATS"


def parse(value: str | Iterable[str], where: str = "--to") -> tuple[str, ...]:
    """'pdf,docx' or ['pdf', 'docx'] -> ('html', 'pdf', 'docx'): known names, HTML first
    (every other format is made from the HTML), no duplicates."""
    items = value.split(",") if isinstance(value, str) else list(value)
    fmts = [str(f).strip().lower() for f in items if str(f).strip()]
    bad = [f for f in fmts if f not in FORMATS]
    if bad:
        raise EsepError(f"{where}: unknown format(s) {', '.join(bad)} (choose from {', '.join(FORMATS)})")
    return tuple(f for f in FORMATS if f == "html" or f in fmts)


def default_formats() -> tuple[str, ...]:
    """Formats when nothing else is asked: ``ESEP_FORMATS`` if set, else HTML + PDF."""
    env = os.environ.get(ENV, "").strip()
    return parse(env, ENV) if env else DEFAULT


def resolve(spec, requested: Iterable[str] | None = None) -> tuple[str, ...]:
    """The formats to write for ``spec``: explicit request > ESEP_FORMATS > spec
    ``formats:`` key > HTML + PDF."""
    if requested:
        return parse(requested)
    if os.environ.get(ENV, "").strip():
        return default_formats()
    declared = (getattr(spec, "extra", None) or {}).get("formats")
    if declared:
        where = f"{getattr(spec, 'spec_path', None) or spec.name}: key 'formats'"
        return parse(declared, where)
    return DEFAULT
