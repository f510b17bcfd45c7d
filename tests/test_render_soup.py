"""esep's HTML exporter (render._exporter) gives the same page as nbconvert's own
HTMLExporter, for notebooks where it skips nbconvert's BeautifulSoup pass and for those
where it must run it."""
from __future__ import annotations

import base64
from datetime import datetime

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from esep.publish import render

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="5" height="5"/></svg>'


def _html(text: str):
    return new_output("display_data", data={"text/html": text, "text/plain": "x"})


def _svg_chart(caption: str):
    return new_output("display_data", data={"image/svg+xml": SVG, "text/plain": caption},
                      metadata={"image/svg+xml": {"alt": caption, "esep": {"caption": caption}}})


TABLE = ('<table class="dataframe  esep-table">\n  <thead>\n    <tr>\n      <th scope="col">Өңір</th>\n'
         '      <th class="num">Саны</th>\n    </tr>\n  </thead>\n  <tbody>\n    <tr>\n'
         '      <td>Астана &amp; Алматы</td>\n      <td class="num">22\u00a0645</td>\n    </tr>\n'
         '  </tbody>\n</table>\n<style>.esep-table td { padding: 2px }</style>')

WELL_FORMED = [
    "# Есеп\n\nКіріспе: «SHARE» жобасы, 1-кесте.",
    "## Бөлім 1\n\n- бір\n- екі *курсив* **қалың**\n\n1. R&D < 5 > 3 &amp; &nbsp;бос &#8212; &#x2014;",
    "### Кесте\n\n| а | б |\n|---|---|\n| 1 | 2 |\n",
    "```\n  код   ішінде\n\n\n  бос жолдар\n```\n\n    шегініс",
    'Мәтін <span class="  esep-corrected   mark " data-declared="67">68</span> соңы.',
    '<div class="note" id="n1" title="Ескерту">\n\n  <p>Ішкі   мәтін</p>\n\n</div>',
    "Жол<br/>келесі<br>жол және <a href=\"#bolim-1\">сілтеме</a>.",
    "![сурет](data:image/png;base64," + PNG + ")",
]
MALFORMED = [
    "Ашық қалған <b>қалың мәтін",
    "Артық жабу </i> тег",
    '<div class="a" class="b">екі class</div>',
    "<p>бір<p>екі",
    "<div/>кейін",
    '<img src="data:image/png;base64,' + PNG + '">',            # no alt: nbconvert adds one
    "<!-- түсініктеме --> мәтін",
    "Амперсанд &copy2 және &foo",
    '<a title="R&amp;D" href="#x">x</a>',
    "<textarea>  <b>  </textarea>",
    "<pre>\n\n  <b>  </b>\n</pre>",
    "<svg><circle r=\"1\"/></svg>",
]


def _notebook(markdowns: list[str]):
    cells = [new_markdown_cell(md) for md in markdowns]
    cells.append(new_code_cell("t", outputs=[_html(TABLE)]))
    cells.append(new_code_cell("c", outputs=[_svg_chart("1-сурет. Диаграмма")]))
    cells.append(new_code_cell("p", outputs=[new_output("stream", name="stdout", text="a < b & c\n\n  d\n")]))
    cells.append(new_code_cell("h", outputs=[_html('<div class="x">\n  <p>шығыс</p>\n</div>\n')]))
    return new_notebook(cells=cells, metadata={"language_info": {"name": "python"}})


def _page(nb) -> str:
    return render.render_html(nb, title="Есеп", period="2023-2024", place="Астана",
                              fingerprint="0123456789abcdef", built=datetime(2026, 1, 2, 3, 4))


@pytest.fixture
def nbconvert_exporter(monkeypatch):
    """render_html with nbconvert's stock HTMLExporter, configured as esep's."""
    from nbconvert import HTMLExporter

    stock = HTMLExporter(template_name="basic")
    stock.exclude_input = True
    stock.exclude_input_prompt = True
    stock.exclude_output_prompt = True
    stock.anchor_link_text = ""

    def use(flag: bool):
        monkeypatch.setattr(render, "_exporter", (lambda: stock) if flag else render._exporter)
    return use


def _soup_passes(monkeypatch) -> list:
    calls: list = []
    real = render._soup_pass
    monkeypatch.setattr(render, "_soup_pass", lambda h, e: (calls.append(1), real(h, e))[1])
    return calls


@pytest.mark.parametrize("markdowns", [WELL_FORMED] + [[md] for md in MALFORMED],
                         ids=["well-formed"] + [f"malformed-{i}" for i in range(len(MALFORMED))])
