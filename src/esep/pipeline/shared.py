"""Work done once per report per build and shared by all its units: the raw data is read
and checked, and its data-quality findings computed, once; every unit (period, region,
district, school) then takes its own slice for the «Деректер сапасы» appendix.

The slices of every period and variant of a report are written to
``output/.esep/cache/findings/<report>.pickle``, keyed by the report's prepare key (raw
files, schema, esep code, spec, package versions). The first build worker that needs
them computes them under a lock; the other workers (local pool or Dask, on the shared
project tree) and later builds read the file. A unit asks :func:`unit_findings`.
"""
from __future__ import annotations

import pickle

from esep.core import config
from esep.pipeline import cache

VERSION = 1
_memo: dict[str, tuple[str, dict]] = {}  # report -> (key, {(period, variant): findings})


def path_for(spec):
    return config.STATE_DIR / "cache" / "findings" / f"{spec.name}.pickle"


def compute(spec, periods_variants: dict[str, list]) -> dict:
    """{(period, variant): findings} from one read and check of the report's raw data."""
    from esep.data import findings, validate

    loaded = validate.load_report(spec)
    if loaded.problems:  # errors: no findings (the run itself reports the errors)
        return {(p, v): [] for p, vs in periods_variants.items() for v in vs}
    from esep.core import numbers

    with numbers.rounding(spec.rounding):  # agreement at the report's own rounding rule
        found = findings.compute(loaded)
    # findings.for_variant reads the frames again unless they are in its memo: hand it
    # the ones just read (same key as for_variant computes; a miss only costs a re-read)
    files = validate.input_files(spec)
    fkey = ("__frames__", spec.name, tuple((str(p), p.stat().st_mtime_ns) for p in files if p.is_file()))
    findings._FRAMES.clear()
    findings._FRAMES[fkey] = loaded.frames
    out = {}
    for period, variants in periods_variants.items():
        per = findings.for_period(found, period, loaded.schema)  # the period's own findings
        for v in variants:
            out[(period, v)] = findings.for_variant(per, spec, v)
    return out


def _all_units(spec) -> dict[str, list]:
    from esep.core import params

    pv: dict[str, list] = {}
    for period in spec.periods():
        try:
            pv[period] = sorted({u.variant for u in params.units_for(spec, period)}, key=lambda v: v or "")
        except Exception:  # noqa: BLE001 - an invalid params file has no units to serve
            continue
    return pv


def unit_findings(spec, unit, key: str | None = None) -> list:
    """The findings ``unit``'s appendix shows, computed once per report and shared.
    ``key``: the report's prepare key, as the build computed it (a Dask worker that lives
    across builds must not trust its own memo of file hashes)."""
    key = key or cache.prepare_key(spec)
    hit = _memo.get(spec.name)
    want = (unit.period, unit.variant)
    if hit and hit[0] == key and want in hit[1]:
        return hit[1][want]
    path = path_for(spec)
    table = _load(path, key)
    if table is None or want not in table:
        with cache.lock(f"findings-{spec.name}"):
            table = _load(path, key)  # another worker may have just written it
            if table is None or want not in table:
                pv = _all_units(spec)
                pv.setdefault(unit.period, [])
                if unit.variant not in pv[unit.period]:
                    pv[unit.period].append(unit.variant)
                table = compute(spec, pv)
                from esep.core.fsutil import atomic_write

                atomic_write(path, pickle.dumps({"version": VERSION, "key": key, "table": table}))
    _memo[spec.name] = (key, table)
    return table[want]


def _load(path, key: str):
    try:
        doc = pickle.loads(path.read_bytes())
    except Exception:  # noqa: BLE001 - missing or unreadable: recompute
        return None
    if not isinstance(doc, dict) or doc.get("version") != VERSION or doc.get("key") != key:
        return None
    return doc["table"]
