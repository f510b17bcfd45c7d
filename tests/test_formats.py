"""Publication formats: PDF (WeasyPrint), DOCX (pandoc), reader HTML, manifest, index.

Fast tests build a page from a synthetic executed notebook (no kernel); the
``integration`` ones run the toy project through the CLI (``esep run`` / ``esep render``).
"""
from __future__ import annotations

import base64
import io
import json
import re
from datetime import datetime

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from typer.testing import CliRunner

from esep.publish import formats
from esep.publish import render
from esep.cli import app
from esep.core.errors import EsepError

runner = CliRunner()
TITLE = "Сынақ есебі: оқушылар"


def _png() -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 2), dpi=80)
    ax.bar(["Астана", "Алматы"], [1200, 22645])
    ax.set_title("1-сурет. Оқушылар саны")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _html_output(html_text: str):
    return new_output("display_data", data={"text/html": html_text, "text/plain": "table"})


def _table_html(n_cols: int = 3) -> str:
    from helpers import present

    df = pd.DataFrame({"school": ["<b>x</b> мектебі", "№2 мектеп", "Барлығы"],
                       "pupils": [1200, 22645, 23845],
                       "row_type": ["part", "part", "total"]})
    for i in range(n_cols - 2):
        df[f"2021-2022 оқу жылы {i}"] = [1.5, 2.25, 3.75]
    return present.table(df, "1-кесте. Мектептер бойынша оқушылар",
                         labels={"school": "Мектеп", "pupils": "Оқушылар"},
                         spanners={"Көрсеткіштер": ["pupils"]}).html


@pytest.fixture(scope="module")
def page() -> str:
    nb = new_notebook()
    nb.cells = [
        new_markdown_cell("# Оқушылар\n\n### Негізгі көрсеткіштер"),
        new_code_cell("display(t)", outputs=[_html_output(_table_html())]),
        new_markdown_cell("Барлығы 23 845 оқушы; қазақ әріптері: әғқңөұүһі ӘҒҚҢӨҰҮҺІ."),
        new_code_cell("fig", outputs=[new_output("display_data", data={"image/png": _png(),
                                                                         "text/plain": "<Figure>"})]),
    ]
    return render.render_html(nb, title=TITLE, period="2023-2024-S2", place="Астана",
                              fingerprint="0123456789abcdef", built=datetime(2024, 6, 30, 10, 5))


@pytest.fixture(scope="module")
def pdf_bytes(page) -> bytes:
    return formats.convert(page, "pdf")


@pytest.fixture(scope="module")
def docx_doc(page):
    import docx

    return docx.Document(io.BytesIO(formats.convert(page, "docx")))


def _pdf_text(data: bytes) -> tuple[str, list]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(p.extract_text() or "" for p in reader.pages)
    return re.sub(r"\s+", " ", text.replace("\xa0", " ")), reader.pages


# --- which formats ---------------------------------------------------------------

def test_parse_formats_puts_html_first_and_refuses_unknown():
    assert formats.parse("docx, PDF") == ("html", "pdf", "docx")
    assert formats.parse(["pdf"]) == ("html", "pdf")
    with pytest.raises(EsepError, match="unknown format"):
        formats.parse("pdf,odt")


def test_default_formats_html_pdf_or_env(monkeypatch):
    monkeypatch.delenv(formats.ENV, raising=False)
    assert formats.default_formats() == ("html", "pdf")
    monkeypatch.setenv(formats.ENV, "html,docx")
    assert formats.default_formats() == ("html", "docx")
    monkeypatch.setenv(formats.ENV, "rtf")
    with pytest.raises(EsepError, match="ESEP_FORMATS"):
        formats.default_formats()


# --- HTML ------------------------------------------------------------------------

def test_html_title_block_toc_offline_and_escaped(page):
    assert render.external_urls(page) == []
    assert 'class="report-title">Сынақ есебі: оқушылар</h1>' in page
    assert "Астана" in page and "2023-2024 оқу жылының 2-жартыжылдығы" in page
    assert "Жасалған күні: 2024-06-30 10:05" in page and "0123456789ab" in page
    assert 'class="toc"' in page and "Негізгі көрсеткіштер</a>" in page
    assert "&lt;b&gt;x&lt;/b&gt; мектебі" in page and "<b>x</b>" not in page
    assert "No description has been provided" not in page   # nbconvert's English alt text


# --- PDF -------------------------------------------------------------------------

def test_pdf_is_a4_with_kazakh_text_numbers_and_page_numbers(pdf_bytes):
    text, pages = _pdf_text(pdf_bytes)
    w, h = float(pages[0].mediabox.width), float(pages[0].mediabox.height)
    assert (round(w), round(h)) == (595, 842)                # A4 portrait, in points
    assert TITLE in text
    assert "әғқңөұүһі ӘҒҚҢӨҰҮҺІ" in text                        # every Kazakh letter survives
    assert "22 645" in text and "23 845" in text and "<b>x</b> мектебі" in text
    assert f"1 / {len(pages)}" in text                        # page numbers in the margin
    assert "display(t)" not in text                           # no code


