"""Issue 17 item 0: no live markup from data or editor text, in any shipped report.

Payloads go into every free-text column of every raw table of every report type (the same
suffix on every value, so joins and filters keep working), into one table given as an
``.xlsx`` input, into the params values naming a place, and into an editor's narrative
edit. Every output (HTML pages, the index, DOCX ``document.xml`` and its link targets)
is then scanned for live markup and external URLs.
"""
from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from esep.publish.sanitize import clean, docx_external, live_markup

PAYLOAD = ('<script>alert(1)</script><img src=x onerror="alert(2)">[k](javascript:alert(3))'
           '<iframe src="https://evil.example/f"></iframe><img src="https://evil.example/p.png">'
           '<a href="https://evil.example/">e</a><svg onload=alert(4)>')
EDITOR_PAYLOAD = ('\n\nРедактор <script>alert("ed")</script> <img src=x onerror=alert(5)> '
                  '<iframe src="//evil.example/"></iframe> [click](javascript:alert(6)) '
                  '![x](https://evil.example/track.png) <a href="https://evil.example/">ext</a> '
                  '<div style="background:url(https://evil.example/bg.png)">bg</div>\n')


def text_columns(schema: dict) -> dict[str, list[str]]:
    """table -> its free-text columns (type text, no closed list of allowed values, no pattern)."""
    out = {}
    for t, tdef in (schema.get("tables") or {}).items():
        cols = [c for c, cdef in ((tdef or {}).get("columns") or {}).items()
                if isinstance(cdef, dict) and cdef.get("type") == "text" and not cdef.get("allowed")
                and not cdef.get("pattern")]
        if cols:
            out[t] = cols
    return out


def inject(root: Path) -> dict[str, int]:
    """Append PAYLOAD to every value of every free-text column; return cells changed per report."""
    changed = {}
    for schema_path in sorted((root / "data/raw").glob("*/schema.yaml")):
        schema = yaml.safe_load(schema_path.read_text(encoding="utf-8"))
        n = 0
        for table, cols in text_columns(schema).items():
            p = schema_path.parent / f"{table}.csv"
            if not p.is_file():
                continue
            rows = list(csv.reader(io.StringIO(p.read_text(encoding="utf-8-sig"))))
            header = rows[0]
            idx = [header.index(c) for c in cols if c in header]
            for r in rows[1:]:
                for i in idx:
                    if i < len(r) and r[i].strip():
                        r[i] = r[i] + PAYLOAD
                        n += 1
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows(rows)
            p.write_text(buf.getvalue(), encoding="utf-8")
        changed[schema_path.parent.name] = n
    # params values naming a place (city, oblast) are matched against those columns
    for pf in (root / "params").glob("*/*.yaml"):
        doc = yaml.safe_load(pf.read_text(encoding="utf-8"))
        for k in ("city", "oblast"):
            if isinstance(doc.get(k), str):
                doc[k] = doc[k] + PAYLOAD
        pf.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return changed


def csv_to_xlsx(csv_path: Path) -> Path:
    """Give one raw table as ``<table>.xlsx`` instead of its CSV (same cells, as text)."""
    from openpyxl import Workbook

    rows = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8-sig"))))
    wb = Workbook()
    ws = wb.active
    ws.title = csv_path.stem
    for r in rows:
        ws.append(r)
    out = csv_path.with_suffix(".xlsx")
    wb.save(out)
    csv_path.unlink()
    return out


def scan(output: Path) -> dict[str, list[str]]:
    """Live markup / external URLs in every reader output under ``output``."""
    bad: dict[str, list[str]] = {}
    for p in sorted(output.rglob("*")):
        if ".esep" in p.parts or not p.is_file():
            continue
        hits: list[str] = []
        if p.suffix == ".html":
            hits = live_markup(p.read_text(encoding="utf-8"))
        elif p.suffix == ".docx":
            with zipfile.ZipFile(p) as z:
                for name in z.namelist():
                    text = z.read(name).decode("utf-8", "replace") if name.endswith((".xml", ".rels")) else ""
                    if name.endswith(".rels"):
                        hits += docx_external(text)
                    elif name.endswith(".xml") and "<w:" in text:
                        hits += re.findall(r'HYPERLINK\s+"?(?:https?:|javascript:|//)[^"<\s]*', text)
        if hits:
            bad[str(p.relative_to(output))] = hits
    return bad


