"""Incremental builds: is an output up to date? Decided by content hashes, never timestamps.

A unit's output (``output/<period>/<report>[/<variant>].*``) is *fresh* when the record
written after its last successful build (``output/.esep/cache/units/<period>/<report>
[/<variant>].json``) matches what the unit would read now:

- ``template``: the template notebook and the report's spec (``notebooks/<report>.*``);
- ``params``: the params file (its bytes: a comment counts, as the manifest records the
  file's hash) and the unit's resolved parameter values;
- ``raw``: every file in the report's raw folder(s) ``data/raw/<dir>/`` (CSV, workbooks,
  ``schema.yaml``...), except ``incoming/`` (only read on request) and ``*.md`` notes;
- ``processed``: ``data/processed/<report>/*.parquet`` the notebook reads;
- ``narrative``: the recorded prose edits, ``narrative/<report>/<period>.md`` or
  ``narrative/<report>/<period>/<variant>.md`` (see :mod:`esep.edits`);
- ``code``: ``helpers`` and ``esep`` source and templates, except modules that cannot
  change an output (:data:`esep.core.code.NOT_OUTPUT_CODE`: the CLI, this module, the scheduler...);
- ``versions``: :func:`esep.manifest.package_versions` (python, papermill, pandas...);
- ``formats``: every requested format must have been built (asking for ``pdf`` after an
  HTML-only build rebuilds; asking for fewer formats does not);
- every output file listed in the record must still exist.

A stale unit comes with reasons naming what changed (``esep status``). Preparing the
data (raw -> parquet) has its own record per report (``cache/prepare/<report>.json``):
it is skipped when the raw files, esep's code and the processed files are unchanged.

Locks (:func:`lock`) are ``filelock`` files in ``output/.esep/locks/``: one per unit and
one per report's prepare, so two ``esep build`` processes on one project share the work
instead of writing the same files at once (outputs are written by temp file + rename).

This module imports nothing heavy (no pandas, nbformat, papermill): ``esep build`` with
nothing to do must stay well under half a second.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from esep.core import config

RECORD_VERSION = 1
# esep modules whose code cannot change what a unit writes (scheduling, CLI, caching)
SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", "incoming"}
KIND_LABEL = {
    "template": "template", "params": "params", "raw": "raw data", "processed": "processed data",
    "narrative": "narrative edits", "code": "code",
}

_hash_memo: dict[str, str] = {}


def reset_memo() -> None:
    """Forget file hashes computed so far (call at the start of each build/status)."""
    _hash_memo.clear()
    _code_memo.clear()


def sha256_file(path: Path) -> str:
    key = str(path)
    if key not in _hash_memo:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        _hash_memo[key] = h.hexdigest()
    return _hash_memo[key]


from esep.core.fsutil import rel  # noqa: E402  (one implementation, re-exported)


def _files_under(folder: Path, skip_md: bool = False) -> list[Path]:
    out = []
    if not folder.is_dir():
        return out
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or name.endswith((".pyc", ".tmp")):
                continue
            if skip_md and name.lower().endswith(".md"):
                continue
            out.append(Path(dirpath) / name)
    return out


# --- what a unit reads ----------------------------------------------------------------

def code_hashes(spec) -> dict[str, str]:
    """The code that shapes ``spec``'s outputs (see :mod:`esep.core.code`), labelled
    ``helpers/oblast.py`` / ``esep/kit/tables.py`` / ``esep/publish/render.py``."""
    from esep.core import code

    memo = f"__code__{spec.name}"
    if memo not in _hash_memo:
        _hash_memo[memo] = json.dumps(code.code_hashes(spec.notebook, config.SRC_DIR, _code_memo))
    return json.loads(_hash_memo[memo])


_code_memo: dict = {}


def raw_dirs(spec) -> list[Path]:
    dirs = []
    for r in spec.inputs:
        d = config.RAW_DIR / Path(r).parent
        if d not in dirs:
            dirs.append(d)
    if spec.expand:
        d = config.RAW_DIR / Path(spec.expand.values_from.partition("#")[0]).parent
        if d not in dirs:
            dirs.append(d)
    return dirs


def raw_hashes(spec) -> dict[str, str]:
    memo = f"__raw__{spec.name}"
    if memo in _hash_memo:
        return json.loads(_hash_memo[memo])
    out = {}
    for d in raw_dirs(spec):
        for p in _files_under(d, skip_md=True):
            out[rel(p)] = sha256_file(p)
    _hash_memo[memo] = json.dumps(out)
    return out


def processed_hashes(spec) -> dict[str, str]:
    out = {}
    for r in spec.inputs:
        p = spec.processed_path(r)
        out[rel(p)] = sha256_file(p) if p.is_file() else "missing"
    return out


def narrative_paths(unit) -> list[Path]:
    return [config.narrative_record(unit.report, unit.period, unit.variant)]


def unit_inputs(spec, unit) -> dict[str, dict[str, str]]:
    """Every input of ``unit``, by kind, as {label: sha256} (label = path)."""
    template = {rel(spec.notebook): sha256_file(spec.notebook)}
    if spec.spec_path is not None:
        template[rel(spec.spec_path)] = sha256_file(spec.spec_path)
    params = {}
    if unit.params_file is not None and Path(unit.params_file).is_file():
        params[rel(unit.params_file)] = sha256_file(unit.params_file)
    params["values"] = hashlib.sha256(json.dumps(unit.params, sort_keys=True, default=str)
                                      .encode()).hexdigest()
    narrative = {rel(p): sha256_file(p) for p in narrative_paths(unit) if p.is_file()}
    raw, processed = raw_hashes(spec), processed_hashes(spec)
    scope = unit_scope(spec, unit)
    if scope is not None:  # one school's report: its own form and its own rows (see unit_scope)
        raw = {k: v for k, v in raw.items() if keeps(scope, k)}
        processed = {f"{rel(config.PROCESSED_DIR / spec.name)}/ (rows of {unit.variant})": scope["digest"]}
    for used in used_specs(spec):  # reports whose data this one rolls up (spec key `uses`)
        raw = {**raw, **raw_hashes(used)}
        processed = {**processed, **{rel(p): sha256_file(p) for p in
                                     sorted((config.PROCESSED_DIR / used.name).glob("*.parquet"))}}
    return {"template": template, "params": params, "raw": raw,
            "processed": processed, "narrative": narrative, "code": code_hashes(spec)}


UNITS_FILE = "_units.json"   # = esep.data.forms.layout.UNITS_FILE (not imported: pandas)
_units_memo: dict[str, tuple] = {}
_forms_memo: dict[str, tuple] = {}


def unit_scope(spec, unit) -> dict | None:
    """What one school's report reads, when its report's prepare recorded it
    (``data/processed/<report>/_units.json``, written for school_project by
    :func:`esep.data.forms.write_units`): ``{"digest": sha256 of the school's own rows
    (and its school's and project's rows), "forms": the period's returned forms folder,
    "own": the school's own form files}``; None for any other unit (the summary, a unit
    with no rows, another report), which keeps the whole raw folder and every processed
    file in its key. With it, one school's new or changed form makes only that school's
    report (and the summary) stale, and a unit's key and manifest do not grow with the
    number of forms."""
    if not unit.variant:
        return None
    path = config.PROCESSED_DIR / spec.name / UNITS_FILE
    try:
        st = path.stat()
    except OSError:
        return None
    sig = (st.st_mtime_ns, st.st_size)
    hit = _units_memo.get(spec.name)
    if hit is None or hit[0] != sig:
        try:
            units = json.loads(path.read_text(encoding="utf-8")).get("units") or {}
        except (OSError, ValueError, AttributeError):
            units = {}
        hit = (sig, units)
        _units_memo[spec.name] = hit
    digest = hit[1].get(f"{unit.period}/{unit.variant}")
    if digest is None:
        return None
    from esep.core.reports import FORMS_DIR, form_member

    folder = config.RAW_DIR / spec.name / FORMS_DIR
    forms = rel(folder) + "/"
    here = folder / unit.period
    try:
        dsig = here.stat().st_mtime_ns
    except OSError:
        dsig = None
    seen = _forms_memo.get(str(here))
    if seen is None or seen[0] != dsig:
        by_member: dict[str, set] = {}
        if dsig is not None:
            for name in os.listdir(here):
                m = form_member(name)
                if m and (here / name).is_file():
                    by_member.setdefault(m, set()).add(f"{forms}{unit.period}/{name}")
        seen = (dsig, by_member)
        _forms_memo[str(here)] = seen
    return {"digest": digest, "forms": forms, "own": seen[1].get(unit.variant, set())}


def keeps(scope: dict | None, label: str) -> bool:
    """Is the raw file ``label`` (a project-relative path) an input of the scoped unit?
    Every raw file but the other schools' returned forms."""
    return scope is None or not label.startswith(scope["forms"]) or label in scope["own"]