def test_pdf_embeds_fonts_and_fetches_nothing(pdf_bytes):
    from pypdf import PdfReader

    fonts = {str(f.get_object()["/BaseFont"]) for p in PdfReader(io.BytesIO(pdf_bytes)).pages
             for f in p["/Resources"]["/Font"].values()}
    assert fonts and all("DejaVu" in f for f in fonts), fonts
    fetch = formats._offline_fetcher()
    with pytest.raises(Exception):
        fetch("http://example.com/x.png")


def test_pdf_running_header_has_title_and_period_on_later_pages():
    filler = "".join(f"<p>{i}-абзац. " + "Мәтін " * 60 + "</p>" for i in range(40))
    nb = new_notebook(cells=[new_markdown_cell("## Бөлім")])
    page = render.render_html(nb, title=TITLE, period="2019", fingerprint="feedbeef0000")
    page = page.replace("</main>", filler + "</main>")
    text, pages = _pdf_text(formats.convert(page, "pdf"))
    assert len(pages) >= 3
    second = re.sub(r"\s+", " ", pages[1].extract_text())
    assert TITLE in second and "2019 жыл" in second and "feedbeef0000" in second


def test_wide_table_gets_a_landscape_page():
    from bs4 import BeautifulSoup

    nb = new_notebook(cells=[new_code_cell("t", outputs=[_html_output(_table_html(n_cols=14))])])
    page = render.render_html(nb, title=TITLE, period="2019")
    soup = BeautifulSoup(formats.pdf_html(page), "html.parser")
    assert soup.select(".esep-landscape table")
    _, pages = _pdf_text(formats.convert(page, "pdf"))
    assert any(float(p.mediabox.width) > float(p.mediabox.height) for p in pages)


def test_report_ending_with_a_wide_table_has_no_footer_only_page():
    from bs4 import BeautifulSoup

    nb = new_notebook(cells=[new_markdown_cell("## Бөлім"),
                             new_code_cell("t", outputs=[_html_output(_table_html(n_cols=14))])])
    page = render.render_html(nb, title=TITLE, period="2019", fingerprint="feedbeef0000")
    soup = BeautifulSoup(formats.pdf_html(page), "html.parser")
    assert "esep-landscape" in soup.select_one("footer")["class"]
    assert not soup.select(".esep-break-after")
    _, pages = _pdf_text(formats.convert(page, "pdf"))
    last = re.sub(r"\s+", " ", pages[-1].extract_text())
    assert "feedbeef0000" in last and len(last.replace("feedbeef0000", "")) > 200, last
    # a wide table followed by more text: the footer stays portrait
    nb.cells.append(new_markdown_cell("Қорытынды мәтін."))
    page = render.render_html(nb, title=TITLE, period="2019")
    assert "esep-landscape" not in (BeautifulSoup(formats.pdf_html(page), "html.parser")
                                    .select_one("footer").get("class") or [])


def test_narrow_table_stays_portrait(page):
    from bs4 import BeautifulSoup

    assert not BeautifulSoup(formats.pdf_html(page), "html.parser").select(".esep-landscape")


# --- DOCX ------------------------------------------------------------------------

def test_docx_real_table_with_known_cell_and_spanning_header(docx_doc):
    assert len(docx_doc.tables) == 1
    t = docx_doc.tables[0]
    cells = [[c.text for c in row.cells] for row in t.rows]
    # header rows 0-1, then data; the number keeps its thousands together (no-break space)
    assert ["<b>x</b> мектебі", "1\u00a0200"] == cells[2][:2]
    assert cells[0][1] == "Көрсеткіштер"
    assert b"gridSpan" in t._tbl.xml.encode() or b"vMerge" in t._tbl.xml.encode()
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    assert t.rows[2].cells[1].paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT


def test_docx_headings_title_caption_and_figure(docx_doc):
    styles = [(p.style.name, p.text) for p in docx_doc.paragraphs]
    assert ("Title", TITLE) in styles
    assert any(s == "Subtitle" and "Астана" in t for s, t in styles)
    assert ("Heading 1", "Оқушылар") in styles and ("Heading 2", "Негізгі көрсеткіштер") in styles
    assert any(s == "Table Caption" and t.startswith("1-кесте.") for s, t in styles)
    assert len(docx_doc.inline_shapes) == 1                   # the figure is embedded
    sect = docx_doc.sections[0]
    assert round(sect.page_width.mm) == 210 and round(sect.page_height.mm) == 297


