"""``output/index.html``: every built report by period and type, from the manifests."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from esep.core import config
from esep.publish.render import TEMPLATES, atomic_write, period_label

FORMATS = ("html", "pdf", "docx", "ipynb")


def collect() -> list[dict]:
    rows = []
    out = config.OUTPUT_DIR
    for mf in sorted(out.glob("*/**/*.manifest.json")):
        if ".esep" in mf.parts:
            continue
        try:
            doc = json.loads(mf.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        base = mf.with_name(mf.name[: -len(".manifest.json")])
        fmts = [(f.upper(), base.with_suffix(f".{f}").relative_to(out).as_posix())
                for f in FORMATS if base.with_suffix(f".{f}").exists()]
        html = base.with_suffix(".html")
        rows.append({
            "period": doc.get("period", mf.parent.name),
            "report": doc.get("report", base.name),
            "title": doc.get("title", base.name),
            "variant": doc.get("variant"),
            "variant_label": doc.get("place") or doc.get("variant") or "барлығы",
            "html": html.relative_to(out).as_posix() if html.exists() else None,
            "formats": fmts,
            "built": (doc.get("finished") or "")[:16].replace("T", " "),
            "warnings": doc.get("warnings_count"),
        })
    return rows


def write_index() -> Path:
    import jinja2

    rows = collect()
    periods = sorted({r["period"] for r in rows}, reverse=True)
    groups = [(p, sorted([r for r in rows if r["period"] == p],
                         key=lambda r: (r["report"], r["variant"] is not None, r["variant"] or "")))
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
