"""``esep render``: reader formats from the executed notebook already in ``output/``.

Nothing is executed: the executed notebook is the audit record, and HTML/PDF/DOCX are
made from it exactly as :func:`esep.run.run_unit` makes them (same page, same build
date and data fingerprint, taken from the notebook's ``esep`` metadata). Use it to add
a format (``--to docx``) or to re-typeset after a template/CSS change. The new files and
the updated manifest are written together, atomically, like a run's outputs.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from esep.core.errors import EsepError

_held: dict[str, list] = {}  # unit key -> [FileLock, depth] held by this process


@contextmanager
def unit_lock(unit, wait: float = 1800.0):
    """The unit's lock, the very one `esep build`/`esep run` hold while they write it
    (``output/.esep/locks/unit-<key>.lock``): render and publish never interleave with a
    build of the same unit. Re-entrant within one process (publish renders under it)."""
    import sys

    from filelock import Timeout

    from esep.pipeline import cache

    key = unit.key
    if key in _held:
        _held[key][1] += 1
        try:
            yield
        finally:
            _held[key][1] -= 1
        return
    lk = cache.lock(f"unit-{key}")
    try:
        lk.acquire(timeout=0)
    except Timeout:
        print(f"{unit.label}: waiting for another esep process writing it (build, run, render or "
              f"publish) to finish...", file=sys.stderr, flush=True)
        try:
            lk.acquire(timeout=wait)
        except Timeout:
            raise EsepError(f"{unit.label}: still locked by another esep process after {wait:.0f} s "
                            f"({lk.lock_file}); try again when it has finished") from None
    _held[key] = [lk, 1]
    try:
        yield
    finally:
        del _held[key]
        lk.release()


@dataclass
class Rendered:
    unit: object
    outputs: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def render_unit(spec, unit, formats=("html",)) -> Rendered:
    """Render ``formats`` of ``unit`` from ``output/.../<name>.ipynb``; update its manifest
    (under the unit's lock: see :func:`unit_lock`)."""
    with unit_lock(unit):
        return _render_unit(spec, unit, formats)


def _render_unit(spec, unit, formats) -> Rendered:
    import time

    import nbformat

    from esep.publish import manifest
    from esep.pipeline import run

    paths = run.output_paths(unit, formats)
    nb_path = paths["ipynb"]
    if not nb_path.exists():
        only = f" --only {unit.variant}" if unit.variant else ""
        raise EsepError(f"{unit.label}: no executed notebook at {manifest.rel(nb_path)}; "
                        f"run `esep run {unit.report} --period {unit.period}{only}` first")
    nb = nbformat.read(str(nb_path), as_version=4)
    meta = nb.metadata.get("esep", {})
    try:
        built = datetime.fromisoformat(meta["built"])
    except (KeyError, TypeError, ValueError):
        built = datetime.fromtimestamp(nb_path.stat().st_mtime)
    t0 = time.perf_counter()
    rendered = run.render_outputs(spec, unit, nb, formats, meta.get("data_fingerprint", ""), built)
    res = Rendered(unit, seconds={"all": time.perf_counter() - t0})

    doc: dict = manifest.read(paths["manifest"])
    staged: dict[Path, str | bytes] = {paths[f]: content for f, content in rendered.items()}
    doc["outputs"] = list(dict.fromkeys((doc.get("outputs") or []) + [manifest.rel(p) for p in staged]))
    doc["rendered"] = {"at": run.now_iso(), "formats": list(rendered),
                       "versions": manifest.package_versions()}
    staged[paths["manifest"]] = manifest.dumps(doc)
    run.commit(staged)
    res.outputs = list(staged)
    return res