def test_docx_drops_title_block_toc_and_footer(docx_doc):
    text = "\n".join(p.text for p in docx_doc.paragraphs)
    assert "Мазмұны" not in text and "esep ·" not in text


# --- through the CLI: run, render, manifest, index ------------------------------

@pytest.mark.integration
def test_run_writes_every_format_manifest_and_index(mini_project):
    import docx

    res = runner.invoke(app, ["run", "toy", "--period", "2023-2024-S2", "--to", "html,pdf,docx"])
    assert res.exit_code == 0, res.output
    out = mini_project / "output/2023-2024-S2"
    page = (out / "toy.html").read_text(encoding="utf-8")
    assert render.external_urls(page) == []
    assert "&lt;b&gt;x&lt;/b&gt; мектебі" in page and "<b>x</b>" not in page

    text, _ = _pdf_text((out / "toy.pdf").read_bytes())
    assert "Сынақ есебі" in text and "Барлығы 23 845 оқушы." in text and "22645" in text

    d = docx.Document(str(out / "toy.docx"))
    assert len(d.tables) == 1
    assert "<b>x</b> мектебі" in [c.text for c in d.tables[0].columns[1].cells]

    man = json.loads((out / "toy.manifest.json").read_text(encoding="utf-8"))
    assert set(man["inputs"]) == {"data/raw/toy/pupils.csv", "data/processed/toy/pupils.parquet"}
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in man["inputs"].values())
    assert list(man["template"]) == ["notebooks/toy.ipynb"]
    assert list(man["params_file"]) == ["params/toy/2023-2024-S2.yaml"]
    assert man["versions"]["python"] and man["versions"]["weasyprint"]
    assert {"commit", "dirty"} <= set(man["git"]) and man["started"] <= man["finished"]
    assert {"output/2023-2024-S2/toy.pdf", "output/2023-2024-S2/toy.docx"} <= set(man["outputs"])
    assert f"деректер ізі <code>{man['data_fingerprint']}</code>" in page   # footer == manifest

    idx = (mini_project / "output/index.html").read_text(encoding="utf-8")
    for f in ("html", "pdf", "docx"):
        assert f'href="2023-2024-S2/toy.{f}"' in idx
    assert render.external_urls(idx) == []


@pytest.mark.integration
def test_render_adds_docx_without_executing(mini_project):
    assert runner.invoke(app, ["run", "toy", "-p", "2023-2024-S2", "--to", "html"]).exit_code == 0
    out = mini_project / "output/2023-2024-S2"
    nb_before = (out / "toy.ipynb").read_bytes()
    html_before = (out / "toy.html").read_bytes()
    assert not (out / "toy.docx").exists()

    res = runner.invoke(app, ["render", "toy", "-p", "2023-2024-S2", "--to", "docx"])
    assert res.exit_code == 0, res.output
    assert (out / "toy.docx").exists()
    assert (out / "toy.ipynb").read_bytes() == nb_before                 # nothing executed
    assert (out / "toy.html").read_bytes() == html_before                # same page, same date
    man = json.loads((out / "toy.manifest.json").read_text(encoding="utf-8"))
    assert "output/2023-2024-S2/toy.docx" in man["outputs"]
    assert man["rendered"]["formats"] == ["html", "docx"]


def test_render_without_executed_notebook_is_one_message(mini_project):
    res = runner.invoke(app, ["render", "toy", "-p", "2023-2024-S2"])
    assert res.exit_code == 1
    assert "no executed notebook" in res.output and "esep run toy" in res.output
    assert "Traceback" not in res.output


def test_index_shows_warnings_count_or_dash(mini_project):
    from esep.publish import index

    base = mini_project / "output/2023-2024-S2"
    base.mkdir(parents=True)
    for name, extra in (("a", {"warnings_count": 3}), ("b", {})):
        (base / f"{name}.html").write_text("<html></html>", encoding="utf-8")
        (base / f"{name}.manifest.json").write_text(json.dumps(
            {"report": name, "title": name.upper(), "period": "2023-2024-S2", "variant": None,
             "finished": "2024-06-30T10:05:00", **extra}), encoding="utf-8")
    page = index.write_index().read_text(encoding="utf-8")
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)
    a = next(r for r in rows if ">A<" in r)
    b = next(r for r in rows if ">B<" in r)
    assert "3 ескерту" in a and "—" in b and "2024-06-30 10:05" in a


def test_kazakh_alphabetical_order():
    from esep.core.collation import kazakh_key

    names = ["Қызылорда", "Ақтөбе", "Алматы", "Шымкент", "Өскемен", "Орал", "Көкшетау", "Кентау", "Ұлытау"]
    assert sorted(names, key=kazakh_key) == ["Ақтөбе", "Алматы", "Кентау", "Көкшетау", "Қызылорда",
                                             "Орал", "Өскемен", "Ұлытау", "Шымкент"]
