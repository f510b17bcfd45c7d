"""``esep publish``: record the editor's narrative changes, check them, render without executing.

What is published is always the *latest build's* numbers with the recorded text: edits
come from the edit view (:mod:`esep.notebook.editview`, normally recorded already at
save time) and from the executed notebook if it was edited directly; the record is then
applied to the executed notebook. An executed notebook saved over the latest build from
an older copy (its build id is not its manifest's) is refused: its text is recorded, its
numbers are not published.

Lives in the pipeline layer because it strings together the notebook layer (recorded
edits, checks) and the publish layer (manifest, formats) for one unit.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from esep.core.fsutil import rel as _rel
from esep.notebook import editview
from esep.notebook.edits import (META, NarrativeError, build_id, build_time, check, latest_build_id, load,
                                 reapply, record_from_notebook, record_lock, save, stale_copy)
from esep.notebook.narrative import PlaceholderError


@dataclass
class Published:
    unit: object
    recorded: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)   # e.g. an edit view from an older build


def publish(spec, unit, formats=("html",), strict: bool = False) -> Published:
    """Record the editor's changes (edit view, then the executed notebook), apply the
    record to the latest executed notebook, check it, render every format from it; all
    under the unit's lock (a build of the same unit waits, or is waited for)."""
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
    only = f" --only {unit.variant}" if unit.variant else ""
    rerun = f"esep run {unit.report} --period {unit.period}{only}"

    # 1. the edit view (`esep edit`): its save hook recorded it already, unless it did not run
    res = Published(unit)
    try:
        view = editview.record_view_file(unit)
    except editview.Refused as exc:
        raise NarrativeError(f"{unit.label}: not published — the edit view {_rel(editview.view_path(unit))} "
                             f"holds text that cannot be recorded: {exc} (open it with `esep edit "
                             f"{unit.report} --period {unit.period}{only}`)") from None
    if view is not None:
        res.recorded += [f"{ln} (from the edit view)" for ln in view.recorded]
        if view.stale and (view.recorded or load(unit).entries):
            res.notes.append(f"the edit view was made from an older build ({build_time(view.view_build)}); "
                             f"your text is published with the numbers of the latest build "
                             f"({build_time(view.latest_build)})")

    # 2. the executed notebook itself, if someone edited it directly
    old_copy = stale_copy(unit, nb)
    with record_lock(unit):
        rec = load(unit)
        sync = record_from_notebook(unit, nb, rec, confirm=not old_copy)
        if sync.changed:
            save(rec)
    res.recorded += sync.recorded
    res.resolved += sync.resolved
    if old_copy:
        raise NarrativeError(
            f"{unit.label}: not published — {_rel(nb_path)} was saved from an older build "
            f"({build_time(build_id(nb))}) over the latest one ({build_time(latest_build_id(unit))}), "
            f"so its numbers are old. "
            + (f"Your text edits in it are recorded in {_rel(rec.path)}. " if sync.recorded else "")
            + f"Run `{rerun}` (recomputes the numbers, keeps every recorded text), then publish again.")
    if sync.locked:
        raise NarrativeError(
            f"{unit.label}: not published — code cannot be changed this way (only narrative cells): "
            + "; ".join(sync.locked)
            + (f". Your narrative edits are recorded in {_rel(rec.path)}." if sync.recorded else ".")
            + f" Run `{rerun}` to rebuild the notebook from the template (recorded prose is kept), "
              f"then publish again.")

    # 3. the record, applied to the latest build's notebook (its numbers, everyone's text)
    try:
        applied = reapply(unit, nb, rec)
    except PlaceholderError as exc:
        raise NarrativeError(f"{unit.label}: not published — {exc}") from None
    for msg in applied.conflicts:
        res.notes.append(msg)
    errors, stale = check(unit, nb)
    if errors:
        raise NarrativeError(f"{unit.label}: not published — unknown placeholder:\n  " + "\n  ".join(errors)
                             + f"\n  Fix the text in `esep edit` (or in {_rel(rec.path)}) and publish again.")
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
        "build_id": applied.build_id,
    }
    doc["published"] = run.now_iso()
    from esep.pipeline.rerender import render_unit

    # the notebook (its edit-tracking metadata now matches the record) and the manifest's
    # narrative part first, then every format from the notebook exactly as `esep render` does
    run.commit({nb_path: nbformat.writes(nb), paths["manifest"]: manifest.dumps(doc)})
    rendered = render_unit(spec, unit, formats)
    res.outputs = [nb_path] + list(rendered.outputs)
    return res
