"""The editor's view of a report: the notebook `esep edit` opens in JupyterLab.

The executed notebook in ``output/`` is the audit record and is never opened for editing.
The editor gets a *view* made from it, ``output/.esep/edit/<unit>/<name> - edit the text.ipynb``:

- the report as the reader reads it: code cells keep their tables and charts but their
  source is hidden (``jupyter.source_hidden``) and locked (``editable``/``deletable``
  false), cells readers never see are left out;
- every narrative cell is editable and followed by a generated, locked *preview* cell:
  the text with today's numbers filled in and the ``name = value`` of each placeholder
  it uses; the last cell lists every figure as ``{{ name }}`` = value, to copy;
- ``metadata.esep_edit`` names the unit and the build the view was made from.

Saving the view in JupyterLab runs :func:`esep.notebook.savehook.pre_save`, which calls
:func:`record_view`: the edited text goes into ``narrative/<report>/<period>.md`` at
once (under the record lock), or the save is refused with a message the editor sees
(unknown placeholder, a code cell added). ``esep publish`` and every rerun read the view
file too (:func:`record_view_file`), so an edit is recorded even if the hook did not run.
A view made from an older build than the latest keeps the editor's text (recorded by
cell id, re-applied on the newest build); the numbers the reader sees always come from
the latest executed notebook.
"""
from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from esep.core import config
from esep.core.errors import EsepError
from esep.core.fsutil import atomic_write, rel
from esep.notebook import edits, narrative
from esep.notebook.scraps import is_scrap_output, read_scraps

VIEW_META = "esep_edit"
HIDDEN_TAGS = {"parameters", "injected-parameters", "remove", "remove_cell", "hide"}  # as render does
TEXT, LOCKED, PREVIEW, FIGURES = "text", "locked", "preview", "figures"
GENERATED = {PREVIEW, FIGURES}
FIGURES_ANCHOR = "figures"


class Refused(EsepError):
    """A save of the view that is not recorded; the message is shown to the editor."""


# --------------------------------------------------------------------------------------
# Where the view lives
# --------------------------------------------------------------------------------------

def view_dir(unit) -> Path:
    """The folder JupyterLab serves for this unit: it holds the view and nothing else."""
    return config.STATE_DIR / "edit" / unit.key.replace("/", "__")


def view_name(unit) -> str:
    return f"{unit.report} {unit.period}" + (f" {unit.variant}" if unit.variant else "") + " - edit the text.ipynb"


def view_path(unit) -> Path:
    return view_dir(unit) / view_name(unit)


def _role(cell) -> str | None:
    meta = cell.get("metadata", {}).get(VIEW_META)
    return meta.get("role") if isinstance(meta, dict) else None


