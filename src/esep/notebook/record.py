"""The record of an editor's narrative edits: ``narrative/<report>/<period>[/<variant>].md``.

A plain markdown file, one section per edited cell with the template text it was based on
and the editor's text, each as a readable fenced block (diff-friendly, reviewable; the
text under 'edited:' may be changed by hand). :func:`record_lock` guards every
read-modify-write of it (the JupyterLab save hook, a run, `esep publish`). What is
recorded and how it is applied to a notebook: :mod:`esep.notebook.edits`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from esep.core import config
from esep.core.errors import EsepError
from esep.core.fsutil import atomic_write as _atomic_write
from esep.core.fsutil import rel as _rel

REMOVED = "removed"


class NarrativeError(EsepError):
    pass


# --------------------------------------------------------------------------------------
# The record file
# --------------------------------------------------------------------------------------

@dataclass
class Entry:
    """One edited narrative cell. ``base`` None = a cell the editor added (after ``after``);
    ``text`` None = the editor removed the cell."""

    id: str
    base: str | None
    text: str | None
    after: str | None = None

    @property
    def added(self) -> bool:
        return self.base is None


@dataclass
class Record:
    path: Path
    title: str
    entries: dict[str, Entry] = field(default_factory=dict)

    def dumps(self) -> str:
        out = [f"# Narrative edits — {self.title}", "",
               "<!-- Written by esep (`esep publish`, `esep run`) from the edited executed notebook.",
               "One section per edited narrative cell: the template text the edit was based on,",
               "then the editor's text, which replaces the template's on every rerun.",
               "{{ name }} placeholders are filled with the current figures when rendering.",
               "The text under 'edited:' may be changed by hand; keep the ~~~ fences. -->", ""]
        for e in self.entries.values():
            if e.added:
                out += [f"## added cell {e.id} after {e.after or 'start'}", ""]
            else:
                out += [f"## cell {e.id}", "", "template:", ""] + _fenced(e.base) + [""]
            if e.text is None:
                out += [f"edited: {REMOVED}", ""]
            else:
                out += ["edited:", ""] + _fenced(e.text) + [""]
        return "\n".join(out)


def _fenced(text: str) -> list[str]:
    runs = [len(m.group(0)) for m in re.finditer(r"~+", text)]
    fence = "~" * max(3, max(runs, default=0) + 1)
    return [fence, text, fence]


_CELL = re.compile(r"^## cell (\S+)\s*$")
_ADDED = re.compile(r"^## added cell (\S+) after (\S+)\s*$")


def parse(text: str, path: Path, title: str = "") -> Record:
    rec = Record(path, title)
    lines = text.splitlines()
    cur: dict | None = None
    where = _rel(path)

    def close():
        if cur is None:
            return
        if "text" not in cur:
            raise NarrativeError(f"{where}: section for cell {cur['id']} (line {cur['line']}) has no 'edited:' block")
        if not cur["added"] and "base" not in cur:
            raise NarrativeError(f"{where}: section for cell {cur['id']} (line {cur['line']}) has no 'template:' block")
        rec.entries[cur["id"]] = Entry(cur["id"], None if cur["added"] else cur["base"], cur["text"],
                                       cur.get("after"))

    i = 0
    while i < len(lines):
        ln = lines[i]
        m_cell, m_add = _CELL.match(ln), _ADDED.match(ln)
        if m_cell or m_add:
            close()
            if m_cell:
                cur = {"id": m_cell.group(1), "added": False, "line": i + 1}
            else:
                after = m_add.group(2)
                cur = {"id": m_add.group(1), "added": True, "after": None if after == "start" else after,
                       "line": i + 1}
            i += 1
            continue
        key = ln.strip()
        if cur is not None and key == f"edited: {REMOVED}":
            cur["text"] = None
        elif cur is not None and key in ("template:", "edited:"):
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j >= len(lines) or not re.fullmatch(r"~{3,}", lines[j]):
                raise NarrativeError(f"{where}: line {i + 1}: '{key}' must be followed by a ~~~ fenced block")
            fence, start = lines[j], j + 1
            end = start
            while end < len(lines) and lines[end] != fence:
                end += 1
            if end >= len(lines):
                raise NarrativeError(f"{where}: line {j + 1}: the block opened by {fence} is never closed")
            cur["base" if key == "template:" else "text"] = "\n".join(lines[start:end])
            i = end
        i += 1
    close()
    return rec


def record_path(unit) -> Path:
    return config.narrative_record(unit.report, unit.period, unit.variant)


def _title(unit) -> str:
    return f"{unit.report} {unit.period}" + (f" [{unit.variant}]" if unit.variant else "")


def load(unit) -> Record:
    path = record_path(unit)
    if not path.exists():
        return Record(path, _title(unit))
    return parse(path.read_text(encoding="utf-8"), path, _title(unit))


def save(rec: Record) -> None:
    if not rec.entries:
        if rec.path.exists():
            rec.path.unlink()
        return
    _atomic_write(rec.path, rec.dumps())


def record_lock(unit):
    """A short cross-process lock around every read-modify-write of the unit's record
    (the JupyterLab save hook, a run's :func:`record_pending`, ``esep publish``)."""
    from filelock import FileLock

    path = config.STATE_DIR / "locks" / ("narrative-" + unit.key.replace("/", "__") + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(path), timeout=60)
