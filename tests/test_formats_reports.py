"""Integration: every real report type published as HTML, PDF and DOCX from one run.

For each report (its latest period, the whole-country/oblast/city variant) the PDF text
holds the Kazakh title and the key figures the HTML shows, the DOCX has one Word table
per HTML table with the same first cell, the HTML loads nothing from outside, and the
manifest lists every input file the notebook reads.
"""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

from esep.core import reports
from esep.cli import app

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[1]
REPORTS = sorted(p.name[: -len(".report.yaml")] for p in (REPO / "notebooks").glob("*.report.yaml"))
runner = CliRunner()


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.replace("\xa0", " ").replace("\u202f", " ")).strip()


def _html_text(page: str) -> str:
    import html as htmllib

    main = page[page.index('<main class="report">'):page.index("</main>")]
    main = re.sub(r"<style.*?</style>", " ", main, flags=re.S)
    return _norm(htmllib.unescape(re.sub(r"<[^>]+>", " ", main)))


def _stems_read(notebook: Path, report: str) -> set[str]:
    """Stems the notebook reads with helpers.data.load / load_all (static, from the source)."""
    src = "\n".join(c.source for c in nbformat.read(str(notebook), as_version=4).cells
                    if c.cell_type == "code")
    stems = set(re.findall(r"""\bload\(\s*REPORT\s*,\s*["'](\w+)["']""", src))
    for group in re.findall(r"load_all\(\s*REPORT\s*,\s*\[(.*?)\]", src, re.S):
        stems |= set(re.findall(r"""["'](\w+)["']""", group))
    assert "REPORT" in src and (stems or "load" not in src), f"{report}: no data.load calls found"
    return stems


@pytest.mark.parametrize("report", REPORTS)
def test_report_in_every_format(project_copy, report):
    import docx
    from pypdf import PdfReader

    from esep.notebook.scraps import read_scraps
    from helpers import fmt

    spec = reports.get(report)
    period = spec.periods()[-1]
    args = ["run", report, "--period", period, "--to", "html,pdf,docx"]
    if spec.expand:
        args += ["--only", spec.expand.default]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    base = project_copy / "output" / period / report
    page = base.with_suffix(".html").read_text(encoding="utf-8")

    from esep.publish import render

    assert render.external_urls(page) == []
    html_text = _html_text(page)

    # PDF: title and every key figure (glued integer >= 100) that the HTML prints
    pdf = PdfReader(io.BytesIO(base.with_suffix(".pdf").read_bytes()))
    pdf_text = _norm("\n".join(p.extract_text() or "" for p in pdf.pages))
    assert _norm(spec.title) in pdf_text
    nb = nbformat.read(str(base.with_suffix(".ipynb")), as_version=4)
    figures = {}
    for k, v in read_scraps(nb).items():   # ints, or numbers glued already formatted ("1 020")
        if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 100:
            figures[k] = fmt.num(v)
        elif isinstance(v, str) and re.fullmatch(r"\d{1,3}(?: \d{3})+|\d{3,}", v):
            figures[k] = v
    shown = {k: v for k, v in figures.items()
             if re.search(rf"(?<![\d ]){re.escape(v)}(?![\d,]| \d)", html_text)}
    assert shown, f"{report}: no glued figure found in the HTML text"
    missing = {k: v for k, v in shown.items() if v not in pdf_text}
    assert not missing, f"{report}: figures in the HTML but not in the PDF: {missing}"

    # DOCX: one real Word table per HTML table; first body cell the same
    d = docx.Document(str(base.with_suffix(".docx")))
    # the analyst's collapsed file/row/column block of «Деректер сапасы» is HTML-only
    printed = re.sub(r'<details class="esep-analyst">.*?</details>', "", page, flags=re.S)
    n_tables = len(re.findall(r"<table\b", printed))
    assert len(d.tables) == n_tables
    first_td = re.search(r"<tbody>\s*<tr[^>]*>\s*(?:<th[^>]*>.*?</th>\s*)*<td[^>]*>(.*?)</td>", page, re.S)
    if first_td:
        import html as htmllib

        want = _norm(htmllib.unescape(re.sub(r"<[^>]+>", "", first_td.group(1))))
        assert want in [_norm(c.text) for row in d.tables[0].rows for c in row.cells]
    headings = [p.text for p in d.paragraphs if p.style.name.startswith("Heading")]
    assert headings, f"{report}: no Word headings"

    # manifest: every file the notebook reads (raw and processed), with its hash
    man = json.loads(base.with_suffix(".manifest.json").read_text(encoding="utf-8"))
    for stem in _stems_read(spec.notebook, report):
        assert f"data/raw/{report}/{stem}.csv" in man["inputs"], stem
        assert f"data/processed/{report}/{stem}.parquet" in man["inputs"], stem
    assert man["data_fingerprint"] in page
