"""Editor's changes to narrative cells, recorded so they survive re-execution.

The flow (see README "Editing the text of a report"):

1. ``esep run`` executes the template, then :func:`apply_recorded` puts the recorded
   editor text into the new executed notebook's narrative cells and stores, in the
   notebook's metadata (``metadata.esep_narrative``), what it wrote: for each narrative
   cell the template text and a hash of the text written, a hash of every other cell
   (code, headings) so later changes to them can be told apart, and the build's id.
2. The editor changes narrative cells in the edit view that ``esep edit`` opens
   (:mod:`esep.notebook.editview`); each save is recorded at once by the JupyterLab save
   hook (:mod:`esep.notebook.savehook`) with :func:`record_from_notebook`, under
   :func:`record_lock`. The executed notebook may also be edited directly (`make lab`).
3. ``esep publish`` records what is left (view, executed notebook), applies the record to
   the latest executed notebook (:func:`reapply`) and renders HTML/PDF/DOCX from it
   without executing anything. Changed code cells (or other non-narrative cells) of the
   executed notebook are refused: code cannot be changed this way.
4. The next ``esep run`` first records edits left in the executed notebook
   (:func:`record_pending`), then executes and applies the record again. A cell whose
   template text changed since it was edited keeps the editor's text and is reported as
   a conflict (CLI warning + manifest); publishing again confirms the text against the
   new template.

Cells are matched by their stable id (:func:`esep.narrative.cell_id`). The record file
itself (format, parsing, its lock) is :mod:`esep.notebook.record`.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import nbformat

from esep.core import config
from esep.notebook import narrative
from esep.core.errors import EsepError
from esep.core.fsutil import rel as _rel
# the record file (re-exported: callers and tests use edits.load, edits.Entry, ...)
from esep.notebook.record import (REMOVED, Entry, NarrativeError, Record, load, parse,  # noqa: F401
                                  record_lock, record_path, save)

META = "esep_narrative"
GENERATED_TAGS = {"data-quality", "injected-parameters"}  # cells esep adds, never the editor's


def _sha(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _cell_sha(cell) -> str:
    key = [cell.cell_type, cell.source, cell.get("execution_count")]
    return hashlib.sha256(json.dumps(key, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


def _short(text: str | None, n: int = 70) -> str:
    if text is None:
        return "(removed)"
    one = " ".join(text.split())
    return repr(one if len(one) <= n else one[: n - 1] + "…")


# --------------------------------------------------------------------------------------
# After execution: apply the record to a freshly executed notebook
# --------------------------------------------------------------------------------------

@dataclass
class Applied:
    record: str
    edited: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    build_id: str = ""

    def manifest(self) -> dict:
        path = config.ROOT / self.record
        return {"record": self.record if path.exists() else None,
                "record_sha256": hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None,
                "edited_cells": self.edited, "conflicts": self.conflicts, "build_id": self.build_id}


# --------------------------------------------------------------------------------------
# Build identity: which build made an executed notebook (and an edit view made from it)
# --------------------------------------------------------------------------------------
# Every execution gets a fresh id, stored in the notebook (``metadata.esep_narrative.build_id``)
# and in its manifest (``narrative.build_id``), which are written together. A notebook whose
# id differs from its manifest's was saved over the newer build from an older copy.

def new_build_id() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:8]


def build_id(nb) -> str | None:
    st = nb.get("metadata", {}).get(META)
    return st.get("build_id") if isinstance(st, dict) else None


def build_time(bid: str | None) -> str:
    """'20240101-101502-ab12cd34' -> '2024-01-01 10:15' (for messages)."""
    m = re.match(r"(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})", bid or "")
    return f"{m[1]}-{m[2]}-{m[3]} {m[4]}:{m[5]}" if m else (bid or "unknown")


def latest_build_id(unit) -> str | None:
    """The id of the unit's latest build, from its manifest (None: no manifest / older build)."""
    path = unit.output_base().with_suffix(".manifest.json")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    narr = doc.get("narrative") if isinstance(doc, dict) else None
    return narr.get("build_id") if isinstance(narr, dict) else None


def _anchor_ok(cell) -> bool:
    return "injected-parameters" not in cell.get("metadata", {}).get("tags", []) and bool(narrative.cell_id(cell))


