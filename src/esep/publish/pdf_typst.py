"""PDF through Typst: esep's own report page (HTML) -> Typst markup -> PDF, in-process.

The PyPI ``typst`` wheel bundles the compiler (no download, no subprocess); one
:class:`typst.Compiler` per process keeps the fonts loaded. The report page has a small,
known vocabulary (headings, paragraphs, lists, captioned ``esep-table`` tables with
``colspan``/``rowspan`` header cells, table notes, figures with a caption), so it is
translated element by element into Typst; anything else contributes its text.

Page layout (docs/formats.md):

- A4 portrait, margins 20/16/18/20 mm; a one-line running header from page 2 (title,
  shortened with "…" if needed, left; place · period, right) and a footer (build date and
  data fingerprint, left; ``page / pages``, right).
- Text is left-aligned and not hyphenated (Typst knows no Kazakh hyphenation); every
  label (contents, captions) is written out in Kazakh here, not taken from a locale.
- Tables: the header rows repeat on every page, a row never splits, the caption sticks
  to the table. A wide table keeps the portrait page with smaller type (down to 6.5 pt,
  header cells wrap); one too wide even then puts its whole section (from its ``h2``)
  on landscape pages, so the orientation changes only at section boundaries.
- Figures: the image with its caption under it («1-сурет. ...»), never split, at most
  150 mm high.
- Everything is deterministic: no date from the clock, images named by order.
"""
from __future__ import annotations

import base64
import re
import tempfile
import os
import threading
from functools import lru_cache
from pathlib import Path

from esep.core.errors import EsepError
from esep.publish.typst_table import (  # noqa: F401  (re-exported for docx.py and tests)
    _BASE_PT, _MIN_PT, _NUMBER, _classes, _inline, _table, _table_em, _table_size,
    _text, needs_landscape,
)
from esep.publish.typst_text import _s

FONT = "DejaVu Sans"
# text widths (em at the table's own size) that fit the A4 portrait text block (174 mm)
# at 8.5 pt and at the smallest table type; beyond the latter -> a landscape section
_HEADER_CHARS = 96      # running header: characters of 7.5 pt text on one line

_lock = threading.Lock()


_state = {"used": False, "forked_after_use": False}


def _after_fork_in_child() -> None:
    """A forked worker starts with a free lock and its own compiler. If the parent had
    already compiled with Typst, the compiler's native thread pool exists in the parent
    only, and an in-process compile in the child waits forever (seen: a test's build
    worker forked from a process that had made PDFs hung in to_pdf): such a child
    compiles in a subprocess instead."""
    global _lock
    _lock = threading.Lock()
    _compiler.cache_clear()
    _state["forked_after_use"] = _state["used"] or _state["forked_after_use"]


def _compile_in_subprocess(main: Path, root: Path) -> bytes:
    import subprocess
    import sys

    code = ("import sys, typst\n"
            "sys.stdout.buffer.write(typst.compile(sys.argv[1], root=sys.argv[2], font_paths=sys.argv[3:]))")
    res = subprocess.run([sys.executable, "-c", code, str(main), str(root), *_font_dirs()],
                         capture_output=True, timeout=300)
    if res.returncode != 0:
        err = res.stderr.decode("utf-8", "replace").strip().splitlines()
        raise EsepError(f"PDF (Typst) failed: {(err[-1] if err else 'compiler exited')[:300]}")
    return res.stdout


