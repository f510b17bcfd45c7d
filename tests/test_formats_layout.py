"""Page layout of every format: PDF pages (Typst), DOCX structure, screens (Chromium).

Fast tests build pages from synthetic executed notebooks (no kernel). The ``browser``
ones open pages in headless Chromium (/usr/bin/chromium via playwright) at 390 px and
1280 px; they are skipped, with the reason, where Chromium or playwright is missing.
"""
from __future__ import annotations

import io
import json
import os
import re
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from esep.publish import docx as docx_post
from esep.publish import formats, pdf_typst, render

TITLE = "Сынақ есебі: оқушылар"


def _table(n_rows: int = 3, n_cols: int = 3, caption: str = "1-кесте. Мектептер", note: str | None = None) -> str:
    from helpers import present

    df = pd.DataFrame({"school": [f"№{i} мектеп" for i in range(n_rows)],
                       "pupils": [1000 + i for i in range(n_rows)]})
    for j in range(n_cols - 2):
        df[f"2021-2022 оқу жылы {j}"] = [12345.5 + i for i in range(n_rows)]
    return present.table(df, caption, labels={"school": "Мектеп", "pupils": "Оқушылар"}, note=note).html


def _html(text: str):
    return new_output("display_data", data={"text/html": text, "text/plain": "t"})


def _chart_output(caption: str):
    """A chart displayed as the kit displays it (SVG + caption metadata)."""
    from helpers import charts

    charts.setup()
    fig = charts.bar(pd.DataFrame({"k": ["Астана", "Алматы"], "v": [1200, 22645]}), "k", "v", title=caption)
    data, meta = fig._repr_mimebundle_()
    return new_output("display_data", data=data, metadata=meta)


def _page(cells, **kw) -> str:
    nb = new_notebook(cells=cells)
    return render.render_html(nb, title=kw.pop("title", TITLE), period=kw.pop("period", "2023-2024-S2"),
                              place=kw.pop("place", "Астана"), fingerprint="feedbeef00001234", **kw)


def _pages_text(pdf: bytes) -> list[str]:
    from pypdf import PdfReader

    return [re.sub(r"\s+", " ", (p.extract_text() or "").replace("\xa0", " ")) for p in PdfReader(io.BytesIO(pdf)).pages]


def _body_text(page_text: str) -> str:
    """A page's text without the running header and footer."""
    t = page_text.replace(TITLE, "").replace("Астана · 2023-2024 оқу жылының 2-жартыжылдығы", "")
    t = re.sub(r"Жасалған күні: \S+ \S+ · деректер ізі feedbeef0000", "", t)
    t = re.sub(r"\b\d+ / \d+\b", "", t)
    return t.strip()


@pytest.fixture(scope="module")
def long_report() -> str:
    cells = [new_markdown_cell("## 1. Кіріспе\n\n" + " ".join(["Мәтін сөйлемі."] * 80))]
    cells.append(new_code_cell("t", outputs=[_html(_table(n_rows=120, caption="1-кесте. Ұзын кесте",
                                                         note="Дереккөз: сынақ."))]))
    cells.append(new_code_cell("fig", outputs=[_chart_output("1-сурет. Оқушылар саны")]))
    cells.append(new_markdown_cell("## 2. Қорытынды\n\nСоңғы абзац."))
    return _page(cells)


@pytest.fixture(scope="module")
def long_pdf(long_report) -> bytes:
    return pdf_typst.to_pdf(long_report)


def test_typst_is_the_default_engine_and_weasyprint_selectable(monkeypatch):
    monkeypatch.delenv(formats.PDF_ENGINE_ENV, raising=False)
    assert formats.pdf_engine() == "typst"
    monkeypatch.setenv(formats.PDF_ENGINE_ENV, "weasyprint")
    assert formats.pdf_engine() == "weasyprint"
    monkeypatch.setenv(formats.PDF_ENGINE_ENV, "word")
    with pytest.raises(Exception, match="typst"):
        formats.pdf_engine()


def test_pdf_has_no_page_with_only_running_elements(long_pdf):
    pages = _pages_text(long_pdf)
    assert len(pages) >= 3
    for i, text in enumerate(pages, 1):
        assert len(_body_text(text)) > 40, f"page {i} holds only running elements: {text[:200]!r}"


