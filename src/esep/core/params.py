"""Parameters: ``params/<report>/<period>.yaml``, validated before anything runs.

Values are plain scalars. The report's spec (``notebooks/<report>.report.yaml``) gives
each key's type. The expand parameter (e.g. ``region``) may also be ``"*"`` or a list
(possibly containing ``"*"``), which :func:`expand` turns into one run per value.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from esep.core import config, periods
from esep.core.errors import ParamsError
from esep.core.reports import ReportSpec

SLUG_RE = re.compile(r"^[A-Za-z0-9_-]+$")


check_period = periods.check  # one home: esep.core.periods


def _escapes(value: str) -> bool:
    v = value.replace("\\", "/")
    return (
        v.startswith("/")
        or v.startswith("~")
        or bool(re.match(r"^[A-Za-z]:", v))
        or ".." in v.split("/")
        or "\x00" in v
    )


def _check_scalar(key: str, typ: str, value: object) -> str | None:
    if typ == "period":
        return check_period(value)
    if typ == "bool":
        return None if isinstance(value, bool) else f"must be true or false (got {_short(value)})"
    if typ == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"must be a whole number (got {_short(value)})"
    if typ == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if ok else f"must be a number (got {_short(value)})"
    # str and path
    if not isinstance(value, str):
        return f"must be a text value (got {type(value).__name__} {_short(value)})"
    if not value.strip():
        return "must not be empty"
    if _escapes(value):
        return f"{_short(value)} points outside the project's folders (no '..', no absolute paths)"
    if typ == "path":
        from esep.core.fsutil import PathError, confined

        try:
            confined(value, "path")
        except PathError as exc:
            return str(exc)
    return None


def load(spec: ReportSpec, path: Path) -> dict:
    """Read and validate one params file; raise ParamsError naming file and key."""
    rel = _rel(path)
    if not path.is_file():
        raise ParamsError(f"{rel}: no such params file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ParamsError(f"{rel}: not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        from esep.core.fsutil import os_error_message

        raise ParamsError(os_error_message(exc)) from None
    data = safe_yaml(text, rel)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ParamsError(f"{rel}: expected 'key: value' lines, got {type(data).__name__}")
    errors = validate(spec, data, expanded=False)
    if "period" in data and not any(e[0] == "period" for e in errors) and data["period"] != path.stem:
        errors.append(("period", f"{data['period']!r} does not match the file name "
                                 f"'{path.name}' (expected period: \"{path.stem}\")"))
    if errors:
        lines = [f"{rel}: key '{k}': {msg}" for k, msg in errors]
        raise ParamsError("\n".join(lines))
    return data


MAX_YAML_NODES = 2000  # a params file is a handful of scalars; anchors may not multiply it


def _expanded_size(node, memo: dict, limit: int) -> int:
    """Nodes ``node`` stands for once every alias is expanded (stops counting past ``limit``)."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = limit + 1  # a cycle (recursive anchor) counts as too big
    n = 1
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            n += _expanded_size(child, memo, limit)
            if n > limit:
                break
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            n += _expanded_size(k, memo, limit) + _expanded_size(v, memo, limit)
            if n > limit:
                break
    memo[key] = n
    return n