PREAMBLE = r"""
#let esep-title = %(title)s
#let esep-place = %(place)s
#let esep-id = %(ident)s
#set document(title: esep-title, date: none)
#set text(font: ("%(font)s", "Libertinus Serif"), size: 10pt, lang: "kk", hyphenate: false)
#set par(justify: false, leading: 0.55em, spacing: 0.9em)
#set page(
  paper: "a4",
  margin: (top: 20mm, right: 16mm, bottom: 18mm, left: 20mm),
  header: context {
    if counter(page).get().first() > 1 {
      set text(7.5pt, fill: rgb("#5b6475"))
      grid(columns: (1fr, auto), column-gutter: 6mm, esep-title, esep-place)
      v(-2mm)
      line(length: 100%%, stroke: 0.4pt + rgb("#d5dae3"))
    }
  },
  footer: context {
    set text(7pt, fill: rgb("#5b6475"))
    grid(columns: (1fr, auto), esep-id,
         text(8pt, fill: rgb("#1d2433"))[#counter(page).display() / #counter(page).final().first()])
  },
)
#set heading(numbering: none)
#show heading: set text(fill: rgb("#1d2433"))
#show heading.where(level: 1): set text(13pt)
#show heading.where(level: 1): it => { v(4mm, weak: true); it; v(1mm) }
#show heading.where(level: 2): set text(11pt)
#show heading.where(level: 3): set text(10pt)
#set table(stroke: 0.5pt + rgb("#b8bfcc"), inset: (x: 3pt, y: 2pt))
#set table.cell(breakable: false)
#show table.cell.where(y: 0): set text(weight: "bold")
#show figure: set block(breakable: false)
#set figure(gap: 2mm)
#show figure.caption: set text(9pt, style: "italic", fill: rgb("#5b6475"))
#show outline.entry: set text(9.5pt)
#let esep-caption(body) = block(sticky: true, below: 0pt, above: 0pt, text(9pt, weight: "bold", body))
#let esep-note(body) = block(above: 1.5mm, below: 0pt, text(8pt, fill: rgb("#5b6475"), body))
"""


class _Builder:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.images = 0
        self.out: list[str] = []

    def image(self, src: str) -> str | None:
        m = re.match(r"data:image/(png|jpeg|svg\+xml|gif);base64,(.*)", src, re.S)
        if not m:
            return None
        ext = {"svg+xml": "svg", "jpeg": "jpg"}.get(m.group(1), m.group(1))
        self.images += 1
        name = f"img{self.images}.{ext}"
        (self.tmp / name).write_bytes(base64.b64decode(m.group(2)))
        return name

    def figure(self, img, caption: str | None) -> None:
        name = self.image(img.get("src", ""))
        if name is None:
            return
        cap = f", caption: figure.caption(position: bottom)[{caption}]" if caption else ""
        self.out.append(f'#figure(image("{name}", width: 100%, fit: "contain"), '
                        f"numbering: none, supplement: none, kind: image{cap})")

    def block(self, el, landscape: bool) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in ("", "style", "script"):
            return
        cls = _classes(el)
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            level = max(1, int(tag[1]) - 1)        # the page's h2 sections are Typst level 1
            self.out.append(f"#heading(level: {min(level, 3)})[{_inline(el).strip()}]")
        elif tag == "p":
            body = _inline(el).strip()
            if not body or "esep-scroll-hint" in cls or el.get("data-esep-done"):
                return
            if "esep-table-note" in cls:
                self.out.append(f"#esep-note[{body}]")
            elif "esep-note" in cls:
                self.out.append(f'#block(inset: (left: 3mm), stroke: (left: 1.5pt + rgb("#d5dae3")), '
                                f'text(fill: rgb("#5b6475"), style: "italic")[{body}])')
            else:
                self.out.append(f"#par[{body}]")
        elif tag in ("ul", "ol"):
            items = [li for li in el if li.tag == "li"]
            fn = "enum" if tag == "ol" else "list"
            self.out.append(f"#{fn}(" + ", ".join(f"[{_inline(li).strip()}]" for li in items) + ")")
        elif tag == "table":
            self.out.append(_table(el, landscape))
        elif tag == "figure":
            imgs = el.findall(".//img")
            cap = el.find(".//figcaption")
            if imgs:
                self.figure(imgs[0], _inline(cap).strip() if cap is not None else None)
        elif tag == "img":
            self.figure(el, el.get("data-caption") and _text(el.get("data-caption")))
        elif tag == "pre":
            self.out.append(f'#block(text(font: "DejaVu Sans Mono", size: 8pt, {_s(el.text_content())}))')
        elif tag == "blockquote":
            self.out.append("#quote(block: true)[" + _inline(el).strip() + "]")
        elif tag == "hr":
            self.out.append("#line(length: 100%, stroke: 0.4pt)")
        else:                                          # div, section, ...: their children
            if el.text and el.text.strip():
                self.out.append(_text(el.text))
            for child in el:
                self.block(child, landscape)
                if child.tail and child.tail.strip():
                    self.out.append(_text(child.tail))