def test_pdf_table_header_repeats_and_caption_stays_with_table(long_pdf):
    pages = _pages_text(long_pdf)
    with_rows = [t for t in pages if re.search(r"№\d+ мектеп", t)]
    assert len(with_rows) >= 2
    assert all("Оқушылар" in t and "Мектеп" in t for t in with_rows)   # header on every page
    first = next(t for t in pages if "1-кесте. Ұзын кесте" in t)
    assert "№0 мектеп" in first                                         # caption + first rows


def test_pdf_running_header_is_one_line_and_not_on_page_one():
    long_title = "«Мониторинг: Бақылау. Талдау. Нәтиже» экспериментттік жобасының 2021-2024 жылдардағы нәтижелері мен қорытындысы"
    cells = [new_markdown_cell("## 1. Бөлім\n\n" + " ".join(["Мәтін сөйлемі."] * 600))]
    page = _page(cells, title=long_title)
    src = pdf_typst.typst_source(page, Path(os.environ.get("TMPDIR", "/tmp")) / "esep-test-typst")
    m = re.search(r'#let esep-title = "([^"]*)"\n#let esep-place = "([^"]*)"', src)
    assert m and len(m.group(1)) + len(m.group(2)) <= pdf_typst._HEADER_CHARS and m.group(1).endswith("…")
    pages = _pages_text(pdf_typst.to_pdf(page))
    assert len(pages) >= 2 and "…" in pages[1] and "…" not in pages[0]


def test_pdf_running_header_with_a_long_place_stays_on_one_line():
    """A school's full name as the place (~90 characters) once left the title 20 characters
    that wrapped over the place: both are shortened to share the line, the title keeps a
    readable part, and on page 2 every header fragment sits on one baseline."""
    from pypdf import PdfReader

    place = ("Астана қаласы, Ілияс Есенберлин атындағы №67 гимназиясы: «SHARE» халықаралық жобасы")
    title, meta = pdf_typst.running_header(TITLE, place + " · 2023-2024 оқу жылы")
    assert len(title) + len(meta) <= pdf_typst._HEADER_CHARS - 4
    assert len(title) >= min(len(TITLE), 30) and meta.endswith("…")
    cells = [new_markdown_cell("## 1. Бөлім\n\n" + " ".join(["Мәтін сөйлемі."] * 600))]
    reader = PdfReader(io.BytesIO(pdf_typst.to_pdf(_page(cells, place=place))))
    page = reader.pages[1]
    top = float(page.mediabox.top)
    ys = []
    page.extract_text(visitor_text=lambda text, cm, tm, fd, fs: ys.append(round(tm[5] * cm[3] + cm[5]))
                      if text.strip() and (tm[5] * cm[3] + cm[5]) > top - 20 * 72 / 25.4 else None)
    assert ys and len(set(ys)) == 1, f"running header spans baselines {sorted(set(ys))}"


def test_pdf_wide_table_portrait_smaller_type_very_wide_landscape_section():
    from pypdf import PdfReader

    wide = _page([new_markdown_cell("## 1. Бөлім"), new_code_cell("t", outputs=[_html(_table(n_cols=9))])])
    src = pdf_typst.typst_source(wide, Path("/tmp/esep-test-typst"))
    sizes = [float(x) for x in re.findall(r"#set text\(([\d.]+)pt\)", src)]
    assert "flipped: true" not in src and sizes and max(sizes) < pdf_typst._BASE_PT
    very = _page([new_markdown_cell("## 1. Бөлім\n\nМәтін."),
                  new_markdown_cell("## 2. Кең бөлім\n\nМәтін."),
                  new_code_cell("t", outputs=[_html(_table(n_cols=26))]),
                  new_markdown_cell("Кестеден кейін."),
                  new_markdown_cell("## 3. Соңы\n\nМәтін.")])
    reader = PdfReader(io.BytesIO(pdf_typst.to_pdf(very)))
    land = [float(p.mediabox.width) > float(p.mediabox.height) for p in reader.pages]
    texts = [p.extract_text() for p in reader.pages]
    assert any(land) and not land[0] and not land[-1]
    # the landscape pages are exactly the pages of section 2
    for is_land, text in zip(land, texts):
        if is_land:
            assert "1. Бөлім" not in text.replace("Мазмұны", "") or "2. Кең бөлім" in text
    assert "2. Кең бөлім" in texts[land.index(True)]


