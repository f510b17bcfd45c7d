"""``output/index.html``: every built report by period and type, from the manifests.

A format file is *current* when the report's latest run (or render) wrote it: it is
listed in the manifest's ``outputs`` and is not older than the executed notebook. Any
other file beside the report (a DOCX left from an earlier run made with ``--to docx``)
is *stale*: the index shows it struck through, unlinked, and ``esep status`` names it.
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from esep.core import config
from esep.publish.render import TEMPLATES, atomic_write, period_label

FORMATS = ("html", "pdf", "docx", "ipynb")
SLACK_S = 120     # a run writes its notebook and formats together; render may add later


def format_state(base: Path, fmt: str, doc: dict) -> str | None:
    """'current', 'stale' or None (no such file) for ``base.<fmt>`` of one report."""
    path = base.with_suffix(f".{fmt}")
    if not path.exists():
        return None
    if fmt in ("html", "ipynb"):
        return "current"
    listed = {Path(p).as_posix() for p in doc.get("outputs") or []}
    rel = (path.relative_to(config.ROOT).as_posix() if path.is_relative_to(config.ROOT)
           else path.as_posix())
    if listed and rel not in listed and path.as_posix() not in listed:
        return "stale"
    nb = base.with_suffix(".ipynb")
    if nb.exists() and path.stat().st_mtime < nb.stat().st_mtime - SLACK_S:
        return "stale"
    return "current"


def stale_formats() -> list[tuple[Path, dict]]:
    """Every stale format file in output/ with its report's manifest."""
    out = []
    for mf, base, doc in manifests():
        for f in FORMATS:
            if format_state(base, f, doc) == "stale":
                out.append((base.with_suffix(f".{f}"), doc))
    return out


def manifests(out: Path | None = None):
    """(manifest path, output base, manifest) of every built report under ``out``
    (default ``output/``), skipping esep's state and the proof sheets."""
    out = config.OUTPUT_DIR if out is None else out
    for mf in sorted(out.glob("*/**/*.manifest.json")):
        if ".esep" in mf.parts or "proof" in mf.parts:
            continue
        try:
            doc = json.loads(mf.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        yield mf, mf.with_name(mf.name[: -len(".manifest.json")]), doc


def collect() -> list[dict]:
    rows = []
    out = config.OUTPUT_DIR
    for mf, base, doc in manifests():
        states = {f: format_state(base, f, doc) for f in FORMATS}
        fmts = [(f.upper(), base.with_suffix(f".{f}").relative_to(out).as_posix())
                for f in FORMATS if states[f] == "current"]
        stale = [f.upper() for f in FORMATS if states[f] == "stale"]
        html = base.with_suffix(".html")
        rows.append({
            "period": doc.get("period", mf.parent.name),
            "report": doc.get("report", base.name),
            "title": doc.get("title", base.name),
            "variant": doc.get("variant"),
            "variant_label": doc.get("place") or doc.get("variant") or "барлығы",
            "html": html.relative_to(out).as_posix() if html.exists() else None,
            "formats": fmts,
            "stale": stale,
            "built": (doc.get("finished") or "")[:16].replace("T", " "),
            "warnings": doc.get("warnings_count"),
        })
    return rows


def write_index() -> Path:
    import jinja2

    from esep.core.collation import kazakh_key

    rows = collect()
    periods = sorted({r["period"] for r in rows}, reverse=True)
    groups = [(p, sorted([r for r in rows if r["period"] == p],
                         key=lambda r: (r["report"], r["variant"] is not None,
                                        kazakh_key(r.get("variant_label") or r["variant"] or ""))))
              for p in periods]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    from markupsafe import Markup

    page = env.get_template("index.html.j2").render(
        groups=groups, count=len(rows), period_label=period_label,
        built=datetime.now().strftime("%Y-%m-%d %H:%M"),
        css=Markup((TEMPLATES / "report.css").read_text(encoding="utf-8")),
        forms_tracking=forms_tracking(),  # school forms block (issue 14)
    )
    path = config.OUTPUT_DIR / "index.html"
    atomic_write(path, page)
    return path


# --- school forms: who sent a valid form, an invalid one, nothing (issue 14) -----------------

def forms_tracking() -> list[dict]:
    """Per period and project: the member schools and the state of their form, for the
    index's «Мектеп формалары» block; [] when no forms were generated or returned."""
    from esep.core.reports import FORMS_DIR

    if not ((config.RAW_DIR / "school_project" / FORMS_DIR).is_dir() or (config.OUTPUT_DIR / "forms").is_dir()):
        return []
    from esep.core.errors import EsepError
    from esep.data import forms

    try:
        table = forms.tracking()
    except EsepError:
        return []
    out = []
    for period in sorted(set(table["period"]), reverse=True):
        t = table[table["period"] == period]
        projects = []
        for row in forms.tracking_summary(t).to_dict("records"):
            row["schools"] = t[t["project_key"] == row["project_key"]].to_dict("records")
            projects.append(row)
        unknown = t[t["state"] == "unknown"].to_dict("records")
        out.append({"period": period, "projects": projects, "unknown": unknown})
    return out
# --- end of the school forms block ---------------------------------------------------------------
