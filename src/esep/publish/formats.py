"""Reader formats derived from the report HTML: PDF (WeasyPrint) and DOCX (pandoc).

Every format is made from the same HTML page :func:`esep.render.render_html` produced
from the executed notebook, so nothing is executed again and the formats cannot drift.

- **PDF**: WeasyPrint, in-process (no browser, no subprocess, no download). Page
  layout (A4, running header/footer, page numbers, tables that keep rows whole and
  repeat their header) lives in ``templates/report.css`` (``@page`` and
  ``@media print``), so printing the HTML from a browser gives the same page.
  The font configuration is created once per process and reused for every report.
  Only ``data:`` URLs are fetched; anything else is refused (the page is offline).
- **DOCX**: pandoc from ``pypandoc-binary`` converting a cleaned copy of the HTML
  (title block moved to document metadata, number cells right-aligned, layout
  wrappers dropped) with a reference document built once per process from pandoc's
  own (A4, Arial, bordered tables, page numbers). Known losses: docs/formats.md.

Which formats a run writes: ``--to`` on the command line, else the ``ESEP_FORMATS``
environment variable (``html,pdf,docx``), else the report spec's ``formats:`` key,
else :data:`DEFAULT` (HTML + PDF).
"""
from __future__ import annotations

import html as htmllib
import io
import os
import re
import tempfile
import threading
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from esep.core.errors import EsepError

TEMPLATES = Path(__file__).parent / "templates"

# which formats: one home, esep.core.reports (re-exported for callers of this module)
from esep.core.reports import DEFAULT, ENV, FORMATS, default_formats, parse, resolve  # noqa: E402,F401


# the analyst's file/row/column detail of «Деректер сапасы»: a collapsed block in HTML,
# left out of the printed formats (it is in `esep validate`)
_ANALYST_BLOCK = re.compile(r'<details class="esep-analyst">.*?</details>', re.S)


def convert(page: str, fmt: str, *, title: str = "", period: str = "") -> bytes:
    """The report page (HTML from :func:`esep.render.render_html`) as ``fmt`` bytes."""
    makers = {"pdf": to_pdf, "docx": to_docx, "html": lambda p: p.encode("utf-8")}
    if fmt not in makers:
        raise EsepError(f"unknown format '{fmt}' (choose from {', '.join(FORMATS)})")
    if fmt != "html":
        page = _ANALYST_BLOCK.sub("", page)
    try:
        return makers[fmt](page)
    except EsepError:
        raise
    except Exception as exc:  # noqa: BLE001 - a converter failure is reported, not a traceback
        where = f" ({title}, {period})" if title else ""
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        raise EsepError(f"{fmt.upper()} conversion failed{where}: {type(exc).__name__}: {first}") from exc


PDF_ENGINES = ("typst", "weasyprint")
PDF_ENGINE_ENV = "ESEP_PDF_ENGINE"


def pdf_engine() -> str:
    """The PDF engine: ``ESEP_PDF_ENGINE`` (``typst`` or ``weasyprint``), else Typst.

    Chosen by measurement on the shipped reports (benchmarks/bench_pdf.py, docs/formats.md):
    Typst is about 10x faster than WeasyPrint and its pages are at least as well laid out."""
    name = (os.environ.get(PDF_ENGINE_ENV) or "typst").strip().lower()
    if name not in PDF_ENGINES:
        raise EsepError(f"{PDF_ENGINE_ENV}={name!r}: choose one of {', '.join(PDF_ENGINES)}")
    return name


def warm(formats: Iterable[str]) -> None:
    """Pay the one-off costs (imports, font configuration, reference.docx) up front,
    e.g. in a build worker while its first notebook executes."""
    if "pdf" in formats and pdf_engine() == "typst":
        from esep.publish import pdf_typst

        pdf_typst.warm()
    elif "pdf" in formats:
        import weasyprint  # noqa: F401

        _font_config()
        _offline_fetcher()
    if "docx" in formats:
        _reference_docx()


# --- PDF ------------------------------------------------------------------------

_pdf_lock = threading.Lock()  # WeasyPrint's font configuration is not thread-safe


def _fresh_lock_in_child() -> None:
    global _pdf_lock
    _pdf_lock = threading.Lock()   # never inherit a lock another thread held at fork time


os.register_at_fork(after_in_child=_fresh_lock_in_child)


@lru_cache(maxsize=1)
def _font_config():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


@lru_cache(maxsize=1)
def _offline_fetcher():
    """A URL fetcher for ``data:`` URLs only: a report page must not load anything else."""
    try:  # WeasyPrint >= 68: a fetcher class with a protocol allow-list
        from weasyprint.urls import URLFetcher

        return URLFetcher(allowed_protocols={"data"})
    except ImportError:  # older WeasyPrint: a function
        from weasyprint import default_url_fetcher

        def fetch(url, *args, **kwargs):
            if not url.startswith("data:"):
                raise ValueError(f"esep PDF: refusing to fetch {url[:80]!r} (reports are offline)")
            return default_url_fetcher(url, *args, **kwargs)

        return fetch


