"""Word post-processing of pandoc's DOCX: what pandoc does not do by itself.

pandoc (``formats.to_docx``) writes the text, headings, real tables with merged header
cells, figures with their caption paragraph («1-сурет. ...», style *Image Caption*) and
the contents field (``--toc``). This module then, with python-docx:

- adds the **running header** (title left, place · period right, one line of 8 pt);
- makes every table **as wide as the text**, with columns sized by their content
  (numbers never wrap, header words never break, text columns share the rest, the cell
  padding counted); a wide table gets smaller type (9.5 pt down to 6.5 pt, as the PDF
  goes down to 6.5 pt) and stays on portrait pages like the PDF's;
- only a table too wide even at 6.5 pt puts its section on **landscape** pages, the
  whole section (from its Heading 1 to the next), and neighbouring landscape sections
  form one landscape run: the orientation changes at most twice per run, never with an
  empty page between;
- keeps rows whole (``cantSplit``), a short table (up to 15 body rows) on one page with
  its caption, and a figure no taller than its page so that its caption stays under it;
- fills the contents field with the headings (linked), so a reader whose program does
  not refresh fields still sees the contents, and asks Word to refresh it when the
  document is opened (``w:updateFields``), which adds the page numbers.
"""
from __future__ import annotations

import copy
import io
import math
import re
from functools import lru_cache

from esep.publish.pdf_typst import _NUMBER, _short

# A4 text widths (twips, 1 mm = 56.7 twips): portrait 210 - 20 - 18 mm, landscape 297 - 20 - 18 mm
PORTRAIT_TW, LANDSCAPE_TW = 9752, 14689
TABLE_PT, SMALL_PT = 9.5, 8
EM_TW = TABLE_PT * 20            # 1 em of 9.5 pt table text in twips

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _q(tag: str) -> str:
    return f"{{{W}}}{tag}"


def _cell_text(tc) -> str:
    return " ".join("".join(t.text or "" for t in tc.iter(_q("t"))).split())


def _rows(tbl):
    return [tr for tr in tbl.iterchildren(_q("tr"))]


def _is_header(tr) -> bool:
    trpr = tr.find(_q("trPr"))
    return trpr is not None and trpr.find(_q("tblHeader")) is not None


def _span(tc) -> int:
    tcpr = tc.find(_q("tcPr"))
    gs = tcpr.find(_q("gridSpan")) if tcpr is not None else None
    return int(gs.get(_q("val"), 1)) if gs is not None else 1


# schema order of the children Word checks (CT_TblPr, CT_TcPr, CT_PPr, CT_RPr): a child
# added out of order makes Word report the file as damaged
_ORDER = {
    "tblPr": ["tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize",
              "tblStyleColBandSize", "tblW", "jc", "tblCellSpacing", "tblInd", "tblBorders",
              "shd", "tblLayout", "tblCellMar", "tblLook", "tblCaption", "tblDescription"],
    "tcPr": ["cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge", "tcBorders", "shd", "noWrap",
             "tcMar", "textDirection", "tcFitText", "vAlign", "hideMark"],
    "pPr": ["pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl",
            "numPr", "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens",
            "kinsoku", "wordWrap", "overflowPunct", "topLinePunct", "autoSpaceDE",
            "autoSpaceDN", "bidi", "adjustRightInd", "snapToGrid", "spacing", "ind",
            "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc", "textDirection",
            "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr",
            "sectPr", "pPrChange"],
    "rPr": ["rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike",
            "dstrike", "outline", "shadow", "emboss", "imprint", "noProof", "snapToGrid",
            "vanish", "webHidden", "color", "spacing", "w", "kern", "position", "sz", "szCs",
            "highlight", "u", "effect", "bdr", "shd", "fitText", "vertAlign", "rtl", "cs", "em",
            "lang", "eastAsianLayout", "specVanish", "oMath"],
    "tblCellMar": ["top", "start", "left", "bottom", "end", "right"],
}


def _local(el) -> str:
    return el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""


