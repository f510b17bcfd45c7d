"""``esep publish``: record the editor's narrative changes, check them, render without executing.

Lives in the pipeline layer because it strings together the notebook layer (recorded
edits, checks) and the publish layer (manifest, formats) for one unit.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from esep.core.fsutil import rel as _rel
from esep.notebook.edits import META, NarrativeError, check, load, record_from_notebook, save


@dataclass
class Published:
    unit: object
    recorded: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)


def publish(spec, unit, formats=("html",), strict: bool = False) -> Published:
    """Record the editor's changes, check them, render every format from the notebook,
    all under the unit's lock (a build of the same unit waits, or is waited for)."""
    from esep.pipeline.rerender import unit_lock

    with unit_lock(unit):
        return _publish(spec, unit, formats, strict)


def _publish(spec, unit, formats, strict: bool) -> Published:
    from esep.pipeline import run

    paths = run.output_paths(unit, formats)
    nb_path = paths["ipynb"]
    if not nb_path.exists():
        raise NarrativeError(f"{unit.label}: no executed notebook at {_rel(nb_path)}; "
                             f"run `esep run {unit.report} --period {unit.period}` first")
    nb = nbformat.read(str(nb_path), as_version=4)
    rec = load(unit)
    sync = record_from_notebook(unit, nb, rec, confirm=True)
    if sync.changed:
        save(rec)
    res = Published(unit, sync.recorded, sync.resolved)
    if sync.locked:
        raise NarrativeError(
            f"{unit.label}: not published — code cannot be changed this way (only narrative cells): "
            + "; ".join(sync.locked)
            + (f". Your narrative edits are recorded in {_rel(rec.path)}." if sync.recorded else ".")
            + f" Run `esep run {unit.report} --period {unit.period}"
            + (f" --only {unit.variant}" if unit.variant else "")
            + "` to rebuild the notebook from the template (recorded prose is kept), then publish again.")
    errors, stale = check(unit, nb)
    if errors:
        raise NarrativeError(f"{unit.label}: not published — unknown placeholder:\n  " + "\n  ".join(errors)
                             + f"\n  Fix the cell in {_rel(nb_path)} and publish again.")
    res.stale = stale
    if strict and stale:
        raise NarrativeError(f"{unit.label}: not published (--strict) — numbers that match no current "
                             f"figure:\n  " + "\n  ".join(stale))

    from esep.publish import manifest

    doc: dict = manifest.read(paths["manifest"])
    tracked_ids = set(nb.metadata[META]["narrative"])
    doc["narrative"] = {
        "record": _rel(rec.path) if rec.entries else None,
        "record_sha256": hashlib.sha256(rec.dumps().encode("utf-8")).hexdigest() if rec.entries else None,
        "edited_cells": list(rec.entries),
        "conflicts": [f"cell {cid}: recorded edit has no narrative cell in the template any more"
                      for cid, e in rec.entries.items() if not e.added and cid not in tracked_ids],
        "stale_numbers": stale,
    }
    doc["published"] = run.now_iso()
    from esep.pipeline.rerender import render_unit

    # the notebook (its edit-tracking metadata now matches the record) and the manifest's
    # narrative part first, then every format from the notebook exactly as `esep render` does
    run.commit({nb_path: nbformat.writes(nb), paths["manifest"]: manifest.dumps(doc)})
    rendered = render_unit(spec, unit, formats)
    res.outputs = [nb_path] + list(rendered.outputs)
    return res