def test_pdf_is_deterministic_and_fast(long_report):
    pdf_typst.warm()
    t = time.perf_counter()
    a = pdf_typst.to_pdf(long_report)
    took = time.perf_counter() - t
    assert a == pdf_typst.to_pdf(long_report)
    assert took < 3.0        # ~0.1 s here; generous for a loaded machine


def test_figure_caption_is_alt_text_and_a_real_caption(long_report):
    assert 'alt="1-сурет. Оқушылар саны"' in long_report
    assert "<figcaption>1-сурет. Оқушылар саны</figcaption>" in long_report
    assert 'alt="Сурет"' not in long_report
    assert "data:image/svg+xml;base64," in long_report              # a scalable chart
    assert render.external_urls(long_report) == []


def test_chart_title_is_the_caption_not_drawn_in_the_image():
    out = _chart_output("2-сурет. Динамика")
    assert out["metadata"]["image/svg+xml"]["alt"] == "2-сурет. Динамика"
    assert "Динамика" not in out["data"]["image/svg+xml"]            # caption lives outside
    assert "<svg" in out["data"]["image/svg+xml"] and "Алматы" in out["data"]["image/svg+xml"]


def test_wide_table_has_its_own_frame_and_hint_in_html():
    page = _page([new_code_cell("t", outputs=[_html(_table(n_cols=12))]),
                  new_code_cell("t", outputs=[_html(_table(n_cols=2, caption="2-кесте. Тар"))])])
    assert page.count('class="esep-frame esep-wide"') == 1
    assert len(re.findall(r'<p [^>]*class="esep-scroll-hint"', page)) == 1
    assert "esep-scroll-hint" not in formats.docx_html(page)


# --- DOCX ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def docx_doc(long_report):
    import docx

    return docx.Document(io.BytesIO(formats.convert(long_report, "docx")))


def test_docx_has_contents_field_captions_and_header(docx_doc):
    assert docx_post.has_contents_field(docx_doc)
    assert 'w:updateFields w:val="true"' in docx_doc.settings.element.xml
    caps = [(p.style.name, p.text) for p in docx_doc.paragraphs]
    assert any(t == "1-сурет. Оқушылар саны" for _, t in caps), caps
    assert any(s == "Table Caption" and t.startswith("1-кесте.") for s, t in caps)
    head = docx_doc.sections[0].header.paragraphs[0].text
    assert TITLE in head and "2023-2024 оқу жылының 2-жартыжылдығы" in head


def test_docx_tables_as_wide_as_the_text_with_content_sized_columns(docx_doc):
    from docx.oxml.ns import qn

    t = docx_doc.tables[0]._tbl
    w = t.tblPr.find(qn("w:tblW"))
    assert w.get(qn("w:type")) == "dxa" and int(w.get(qn("w:w"))) == docx_post.PORTRAIT_TW
    cols = [int(g.get(qn("w:w"))) for g in t.find(qn("w:tblGrid")).findall(qn("w:gridCol"))]
    assert abs(sum(cols) - docx_post.PORTRAIT_TW) <= len(cols)
    assert len(set(cols)) > 1                                        # not equal columns


def test_docx_figure_has_png_fallback(docx_doc):
    from docx.oxml.ns import qn

    blips = list(docx_doc.element.body.iter(qn("a:blip")))
    assert blips and all(b.get(qn("r:embed")) for b in blips)


def test_docx_wide_table_section_is_landscape():
    import docx

    page = _page([new_markdown_cell("## 1. Бөлім\n\nМәтін."),
                  new_markdown_cell("## 2. Кең бөлім"),
                  new_code_cell("t", outputs=[_html(_table(n_cols=22))]),
                  new_markdown_cell("## 3. Соңы\n\nМәтін.")])
    d = docx.Document(io.BytesIO(formats.convert(page, "docx")))
    orient = [s.page_width > s.page_height for s in d.sections]
    assert orient == [False, True, False]