def apply_recorded(unit, nb, rec: Record | None = None, *, build: str | None = None) -> Applied:
    """Put the recorded editor text into ``nb`` (in place) and remember what was written.

    ``build``: the build id to keep (:func:`reapply`); None = a new build (``esep run``)."""
    from esep.notebook.scraps import read_scraps

    rec = load(unit) if rec is None else rec
    out = Applied(_rel(rec.path), build_id=build or new_build_id())
    state: dict[str, dict] = {}
    cells = []
    for cell in nb.cells:
        cid = narrative.cell_id(cell)
        if not narrative.is_narrative(cell) or not cid:
            cells.append(cell)
            continue
        tmpl = cell.source
        entry = rec.entries.get(cid)
        if entry is not None and not entry.added:
            out.edited.append(cid)
            if entry.base != tmpl:
                out.conflicts.append(
                    f"{unit.label}: cell {cid}: the template changed this cell after it was edited; "
                    f"the editor's text is kept. Template now: {_short(tmpl)}; edited from: "
                    f"{_short(entry.base)}. Review the cell in the notebook and run `esep publish` "
                    f"to confirm it (record: {out.record}).")
            state[cid] = {"template": tmpl, "written": _sha(entry.text)}
            if entry.text is None:
                continue  # removed by the editor
            cell.source = entry.text
        else:
            state[cid] = {"template": tmpl, "written": _sha(tmpl)}
        cells.append(cell)
    nb.cells = cells

    for entry in rec.entries.values():
        if entry.added:
            if entry.text is None:
                continue
            pos = 0
            if entry.after:
                pos = next((i + 1 for i, c in enumerate(nb.cells) if narrative.cell_id(c) == entry.after), None)
                if pos is None:
                    out.conflicts.append(f"{unit.label}: added cell {entry.id}: the cell it followed "
                                         f"({entry.after}) is gone from the template; it is placed at the end.")
                    pos = len(nb.cells)
            new = nbformat.v4.new_markdown_cell(entry.text, metadata={"tags": [narrative.TAG]})
            new["id"] = entry.id
            nb.cells.insert(pos, new)
            out.edited.append(entry.id)
            state[entry.id] = {"template": None, "written": _sha(entry.text), "after": entry.after}
        elif entry.id not in state:
            out.conflicts.append(f"{unit.label}: cell {entry.id}: the template has no narrative cell with this "
                                 f"id any more; the edited text {_short(entry.text)} is kept in {out.record} "
                                 f"but not shown.")

    locked = {narrative.cell_id(c): _cell_sha(c) for c in nb.cells
              if narrative.cell_id(c) and narrative.cell_id(c) not in state}
    nb.metadata[META] = {"record": out.record, "narrative": state, "locked": locked, "build_id": out.build_id}

    errors = narrative.placeholder_errors(nb, read_scraps(nb))
    if errors:
        edited_bad = any(f" id {cid} (" in e for cid in out.edited for e in errors)
        where = f" (edited text comes from {out.record})" if edited_bad else ""
        hint = (f"\n  Fix the text under 'edited:' in {out.record} (or in the notebook, then `esep publish`) "
                f"and run again." if edited_bad else "")
        raise narrative.PlaceholderError(f"{unit.label}: unknown placeholder{where}:\n  " + "\n  ".join(errors)
                                         + hint)
    return out


def reapply(unit, nb, rec: Record | None = None) -> Applied:
    """Apply the record again to an executed notebook that already went through
    :func:`apply_recorded` (``esep publish``, the edit view): narrative cells go back to
    their template text, cells an editor added are taken out, then the record is applied.
    The build id is kept: the numbers are that build's. A cell removed by an earlier record
    stays removed (its place is gone; `esep run` brings it back)."""
    st = nb.metadata.get(META)
    if not isinstance(st, dict) or "narrative" not in st:
        raise NarrativeError(f"{unit.label}: this executed notebook was built before narrative editing "
                             f"was supported; run `esep run {unit.report} --period {unit.period}` first")
    tracked = st["narrative"]
    cells = []
    for cell in nb.cells:
        info = tracked.get(narrative.cell_id(cell))
        if info is not None and info.get("template") is None:
            continue  # added by an editor: the record puts it back
        if info is not None:
            cell.source = info["template"]
        cells.append(cell)
    nb.cells = cells
    return apply_recorded(unit, nb, rec, build=st.get("build_id") or new_build_id())


# --------------------------------------------------------------------------------------
# Before a rerun / on publish: record what the editor changed in the executed notebook
# --------------------------------------------------------------------------------------

@dataclass
class Sync:
    recorded: list[str] = field(default_factory=list)   # human lines: what went into the record
    resolved: list[str] = field(default_factory=list)   # conflicts confirmed by publishing
    locked: list[str] = field(default_factory=list)     # code / non-narrative cells changed
    changed: bool = False