def _sid(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


# --------------------------------------------------------------------------------------
# Making the view
# --------------------------------------------------------------------------------------

def _fill(text: str, scraps: dict) -> tuple[str, list[str]]:
    """The text with numbers filled (unknown names marked), and `name = value` lines."""
    used: list[str] = []

    def sub(m):
        name, style = m.group(1), m.group(2)
        if name not in scraps:
            used.append(f"⚠ `{{{{ {name} }}}}` names no figure (see the list at the end)")
            return f"**⚠ {{{{ {name} }}}}?**"
        try:
            value = narrative.format_value(name, scraps[name], style)
        except Exception:  # noqa: BLE001 - a preview never fails
            value = str(scraps[name])
        used.append(f"`{name}` = {value}")
        return value

    filled = narrative.PLACEHOLDER.sub(sub, text)
    return filled, list(dict.fromkeys(used))


def preview_source(text: str, scraps: dict, skipped: bool = False) -> str:
    filled, used = _fill(text, scraps)
    quoted = "\n".join("> " + ln if ln.strip() else ">" for ln in filled.splitlines()) or ">"
    head = ("> <span class='esep-preview'></span>**✎ The text above is yours to edit** (double-click it, then Ctrl+S to save) · "
            "*Жоғарыдағы мәтінді өңдеуге болады.* The reader sees:")
    parts = [head, ">", quoted]
    if used:
        parts += [">", "> <small>Numbers in it: " + " · ".join(used) + "</small>"]
    if skipped:
        parts += [">", "> <small>This section has no data for this period: readers do not see it.</small>"]
    return "\n".join(parts)


def figures_source(scraps: dict) -> str:
    rows = edits.figures_rows(scraps)
    lines = [f'<a id="{FIGURES_ANCHOR}"></a>', "",
             "## Figures you can use · Сандар", "",
             "To show a figure in the text, copy its name *with the braces* from the left column "
             "into a text cell, e.g. `{{ pupils_total }}`: the report shows the current value "
             "(right column) and updates it when the data is corrected. Do not type numbers by "
             "hand. Variants: `{{ name:signed }}` shows +3 319 / -202, `{{ name:pct }}` a percent "
             "(80,5%), `{{ name:pct0 }}` a whole percent (25%), `{{ name:num }}` one decimal.", "",
             "| write in the text | the reader sees now |", "|---|---|"]
    for name, value in rows:
        lines.append(f"| `{name}` | {value.replace('|', '/')} |")
    return "\n".join(lines)


KEEP_META = ("tags", "esep", "jupyter")  # papermill's timings etc. are not the editor's business


def _meta(cell) -> dict:
    return {k: v for k, v in cell.get("metadata", {}).items() if k in KEEP_META}


def _locked_meta(cell, **extra) -> dict:
    meta = _meta(cell)
    meta.update({"editable": False, "deletable": False, VIEW_META: {"role": LOCKED}}, **extra)
    return meta


def make_view(unit, nb):
    """The editor's view of ``nb`` (an executed notebook with the record applied)."""
    st = nb.metadata.get(edits.META)
    if not isinstance(st, dict) or "narrative" not in st:
        raise edits.NarrativeError(f"{unit.label}: this executed notebook was built before narrative editing "
                                   f"was supported; run `esep run {unit.report} --period {unit.period}` first")
    scraps = read_scraps(nb)
    skipped = narrative.skipped_sections(scraps)
    tracked = st["narrative"]
    cells = []
    for cell in nb.cells:
        cid = narrative.cell_id(cell)
        tags = set(cell.get("metadata", {}).get("tags", []))
        if cell.cell_type == "raw" or (tags & HIDDEN_TAGS and cid not in tracked):
            continue
        cell = copy.deepcopy(cell)
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", [])
                            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
                            and not is_scrap_output(o)]
            if not cell.outputs:
                continue
            jup = dict(cell.metadata.get("jupyter", {}), source_hidden=True)
            cell.metadata = _locked_meta(cell, jupyter=jup)
            # the editor sees what the code made, not the code (nor its run count)
            cell.source, cell.execution_count = "", None
            for o in cell.outputs:
                if "execution_count" in o:
                    o["execution_count"] = None
            cells.append(cell)
        elif cid in tracked or narrative.is_narrative(cell):
            meta = _meta(cell)
            meta[VIEW_META] = {"role": TEXT}
            cell.metadata = meta
            cells.append(cell)
            prev = nbformat.v4.new_markdown_cell(
                preview_source(cell.source, scraps, narrative.in_skipped_section(cell, skipped)),
                metadata={"editable": False, "deletable": False, VIEW_META: {"role": PREVIEW, "for": cid}})
            prev["id"] = f"preview-{_sid(cid or cell.source)}"
            cells.append(prev)
        else:
            cell.metadata = _locked_meta(cell)
            cells.append(cell)
    fig = nbformat.v4.new_markdown_cell(figures_source(scraps), metadata={
        "editable": False, "deletable": False, VIEW_META: {"role": FIGURES}})
    fig["id"] = "esep-figures"
    cells.append(fig)
    meta = {k: v for k, v in nb.metadata.items() if k in ("kernelspec", "language_info", "esep")}
    meta[VIEW_META] = {"report": unit.report, "period": unit.period, "variant": unit.variant,
                       "build_id": st.get("build_id"), "narrative": copy.deepcopy(tracked),
                       "note": "Made by `esep edit` from the executed notebook; only the text cells "
                               "are recorded when saved."}
    view = nbformat.v4.new_notebook(cells=cells, metadata=meta)
    return view


