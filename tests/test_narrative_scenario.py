"""Narrative editing end to end (issue 6): real executions with papermill.

The editor's work in JupyterLab is simulated by changing the executed notebook's cell
source and saving it with nbformat (what JupyterLab writes: same cell ids and metadata).
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

from esep.cli import app
from esep.notebook.scraps import read_scraps
from helpers import fmt

runner = CliRunner()
pytestmark = pytest.mark.integration


def _edit(path: Path, pick, text: str) -> str:
    """Replace the source of the first cell for which ``pick(cell)`` is true; return its id."""
    nb = nbformat.read(str(path), as_version=4)
    cell = next(c for c in nb.cells if pick(c))
    cell.source = text
    nbformat.write(nb, str(path))
    return cell["id"]


def _bump_raw(path: Path, match, delta: int, column: str) -> None:
    """A data correction: add ``delta`` to ``column`` in every row where ``match(row)``."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
        fields = list(rows[0])
    hit = 0
    for row in rows:
        if match(row):
            row[column] = str(int(row[column]) + delta)
            hit += 1
    assert hit, f"no row to correct in {path}"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def test_real_report_edit_publish_correct_data_rerun(project_copy):
    """city_innovation: edit a narrative cell, publish, correct a raw value, rerun: the
    edited sentence stays and shows the new number."""
    if not (project_copy / "notebooks/city_innovation.ipynb").exists():
        pytest.skip("notebooks/city_innovation.ipynb not there yet")
    period = "2023-2024-S2"
    res = runner.invoke(app, ["run", "city_innovation", "--period", period])
    assert res.exit_code == 0, res.output
    out = project_copy / "output" / period
    nb_path = out / "city_innovation.ipynb"
    before = read_scraps(nbformat.read(str(nb_path), as_version=4))["pupils_kaz"]

    sentence = "Қазақ тілінде оқитындар саны — {{ pupils_kaz }}, бұл басым көпшілік (редактор)."
    cid = _edit(nb_path, lambda c: c.cell_type == "markdown" and "{{ pupils_kaz }}" in c.source, sentence)
    res = runner.invoke(app, ["publish", "city_innovation", "--period", period])
    assert res.exit_code == 0, res.output
    record = project_copy / "narrative/city_innovation" / f"{period}.md"
    assert f"## cell {cid}" in record.read_text(encoding="utf-8")
    page = (out / "city_innovation.html").read_text(encoding="utf-8").replace("\xa0", " ")
    assert f"Қазақ тілінде оқитындар саны — {fmt.num(before)}, бұл басым көпшілік (редактор)." in page

    # the data is corrected: one school's Kazakh-language pupils (+100), and the printed total
    _bump_raw(project_copy / "data/raw/city_innovation/pupils_by_language.csv",
              lambda r: r["period"] == period and r["language_key"] == "kaz" and r["pupils"]
              and (r["row_type"] == "total" or r["project_key"] == "share"), 100, "pupils")
    res = runner.invoke(app, ["run", "city_innovation", "--period", period])
    assert res.exit_code == 0, res.output
    after = read_scraps(nbformat.read(str(nb_path), as_version=4))["pupils_kaz"]
    assert after == before + 100
    page = (out / "city_innovation.html").read_text(encoding="utf-8").replace("\xa0", " ")
    assert f"Қазақ тілінде оқитындар саны — {fmt.num(after)}, бұл басым көпшілік (редактор)." in page
    man = json.loads((out / "city_innovation.manifest.json").read_text(encoding="utf-8"))
    assert man["narrative"]["edited_cells"] == [cid] and man["narrative"]["conflicts"] == []
    res = runner.invoke(app, ["check-narrative", "city_innovation", "--period", period])
    assert res.exit_code == 0, res.output


def test_toy_unrecorded_edit_and_conflict_across_a_real_rerun(mini_project):
    period = "2023-2024-S2"
    assert runner.invoke(app, ["run", "toy", "--period", period]).exit_code == 0
    out = mini_project / "output" / period
    nb_path = out / "toy.ipynb"
    is_ours = lambda c: c.get("id") == "49d81e24"  # noqa: E731
    _edit(nb_path, is_ours, "Қалада {{ pupils_total }} оқушы оқиды.")
    assert runner.invoke(app, ["publish", "toy", "--period", period]).exit_code == 0
    # the editor changes the text again but does not publish; the analyst changes the
    # template's text of the same cell and corrects the data, then reruns
    _edit(nb_path, is_ours, "Қалада барлығы {{ pupils_total }} оқушы оқиды.")
    tmpl = mini_project / "notebooks/toy.ipynb"
    _edit(tmpl, is_ours, "Жалпы оқушылар саны: {{ pupils_total }}.")
    _bump_raw(mini_project / "data/raw/toy/pupils.csv",
              lambda r: r["city_slug"] == "astana" or r["row_type"] == "total", 100, "pupils")
    # a real `esep run` (the unit runs in a worker process: its messages reach the terminal)
    import os
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "esep", "run", "toy", "--period", period], cwd=mini_project,
                          env=dict(os.environ, ESEP_ROOT=str(mini_project)), capture_output=True, text=True,
                          timeout=600)
    said = proc.stdout + proc.stderr
    assert proc.returncode == 0, said
    assert "recorded 1 unpublished narrative edit(s)" in said
    assert "the template changed this cell after it was edited" in said
    page = (out / "toy.html").read_text(encoding="utf-8").replace("\xa0", " ")
    assert "Қалада барлығы 23 945 оқушы оқиды." in page
    assert "Жалпы оқушылар саны" not in page
    man = json.loads((out / "toy.manifest.json").read_text(encoding="utf-8"))
    assert len(man["narrative"]["conflicts"]) == 1 and "49d81e24" in man["narrative"]["conflicts"][0]