def used_specs(spec) -> list:
    """The specs named by ``spec.uses`` that exist in this project."""
    names = getattr(spec, "uses", ())
    if not names:
        return []
    from esep.core import reports

    known = reports.all_reports()
    return [known[n] for n in names if n in known]


# = esep.manifest.KEY_PACKAGES (not imported: importing manifest loads importlib.metadata,
# ~0.1 s; tests/test_cache.py checks that both agree)
KEY_PACKAGES = ("esep", "papermill", "nbconvert", "nbformat", "ipykernel", "pandas", "pyarrow",
                "matplotlib", "seaborn", "scrapbook", "great-tables", "weasyprint", "typst",
                "pypandoc-binary", "pandera")


def _norm(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "_", name).lower()


def versions() -> dict[str, str | None]:
    """Same answer as :func:`esep.manifest.package_versions`, from ``*.dist-info`` folder
    names (one directory listing per ``sys.path`` entry instead of parsing metadata)."""
    if "__versions__" in _hash_memo:
        return json.loads(_hash_memo["__versions__"])
    import sys

    wanted = {_norm(n): n for n in KEY_PACKAGES}
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for d in names:
            if not d.endswith(".dist-info"):
                continue
            name, _, version = d[: -len(".dist-info")].partition("-")
            key = _norm(name)
            if key in wanted and wanted[key] not in found:
                found[wanted[key]] = version
    out: dict[str, str | None] = {"python": "%d.%d.%d" % sys.version_info[:3]}
    missing = [n for n in KEY_PACKAGES if n not in found]
    if missing:  # e.g. an egg-info install: ask importlib.metadata
        from importlib import metadata

        for n in missing:
            try:
                found[n] = metadata.version(n)
            except metadata.PackageNotFoundError:
                found[n] = None
    out.update({n: found[n] for n in KEY_PACKAGES})
    _hash_memo["__versions__"] = json.dumps(out)
    return out