def latest_notebook(unit):
    path = unit.output_base().with_suffix(".ipynb")
    if not path.exists():
        raise Refused(f"{unit.label}: no executed notebook at {rel(path)}; "
                      f"run `esep run {unit.report} --period {unit.period}` first")
    return nbformat.read(str(path), as_version=4)


def write_view(unit) -> Path:
    """(Re)write the unit's view from the latest executed notebook and the record."""
    nb = latest_notebook(unit)
    edits.reapply(unit, nb)
    path = view_path(unit)
    path.parent.mkdir(parents=True, exist_ok=True)
    view = make_view(unit, nb)
    _trust(view)
    atomic_write(path, nbformat.writes(view))
    return path


def _trust(view) -> None:
    """Sign the view (as `jupyter trust` does) so JupyterLab shows its tables with their
    styles: it holds only outputs esep itself produced."""
    try:
        from nbformat.sign import NotebookNotary

        NotebookNotary().sign(view)
    except Exception:  # noqa: BLE001 - an untrusted view still works, tables look plainer
        pass


# --------------------------------------------------------------------------------------
# Recording a saved view
# --------------------------------------------------------------------------------------

@dataclass
class ViewSave:
    unit: object
    record: Path
    recorded: list[str] = field(default_factory=list)
    view_build: str | None = None
    latest_build: str | None = None

    @property
    def stale(self) -> bool:
        return bool(self.latest_build) and self.view_build != self.latest_build

    def lines(self, before_rerun: bool = False) -> list[str]:
        if not self.recorded:
            return []
        when = " before rerunning" if before_rerun else ""
        src = rel(view_path(self.unit))
        if self.stale:
            src += (f" (made from an older build, {edits.build_time(self.view_build)}; your text is applied "
                    f"to the numbers of the latest build, {edits.build_time(self.latest_build)})")
        return ([f"{self.unit.label}: recorded {len(self.recorded)} narrative edit(s) from the edit view "
                 f"{src} in {rel(self.record)}{when}"] + [f"  {ln}" for ln in self.recorded])


def _node(nb):
    """A notebook as nbformat reads it from disk (multi-line sources joined), from a
    JupyterLab save model or a notebook object."""
    return nbformat.reads(json.dumps(nb, ensure_ascii=False), as_version=4)


def unit_of(view):
    meta = view.get("metadata", {}).get(VIEW_META)
    if not isinstance(meta, dict) or not meta.get("report"):
        return None
    _, units = edits.units(meta["report"], meta["period"], meta.get("variant"))
    return next((u for u in units if u.variant == meta.get("variant")), units[0])


def _tracked_notebook(view, state: dict):
    """The view as :func:`edits.record_from_notebook` reads a notebook: generated cells
    out; locked cells are known cells (anchors for added text) whose changes are ignored
    (the view never feeds code or outputs into a report)."""
    cells = [copy.deepcopy(c) for c in view.cells if _role(c) not in GENERATED]
    locked = {narrative.cell_id(c): edits._cell_sha(c) for c in cells
              if _role(c) == LOCKED and narrative.cell_id(c)}
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata[edits.META] = {"narrative": copy.deepcopy(state), "locked": locked}
    return nb