def _sections(main) -> list[list]:
    """The report's blocks grouped by section: a new group at every h2. nbconvert wraps
    each cell in divs, so a wrapper holding more than one h2 is opened up."""
    flat = []

    def walk(el):
        if isinstance(el.tag, str) and el.tag == "div" and len(el.findall(".//h2")) > 1:
            for c in el:
                walk(c)
        else:
            flat.append(el)

    for child in main:
        walk(child)
    groups: list[list] = [[]]
    for el in flat:
        if isinstance(el.tag, str) and (el.tag == "h2" or el.find(".//h2") is not None):
            groups.append([])
        groups[-1].append(el)
    return [g for g in groups if g]


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 8)].rstrip() + "…"


def running_header(title: str, meta: str) -> tuple[str, str]:
    """Title and place for the one-line running header: together they fit
    :data:`_HEADER_CHARS`; a long place (a school's full name) gets at most 60% of the line
    and the title the rest, so neither wraps onto the rule below (seen: a 92-character
    place left the title 20 characters that wrapped over the place)."""
    budget = _HEADER_CHARS - 4
    meta = _short(meta, max(int(budget * 0.6), budget - len(title)))
    return _short(title, max(budget - len(meta), 20)), meta


def typst_source(page: str, tmp: Path) -> str:
    """Typst markup of the report page; images are written into ``tmp``."""
    import lxml.html

    doc = lxml.html.document_fromstring(page)

    body = doc.find("body")
    head_block = next((el for el in (body if body is not None else []) if el.tag == "header"), None)

    def first(cls):
        for el in (head_block.iter() if head_block is not None else []):
            if cls in _classes(el):
                return " ".join(el.text_content().split())
        return ""

    title, meta, built = first("report-title"), first("report-meta"), first("built")
    head_title, head_meta = running_header(title, meta)
    out = [PREAMBLE % {"title": _s(head_title), "place": _s(head_meta), "ident": _s(built), "font": FONT}]
    if title:
        out.append(f'#block(below: 2mm, text(17pt, weight: "bold", {_s(title)}))')
    if meta:
        out.append(f'#block(below: 1mm, text(11pt, weight: "bold", fill: rgb("#1f5f99"), {_s(meta)}))')
    if built:
        out.append(f'#block(below: 2mm, text(8.5pt, fill: rgb("#5b6475"), {_s(built)}))')
    out.append('#line(length: 100%, stroke: 2pt + rgb("#1f5f99"))')
    if any(el.tag == "nav" and "toc" in _classes(el) for el in (body if body is not None else [])):
        out.append('#outline(title: text(11pt)[#"Мазмұны"], depth: 2, indent: 4mm)')
        out.append("#v(2mm)")
    mains = [el for el in (body if body is not None else []) if el.tag == "main"] or doc.xpath("//main")
    if not mains:
        raise EsepError("PDF (Typst): the page has no <main> element")
    tmp.mkdir(parents=True, exist_ok=True)
    builder = _Builder(tmp)
    flipped = False
    for group in _sections(mains[0]):
        wide = any(needs_landscape(t) for el in group if isinstance(el.tag, str)
                   for t in ([el] if el.tag == "table" else el.iter("table")))
        if wide != flipped:
            builder.out.append(f"#set page(flipped: {'true' if wide else 'false'})")
            flipped = wide
        for el in group:
            builder.block(el, wide)
    out += builder.out
    return "\n".join(out) + "\n"


@lru_cache(maxsize=1)
def _compiler():
    import typst

    return typst.Compiler(font_paths=_font_dirs())


os.register_at_fork(after_in_child=_after_fork_in_child)


def _font_dirs() -> list[str]:
    dirs = [d for d in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/libertine",
                        "/usr/share/fonts/opentype/linux-libertine") if Path(d).is_dir()]
    return dirs


def warm() -> None:
    _compiler()


def to_pdf(page: str) -> bytes:
    """A4 PDF of the report page via Typst."""
    import typst

    with tempfile.TemporaryDirectory(prefix="esep-typst-") as tmp:
        root = Path(tmp)
        src = typst_source(page, root)
        main = root / "report.typ"
        main.write_text(src, encoding="utf-8")
        if _state["forked_after_use"]:
            return _compile_in_subprocess(main, root)
        with _lock:
            try:
                _state["used"] = True
                return _compiler().compile(input=str(main), root=str(root))
            except typst.TypstError as exc:
                raise EsepError(f"PDF (Typst) failed: {str(exc).splitlines()[0][:300]}") from exc
