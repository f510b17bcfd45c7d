"""Render an executed notebook (the audit record) to reader formats, without re-running.

HTML: nbconvert's ``basic`` template (cells only, inputs excluded) wrapped in esep's own
page (``templates/page.html.j2`` + ``report.css``): title block, table of contents,
footer with the data fingerprint. No external URL of any kind (no MathJax/require.js).
Other formats (PDF, DOCX) are produced from that HTML by :mod:`esep.formats`.
"""
from __future__ import annotations

import copy
import html
import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import nbformat

from esep import __version__
from esep.core import periods
from esep.notebook import narrative
from esep.notebook.scraps import is_scrap_output, read_scraps

TEMPLATES = Path(__file__).parent / "templates"
HIDDEN_TAGS = {"parameters", "injected-parameters", "remove", "remove_cell", "hide"}


def period_label(period: str) -> str:
    """'2023-2024-S2' -> '2023-2024 оқу жылының 2-жартыжылдығы' (home: esep.core.periods.label)."""
    return periods.label(period)


from esep.core.fsutil import atomic_write  # noqa: E402,F401  (re-exported: index uses it)


def reader_notebook(nb):
    """A copy of ``nb`` ready for readers: placeholders filled, code/noise removed."""
    nb = copy.deepcopy(nb)
    scraps = read_scraps(nb)
    # a section whose data is missing for the period: its narrative goes too (the
    # notebook shows a short note instead); cells say their section in metadata.esep.section
    skipped = scraps.get("sections_skipped") or []
    if isinstance(skipped, str):
        skipped = [s.strip() for s in skipped.split(",") if s.strip()]
    if skipped:
        nb.cells = [c for c in nb.cells
                    if not (c.cell_type == "markdown"
                            and c.get("metadata", {}).get("esep", {}).get("section") in skipped)]
    narrative.fill_notebook(nb, scraps)
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & HIDDEN_TAGS:
            continue
        if cell.cell_type == "code":
            outs = [o for o in cell.get("outputs", [])
                    if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
                    and not is_scrap_output(o)]
            cell.outputs = outs
            if not outs:
                continue
        if cell.cell_type == "raw":
            continue
        cells.append(cell)
    nb.cells = cells
    return nb


@lru_cache(maxsize=1)
def _exporter():
    from nbconvert import HTMLExporter

    exp = HTMLExporter(template_name="basic")
    exp.exclude_input = True
    exp.exclude_input_prompt = True
    exp.exclude_output_prompt = True
    exp.anchor_link_text = ""
    return exp


@lru_cache(maxsize=1)
def _page_template():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    return env.get_template("page.html.j2")


def _toc(body: str) -> list[dict]:
    items = []
    for m in re.finditer(r'<h([23])\s+id="([^"]+)"[^>]*>(.*?)</h\1>', body, re.S):
        text = re.sub(r"<[^>]+>", "", m.group(3)).strip()
        if text:
            items.append({"level": int(m.group(1)), "id": m.group(2), "text": html.unescape(text)})
    return items


def _demote_h1(body: str) -> str:
    """The page has one h1 (the title block); notebook h1 headings become h2."""
    return re.sub(r"<(/?)h1(\s|>)", r"<\1h2\2", body)


# a table wider than this (em at its own size) does not fit a 390 px phone screen: it
# scrolls in its own frame, under a hint saying so (templates/report.css)
PHONE_TABLE_EM = 38
_HINT = '<p class="esep-scroll-hint" aria-hidden="true">Кесте кең: көлденеңінен жылжытыңыз ⟷</p>'


def _figure_html(mime: str, data: str, caption: str) -> str:
    """A chart as ``<figure>``: the image (alt text = its caption) in a frame that may
    scroll sideways on a phone (chart text stays legible), the caption under it."""
    import base64

    if mime == "image/svg+xml":
        data = base64.b64encode(data.encode("utf-8")).decode("ascii")
    src = f"data:{mime};base64,{data.strip()}"
    alt = html.escape(caption or "Сурет", quote=True)
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return (f'<figure class="esep-figure"><div class="esep-frame esep-figure-frame">'
            f'<img src="{src}" alt="{alt}"></div>{cap}</figure>')


def _layout_outputs(nb) -> None:
    """Charts become captioned figures; wide tables get a scroll frame with a hint."""
    from esep.publish.formats import table_width_em

    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            data = out.get("data") or {}
            meta = out.get("metadata") or {}
            mime = next((m for m in ("image/svg+xml", "image/png") if m in data), None)
            if mime and "text/html" not in data:
                m = meta.get(mime) or {}
                caption = (m.get("esep") or {}).get("caption") or m.get("alt") or ""
                out["data"] = {"text/html": _figure_html(mime, data[mime], caption)}
                out["metadata"] = {}
            elif "text/html" in data and "<table" in data["text/html"]:
                text = data["text/html"] if isinstance(data["text/html"], str) else "".join(data["text/html"])
                if 'class="esep-frame' in text:
                    continue
                from bs4 import BeautifulSoup

                em = max((table_width_em(t) for t in BeautifulSoup(text, "html.parser").find_all("table")),
                         default=0)
                wide = " esep-wide" if em > PHONE_TABLE_EM else ""
                hint = _HINT if wide else ""
                data["text/html"] = f'{hint}<div class="esep-frame{wide}">{text}</div>'


def _frame_loose_tables(body: str) -> str:
    """Tables written in markdown cells (the data-quality appendix) get a scroll frame too."""
    out, pos = [], 0
    for m in re.finditer(r"<table\b.*?</table>", body, re.S):
        # inside an output's own frame: a frame opened since the previous table, in the same cell
        at = body.rfind('<div class="esep-frame', 0, m.start())
        between = body[at:m.start()] if at >= 0 else ""
        framed = at >= 0 and "</table>" not in between and "text_cell" not in between
        out.append(body[pos:m.start()])
        pos = m.end()
        if framed:
            out.append(m.group(0))
            continue
        first_row = re.search(r"<tr\b.*?</tr>", m.group(0), re.S)
        wide = first_row is not None and len(re.findall(r"<t[hd]\b", first_row.group(0))) > 4
        out.append((_HINT if wide else "") + f'<div class="esep-frame{" esep-wide" if wide else ""}">'
                   f'{m.group(0)}</div>')
        pos = m.end()
    return "".join(out) + body[pos:]


def render_html(nb, *, title: str, period: str, place: str | None = None,
                fingerprint: str = "", built: datetime | None = None) -> str:
    rnb = reader_notebook(nb)
    _layout_outputs(rnb)
    body, _ = _exporter().from_notebook_node(rnb)
    from esep.publish import sanitize  # no live markup from data or editor text (issue 17)

    body = sanitize.clean_body(body, rnb)
    body = narrative.renumber_marks(body)     # corrections marks numbered in reading order
    body = _demote_h1(body).replace('alt="No description has been provided for this image"', 'alt="Сурет"')
    body = _frame_loose_tables(body)
    built = built or datetime.now()
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    return _page_template().render(
        title=title, period=period, period_label=period_label(period), place=place,
        built_date=built.strftime("%Y-%m-%d %H:%M"), fingerprint=fingerprint[:12],
        toc=_toc(body), body=_markup(body), css=_markup(css), version=__version__,
    )


def _markup(s: str):
    from markupsafe import Markup

    return Markup(s)


EXTERNAL_URL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|@import""", re.I)


def external_urls(page: str) -> list[str]:
    """Every place a page would load something from the network (should be none)."""
    return [page[max(0, m.start() - 40): m.end() + 60] for m in EXTERNAL_URL.finditer(page)]