def _docx(page: str):
    import docx

    return docx.Document(io.BytesIO(formats.convert(page, "docx")))


def _q(tag: str) -> str:
    from docx.oxml.ns import qn

    return qn(f"w:{tag}")


def _run_sizes(tbl) -> set[int]:
    return {int(e.get(_q("val"))) for e in tbl.iter(_q("sz"))}


def test_docx_wide_table_stays_portrait_in_smaller_type_without_breaking_words():
    # the oblast report's 13-column tables flipped the DOCX to landscape three times; like
    # the PDF they now stay portrait in smaller type, every header word on one line
    page = _page([new_markdown_cell("## 1. Бөлім\n\nМәтін."),
                  new_code_cell("t", outputs=[_html(_table(n_cols=9))]),
                  new_markdown_cell("## 2. Келесі\n\nМәтін."),
                  new_code_cell("t", outputs=[_html(_table(n_cols=9, caption="2-кесте. Тағы"))]),
                  new_markdown_cell("## 3. Соңы\n\nМәтін.")])
    d = _docx(page)
    assert [s.page_width > s.page_height for s in d.sections] == [False]
    for t in d.tables:
        tbl = t._tbl
        sizes = _run_sizes(tbl)
        assert sizes and max(sizes) < docx_post.TABLE_PT * 2           # smaller type
        size = max(sizes) / 2
        cols = [int(g.get(_q("w"))) for g in tbl.find(_q("tblGrid")).findall(_q("gridCol"))]
        assert sum(cols) == docx_post.PORTRAIT_TW
        header = [tr for tr in tbl.iter(_q("tr")) if tr.find(f"{_q('trPr')}/{_q('tblHeader')}") is not None]
        for tr in header:
            for j, tc in enumerate(tr.iter(_q("tc"))):
                assert tc.find(f"{_q('tcPr')}/{_q('vAlign')}").get(_q("val")) == "center"
                widest = max(docx_post.text_em(w, True) for w in docx_post._cell_text(tc).split())
                assert cols[j] >= widest * size * 20 + docx_post._pad_tw(size), (j, docx_post._cell_text(tc))


def test_docx_neighbouring_landscape_sections_are_one_run_without_an_empty_page():
    page = _page([new_markdown_cell("## 1. Бөлім\n\nМәтін."),
                  new_markdown_cell("## 2. Кең бөлім"),
                  new_code_cell("t", outputs=[_html(_table(n_cols=22))]),
                  new_markdown_cell("## 3. Тағы кең"),
                  new_code_cell("t", outputs=[_html(_table(n_cols=22, caption="2-кесте. Кең"))]),
                  new_markdown_cell("## 4. Соңы\n\nМәтін.")])
    d = _docx(page)
    assert [s.page_width > s.page_height for s in d.sections] == [False, True, False]
    # no section made of a lone empty paragraph (an empty page between two breaks)
    body = d.element.body
    breaks = [p for p in body.iter(_q("p")) if p.find(f"{_q('pPr')}/{_q('sectPr')}") is not None]
    for p in breaks:
        prev = p.getprevious()
        assert prev is not None and prev.find(f"{_q('pPr')}/{_q('sectPr')}") is None


def test_docx_rows_never_split_and_a_short_table_stays_on_one_page(docx_doc):
    short = _docx(_page([new_code_cell("t", outputs=[_html(_table(n_rows=5))])])).tables[0]._tbl
    long = docx_doc.tables[0]._tbl                                   # 120 rows
    for tbl in (short, long):
        assert all(tr.find(f"{_q('trPr')}/{_q('cantSplit')}") is not None for tr in tbl.iter(_q("tr")))
    rows = list(short.iter(_q("tr")))
    keep = [all(p.find(f"{_q('pPr')}/{_q('keepNext')}") is not None for p in tr.iter(_q("p"))) for tr in rows]
    assert keep == [True] * (len(rows) - 1) + [False]
    body_rows = [tr for tr in long.iter(_q("tr")) if tr.find(f"{_q('trPr')}/{_q('tblHeader')}") is None]
    assert not any(p.find(f"{_q('pPr')}/{_q('keepNext')}") is not None for tr in body_rows for p in tr.iter(_q("p")))