def record_from_notebook(unit, nb, rec: Record, *, confirm: bool) -> Sync:
    """Update ``rec`` (in place) from the editor's changes in ``nb``; update nb's metadata.

    ``confirm`` (publish): cells that hold recorded text based on an older template text
    are re-based on the template text of this notebook (the conflict is confirmed).
    """
    st = nb.metadata.get(META)
    if not isinstance(st, dict) or "narrative" not in st:
        raise NarrativeError(f"{unit.label}: this executed notebook was built before narrative editing "
                             f"was supported; run `esep run {unit.report} --period {unit.period}` first")
    tracked: dict = st["narrative"]
    locked: dict = st.get("locked", {})
    sync = Sync()
    by_id = {narrative.cell_id(c): c for c in nb.cells if narrative.cell_id(c)}
    if nb.cells and not by_id:
        raise NarrativeError(f"{unit.label}: the notebook lost its cell ids (saved by an old tool?); "
                             f"edits cannot be matched. Rerun with `esep run` and edit with JupyterLab.")

    # code and other non-narrative cells must be as esep wrote them
    for cid, sha in locked.items():
        cell = by_id.get(cid)
        if cell is None:
            sync.locked.append(f"cell {cid} was deleted")
        elif _cell_sha(cell) != sha:
            what = "code cell" if cell.cell_type == "code" else f"{cell.cell_type} cell (not a narrative cell)"
            sync.locked.append(f"{what} {cid} ({_short(cell.source, 50)}) was changed or re-run")

    # narrative cells esep wrote
    for cid, info in tracked.items():
        cell = by_id.get(cid)
        current = cell.source if cell is not None else None
        if _sha(current) == info.get("written"):
            entry = rec.entries.get(cid)
            if (confirm and entry is not None and not entry.added and entry.base != info["template"]
                    and entry.text == current):
                entry.base = info["template"]
                sync.resolved.append(f"cell {cid}: your text {_short(current)} is now based on the current template")
                sync.changed = True
            continue
        before = rec.entries.get(cid)
        if info.get("template") is None:  # a cell the editor added earlier
            if current is None:
                rec.entries.pop(cid, None)
                line = f"added cell {cid}: removed"
            else:
                rec.entries[cid] = Entry(cid, None, current, info.get("after"))
                line = f"added cell {cid}: {_short(current)}"
        elif current == info["template"]:
            rec.entries.pop(cid, None)
            line = f"cell {cid}: back to the template text"
        else:
            rec.entries[cid] = Entry(cid, info["template"], current)
            line = f"cell {cid}: {_short(current)}"
        if rec.entries.get(cid) != before:  # already recorded (e.g. a refused publish): no news
            sync.recorded.append(line)
            sync.changed = True
        info["written"] = _sha(current)

    # cells the editor added now: new markdown cells get recorded after the cell before them
    prev = None
    for cell in nb.cells:
        cid = narrative.cell_id(cell)
        known = cid in tracked or cid in locked
        if not known and set(cell.get("metadata", {}).get("tags", [])) & GENERATED_TAGS:
            continue  # a cell esep itself appends (data-quality appendix): not the editor's
        if not known and cell.cell_type == "markdown":
            if not cid:
                cid = f"added-{_sha(cell.source)[:8]}"
                cell["id"] = cid
            if cell.source.strip():
                entry = Entry(cid, None, cell.source, prev)
                if rec.entries.get(cid) != entry:
                    sync.recorded.append(f"added cell {cid}: {_short(cell.source)}")
                    sync.changed = True
                rec.entries[cid] = entry
                tracked[cid] = {"template": None, "written": _sha(cell.source), "after": prev}
        elif not known and cell.cell_type != "markdown":
            sync.locked.append(f"new {cell.cell_type} cell {cid or ''} ({_short(cell.source, 50)}) was added")
        if cid and _anchor_ok(cell) and (cid in tracked or cid in locked):
            prev = cid

    # keep the record in notebook order (edited cells not in this notebook stay at the end)
    order = {cid: i for i, cid in enumerate(narrative.cell_id(c) for c in nb.cells)}
    rec.entries = dict(sorted(rec.entries.items(), key=lambda kv: order.get(kv[0], len(order))))
    return sync


def warn(msg: str) -> None:
    from rich.console import Console

    from rich.markup import escape

    Console(stderr=True, highlight=False).print(f"[yellow]warning:[/yellow] {escape(msg)}", soft_wrap=True)


def _note(msg: str) -> None:
    from rich.console import Console

    Console(stderr=True, highlight=False).print(msg, soft_wrap=True, markup=False)