def safe_yaml(text: str, where: str, limit: int = MAX_YAML_NODES):
    """``yaml.safe_load`` that refuses alias expansion beyond ``limit`` nodes (a "billion
    laughs" file) before building anything, and never shows the expanded value."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}, limit) > limit:
            raise ParamsError(f"{where}: YAML anchors/aliases (&name / *name) expand to more than "
                              f"{limit} values; a params file holds plain 'key: value' lines — "
                              f"write the values out instead of using aliases")
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ParamsError(f"{where}: not valid YAML: {exc}") from None
    except RecursionError:
        raise ParamsError(f"{where}: YAML nested too deeply") from None
    finally:
        loader.dispose()


def _short(value, n: int = 60) -> str:
    """``repr(value)`` cut to ``n`` characters (messages never print a huge value)."""
    r = repr(value)
    return r if len(r) <= n else r[: n - 1] + "…"


def validate(spec: ReportSpec, data: dict, *, expanded: bool = True) -> list[tuple[str, str]]:
    """All problems of ``data`` against ``spec`` as (key, message) pairs."""
    errors: list[tuple[str, str]] = []
    for key in data:
        if key not in spec.params:
            errors.append((str(key), f"unknown key (allowed: {', '.join(spec.params)})"))
    for key, typ in spec.params.items():
        if key not in data:
            errors.append((key, f"missing (type {typ})"))
            continue
        value = data[key]
        if spec.expand and key == spec.expand.param and not expanded:
            values = value if isinstance(value, list) else [value]
            if not values:
                errors.append((key, "empty list"))
            for v in values:
                if v == "*":
                    continue
                msg = _check_scalar(key, typ, v)
                if msg is None and not SLUG_RE.match(str(v)):
                    msg = f"{_short(v)}: use the ASCII slug (letters, digits, '-', '_')"
                if msg:
                    errors.append((key, msg))
            continue
        msg = _check_scalar(key, typ, value)
        if msg:
            errors.append((key, msg))
    return errors


@dataclass(frozen=True)
class RunUnit:
    """One execution: a report for a period (and a variant: region/district slug)."""

    report: str
    period: str
    params: dict
    variant: str | None = None  # None = the default (whole city/country/oblast)
    params_file: Path | None = None

    @property
    def label(self) -> str:
        v = f" [{self.variant}]" if self.variant else ""
        return f"{self.report} {self.period}{v}"

    @property
    def key(self) -> str:
        return f"{self.period}/{self.report}" + (f"/{self.variant}" if self.variant else "")

    def output_base(self) -> Path:
        """output/<period>/<report> or output/<period>/<report>/<variant> (no suffix);
        refused (PathError) if a value would make it leave ``output/``."""
        from esep.core.fsutil import PathError, confined

        for what, v in (("period", self.period), ("report", self.report), ("variant", self.variant)):
            if v is not None and not SLUG_RE.match(str(v)):
                raise PathError(f"{self.report} {self.period}: {what} {v!r} cannot name an output "
                                f"file (letters, digits, '-', '_' only)")
        base = config.OUTPUT_DIR / self.period
        base = base / self.report / self.variant if self.variant else base / self.report
        return confined(base, "output", config.OUTPUT_DIR.parent)


def expand(spec: ReportSpec, data: dict, params_file: Path | None = None) -> list[RunUnit]:
    period = data["period"]
    if not spec.expand:
        return [RunUnit(spec.name, period, dict(data), None, params_file)]
    key, default = spec.expand.param, spec.expand.default
    raw = data[key]
    requested = raw if isinstance(raw, list) else [raw]
    values: list[str] = []
    for v in requested:
        for item in (spec.expand.values(period) if v == "*" else [v]):
            if item not in values:
                values.append(item)
    units = []
    for v in values:
        p = dict(data)
        p[key] = v
        units.append(RunUnit(spec.name, period, p, None if v == default else v, params_file))
    return units


def _column_values(spec: ReportSpec, column: str) -> tuple[Path, set[str]] | None:
    """The values of ``column`` in the first raw CSV input of ``spec`` that has it."""
    import csv

    for r in spec.inputs:
        p = config.RAW_DIR / r
        if not p.is_file():
            continue
        try:
            with open(p, encoding="utf-8-sig", newline="") as fh:
                rows = csv.reader(fh)
                header = [h.strip() for h in next(rows, [])]
                if column not in header:
                    continue
                i = header.index(column)
                return p, {row[i].strip() for row in rows if len(row) > i and row[i].strip()}
        except (OSError, UnicodeDecodeError):
            continue  # validate/prepare report the file itself
    return None


NOTE_SHEETS = {"нұсқаулық", "readme", "instructions", "инструкция"}   # as esep.data.validate


def filled_templates(folder: Path) -> list[str]:
    """The files (and workbook sheets) of an incoming folder that hold at least one data row
    (``esep new-period``'s templates, header only, hold none; an unreadable file counts).
    Plain csv/openpyxl reading: the core layer does not import esep.data."""
    import csv

    out = []
    for f in sorted(folder.iterdir()):
        if f.name.startswith(("~$", ".")) or f.suffix not in (".csv", ".xlsx"):
            continue
        try:
            if f.suffix == ".csv":
                with open(f, encoding="utf-8-sig", newline="") as fh:
                    rows = csv.reader(fh)
                    next(rows, None)
                    if any(any(c.strip() for c in row) for row in rows):
                        out.append(f.name)
                continue
            from openpyxl import load_workbook

            wb = load_workbook(f, read_only=True, data_only=True)
            try:
                for ws in wb.worksheets:
                    if ws.title.startswith("_") or ws.title.strip().lower() in NOTE_SHEETS:
                        continue
                    if any(any(v is not None and str(v).strip() for v in row)
                           for row in ws.iter_rows(min_row=2, values_only=True)):
                        out.append(f"{f.name} (sheet {ws.title})")
            finally:
                wb.close()
        except Exception:  # noqa: BLE001 - unreadable: count it (validate names the problem)
            out.append(f.name)
    return out


def check_data(spec: ReportSpec, data: dict, path: Path) -> None:
    """Before any kernel starts: the values naming places (the expand parameter and the
    spec's ``place_params``) exist in the data, and the period's new data is merged."""
    rel = _rel(path)
    period = data.get("period")
    for d in sorted({(config.RAW_DIR / r).parent for r in spec.inputs}):
        inc = d / "incoming" / str(period)
        if not inc.is_dir():
            continue
        filled = filled_templates(inc)   # header-only templates (just made) hold nothing yet
        if filled:
            raise ParamsError(f"{rel}: the data for {period} is still in {_rel(inc)}/ "
                              f"({', '.join(filled[:3])}{' …' if len(filled) > 3 else ''} "
                              f"filled in) — check it with `esep validate {spec.name} --period {period}`, "
                              f"then run `esep merge {spec.name} --period {period}` first")
    errors = []
    if spec.expand and spec.expand.param in data:
        key = spec.expand.param
        raw = data[key]
        listed = [v for v in (raw if isinstance(raw, list) else [raw]) if v not in ("*", spec.expand.default)]
        if listed:
            known = spec.expand.values()
            file, _, column = spec.expand.values_from.partition("#")
            for v in listed:
                if v not in known:
                    import difflib

                    close = difflib.get_close_matches(str(v), known, n=1)
                    hint = f"; did you mean {close[0]!r}?" if close else ""
                    errors.append(f"{rel}: key '{key}': {_short(v)} is not in data/raw/{file} column "
                                  f"'{column}'{hint} (known: {', '.join(known[:20])}"
                                  f"{' …' if len(known) > 20 else ''})")
    for key in spec.place_params:
        if spec.expand and key == spec.expand.param:
            continue
        v = data.get(key)
        if not isinstance(v, str):
            continue
        found = _column_values(spec, key)
        if found is None:
            continue
        file, values = found
        if v not in values:
            import difflib

            close = difflib.get_close_matches(v, sorted(values), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            errors.append(f"{rel}: key '{key}': {_short(v)} appears nowhere in column '{key}' of "
                          f"{_rel(file)}{hint} (found: {', '.join(sorted(values)[:10])})")
    if errors:
        raise ParamsError("\n".join(errors))


def units_for(spec: ReportSpec, period: str, variant: str | None = None) -> list[RunUnit]:
    path = spec.params_dir / f"{period}.yaml"
    data = load(spec, path)
    check_data(spec, data, path)
    units = expand(spec, data, path)
    if variant is not None:
        if not SLUG_RE.match(str(variant)):
            raise ParamsError(f"--only: {variant!r} is not a region/district slug (letters, digits, "
                              f"'-', '_'; `esep list` shows the expand parameter)")
        units = [u for u in units if (u.variant or spec.expand.default if spec.expand else None) == variant
                 or u.variant == variant]
        if not units and spec.expand:
            # a variant not listed in the params file: run it anyway if it is a known value
            known = spec.expand.values(period)
            if variant not in known and variant != spec.expand.default:
                raise ParamsError(f"{_rel(path)}: key '{spec.expand.param}': unknown value "
                                  f"{variant!r} (known: {', '.join(known)})")
            p = dict(data)
            p[spec.expand.param] = variant
            units = [RunUnit(spec.name, period, p,
                             None if variant == spec.expand.default else variant, path)]
    return units


from esep.core.fsutil import rel as _rel  # noqa: E402