def test_docx_contents_field_lists_the_headings_with_links(docx_doc):
    body = docx_doc.element.body
    sdt = next(body.iter(_q("sdt")))
    entries = [p for p in sdt.iter(_q("p")) if p.find(f"{_q('pPr')}/{_q('pStyle')}") is not None
               and p.find(f"{_q('pPr')}/{_q('pStyle')}").get(_q("val")).startswith("TOC") and
               p.find(f"{_q('pPr')}/{_q('pStyle')}").get(_q("val")) != "TOCHeading"]
    texts = ["".join(t.text or "" for t in p.iter(_q("t"))) for p in entries]
    assert texts == ["1. Кіріспе", "2. Қорытынды"]
    marks = {b.get(_q("name")) for b in body.iter(_q("bookmarkStart"))}
    links = [h.get(_q("anchor")) for p in entries for h in p.iter(_q("hyperlink"))]
    assert len(links) == 2 and set(links) <= marks
    kinds = [f.get(_q("fldCharType")) for f in sdt.iter(_q("fldChar"))]
    assert kinds == ["begin", "separate", "end"]                    # still one TOC field


def test_docx_correction_marks_are_superscript_links_to_their_appendix_row():
    page = """<html><head><meta name="esep-title" content="Сынақ"></head><body><main class="report">
<h2>1. Кесте</h2>
<table class="esep-table"><caption>1-кесте. Сандар</caption><thead><tr><th>Аты</th><th>Саны</th></tr></thead>
<tbody><tr><td class="text">Барлығы</td><td class="num"><span class="esep-corrected" data-declared="11">12<sup
class="esep-mark"><a href="#esep-corr-1">1</a></sup></span></td></tr></tbody></table>
<h2>Түзетулер</h2>
<table class="esep-table"><caption>2-кесте. Түзетулер</caption><thead><tr><th>№</th><th>Көрсеткіш</th>
<th>Құжатта</th><th>Есептелген</th></tr></thead><tbody><tr id="esep-corr-1"><td class="num">1</td>
<td class="text">1-кесте, «Барлығы» жолы</td><td class="num">11</td><td class="num">12</td></tr></tbody></table>
</main></body></html>"""
    d = _docx(page)
    body = d.element.body
    marks = {b.get(_q("name")) for b in body.iter(_q("bookmarkStart"))}
    links = [h for h in body.iter(_q("hyperlink")) if (h.get(_q("anchor")) or "").startswith("esep-corr-")]
    assert [h.get(_q("anchor")) for h in links] == ["esep-corr-1"] and "esep-corr-1" in marks
    run = links[0].find(_q("r"))
    assert run.find(f"{_q('rPr')}/{_q('vertAlign')}").get(_q("val")) == "superscript"
    # the bookmark sits in the «Түзетулер» row, not elsewhere
    row = next(b for b in body.iter(_q("bookmarkStart")) if b.get(_q("name")) == "esep-corr-1")
    assert "1-кесте, «Барлығы» жолы" in "".join(t.text or "" for t in row.getparent().getparent().getparent().iter(_q("t")))


def test_docx_narrow_number_column_fits_its_widest_number():
    rows = "".join(f"<tr><td class='num'>{i}</td><td class='text'>{'Ескерту мәтіні ' * 6}</td></tr>"
                   for i in range(1, 20))
    page = ("<html><body><main class='report'><table class='esep-table'><caption>1-кесте. Тізім</caption>"
            f"<thead><tr><th>№</th><th>Ескерту</th></tr></thead><tbody>{rows}</tbody></table></main></body></html>")
    tbl = _docx(page).tables[0]._tbl
    size = max(_run_sizes(tbl) or {int(docx_post.TABLE_PT * 2)}) / 2
    first = int(tbl.find(_q("tblGrid")).findall(_q("gridCol"))[0].get(_q("w")))
    assert first >= docx_post.text_em("19") * size * 20 + docx_post._pad_tw(size)