def record_pending(unit) -> list[str]:
    """Before a rerun: record edits made in the current executed notebook (never lose them).

    Returns the lines printed. Changes to code / non-narrative cells cannot be carried
    over: they are reported and the old notebook is copied to ``output/.esep/edited/``.
    A notebook saved over the latest build from an older copy is recorded the same way
    (its own metadata says what that copy showed) and said so. The editor's view
    (:mod:`esep.notebook.editview`) needs nothing here: its save hook records each save,
    and `esep edit` / `esep publish` record what a save left in the view file.
    """
    lines: list[str] = []
    nb_path = unit.output_base().with_suffix(".ipynb")
    if not nb_path.exists():
        return lines
    try:
        nb = nbformat.read(str(nb_path), as_version=4)
    except Exception as exc:  # noqa: BLE001 - a broken file must not be overwritten silently
        keep = _keep_copy(unit, nb_path)
        raise NarrativeError(f"{unit.label}: {_rel(nb_path)} cannot be read ({exc}); it may hold "
                             f"unrecorded edits. A copy is kept at {_rel(keep)}; fix or delete the file "
                             f"and run again.") from None
    if META not in nb.metadata:
        return lines  # built before narrative editing: nothing esep can compare against
    with record_lock(unit):
        rec = load(unit)
        sync = record_from_notebook(unit, nb, rec, confirm=False)
        if sync.changed:
            save(rec)
    if sync.changed:
        old = stale_copy(unit, nb)
        src = (f"{_rel(nb_path)} (saved from an older build, {build_time(build_id(nb))}, over the "
               f"latest one: only its text is kept)" if old else _rel(nb_path))
        new = [f"{unit.label}: recorded {len(sync.recorded)} unpublished narrative edit(s) from "
               f"{src} in {_rel(rec.path)} before rerunning"] + [f"  {ln}" for ln in sync.recorded]
        for ln in new:
            _note(ln)
        lines += new
    if sync.locked:
        keep = _keep_copy(unit, nb_path)
        msg = (f"{unit.label}: changes to non-narrative cells in {_rel(nb_path)} are discarded by the rerun "
               f"(code cannot be changed this way; change notebooks/{unit.report}.ipynb instead): "
               + "; ".join(sync.locked) + f". The old notebook is kept at {_rel(keep)}")
        warn(msg)
        lines.append(msg)
    return lines


def stale_copy(unit, nb) -> bool:
    """True when ``nb`` (the executed notebook in output/) is not the latest build: an older
    copy was saved over it (its manifest names a different build)."""
    latest = latest_build_id(unit)
    return bool(latest) and build_id(nb) != latest


def _keep_copy(unit, nb_path: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    keep = config.STATE_DIR / "edited" / f"{unit.key.replace('/', '__')}.{stamp}.ipynb"
    keep.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(nb_path, keep)
    return keep


# --------------------------------------------------------------------------------------
# publish: record, check, render without executing
# --------------------------------------------------------------------------------------

def check(unit, nb=None) -> tuple[list[str], list[str]]:
    """(placeholder errors, stale-number warnings) of the executed notebook as it is now."""
    if nb is None:
        nb_path = unit.output_base().with_suffix(".ipynb")
        if not nb_path.exists():
            raise NarrativeError(f"{unit.label}: no executed notebook at {_rel(nb_path)}; "
                                 f"run `esep run {unit.report} --period {unit.period}` first")
        nb = nbformat.read(str(nb_path), as_version=4)
    from esep.notebook import consistency
    from esep.notebook.scraps import read_scraps

    errors = narrative.placeholder_errors(nb)
    # a named figure printed with two values (text vs table): a warning like a stale
    # number (`--strict` fails on it); the shipped reports' tests assert there is none
    contradictions = [f"one quantity, two values: {c}" for c in consistency.contradictions(read_scraps(nb))]
    stale = contradictions + [f"{label}: {lit.text!r} matches no current figure — in: {_short(lit.line, 90)}"
             for label, lit in narrative.stale_numbers(nb)]
    return errors, stale


def units(report: str, period: str, variant: str | None = None):
    """(spec, units) for a CLI command on one report and period."""
    from esep.core import params
    from esep.core import reports

    msg = params.check_period(period)
    if msg:
        raise EsepError(f"--period: {msg}")
    spec = reports.get(report)
    return spec, params.units_for(spec, period, variant)


def figures_table(nb) -> list[tuple[str, str]]:
    """(placeholder, current value as printed) for the editor's reference."""
    from esep.notebook.scraps import read_scraps

    return figures_rows(read_scraps(nb))


def figures_rows(scraps: dict) -> list[tuple[str, str]]:
    rows = []
    for name, value in sorted(scraps.items()):
        if isinstance(value, (int, float, str)) or value is None:
            try:
                rows.append(("{{ %s }}" % name, narrative.format_value(name, value)))
            except Exception:  # noqa: BLE001 - reference only
                continue
    return rows
