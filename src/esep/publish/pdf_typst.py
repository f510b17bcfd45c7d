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
import threading
from functools import lru_cache
from pathlib import Path

from esep.core.errors import EsepError

FONT = "DejaVu Sans"
# text widths (em at the table's own size) that fit the A4 portrait text block (174 mm)
# at 8.5 pt and at the smallest table type; beyond the latter -> a landscape section
_BASE_PT, _MIN_PT = 8.5, 6.5
_PORTRAIT_EM_AT_BASE = 60
_HEADER_CHARS = 96
_PORTRAIT_PT, _LANDSCAPE_PT = 174 / 25.4 * 72, 259 / 25.4 * 72     # text block widths         # running header: characters of 7.5 pt text on one line

_lock = threading.Lock()


def _s(text: str) -> str:
    """A Typst string literal (safe for any text: nothing in it is markup)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _content(text: str) -> str:
    return f"[#{_s(text)}]" if text else "[]"


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


def _classes(el) -> set[str]:
    return set((el.get("class") or "").split())


def _text(s: str | None) -> str:
    text = re.sub(r"\s+", " ", s or "")
    return "#" + _s(text) if text else ""


def _inline(el) -> str:
    """Inline HTML (text, strong, em, code, a, br) inside ``el`` as Typst content markup."""
    out = [_text(el.text)]
    for child in el:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag and tag not in ("style", "script") and "anchor-link" not in _classes(child):
            inner = _inline(child)
            if tag in ("strong", "b"):
                out.append(f"#strong[{inner}]")
            elif tag in ("em", "i"):
                out.append(f"#emph[{inner}]")
            elif tag == "code":
                out.append(f'#text(font: "DejaVu Sans Mono", size: 0.9em)[{inner}]')
            elif tag == "br":
                out.append(" \\ ")
            elif tag == "sup":
                out.append(f"#super[{inner}]")
            elif tag == "sub":
                out.append(f"#sub[{inner}]")
            else:
                out.append(inner)
        out.append(_text(child.tail))
    return "".join(out)


def _plain(el) -> str:
    return " ".join(el.text_content().split())


def _cells(tr) -> list:
    return [c for c in tr if c.tag in ("td", "th")]


def _span(c, name: str) -> int:
    try:
        return max(1, int(c.get(name, 1) or 1))
    except ValueError:
        return 1


def _cell_em(c, text: str | None = None) -> float:
    """Natural width of a cell (em at the table's size): numbers never wrap, text wraps
    at ~22 characters, bold header text wraps between words (as formats.table_width_em)."""
    text = _plain(c) if text is None else text
    if not text:
        return 1.0
    longest = max(len(w) for w in text.split())
    if c.tag == "th":
        return longest * 0.80 + 1.2       # bold Cyrillic is wide
    chars = len(text) if "num" in _classes(c) else max(longest, min(len(text), 22))
    return chars * 0.62 + 1.0


def _cell_max_em(c, text: str | None = None) -> float:
    """Width of a cell's text on one line (em), capped: what the column would like."""
    text = _plain(c) if text is None else text
    if not text:
        return 1.0
    per = 0.70 if c.tag == "th" else 0.62
    return min(len(text), 60 if c.tag == "th" else 110) * per + 1.0


_STATS: dict = {}


def _column_stats(rows) -> tuple[list[float], list[int], list[float]]:
    rows = list(rows)
    key = tuple(id(r) for r in rows)
    if key not in _STATS:
        if len(_STATS) > 256:
            _STATS.clear()
        _STATS[key] = (rows, _column_stats_of(rows))       # rows kept: ids stay unique
    return _STATS[key][1]


def _column_stats_of(rows) -> tuple[list[float], list[int], list[float]]:
    """Per column: the narrowest sensible width (em: headers wrap between words, text at
    ~22 characters, numbers never), the longest body text (characters) and the widest
    it would take with every cell on one line (em)."""
    widths: dict[int, float] = {}
    longest: dict[int, int] = {}
    wide: dict[int, float] = {}
    for tr in rows:
        j = 0
        for c in _cells(tr):
            span = _span(c, "colspan")
            text = _plain(c)
            w = _cell_em(c, text) / span
            mx = _cell_max_em(c, text) / span
            for k in range(j, j + span):
                widths[k] = max(widths.get(k, 0.0), w)
                wide[k] = max(wide.get(k, 0.0), mx, w)
                if c.tag == "td" and span == 1:
                    longest[k] = max(longest.get(k, 0), len(text))
            j += span
    n = max(widths) + 1 if widths else 0
    return ([widths.get(k, 1.0) for k in range(n)], [longest.get(k, 0) for k in range(n)],
            [wide.get(k, 1.0) for k in range(n)])


def _table_em(table) -> float:
    return sum(_column_stats(table.iter("tr"))[0])


def _table_size(em: float) -> float:
    """Table type size (pt): 8.5 pt when the table fits the portrait width, smaller
    (down to 6.5 pt) when it does not."""
    if em <= _PORTRAIT_EM_AT_BASE:
        return _BASE_PT
    return max(_MIN_PT, round(_BASE_PT * _PORTRAIT_EM_AT_BASE / em * 2) / 2)


def needs_landscape(table) -> bool:
    """Too wide for the portrait block even at the smallest table type."""
    # (the estimate is a lower bound with a margin: tables up to ~20 % over it still set
    # well at 6.5 pt, so the orientation does not alternate for the shipped reports)
    return _table_em(table) * _MIN_PT > _PORTRAIT_EM_AT_BASE * _BASE_PT * LANDSCAPE_SLACK


LANDSCAPE_SLACK = 1.25
SHORT_TABLE_ROWS = 15    # tables up to this many body rows are kept on one page
LONG_TEXT = 40     # a column holding text longer than this takes a share of the free width
SHORT_TEXT = 14    # text columns up to this long keep their natural (auto) width


def _numeric_columns(rows_body, ncols: int) -> set[int]:
    """Columns whose body cells are all numbers (or empty)."""
    seen: dict[int, bool] = {}
    for tr in rows_body:
        j = 0
        for c in _cells(tr):
            span = _span(c, "colspan")
            if span == 1:
                text = _plain(c)
                if text:
                    seen[j] = seen.get(j, True) and bool(_NUMBER.fullmatch(text))
            j += span
    return {k for k, v in seen.items() if v}


def _table(table, landscape: bool) -> str:
    """An HTML table (caption, thead with spans, tbody with td.num / tr.total) as Typst."""
    rows = list(table.iter("tr"))
    rows_head = [tr for tr in rows if tr.getparent() is not None and tr.getparent().tag == "thead"]
    rows_body = [tr for tr in rows if tr not in rows_head]
    if not rows_head and rows_body and all(c.tag == "th" for c in _cells(rows_body[0])):
        rows_head, rows_body = [rows_body[0]], rows_body[1:]
    widths, longest, wide = _column_stats(rows)
    ncols = len(widths)
    if not ncols:
        return ""
    em = sum(widths)
    size = _BASE_PT if landscape else _table_size(em)
    # columns sized by their content, as a browser sizes an auto table: each between its
    # narrowest sensible width (headers wrap between words, text at ~22 characters,
    # numbers never) and its width on one line, sharing the text width in proportion;
    # scaled down only when even the narrowest widths do not fit
    avail = (_LANDSCAPE_PT if landscape else _PORTRAIT_PT) - ncols * 0.5
    lo = [w * size for w in widths]
    hi = [w * size for w in wide]
    if sum(hi) <= avail:
        natural = hi
    elif sum(lo) >= avail:
        natural = [w * avail / sum(lo) for w in lo]
    else:
        f = (avail - sum(lo)) / (sum(hi) - sum(lo))
        natural = [a + (b - a) * f for a, b in zip(lo, hi)]
    cols = ", ".join(f"{w:.1f}pt" for w in natural) + ("," if ncols == 1 else "")

    def cell(c, head: bool, total: bool) -> str:
        body = "[" + _inline(c).strip() + "]"
        if total:
            body = f"strong({body})"
        attrs = []
        cs, rs = _span(c, "colspan"), _span(c, "rowspan")
        if cs > 1:
            attrs.append(f"colspan: {cs}")
        if rs > 1:
            attrs.append(f"rowspan: {rs}")
        if head:
            attrs.append("align: center + horizon")
            attrs.append('fill: rgb("#e8eef6")')
        elif "num" in _classes(c) and _NUMBER.fullmatch(_plain(c)):
            attrs.append("align: right")
        if total:
            attrs.append('fill: rgb("#eef1f5")')
        return f"table.cell({', '.join(attrs)}, {body})" if attrs else body

    head_cells = [cell(c, True, False) for tr in rows_head for c in _cells(tr)]
    body_cells = []
    for i, tr in enumerate(rows_body):
        total = bool({"total", "esep-total"} & _classes(tr))
        if total and i:
            body_cells.append(f'table.hline(y: {len(rows_head) + i}, stroke: 1pt + rgb("#1d2433"))')
        body_cells += [cell(c, False, total) for c in _cells(tr)]
    stripes = 'fill: (_, y) => if y >= %d and calc.odd(y - %d) { rgb("#f7f8fa") },' % (
        len(rows_head), len(rows_head))
    cap = table.find("caption")
    caption = f"#esep-caption[{_inline(cap)}]\n" if cap is not None and _plain(cap) else ""
    header = f"table.header(repeat: true, {', '.join(head_cells)})," if head_cells else ""
    nxt = table.getnext()
    note = ""
    if nxt is not None and nxt.tag == "p" and "esep-table-note" in _classes(nxt):
        nxt.set("data-esep-done", "1")          # the note goes with the table, not after it
        note = f"\n#esep-note[{_inline(nxt).strip()}]"
    # a short table (with its caption and note) is never split; a long one breaks between
    # rows, repeating its header, and its note stays with its last rows (table footer)
    short = len(rows_body) <= SHORT_TABLE_ROWS
    footer = ""
    if note and not short:
        footer = (f"table.footer(repeat: false, table.cell(colspan: {ncols}, stroke: none, "
                  f"inset: (x: 0pt, y: 2pt), fill: none, [{note.strip()}])),")
        note = ""
    table_src = (f"#block(width: 100%, above: 1.5mm, below: 0pt)[#set text({size}pt)\n"
                 f"#table(columns: ({cols}), {stripes}\n{header}\n{', '.join(body_cells)},\n{footer})]")
    breakable = "false" if short else "true"
    parts = [f"#block(width: 100%, above: 3mm, below: 4mm, breakable: {breakable})[\n"
             f"{caption}{table_src}{note}\n]"]
    return "\n".join(parts)


_NUMBER = re.compile(r"[-+−–]?\s?[\d\s.,]*\d[\d\s.,]*\s?%?|[-–—]|")


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
    head_title = _short(title, max(_HEADER_CHARS - len(meta) - 4, 20))
    out = [PREAMBLE % {"title": _s(head_title), "place": _s(meta), "ident": _s(built), "font": FONT}]
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
        with _lock:
            try:
                return _compiler().compile(input=str(main), root=str(root))
            except typst.TypstError as exc:
                raise EsepError(f"PDF (Typst) failed: {str(exc).splitlines()[0][:300]}") from exc