def test_docx_tall_figure_fits_its_page_with_the_caption_under_it():
    from helpers import charts

    charts.setup()
    df = pd.DataFrame({"k": [f"Аудан {i}" for i in range(40)], "v": list(range(40))})
    fig = charts.bar(df, "k", "v", horizontal=True, size=(6, 14), title="1-сурет. Биік сурет")
    data, meta = fig._repr_mimebundle_()
    d = _docx(_page([new_markdown_cell("## 1. Бөлім"),
                     new_code_cell("f", outputs=[new_output("display_data", data=data, metadata=meta)])]))
    body = d.element.body
    WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
    for ext in body.iter(f"{WP}extent"):
        assert int(ext.get("cy")) <= docx_post.PORTRAIT_FIG_MM * 36000
        assert int(ext.get("cx")) <= docx_post.PORTRAIT_TEXT_MM * 36000 + 1
    styles = [p.style.name for p in d.paragraphs]
    i = styles.index("Captioned Figure")
    assert styles[i + 1] == "Image Caption"


def test_docx_added_properties_keep_the_schema_order():
    # Word calls a file with out-of-order children damaged (LibreOffice does not mind)
    page = _page([new_markdown_cell("## 1. Бөлім"),
                  new_code_cell("t", outputs=[_html(_table(n_cols=9, n_rows=4))])])
    body = _docx(page).element.body
    for parent in ("tblPr", "tcPr", "pPr", "rPr"):
        order = docx_post._ORDER[parent]
        for el in body.iter(_q(parent)):
            names = [docx_post._local(c) for c in el if docx_post._local(c) in order]
            assert names == sorted(names, key=order.index), (parent, names)


def test_docx_running_header_is_one_line_as_printed_and_keeps_the_period():
    # a school report's header wrapped to two lines and showed pandoc's escapes: «\\(ИЖ\\)»
    nb = new_notebook(cells=[new_markdown_cell("## 1. Бөлім\n\nМәтін.")])
    page = render.render_html(nb, title="Мектептің инновациялық жоба (ИЖ) жұмысының есебі",
                              period="2023-2024", fingerprint="feedbeef00001234",
                              place="Астана қаласы, Ілияс Есенбердин атындағы №67 гимназиясы: "
                                    "«SHARE» халықаралық жобасы")
    d = _docx(page)
    left, _, right = d.sections[0].header.paragraphs[0].text.partition("\t")
    assert "\\" not in left + right and left.startswith("Мектептің инновациялық жоба (ИЖ)")
    assert right.endswith("2023-2024 оқу жылы") and "…" in left + right
    width = (docx_post.text_em(left) + docx_post.text_em(right) + docx_post.HEADER_GAP_EM) * docx_post.HEADER_PT * 20
    assert width <= docx_post.PORTRAIT_TW


def test_docx_numbers_never_break_at_their_thousands_space():
    page = _page([new_markdown_cell("## 1. Бөлім\n\n" + "Мәтін сөйлемі. " * 12 +
                                    "Барлығы 22 645 оқушы және 3 319 педагог; 2022 2023 жылдар.")])
    text = "\n".join(p.text for p in _docx(page).paragraphs)
    assert "22\u00a0645 оқушы" in text and "3\u00a0319 педагог" in text
    assert "2022 2023" in text                               # two years are not one number


# --- stale formats ----------------------------------------------------------------

def test_stale_docx_is_not_linked_in_the_index(tmp_path, monkeypatch):
    from esep.core import config
    from esep.publish import index

    out = tmp_path / "output"
    (out / "2019").mkdir(parents=True)
    monkeypatch.setattr(config, "OUTPUT_DIR", out)
    monkeypatch.setattr(config, "ROOT", tmp_path)
    base = out / "2019" / "leading_schools"
    for ext in ("ipynb", "html", "pdf", "docx"):
        base.with_suffix(f".{ext}").write_text("x")
    old = time.time() - 3600
    os.utime(base.with_suffix(".docx"), (old, old))
    base.with_suffix(".manifest.json").write_text(json.dumps({
        "report": "leading_schools", "period": "2019", "title": "Т", "finished": "2024-01-01T00:00",
        "outputs": [f"output/2019/leading_schools.{e}" for e in ("ipynb", "html", "pdf")]}))
    assert index.format_state(base, "docx", json.loads(base.with_suffix(".manifest.json").read_text())) == "stale"
    assert [p.name for p, _ in index.stale_formats()] == ["leading_schools.docx"]
    page = index.write_index().read_text(encoding="utf-8")
    assert 'href="2019/leading_schools.pdf"' in page
    assert 'href="2019/leading_schools.docx"' not in page and '<s class="stale"' in page