def _set(parent, tag: str, **attrs):
    """The child ``tag`` of ``parent`` (created in its schema position when missing),
    with ``attrs`` set."""
    el = parent.find(_q(tag))
    if el is None:
        from lxml import etree

        el = etree.Element(_q(tag))
        order = _ORDER.get(_local(parent))
        later = None
        if order and tag in order:
            rank = order.index(tag)
            later = next((c for c in parent if _local(c) in order and order.index(_local(c)) > rank), None)
        if later is not None:
            later.addprevious(el)
        else:
            parent.append(el)
    for k, v in attrs.items():
        el.set(_q(k), str(v))
    return el


def _child(parent, tag: str):
    """The child ``tag`` of ``parent``, created first among its children when missing
    (``pPr``, ``rPr``, ``tcPr``, ``trPr`` come first in their element)."""
    el = parent.find(_q(tag))
    if el is None:
        from lxml import etree

        el = etree.Element(_q(tag))
        first = parent.find(_q("tblPrEx")) if tag == "trPr" else None
        if first is not None:
            first.addnext(el)
        else:
            parent.insert(0, el)
    return el


# Arial: advance of a Cyrillic letter or digit (em), when no font file is there to
# measure the text with; bold is wider
CHAR_EM, BOLD_EM = 0.62, 0.70
# Liberation Sans has Arial's metrics; the letters it lacks (Kazakh ә ғ қ ң ө ұ ү һ in the
# versions Linux ships) LibreOffice takes from DejaVu Sans, which is wider than Arial:
# measuring so gives a width that holds in Word (Arial) and in LibreOffice alike
_FONT_FILES = {
    False: ("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    True: ("/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
           "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
}
SAFETY = 1.05                  # measured widths get 5 % more (hinting, rounding)


@lru_cache(maxsize=2)
def _advances(bold: bool) -> list[dict[str, float]]:
    """Per font (Liberation Sans, then DejaVu Sans): character -> advance (em)."""
    out = []
    try:
        from fontTools.ttLib import TTFont
    except ImportError:
        return out
    for path in _FONT_FILES[bold]:
        try:
            font = TTFont(path, lazy=True)
        except OSError:
            continue
        upm = font["head"].unitsPerEm
        hmtx = font["hmtx"]
        out.append({chr(cp): hmtx[g][0] / upm for cp, g in font.getBestCmap().items()})
    return out


@lru_cache(maxsize=4096)
def text_em(text: str, bold: bool = False) -> float:
    """Width of ``text`` on one line in em of the table font (see ``_FONT_FILES``;
    estimated from an average letter width when no font file is there)."""
    fonts = _advances(bold)
    if not fonts:
        return len(text) * (BOLD_EM if bold else CHAR_EM)
    fallback = BOLD_EM if bold else CHAR_EM
    return SAFETY * sum(next((f[ch] for f in fonts if ch in f), fallback) for ch in text)


# table type sizes tried in turn (pt); a table takes the largest at which it fits
SIZES = (TABLE_PT, 8.0, 7.0, 6.5)
SHORT_TABLE_ROWS = 15          # tables up to this many body rows are kept on one page


def _pad_tw(size: float) -> int:
    """Left + right cell margin (twips) at a table type size: tighter for small type."""
    return 2 * (85 if size >= TABLE_PT else 57 if size >= 8 else 40)


def _bold(tc) -> bool:
    return tc.find(f".//{_q('b')}") is not None


def column_stats(tbl) -> tuple[list[float], list[float], list[bool]]:
    """Per grid column: the narrowest sensible width and the one-line width (em of the
    table's type: numbers never wrap, header text wraps between words, body text at ~16
    characters), and whether it holds text (not only numbers)."""
    grid = tbl.find(_q("tblGrid"))
    ncols = len(grid.findall(_q("gridCol"))) if grid is not None else 0
    lo, hi, texty = [1.0] * ncols, [1.0] * ncols, [False] * ncols
    for tr in _rows(tbl):
        head = _is_header(tr)
        j = 0
        for tc in tr.iterchildren(_q("tc")):
            span = _span(tc)
            text = _cell_text(tc)
            if text:
                bold = head or _bold(tc)
                words = text.split()
                widest = max(text_em(w, bold) for w in words)
                whole = text_em(text, bold)
                number = not head and bool(_NUMBER.fullmatch(text))
                if head:
                    a, b = widest, min(whole, text_em(text[:60], bold))
                elif number:
                    a = b = whole
                else:
                    a = max(widest, text_em(text[:16], bold))
                    b = text_em(text[:110], bold)
                for k in range(j, min(j + span, ncols)):
                    lo[k] = max(lo[k], a / span)
                    hi[k] = max(hi[k], b / span, lo[k])
                    if not head and not number and span == 1:
                        texty[k] = True
            j += span
    return lo, hi, texty


def column_em(tbl) -> list[float]:
    """Narrowest sensible width of each grid column (em of table text)."""
    return column_stats(tbl)[0]


def table_size(tbl, text_tw: int) -> float | None:
    """The largest type size (pt) at which the table's narrowest sensible columns fit
    ``text_tw``; None when it does not fit even at the smallest."""
    lo = column_stats(tbl)[0]
    for size in SIZES:
        if sum(e * size * 20 + _pad_tw(size) for e in lo) <= text_tw:
            return size
    return None


def _size_table(tbl, text_tw: int, size: float | None = None) -> float:
    """Full text width, columns between their narrowest sensible and one-line widths
    (as a browser's auto layout), at ``size`` pt (default: the largest that fits);
    returns the size used."""
    size = size or table_size(tbl, text_tw) or SIZES[-1]
    lo_em, hi_em, texty = column_stats(tbl)
    pad = _pad_tw(size)
    lo = [e * size * 20 + pad for e in lo_em]
    hi = [e * size * 20 + pad for e in hi_em]
    if sum(hi) <= text_tw:
        natural = hi
    elif sum(lo) >= text_tw:
        natural = [w * text_tw / sum(lo) for w in lo]
    else:
        f = (text_tw - sum(lo)) / (sum(hi) - sum(lo))
        natural = [a + (b - a) * f for a, b in zip(lo, hi)]
    spare = text_tw - sum(natural)
    # what is left goes to the text columns first (they wrap), else to all
    weights = [h if t else 0 for h, t in zip(hi, texty)] if any(texty) else hi
    wsum = sum(weights) or 1.0
    cols = [math.ceil(n + spare * w / wsum) for n, w in zip(natural, weights)]
    if cols:       # rounding: the widest column gives back what the others took
        widest = max(range(len(cols)), key=lambda k: cols[k] - lo[k])
        cols[widest] += text_tw - sum(cols)
    tblpr = tbl.find(_q("tblPr"))
    _set(tblpr, "tblW", w=text_tw, type="dxa")
    _set(tblpr, "tblLayout", type="fixed")
    mar = _set(tblpr, "tblCellMar")
    for side in ("left", "right"):
        _set(mar, side, w=pad // 2, type="dxa")
    grid = tbl.find(_q("tblGrid"))
    for gc, w in zip(grid.findall(_q("gridCol")), cols):
        gc.set(_q("w"), str(w))
    for tr in _rows(tbl):
        j = 0
        for tc in tr.iterchildren(_q("tc")):
            span = _span(tc)
            _set(_child(tc, "tcPr"), "tcW", w=sum(cols[j:j + span]), type="dxa")
            j += span
    for r in tbl.iter(_q("r")):
        rpr = _child(r, "rPr")
        for tag in ("sz", "szCs"):
            el = rpr.find(_q(tag))
            if size < TABLE_PT:
                _set(rpr, tag, val=int(size * 2))
            elif el is not None and el.get(_q("val")) == str(int(SMALL_PT * 2)):
                rpr.remove(el)           # sized again at full type
    return size


def _keep_rows(tbl) -> None:
    """Rows never split across pages; a short table stays on one page (and, through its
    caption's keep-with-next, with its caption); header cells are centred vertically."""
    rows = _rows(tbl)
    short = len([tr for tr in rows if not _is_header(tr)]) <= SHORT_TABLE_ROWS
    for i, tr in enumerate(rows):
        if _is_header(tr):     # header cells centred both ways, as in the HTML and PDF
            for tc in tr.iterchildren(_q("tc")):
                _set(_child(tc, "tcPr"), "vAlign", val="center")
        _set(_child(tr, "trPr"), "cantSplit")
        if short and i < len(rows) - 1:
            for p in tr.iter(_q("p")):
                _set(_child(p, "pPr"), "keepNext")


def _heading1(p) -> bool:
    ppr = p.find(_q("pPr"))
    st = ppr.find(_q("pStyle")) if ppr is not None else None
    return st is not None and st.get(_q("val")) in ("Heading1", "Heading 1")


def _section_break(body_sectpr, landscape: bool):
    """An empty paragraph ending a section (portrait or landscape A4)."""
    from lxml import etree

    sect = copy.deepcopy(body_sectpr)
    for ref in sect.findall(_q("headerReference")) + sect.findall(_q("footerReference")):
        sect.remove(ref)                      # a later section inherits header and footer
    pg = sect.find(_q("pgSz"))
    w, h = 11906, 16838
    if landscape:
        pg.set(_q("w"), str(h))
        pg.set(_q("h"), str(w))
        pg.set(_q("orient"), "landscape")
    else:
        pg.set(_q("w"), str(w))
        pg.set(_q("h"), str(h))
        pg.attrib.pop(_q("orient"), None)
    p = etree.Element(_q("p"))
    ppr = etree.SubElement(p, _q("pPr"))
    ppr.append(sect)
    return p


def _landscape_sections(body, wide_tables: set) -> list[list]:
    """Sections (Heading 1 to the next) holding a table too wide for portrait go on
    landscape pages; neighbouring ones form one run. Returns the runs (their blocks)."""
    sectpr = body.find(_q("sectPr"))
    if sectpr is None or not wide_tables:
        return []
    blocks = [el for el in body if el.tag in (_q("p"), _q("tbl"), _q("sdt"))]
    groups: list[list] = [[]]
    for el in blocks:
        if el.tag == _q("p") and _heading1(el):
            groups.append([])
        groups[-1].append(el)
    runs: list[list] = []
    last = -2
    for i, group in enumerate(groups):
        if not group or not any(el in wide_tables for el in group):
            continue
        if i == last + 1:
            runs[-1].extend(group)          # the previous section is landscape too: one run
        else:
            runs.append(list(group))
        last = i
    for run in runs:
        # end the portrait section before the run, and the run as landscape after it
        if run[0].getprevious() is not None:
            run[0].addprevious(_section_break(sectpr, landscape=False))
        run[-1].addnext(_section_break(sectpr, landscape=True))
    return runs


# text block heights (EMU): A4 297 / 210 mm minus margins, header and footer, and room
# for a two-line caption under a figure
_EMU_MM = 36000
PORTRAIT_FIG_MM, LANDSCAPE_FIG_MM = 200, 130
PORTRAIT_TEXT_MM, LANDSCAPE_TEXT_MM = PORTRAIT_TW / 56.7, LANDSCAPE_TW / 56.7


def _fit_figures(blocks, max_w_mm: float, max_h_mm: float) -> int:
    """Scale every image in ``blocks`` down to at most the given size (aspect kept), so a
    figure and its caption fit one page."""
    WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
    A = "http://schemas.openxmlformats.org/drawingml/2006/main"
    done = 0
    for block in blocks:
        for ext in block.iter(f"{{{WP}}}extent"):
            cx, cy = int(ext.get("cx")), int(ext.get("cy"))
            f = min(1.0, max_w_mm * _EMU_MM / cx, max_h_mm * _EMU_MM / cy)
            if f >= 1.0:
                continue
            ncx, ncy = str(int(cx * f)), str(int(cy * f))
            ext.set("cx", ncx)
            ext.set("cy", ncy)
            inline = ext.getparent()
            for a_ext in inline.iter(f"{{{A}}}ext"):
                if a_ext.get("cx") == str(cx) and a_ext.get("cy") == str(cy):
                    a_ext.set("cx", ncx)
                    a_ext.set("cy", ncy)
            done += 1
    return done


def _fill_contents(body) -> int:
    """Put the headings (levels 1-2, linked to their bookmarks) into the contents field's
    result, which pandoc leaves empty: readers that do not refresh fields (LibreOffice,
    viewers) show the contents; Word refreshes it on opening and adds the page numbers."""
    from lxml import etree

    instr = next((t for t in body.iter(_q("instrText")) if (t.text or "").strip().startswith("TOC")), None)
    if instr is None:
        return 0
    p0 = instr.getparent().getparent()
    sep = next((f for f in p0.iter(_q("fldChar")) if f.get(_q("fldCharType")) == "separate"), None)
    end = next((f for f in p0.iter(_q("fldChar")) if f.get(_q("fldCharType")) == "end"), None)
    if sep is None or end is None:
        return 0
    entries = []
    for p in body.iter(_q("p")):
        ppr = p.find(_q("pPr"))
        st = ppr.find(_q("pStyle")) if ppr is not None else None
        level = {"Heading1": 1, "Heading2": 2}.get(st.get(_q("val")) if st is not None else "")
        text = "".join(t.text or "" for t in p.iter(_q("t"))).strip()
        if not level or not text:
            continue
        mark = p.find(_q("bookmarkStart"))
        prev = p.getprevious()
        if mark is None and prev is not None and prev.tag == _q("bookmarkStart"):
            mark = prev                      # pandoc puts a heading's bookmark before it
        entries.append((level, text, mark.get(_q("name")) if mark is not None else None))
    if not entries:
        return 0
    # the field: begin, instruction and separate in the first entry's paragraph, the
    # entries, end in the last one
    run_end = end.getparent()
    if run_end is sep.getparent():         # pandoc: one run holds separate and end
        run_end.remove(end)
        run_end = etree.Element(_q("r"))
        run_end.append(end)
    paragraphs = []
    for k, (level, text, mark) in enumerate(entries):
        p = p0 if k == 0 else etree.Element(_q("p"))
        ppr = _child(p, "pPr")
        _set(ppr, "pStyle", val=f"TOC{level}")
        _set(ppr, "spacing", before=0, after=40)
        _set(ppr, "ind", left=0 if level == 1 else 440)
        run = etree.Element(_q("r"))
        etree.SubElement(run, _q("t")).text = text
        if mark:
            link = etree.Element(_q("hyperlink"))
            link.set(_q("anchor"), mark)
            link.set(_q("history"), "1")
            link.append(run)
            p.append(link)
        else:
            p.append(run)
        if k:
            paragraphs.append(p)
    (paragraphs[-1] if paragraphs else p0).append(run_end)
    anchor = p0
    for p in paragraphs:
        anchor.addnext(p)
        anchor = p
    return len(entries)


HEADER_PT = 8
HEADER_GAP_EM = 3              # between the title and the place · period


def _fits(text: str, width_tw: float) -> bool:
    return text_em(text) * HEADER_PT * 20 <= width_tw


def _shorten_to(text: str, width_tw: float) -> str:
    """``text``, shortened with «…» until it fits ``width_tw`` at the header's size."""
    n = len(text)
    while n > 8 and not _fits(_short(text, n), width_tw):
        n -= 1
    return _short(text, n)


def header_texts(title: str, subtitle: str, width_tw: int = PORTRAIT_TW) -> tuple[str, str]:
    """Title (left) and place · period (right) shortened so that both fit one header line:
    the place · period keeps at most 60 % of it, the title the rest (as the PDF's header)."""
    gap = HEADER_GAP_EM * HEADER_PT * 20
    right = subtitle
    if not _fits(subtitle, width_tw * 0.6):
        place, sep, period = subtitle.rpartition(" · ")
        if sep:        # the period stays whole; the place is shortened
            tail = sep + period
            right = _shorten_to(place, width_tw * 0.6 - text_em(tail) * HEADER_PT * 20) + tail
        else:
            right = _shorten_to(subtitle, width_tw * 0.6)
    room = width_tw - gap - text_em(right) * HEADER_PT * 20
    return _shorten_to(title, room), right


def _header(doc, left: str, right: str) -> None:
    from docx.enum.text import WD_TAB_ALIGNMENT
    from docx.shared import Mm, Pt, RGBColor

    sec = doc.sections[0]
    sec.header.is_linked_to_previous = False
    p = sec.header.paragraphs[0]
    p.text = ""
    width = sec.page_width - sec.left_margin - sec.right_margin
    p.paragraph_format.tab_stops.add_tab_stop(width, WD_TAB_ALIGNMENT.RIGHT)
    p.paragraph_format.space_after = Mm(0)
    run = p.add_run(f"{left}\t{right}")
    run.font.size = Pt(HEADER_PT)
    run.font.color.rgb = RGBColor(0x5B, 0x64, 0x75)
    sec.different_first_page_header_footer = False


def svg_to_png(svg: bytes, ppi: int = 200) -> bytes:
    """An SVG rendered to PNG by the bundled Typst compiler (no other rasteriser needed)."""
    import tempfile
    from pathlib import Path

    from esep.publish.pdf_typst import _compiler

    with tempfile.TemporaryDirectory(prefix="esep-svg-") as tmp:
        (Path(tmp) / "figure.svg").write_bytes(svg)
        (Path(tmp) / "main.typ").write_text(
            '#set page(width: auto, height: auto, margin: 0pt, fill: white)\n#image("figure.svg")\n',
            encoding="utf-8")
        return _compiler().compile(input=str(Path(tmp) / "main.typ"), root=tmp, format="png", ppi=ppi)


def _png_fallbacks(doc) -> int:
    """pandoc embeds charts as SVG only (``asvg:svgBlip``, Word 2016+); add the PNG that
    the OOXML standard expects in ``a:blip/@r:embed``, so every Word and LibreOffice shows
    the figure."""
    R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    A = "http://schemas.openxmlformats.org/drawingml/2006/main"
    SVG = "http://schemas.microsoft.com/office/drawing/2016/SVG/main"
    done = 0
    for blip in doc.element.body.iter(f"{{{A}}}blip"):
        if blip.get(f"{{{R}}}embed"):
            continue
        svg_blip = next(blip.iter(f"{{{SVG}}}svgBlip"), None)
        if svg_blip is None:
            continue
        part = doc.part.related_parts.get(svg_blip.get(f"{{{R}}}embed"))
        if part is None:
            continue
        rid, _ = doc.part.get_or_add_image(io.BytesIO(svg_to_png(part.blob)))
        blip.set(f"{{{R}}}embed", rid)
        done += 1
    return done


def _update_fields_on_open(doc) -> None:
    settings = doc.settings.element
    _set(settings, "updateFields", val="true")


def postprocess(data: bytes, *, title: str = "", subtitle: str = "") -> bytes:
    """pandoc's DOCX -> esep's: running header, full-width tables sized by content (smaller
    type for wide ones), landscape only for a table too wide even at 6.5 pt, rows kept
    whole, figures fitted to their page, contents filled and refreshed on open."""
    import docx

    doc = docx.Document(io.BytesIO(data))
    body = doc.element.body
    wide = set()
    for tbl in body.iter(_q("tbl")):
        if tbl.getparent() is not body:
            continue
        _keep_rows(tbl)
        if table_size(tbl, PORTRAIT_TW) is None:
            wide.add(tbl)
        else:
            _size_table(tbl, PORTRAIT_TW)
    runs = _landscape_sections(body, wide)
    for tbl in wide:
        _size_table(tbl, LANDSCAPE_TW)
    in_landscape = {id(el) for run in runs for el in run}
    _fit_figures([el for el in body if id(el) not in in_landscape], PORTRAIT_TEXT_MM, PORTRAIT_FIG_MM)
    _fit_figures([el for run in runs for el in run], LANDSCAPE_TEXT_MM, LANDSCAPE_FIG_MM)
    if title or subtitle:      # on the first section; the later ones inherit it
        _header(doc, *header_texts(title, subtitle))
    _png_fallbacks(doc)
    _fill_contents(body)
    _update_fields_on_open(doc)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def has_contents_field(doc) -> bool:
    """Whether a python-docx document holds a TOC field (what Word shows as contents)."""
    xml = doc.element.xml
    return bool(re.search(r"instrText[^>]*>\s*TOC\b", xml))