# --- records --------------------------------------------------------------------------

@dataclass
class Key:
    inputs: dict[str, dict[str, str]]
    versions: dict
    formats: tuple[str, ...]
    digest: str = ""

    def __post_init__(self):
        if not self.digest:
            blob = json.dumps({"inputs": self.inputs, "versions": self.versions}, sort_keys=True)
            self.digest = hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class Freshness:
    fresh: bool
    reasons: list[str] = field(default_factory=list)
    key: Key | None = None

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons) if self.reasons else ("up to date" if self.fresh else "stale")


def unit_key(spec, unit, formats) -> Key:
    return Key(unit_inputs(spec, unit), versions(), tuple(formats))


def record_path(unit) -> Path:
    parts = [unit.period, unit.report] + ([unit.variant] if unit.variant else [])
    return config.STATE_DIR / "cache" / "units" / Path(*parts[:-1]) / f"{parts[-1]}.json"


def load_record(path: Path) -> dict | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("version") == RECORD_VERSION else None


def _atomic_json(path: Path, doc: dict) -> None:
    from esep.core.fsutil import atomic_write

    atomic_write(path, json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True))


def save(unit, key: Key, outputs: list[Path], seconds: float = 0.0) -> None:
    """Record a successful build of ``unit`` with the inputs it was built from."""
    _atomic_json(record_path(unit), {
        "version": RECORD_VERSION, "unit": unit.key, "digest": key.digest, "inputs": key.inputs,
        "versions": key.versions, "formats": sorted(key.formats),
        "outputs": sorted(rel(p) for p in outputs), "seconds": round(seconds, 2),
        "built": datetime.now().astimezone().isoformat(timespec="seconds"),
    })


def check(spec, unit, formats, key: Key | None = None) -> Freshness:
    """Fresh or stale (with the reasons) for ``unit`` built in ``formats``."""
    from esep.core.fsutil import recover

    recover()  # finish a commit a killed build left half done before judging its outputs
    key = key or unit_key(spec, unit, formats)
    rec = load_record(record_path(unit))
    if rec is None:
        return Freshness(False, ["never built (no build record)"], key)
    reasons = []
    if rec.get("digest") != key.digest:
        reasons = diff(rec, key)
    missing_fmt = [f for f in key.formats if f not in rec.get("formats", [])]
    if missing_fmt:
        reasons.append(f"format(s) not built yet: {', '.join(missing_fmt)}")
    if not reasons:
        gone = [o for o in rec.get("outputs", []) if not (config.ROOT / o).exists()]
        if gone:
            reasons.append(f"output missing: {gone[0]}" + (f" (+{len(gone) - 1} more)" if len(gone) > 1 else ""))
    if not reasons:
        mixed = set_mismatch(rec)
        if mixed:
            reasons.append(mixed)
    if not reasons and rec.get("digest") != key.digest:
        reasons.append("build record differs")  # e.g. a key layout change
    return Freshness(not reasons, reasons, key)