# --- screens (headless Chromium) ------------------------------------------------------

def _browser_or_skip():
    from esep.publish import proof

    why = proof.chromium_missing()
    if why:
        pytest.skip(f"headless Chromium unavailable: {why}")
    return proof


@pytest.mark.browser
def test_html_at_390px_never_scrolls_sideways(long_report, tmp_path):
    proof = _browser_or_skip()
    wide = _page([new_markdown_cell("## 1. Бөлім"),
                  new_code_cell("t", outputs=[_html(_table(n_cols=14, caption="1-кесте. " + "Өте ұзын тақырып " * 12))]),
                  new_code_cell("fig", outputs=[_chart_output("1-сурет. Оқушылар саны")])])
    pages = {"long.html": long_report, "wide.html": wide}
    real = sorted(Path("output").glob("*/*.html")) if Path("output").is_dir() else []
    with proof.Browser() as b:
        for name, html in pages.items():
            f = tmp_path / name
            f.write_text(html, encoding="utf-8")
            info = b.measure(f, 390)
            assert not info["overflow"], f"{name}: document {info['scroll_width']} px wide at 390 px"
        for f in real[:6]:                     # the built reports too, when there are any
            info = b.measure(f, 390)
            assert not info["overflow"], f"{f}: document {info['scroll_width']} px wide at 390 px"


@pytest.mark.browser
def test_html_at_1280px_shows_every_table_whole(tmp_path):
    proof = _browser_or_skip()
    page = _page([new_code_cell("t", outputs=[_html(_table(n_cols=13))])])
    f = tmp_path / "p.html"
    f.write_text(page, encoding="utf-8")
    with proof.Browser() as b:
        info = b.measure(f, 1280)
    assert not info["overflow"] and info["tables_scrolling"] == 0


def test_typst_columns_skip_the_slot_of_a_header_spanning_two_rows():
    """«Аудан» spans both header rows: the second row's cells start in column 2 (seen:
    they were counted from column 1, so the last «Шебер» column got the width of a
    two-digit number and its header ran into «Зерттеуші»)."""
    import lxml.html

    from esep.publish import typst_table

    table = lxml.html.fragment_fromstring(
        "<table><thead><tr><th rowspan='2'>Аудан</th><th colspan='2'>2023-2024</th></tr>"
        "<tr><th>Зерттеуші</th><th>Шебер</th></tr></thead>"
        "<tbody><tr><td>Шыңғырлау</td><td class='num'>11</td><td class='num'>0</td></tr></tbody></table>")
    widths, _, _ = typst_table._column_stats_of(list(table.iter("tr")))
    assert len(widths) == 3
    assert widths[2] >= typst_table._cell_em(table.xpath("//th")[-1])      # «Шебер» header
    assert widths[1] >= typst_table._cell_em(table.xpath("//th")[-2])      # «Зерттеуші» header


def test_typst_marked_number_stays_right_aligned():
    """A number carrying a corrections mark (``+7,7%<sup>5</sup>``) aligns as a number."""
    import lxml.html

    from esep.publish import typst_table

    table = lxml.html.fragment_fromstring(
        "<table><thead><tr><th>Санат</th><th>Өзгерісі, %</th></tr></thead><tbody>"
        "<tr><td>Зерттеуші</td><td class='num'><span class='esep-caveat'>+7,7%<sup class='esep-mark'>"
        "<a href='#esep-corr-5'>5</a></sup></span></td></tr>"
        "<tr><td>Шебер</td><td class='num'>-25,0%</td></tr></tbody></table>")
    src = typst_table._table(table, landscape=False)
    assert src.count("align: right") == 2, src