def test_same_page_as_nbconvert(markdowns, nbconvert_exporter, monkeypatch):
    nb = _notebook(markdowns)
    nbconvert_exporter(True)
    theirs = _page(nb)
    nbconvert_exporter(False)
    calls = _soup_passes(monkeypatch)
    ours = _page(nb)
    assert ours == theirs
    if markdowns is WELL_FORMED:        # it took the scanner, not the soup: that is compared
        assert calls == []


@pytest.mark.parametrize("md", ["Ашық қалған <b>қалың мәтін", "Артық жабу </i> тег", "<p>бір<p>екі",
                                '<div class="a" class="b">екі</div>', MALFORMED[5]])
def test_soup_pass_runs_where_the_scanner_cannot_tell(md, monkeypatch):
    calls = _soup_passes(monkeypatch)
    _page(_notebook([md]))
    assert calls == [1]


def test_scanner_matches_the_soup_token_for_token():
    """What nh3 makes of the scanner's output and of the soup's is the same markup."""
    from esep.publish import sanitize

    snippets = ['<div  id="b" class=" x   y ">\n\n <p>t</p>\n\t\n</div>',
                '<h2 id="a">A<a class="anchor-link" href="#a"/></h2><p>кейін</p>',
                '<td headers=" h1  h2 " rowspan="2">1</td>', "<pre>\n\n  a  \n</pre>  \n  <p>b</p>",
                "<p title='a \"b\" <c>'>x &lt; y &amp; z</p>", '<style>\n</style><p> </p>']
    for html_text in snippets:
        lean = render._without_soup(html_text)
        assert lean is not None
        assert sanitize.clean(lean) == sanitize.clean(render._soup_pass(html_text, render._exporter()))


def test_copy_nb_is_a_deep_copy():
    import copy

    nb = _notebook(WELL_FORMED)
    c = render._copy_nb(nb)
    assert c == copy.deepcopy(nb) and type(c) is type(nb) and type(c.cells[0]) is type(nb.cells[0])
    c.cells[0].source = "changed"
    c.cells[-1].outputs[0].data["text/html"] = "changed"
    assert nb.cells[0].source != "changed" and nb.cells[-1].outputs[0].data["text/html"] != "changed"


def test_table_widths_without_the_soup_are_the_soups():
    from bs4 import BeautifulSoup

    from esep.publish.formats import table_width_em

    long_row = "".join(f"<td class='num'>{i}\u00a0000</td>" for i in range(12))
    cases = [
        TABLE,
        f"<table><tr><th colspan=\"2\">Жалпы   тақырып</th><th>Ұзын тақырып сөзі</th></tr><tr>{long_row}</tr></table>",
        "<table><tr><td>сыртқы <b>қалың</b>мәтін<table><tr><td>ішкі кестедегі өте ұзын мәтін</td></tr></table></td>"
        "<td class=' num  x '>1 234,5</td></tr></table>",
        "<div><p>мәтін</p><table><tr><td>&lt;5 &amp; &gt;3 &quot;т&quot; &#39;ж&#39;</td><td>&nbsp;</td></tr></table></div>",
        "<table><tr><td><style>td { x: 1 }</style>мәтін</td><td colspan=''>бос colspan</td></tr></table>",
    ]
    for html_text in cases:
        ours = render._tables(html_text)
        assert ours is not None
        theirs = BeautifulSoup(html_text, "html.parser").find_all("table")
        assert [table_width_em(t) for t in ours] == [table_width_em(t) for t in theirs]
    for unsure in ["<table><tr><td>ашық", "<table><tr><td>&copy; 2024</td></tr></table>",
                   "<table><!-- x --><tr><td>1</td></tr></table>", "<table><tr><td a=1 a=2>1</td></tr></table>"]:
        assert render._tables(unsure) is None


# --- integration: the shipped school report (seed 002's №67), executed once ---------------

@pytest.fixture(scope="module")
def school_notebook(tmp_path_factory):
    import nbformat
    from reportrun import cached_runner, prepared_project

    with prepared_project(tmp_path_factory.mktemp("school_render"), "school_project") as root:
        run = cached_runner(root, "school_project", lambda out: nbformat.read(str(out), as_version=4))
        yield run(period="2023-2024", member="astana-67-share")


@pytest.mark.integration
def test_executed_school_report_same_page_as_nbconvert(school_notebook, nbconvert_exporter, monkeypatch):
    nbconvert_exporter(True)
    theirs = _page(school_notebook)
    nbconvert_exporter(False)
    calls = _soup_passes(monkeypatch)
    ours = _page(school_notebook)
    assert calls == [] and ours == theirs
    assert ours.count("<figure") == 2 and ours.count("<table") >= 5     # charts and tables compared