def test_sanitizer_removes_every_payload():
    page = clean("<p>ok</p>" + PAYLOAD + EDITOR_PAYLOAD.replace("\n", ""))
    assert live_markup(page) == []
    assert "<p>ok</p>" in page


def test_scan_finds_payloads():  # the scan itself can fail
    assert len(live_markup(PAYLOAD)) >= 5
    assert live_markup("<p>&lt;script&gt; onerror=x javascript:alert(1)</p>") == []  # shown, not live


def esep(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    import os

    env = dict(os.environ, ESEP_ROOT=str(root), ESEP_JOBS="1")
    res = subprocess.run([sys.executable, "-m", "esep.cli", *args], cwd=root, env=env,
                         capture_output=True, text=True, timeout=900)
    if check:
        assert res.returncode == 0, res.stdout + res.stderr
    return res


@pytest.mark.integration
def test_no_live_markup_after_payloads_everywhere(project_copy):
    root = project_copy
    changed = inject(root)
    assert all(n > 0 for n in changed.values()), changed
    csv_to_xlsx(root / "data/raw/city_innovation/projects.csv")
    esep(root, "validate")
    from esep.core import reports

    ran = 0
    for spec in reports.all_reports().values():  # every report type: its latest period,
        period = spec.periods()[-1]               # the whole report and its first region/district
        if spec.name == "city_innovation":
            period = "2023-2024-S2"
        only = [spec.expand.default, spec.expand.values()[0]] if spec.expand else [None]
        for v in only:
            esep(root, "run", spec.name, "--period", period, "--to", "html,docx", *(["--only", v] if v else []))
            ran += 1
    # an editor's narrative edit with raw HTML, then publish
    import nbformat

    nb_path = root / "output/2023-2024-S2/city_innovation.ipynb"
    nb = nbformat.read(str(nb_path), as_version=4)
    from esep.notebook.scraps import read_scraps

    skipped = read_scraps(nb).get("sections_skipped") or []
    cell = next(c for c in nb.cells if c.cell_type == "markdown" and "narrative" in c.metadata.get("tags", [])
                and c.metadata.get("esep", {}).get("section") not in skipped)
    cell.source += EDITOR_PAYLOAD
    nbformat.write(nb, str(nb_path))
    esep(root, "publish", "city_innovation", "--period", "2023-2024-S2", "--to", "html,docx")
    page = (root / "output/2023-2024-S2/city_innovation.html").read_text(encoding="utf-8")
    assert "Редактор" in page                 # the edit is published ...
    assert "&lt;script&gt;" in page           # ... data payloads are shown as text
    assert skipped == [], skipped             # payloads did not blank any section
    pages = list((root / "output").rglob("*.html"))
    assert len(pages) >= ran + 1  # + the index
    assert scan(root / "output") == {}


def test_text_filled_from_data_is_escaped_in_placeholders():
    import nbformat

    from esep.notebook import narrative

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("Жоба: {{ name }}, {{ n }} оқушы.")])
    narrative.fill_notebook(nb, {"name": '<img src=x onerror="alert(1)"> [a](javascript:x) **b**', "n": 22645})
    src = nb.cells[0].source
    assert "<img" not in src and "&lt;img" in src
    assert "\\[a\\]\\(javascript:x\\)" in src and "\\*\\*b\\*\\*" in src
    assert "22\u00a0645" in src  # numbers untouched


def test_appendix_has_a_period_column_and_escapes_values():
    from esep.data.finding import Finding
    from esep.data.findings import appendix_markdown

    f = Finding("r", "2024-2025-S1", "data/raw/r/t.csv", "t", 3, "c", 1, 2, "<script>x</script>")
    md = appendix_markdown([f], "r")
    assert "<th>Кезең</th>" in md and "<td>2024-2025-S1</td>" in md
    assert "<script>" not in md