def set_mismatch(rec: dict) -> str | None:
    """Are the outputs on disk the set this record was written with (issue 17)? The
    manifest must list the raw files' hashes the record has, and the HTML and notebook
    must carry the manifest's data fingerprint; else why not."""
    outs = rec.get("outputs") or []
    man = next((o for o in outs if o.endswith(".manifest.json")), None)
    if man is None:
        return None
    try:
        doc = json.loads((config.ROOT / man).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # not a manifest esep can judge (its existence was checked above)
    if not isinstance(doc, dict):
        return None
    raw = (rec.get("inputs") or {}).get("raw") or {}
    changed = [k for k, v in (doc.get("inputs") or {}).items() if k in raw and raw[k] != v]
    if changed:
        return f"outputs not from the recorded build: {man} was written from other data ({_names(changed)})"
    fp = str(doc.get("data_fingerprint") or "")[:12].encode()
    for o in outs:
        if fp and o.endswith((".html", ".ipynb")):
            try:
                if fp not in (config.ROOT / o).read_bytes():
                    return f"outputs not from one build: {o} does not carry the manifest's data fingerprint"
            except OSError:
                return f"output unreadable: {o}"
    return None


def _names(items: list[str], n: int = 3) -> str:
    more = f" (+{len(items) - n} more)" if len(items) > n else ""
    return ", ".join(items[:n]) + more


def diff(rec: dict, key: Key) -> list[str]:
    """Human reasons: which inputs differ between a build record and the current key."""
    reasons = []
    old_in = rec.get("inputs", {})
    for kind, now in key.inputs.items():
        before = old_in.get(kind, {})
        if before == now:
            continue
        label = KIND_LABEL.get(kind, kind)
        changed = [k for k in now if k in before and before[k] != now[k]]
        added = [k for k in now if k not in before]
        removed = [k for k in before if k not in now]
        if kind == "params" and "values" in changed:
            changed.remove("values")
            changed.append("parameter values")
        parts = []
        if changed:
            parts.append(f"changed {_names(changed)}")
        if added:
            parts.append(f"new {_names(added)}")
        if removed:
            parts.append(f"removed {_names(removed)}")
        reasons.append(f"{label}: " + "; ".join(parts))
    old_v = rec.get("versions", {})
    vchanged = [f"{k} {old_v.get(k)} -> {v}" for k, v in key.versions.items() if old_v.get(k) != v]
    if vchanged:
        reasons.append(f"package versions: {_names(vchanged)}")
    return reasons


# --- prepare (raw -> processed) -----------------------------------------------------

def prepare_record_path(spec) -> Path:
    return config.STATE_DIR / "cache" / "prepare" / f"{spec.name}.json"


def prepare_key(spec) -> str:
    blob = json.dumps({"raw": raw_hashes(spec), "code": {k: v for k, v in code_hashes(spec).items()
                                                         if k.startswith("esep/") and not k.startswith("esep/kit/")},
                       "spec": sha256_file(spec.spec_path) if spec.spec_path else None,
                       "versions": versions()}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def prepare_fresh(spec, key: str | None = None) -> bool:
    """True when processed data was prepared from the current raw files and code and
    has not been changed since."""
    rec = load_record(prepare_record_path(spec))
    if rec is None or rec.get("digest") != (key or prepare_key(spec)):
        return False
    return rec.get("processed") == processed_hashes(spec)


def save_prepare(spec, key: str) -> None:
    for r in spec.inputs:  # prepare just rewrote these
        _hash_memo.pop(str(spec.processed_path(r)), None)
    _atomic_json(prepare_record_path(spec), {
        "version": RECORD_VERSION, "report": spec.name, "digest": key,
        "processed": processed_hashes(spec),
        "built": datetime.now().astimezone().isoformat(timespec="seconds"),
    })


# --- locks ------------------------------------------------------------------------------

def lock(name: str, timeout: float = -1):
    """A cross-process lock ``output/.esep/locks/<name>.lock`` (filelock)."""
    from filelock import FileLock

    path = config.STATE_DIR / "locks" / (name.replace("/", "__") + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(path), timeout=timeout)