# A4 portrait text block is ~174 mm wide, landscape ~261 mm; table text is 8.5 pt
# (1 em ~ 3 mm). A table whose estimated width does not fit the portrait block is put
# on a landscape page of its own; one that does not fit even there also gets 7 pt text.
# (Estimates are rough, so both limits keep a margin.)
_PORTRAIT_EM, _LANDSCAPE_EM = 55, 80


def _cell_em(cell) -> float:
    text = " ".join(cell.get_text(" ").split())
    if not text:
        return 1.0
    longest = max(len(w) for w in text.split())
    if cell.name == "th":
        return longest * 0.72 + 1.0             # bold headers wrap between words
    if "num" in (cell.get("class") or []):
        chars = len(text)                       # numbers never wrap
    else:
        chars = max(longest, min(len(text), 22))  # text wraps at ~22 characters
    return chars * 0.62 + 1.0  # average DejaVu Sans glyph ~0.6 em, plus cell padding


def table_width_em(table) -> float:
    """Rough natural width of an HTML table in em at its own font size."""
    widths: dict[int, float] = {}
    for row in table.find_all("tr"):
        j = 0
        for cell in row.find_all(["td", "th"], recursive=False):
            span = int(cell.get("colspan", 1) or 1)
            w = _cell_em(cell) / span
            for k in range(j, j + span):
                widths[k] = max(widths.get(k, 0.0), w)
            j += span
    return sum(widths.values())


_NUMBER = re.compile(r"[-+−–]?\s?[\d\s.,]*\d[\d\s.,]*\s?%?|[-–—]|")


def _fix_number_cells(soup) -> None:
    """``td.num`` is right-aligned and never wraps; a cell so marked that holds text (a
    formatted text column) would run off the page, so it becomes a text cell."""
    for td in soup.select("td.num"):
        if not _NUMBER.fullmatch(" ".join(td.get_text(" ").split())):
            td["class"] = [c for c in td["class"] if c != "num"] + ["text"]


def _heading_only(el) -> bool:
    return (el is not None and el.find(["h1", "h2", "h3", "h4"]) is not None
            and el.find(["p", "table", "img", "ul", "ol"]) is None)


def pdf_html(page: str) -> str:
    """The report page adjusted for paged media: heading ids that WeasyPrint can
    resolve in the table of contents, and landscape pages for too-wide tables (with
    their caption, note and a heading just before them)."""
    from urllib.parse import unquote

    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, "html.parser")
    for el in soup.find_all(id=True):
        if "%" in el["id"]:
            el["id"] = unquote(el["id"])
    for a in soup.select('a[href^="#"]'):
        if "%" in a["href"]:
            a["href"] = unquote(a["href"])
    _fix_number_cells(soup)
    for table in soup.select("main table"):
        em = table_width_em(table)
        if em <= _PORTRAIT_EM:
            continue
        block = table.find_parent("div", class_="output_area") or table
        block["class"] = list(block.get("class") or []) + ["esep-landscape"] + (
            ["esep-tight"] if em > _LANDSCAPE_EM else [])
        cell = block.find_parent("div", class_="cell")
        if cell is None:
            continue
        areas = cell.find_all("div", class_="output_area")
        if areas and areas[0] is block:
            prev = cell.find_previous_sibling("div")
            if _heading_only(prev):
                prev["class"] = list(prev.get("class") or []) + ["esep-landscape"]
        if areas and areas[-1] is block:
            # WeasyPrint would otherwise go on filling the landscape page with what follows
            cell["class"] = list(cell.get("class") or []) + ["esep-break-after"]
    _footer_on_last_page(soup)
    return str(soup)


def _has_content(el) -> bool:
    if isinstance(el, str):
        return bool(el.strip())
    return bool(el.get_text(strip=True)) or el.find(["img", "table"]) is not None


def _footer_on_last_page(soup) -> None:
    """A report that ends with a landscape table: the footer goes on that page too
    (with no break after the table), instead of alone on a portrait page of its own."""
    main, footer = soup.select_one("main"), soup.select_one("footer")
    wide = main.select(".esep-landscape") if main is not None else []
    if footer is None or not wide:
        return
    el = wide[-1]
    while el is not main:
        if any(_has_content(sib) for sib in el.next_siblings):
            return
        el = el.parent
    footer["class"] = list(footer.get("class") or []) + ["esep-landscape"]
    for cell in main.select(".esep-break-after"):
        if cell is wide[-1] or wide[-1] in cell.descendants:
            cell["class"] = [c for c in cell["class"] if c != "esep-break-after"]


