"""Word post-processing of pandoc's DOCX: what pandoc does not do by itself.

pandoc (``formats.to_docx``) writes the text, headings, real tables with merged header
cells, figures with their caption paragraph («1-сурет. ...», style *Image Caption*) and
the contents field (``--toc``). This module then, with python-docx:

- adds the **running header** (title left, place · period right, one line of 8 pt);
- makes every table **as wide as the text**, with columns sized by their content
  (numbers never wrap, text columns share the rest), wide tables in 8 pt;
- puts a section holding a table too wide for portrait on **landscape** pages, the
  whole section (from its Heading 1 to the next), so the orientation changes only at
  section boundaries — as in the PDF;
- asks Word to refresh the contents field when the document is opened
  (``w:updateFields``), so the page numbers are filled in.
"""
from __future__ import annotations

import copy
import io
import re

from esep.publish.pdf_typst import _NUMBER, _short

# A4 text widths (twips, 1 mm = 56.7 twips): portrait 210 - 20 - 18 mm, landscape 297 - 20 - 18 mm
PORTRAIT_TW, LANDSCAPE_TW = 9752, 14689
TABLE_PT, SMALL_PT = 9.5, 8
EM_TW = TABLE_PT * 20            # 1 em of 9.5 pt table text in twips
LANDSCAPE_EM = 70                # a table wider than this (em at 9.5 pt) -> landscape section
SMALL_EM = 50                    # wider than this -> 8 pt table text
HEADER_CHARS = 110

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


def column_em(tbl) -> list[float]:
    """Natural width of each grid column (em of table text), as the PDF estimates it:
    numbers never wrap, text wraps at ~22 characters, header text between words."""
    ncols = len(tbl.find(_q("tblGrid")).findall(_q("gridCol"))) if tbl.find(_q("tblGrid")) is not None else 0
    widths = [1.0] * ncols
    for tr in _rows(tbl):
        head = _is_header(tr)
        j = 0
        for tc in tr.iterchildren(_q("tc")):
            span = _span(tc)
            text = _cell_text(tc)
            if text:
                longest = max(len(w) for w in text.split())
                if head:
                    em = longest * 0.72 + 1.0
                elif _NUMBER.fullmatch(text):
                    em = len(text) * 0.62 + 1.0
                else:
                    em = max(longest, min(len(text), 22)) * 0.62 + 1.0
                for k in range(j, min(j + span, ncols)):
                    widths[k] = max(widths[k], em / span)
            j += span
    return widths


def _set(parent, tag: str, **attrs):
    el = parent.find(_q(tag))
    if el is None:
        from lxml import etree

        el = etree.SubElement(parent, _q(tag))
    for k, v in attrs.items():
        el.set(_q(k), str(v))
    return el


def _size_table(tbl, text_tw: int) -> float:
    """Full text width, columns in proportion to their content; returns the table's em."""
    from lxml import etree

    em = column_em(tbl)
    total = sum(em) or 1.0
    scale = text_tw / max(total * EM_TW, text_tw)      # never wider than the text
    natural = [e * EM_TW * scale for e in em]
    spare = text_tw - sum(natural)
    # what is left goes to the text columns first (they wrap), else to all
    weights = [e if e > 8 else 0 for e in em] if any(e > 8 for e in em) else em
    wsum = sum(weights) or 1.0
    cols = [int(n + spare * w / wsum) for n, w in zip(natural, weights)]
    tblpr = tbl.find(_q("tblPr"))
    _set(tblpr, "tblW", w=text_tw, type="dxa")
    _set(tblpr, "tblLayout", type="fixed")
    grid = tbl.find(_q("tblGrid"))
    for gc, w in zip(grid.findall(_q("gridCol")), cols):
        gc.set(_q("w"), str(w))
    for tr in _rows(tbl):
        j = 0
        for tc in tr.iterchildren(_q("tc")):
            span = _span(tc)
            tcpr = tc.find(_q("tcPr"))
            if tcpr is None:
                tcpr = etree.Element(_q("tcPr"))
                tc.insert(0, tcpr)
            _set(tcpr, "tcW", w=sum(cols[j:j + span]), type="dxa")
            j += span
    if total > SMALL_EM:
        for r in tbl.iter(_q("r")):
            rpr = r.find(_q("rPr"))
            if rpr is None:
                rpr = etree.Element(_q("rPr"))
                r.insert(0, rpr)
            _set(rpr, "sz", val=int(SMALL_PT * 2))
            _set(rpr, "szCs", val=int(SMALL_PT * 2))
    return total


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


def _landscape_sections(body, wide_tables: set) -> int:
    """Sections (Heading 1 to the next) holding a wide table go on landscape pages."""
    sectpr = body.find(_q("sectPr"))
    if sectpr is None or not wide_tables:
        return 0
    blocks = [el for el in body if el.tag in (_q("p"), _q("tbl"), _q("sdt"))]
    groups: list[list] = [[]]
    for el in blocks:
        if el.tag == _q("p") and _heading1(el):
            groups.append([])
        groups[-1].append(el)
    flipped = 0
    for i, group in enumerate(groups):
        if not group or not any(el in wide_tables for el in group):
            continue
        # end the portrait section before this one, and this one as landscape after it
        if group[0].getprevious() is not None:
            group[0].addprevious(_section_break(sectpr, landscape=False))
        group[-1].addnext(_section_break(sectpr, landscape=True))
        flipped += 1
    return flipped


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
    run.font.size = Pt(8)
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
    """pandoc's DOCX -> esep's: running header, full-width tables sized by content,
    landscape sections for wide tables, contents refreshed on open."""
    import docx

    doc = docx.Document(io.BytesIO(data))
    body = doc.element.body
    wide = set()
    for tbl in body.iter(_q("tbl")):
        if tbl.getparent() is not body:
            continue
        em = _size_table(tbl, PORTRAIT_TW)
        if em > LANDSCAPE_EM:
            wide.add(tbl)
    _landscape_sections(body, wide)
    for tbl in wide:
        _size_table(tbl, LANDSCAPE_TW)
    if title or subtitle:      # on the first section; the later ones inherit it
        _header(doc, _short(title, max(HEADER_CHARS - len(subtitle) - 4, 20)), subtitle)
    _png_fallbacks(doc)
    _update_fields_on_open(doc)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def has_contents_field(doc) -> bool:
    """Whether a python-docx document holds a TOC field (what Word shows as contents)."""
    xml = doc.element.xml
    return bool(re.search(r"instrText[^>]*>\s*TOC\b", xml))