def record_view(view, *, on_disk=None) -> ViewSave:
    """Record the text edits of a saved view; raise :class:`Refused` (nothing recorded)
    when the save cannot be accepted. Updates ``view``'s metadata (in place) to what is
    now recorded. ``on_disk``: the view file as last saved, whose record state is newer
    than a browser's copy of it."""
    view = _node(view)
    unit = unit_of(view)
    if unit is None:
        raise Refused("this notebook is not an esep edit view (no metadata.esep_edit)")
    meta = view.metadata[VIEW_META]
    state = meta.get("narrative") or {}
    if on_disk is not None and unit_of(on_disk) is not None:
        disk = on_disk.metadata[VIEW_META]
        if disk.get("report") == meta.get("report") and disk.get("period") == meta.get("period"):
            state = disk.get("narrative") or state
    latest = latest_notebook(unit)
    scraps = read_scraps(latest)
    nb = _tracked_notebook(view, state)

    known = set(state) | set(nb.metadata[edits.META]["locked"])
    added_code = [c for c in nb.cells if c.cell_type != "markdown" and narrative.cell_id(c) not in known]
    if added_code:
        raise Refused("Not saved: only text can be added to the report (a code or raw cell was added). "
                      "Delete the new cell (Edit → Delete Cells), or change its type to Markdown, then save again.")
    skipped = narrative.skipped_sections(scraps)
    bad = []
    for cell in nb.cells:
        if (cell.cell_type == "markdown" and _role(cell) != LOCKED
                and not narrative.in_skipped_section(cell, skipped)):
            bad += narrative.unknown_placeholders(cell.source, scraps)
    if bad:
        names = ", ".join("{{ %s }}" % b for b in dict.fromkeys(bad))
        raise Refused(f"Not saved: {names} names no figure of this report. Copy the name from the list "
                      f"«Figures you can use» at the end of the notebook (with its braces), then save again.")

    with edits.record_lock(unit):
        rec = edits.load(unit)
        sync = edits.record_from_notebook(unit, nb, rec, confirm=False)
        if sync.changed:
            edits.save(rec)
    meta["narrative"] = nb.metadata[edits.META]["narrative"]
    out = ViewSave(unit, rec.path, sync.recorded, meta.get("build_id"), edits.build_id(latest))
    out.view = view  # the view with its metadata updated (what the hook saves)
    out.scraps = scraps
    return out


@dataclass
class NotebookSave:
    """A save of the executed notebook itself (JupyterLab on output/, `make lab`)."""

    unit: object
    record: Path
    recorded: list[str]
    saved_build: str | None
    disk_build: str | None
    nb: object = None

    @property
    def stale(self) -> bool:
        return self.disk_build is not None and self.saved_build != self.disk_build


def record_notebook_save(content, on_disk=None) -> NotebookSave:
    """Record the text edits of a save of an executed notebook (before it is written).
    ``on_disk``: the file as it is now; a different build id there means a build replaced
    it since the tab was opened: the caller refuses the save (old numbers) after this."""
    nb = _node(content)
    meta = nb.metadata.get("esep") or {}
    _, units = edits.units(meta.get("report"), meta.get("period"), meta.get("variant"))
    unit = next((u for u in units if u.variant == meta.get("variant")), units[0])
    with edits.record_lock(unit):
        rec = edits.load(unit)
        sync = edits.record_from_notebook(unit, nb, rec, confirm=False)
        if sync.changed:
            edits.save(rec)
    return NotebookSave(unit, rec.path, sync.recorded, edits.build_id(nb),
                        edits.build_id(on_disk) if on_disk is not None else None, nb)


def refresh_previews(view, scraps: dict) -> None:
    """Fill each preview cell (in place) from the text cell it follows, and the figures."""
    skipped = narrative.skipped_sections(scraps)
    cells = view["cells"]
    for i, cell in enumerate(cells):
        role = _role(cell)
        if role == PREVIEW and i > 0 and cells[i - 1].get("cell_type") == "markdown":
            text = cells[i - 1]["source"]
            text = "".join(text) if isinstance(text, list) else text
            cell["source"] = preview_source(text, scraps, narrative.in_skipped_section(cells[i - 1], skipped))
        elif role == FIGURES:
            cell["source"] = figures_source(scraps)


def read_view(path: Path):
    try:
        return nbformat.read(str(path), as_version=4)
    except (OSError, ValueError, json.JSONDecodeError):
        return None


def record_view_file(unit) -> ViewSave | None:
    """Record edits left in the view file (a save the hook did not see); None: no view."""
    path = view_path(unit)
    view = read_view(path) if path.exists() else None
    if view is None or unit_of(view) is None:
        return None
    res = record_view(view)
    if res.recorded:
        atomic_write(path, nbformat.writes(res.view))
    return res


def first_text_index(view) -> int:
    return next((i for i, c in enumerate(view.cells) if _role(c) == TEXT), 0)