def to_pdf(page: str, engine: str | None = None) -> bytes:
    """A4 PDF of the report page with the chosen engine (:func:`pdf_engine`)."""
    if (engine or pdf_engine()) == "typst":
        from esep.publish import pdf_typst

        return pdf_typst.to_pdf(page)
    return to_pdf_weasyprint(page)


def to_pdf_weasyprint(page: str) -> bytes:
    """A4 PDF of the report page via WeasyPrint (layout from the page's own print CSS)."""
    import logging

    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    with _pdf_lock:
        doc = HTML(string=pdf_html(page), base_url=str(TEMPLATES) + "/", url_fetcher=_offline_fetcher())
        return doc.write_pdf(font_config=_font_config())


# --- DOCX -----------------------------------------------------------------------

def _meta(page: str, name: str) -> str:
    m = re.search(rf'<meta name="esep-{name}" content="([^"]*)"', page)
    return htmllib.unescape(m.group(1)) if m else ""


_THOUSANDS = re.compile(r"(?<=\d) (?=\d{3}(?!\d))")


def docx_html(page: str) -> str:
    """The report page reduced to what pandoc should see: body content only (title
    block -> metadata), number cells right-aligned, no notebook layout wrappers."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, "html.parser")
    for sel in ("header.title-block", "nav.toc", "footer.report-footer", "style", "script",
                "a.anchor-link", ".esep-scroll-hint"):
        for el in soup.select(sel):
            el.decompose()
    _fix_number_cells(soup)
    # a row's id (the «Түзетулер» rows, targets of the correction marks) is lost by pandoc:
    # on a span in the row's first cell it becomes a Word bookmark the marks link to
    for tr in soup.select("tr[id]"):
        first = tr.find(["td", "th"])
        if first is not None:
            span = soup.new_tag("span", id=tr["id"])
            for child in list(first.children):
                span.append(child.extract())
            first.append(span)
            del tr["id"]
    for td in soup.select("td.num, td.gt_right"):
        td["style"] = "text-align: right"
        td["align"] = "right"
    for td in soup.select("tr.total td, tr.esep-total td"):   # pandoc drops classes: bold by hand
        if td.get_text(strip=True):
            strong = soup.new_tag("strong")
            for child in list(td.children):
                strong.append(child.extract())
            td.append(strong)
    for th in soup.select("thead th"):
        th["style"] = "text-align: center"
    # a number's thousands are separated by a space (22 645): in Word a line may break
    # there, leaving «22» at a line's end; a no-break space keeps the number whole
    from bs4 import NavigableString

    for node in list(soup.find_all(string=_THOUSANDS.search)):
        if isinstance(node, NavigableString) and node.parent.name not in ("style", "script"):
            node.replace_with(_THOUSANDS.sub("\u00a0", str(node)))
    # nbconvert wraps every output in 3-5 divs; pandoc keeps divs as-is, so unwrap
    for div in soup.select("main div"):
        div.unwrap()
    main = soup.select_one("main") or soup.body or soup
    return f'<html lang="kk"><head><meta charset="utf-8"></head><body>{main.decode_contents()}</body></html>'


_A4_SECT = ('<w:sectPr><w:footerReference w:type="default" r:id="rIdEsepFooter"/>'
            '<w:pgSz w:w="11906" w:h="16838"/>'
            '<w:pgMar w:top="1134" w:right="1020" w:bottom="1134" w:left="1134" w:header="567" '
            'w:footer="567" w:gutter="0"/></w:sectPr>')
_FOOTER = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<w:ftr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
           'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
           '<w:p><w:pPr><w:jc w:val="right"/></w:pPr>'
           '<w:r><w:rPr><w:sz w:val="16"/></w:rPr><w:fldChar w:fldCharType="begin"/></w:r>'
           '<w:r><w:rPr><w:sz w:val="16"/></w:rPr><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>'
           '<w:r><w:rPr><w:sz w:val="16"/></w:rPr><w:fldChar w:fldCharType="separate"/></w:r>'
           '<w:r><w:rPr><w:sz w:val="16"/></w:rPr><w:t>1</w:t></w:r>'
           '<w:r><w:rPr><w:sz w:val="16"/></w:rPr><w:fldChar w:fldCharType="end"/></w:r></w:p></w:ftr>')
_TABLE_STYLE = (
    '<w:tblBorders>'
    + "".join(f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="A0A7B4"/>'
              for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
    + '</w:tblBorders>')


def _patch_reference(files: dict[str, bytes]) -> dict[str, bytes]:
    """pandoc's default reference.docx -> A4, Arial (has every Kazakh letter), bordered
    tables with a shaded bold header row, compact table text, page numbers in the footer."""
    styles = files["word/styles.xml"].decode("utf-8")
    styles = styles.replace(
        '<w:rFonts w:asciiTheme="minorHAnsi" w:eastAsiaTheme="minorEastAsia" w:hAnsiTheme="minorHAnsi" w:cstheme="minorBidi" />',
        '<w:rFonts w:ascii="Arial" w:eastAsia="Arial" w:hAnsi="Arial" w:cs="Arial" />', 1)
    styles = styles.replace('<w:sz w:val="24" />\n        <w:szCs w:val="24" />',
                            '<w:sz w:val="22" />\n        <w:szCs w:val="22" />', 1)
    styles = re.sub(r'(w:styleId="Table">.*?<w:tblPr>)', r"\1" + _TABLE_STYLE, styles, count=1, flags=re.S)
    styles = re.sub(r'(w:styleId="Table">.*?<w:tblStylePr w:type="firstRow">\s*)',
                    r'\1<w:rPr><w:b/></w:rPr>', styles, count=1, flags=re.S)
    styles = re.sub(r'(w:styleId="Table">.*?<w:vAlign w:val="bottom"/>)',
                    r'\1<w:shd w:val="clear" w:color="auto" w:fill="E8EEF6"/>', styles, count=1, flags=re.S)
    # table cell text (pandoc's "Compact" paragraphs): 9.5 pt, tight spacing
    styles = re.sub(r'(w:styleId="Compact">.*?)(</w:pPr>)', r'\1\2<w:rPr><w:sz w:val="19"/><w:szCs w:val="19"/></w:rPr>',
                    styles, count=1, flags=re.S)
    files["word/styles.xml"] = styles.encode("utf-8")
    theme = files["word/theme/theme1.xml"].decode("utf-8")
    theme = re.sub(r'<a:latin typeface="[^"]*"', '<a:latin typeface="Arial"', theme)
    files["word/theme/theme1.xml"] = theme.encode("utf-8")
    doc = files["word/document.xml"].decode("utf-8")
    doc = re.sub(r"<w:sectPr.*?</w:sectPr>", "", doc, flags=re.S).replace("</w:body>", _A4_SECT + "</w:body>")
    files["word/document.xml"] = doc.encode("utf-8")
    files["word/footer1.xml"] = _FOOTER.encode("utf-8")
    rels = files["word/_rels/document.xml.rels"].decode("utf-8").replace(
        "</Relationships>",
        '<Relationship Id="rIdEsepFooter" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/footer" Target="footer1.xml"/></Relationships>')
    files["word/_rels/document.xml.rels"] = rels.encode("utf-8")
    ct = files["[Content_Types].xml"].decode("utf-8").replace(
        "</Types>",
        '<Override PartName="/word/footer1.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.wordprocessingml.footer+xml"/></Types>')
    files["[Content_Types].xml"] = ct.encode("utf-8")
    return files


@lru_cache(maxsize=1)
def _reference_docx() -> str:
    """Path of esep's reference.docx, derived from pandoc's default once per process."""
    import subprocess

    import pypandoc

    raw = subprocess.run([pypandoc.get_pandoc_path(), "--print-default-data-file", "reference.docx"],
                         capture_output=True, check=True).stdout
    with zipfile.ZipFile(io.BytesIO(raw)) as zin:
        files = {n: zin.read(n) for n in zin.namelist()}
    files = _patch_reference(files)
    fd, path = tempfile.mkstemp(prefix="esep-reference-", suffix=".docx")
    with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in files.items():
            zout.writestr(name, data)
    return path


def to_docx(page: str) -> bytes:
    """Word document of the report page: real tables, Word headings, embedded figures."""
    import pypandoc

    import yaml

    from esep.publish import docx as docx_post

    meta = {"lang": "kk-KZ", "toc-title": "Мазмұны"}
    for key in ("title", "subtitle", "date"):
        if _meta(page, key):
            from esep.notebook.narrative import escape_text  # pandoc reads metadata as markdown

            meta[key] = escape_text(_meta(page, key))
    # the running header is written by python-docx: the text as printed, not escaped
    with tempfile.TemporaryDirectory(prefix="esep-docx-") as tmp:
        out = Path(tmp) / "report.docx"
        meta_file = Path(tmp) / "meta.yaml"
        meta_file.write_text(yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")
        args = ["--quiet", "--shift-heading-level-by=-1", f"--reference-doc={_reference_docx()}",
                f"--metadata-file={meta_file}", "--toc", "--toc-depth=2"]
        pypandoc.convert_text(docx_html(page), "docx", format="html", outputfile=str(out),
                              extra_args=args)
        return docx_post.postprocess(out.read_bytes(), title=_meta(page, "title"),
                                     subtitle=_meta(page, "subtitle"))
