"""Narrative editing (issue 6), fast tests: no notebook is executed here.

An "executed" toy notebook is faked by giving the template's code cell a glued-scrap
output, then esep's post-execution step (``edits.apply_recorded``) is applied to it, as
``esep run`` does. Scenario tests that execute notebooks are in test_narrative_scenario.py.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

from esep.notebook import edits
from esep.pipeline import publish
from esep.notebook import narrative
from esep.core import params
from esep.core import reports
from esep.cli import app

REPO = Path(__file__).resolve().parents[1]
PERIOD = "2023-2024-S2"
CELL = "49d81e24"  # the toy template's narrative cell
runner = CliRunner()


def _scrap(name, value):
    return nbformat.v4.new_output("display_data", data={
        "application/scrapbook.scrap.json+json": {"name": name, "data": value, "encoder": "json", "version": 1}})


def fake_run(root: Path, total: int = 23845):
    """What `esep run toy` leaves in output/, without executing anything."""
    spec = reports.get("toy")
    unit = params.units_for(spec, PERIOD)[0]
    nb = nbformat.read(str(root / "notebooks/toy.ipynb"), as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code" and "sb.glue" in c.source)
    code.execution_count = 1
    code.outputs = [_scrap("pupils_total", total), _scrap("report_place", "Қала"),
                    _scrap("pupils_share_pct", 80.54)]
    nb.metadata["esep"] = {"report": "toy", "period": PERIOD, "data_fingerprint": "abc", "built": "2024-01-01T10:00:00"}
    applied = edits.apply_recorded(unit, nb)
    path = unit.output_base().with_suffix(".ipynb")
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    man = path.with_suffix(".manifest.json")  # run writes the notebook and its manifest together
    doc = json.loads(man.read_text(encoding="utf-8")) if man.exists() else {}
    doc["narrative"] = applied.manifest()
    man.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return spec, unit, path, applied


def edit_cell(path: Path, cid: str, text: str) -> None:
    """What an editor does in JupyterLab: change one cell's source and save."""
    nb = nbformat.read(str(path), as_version=4)
    next(c for c in nb.cells if c.get("id") == cid).source = text
    nbformat.write(nb, str(path))


def set_template_text(root: Path, cid: str, text: str) -> None:
    p = root / "notebooks/toy.ipynb"
    nb = nbformat.read(str(p), as_version=4)
    next(c for c in nb.cells if c.get("id") == cid).source = text
    nbformat.write(nb, str(p))


def record_file(root: Path) -> Path:
    return root / "narrative/toy" / f"{PERIOD}.md"


# --- stable ids ---------------------------------------------------------------------

def test_every_template_narrative_cell_has_a_stable_unique_id():
    paths = sorted((REPO / "notebooks").glob("*.ipynb")) + [REPO / "tests/fixtures/mini_project/notebooks/toy.ipynb"]
    assert paths
    for p in paths:
        nb = nbformat.read(str(p), as_version=4)
        assert (nb.nbformat, nb.nbformat_minor) >= (4, 5), f"{p.name}: nbformat 4.5+ keeps cell ids"
        assert narrative.template_problems(nb, p.name) == []
        assert all(narrative.cell_id(c) for c in nb.cells if narrative.is_narrative(c)), p.name


def test_metadata_narrative_id_overrides_cell_id():
    cell = nbformat.v4.new_markdown_cell("x", metadata={"esep": {"narrative_id": "intro"}})
    assert narrative.cell_id(cell) == "intro"


# --- record file --------------------------------------------------------------------

def test_record_file_round_trips_and_is_readable(tmp_path):
    rec = edits.Record(tmp_path / "r.md", "toy 2023-2024-S2")
    rec.entries = {
        "a1": edits.Entry("a1", "Барлығы {{ n }} оқушы.", "Қалада {{ n }} оқушы.\n\nЕкінші абзац."),
        "b2": edits.Entry("b2", "код ~~~ ішінде\n~~~~", "соңы жаңа жолмен\n"),
        "c3": edits.Entry("c3", "өшірілген", None),
        "d4": edits.Entry("d4", None, "Қосылған ұяшық.", None),
        "e5": edits.Entry("e5", None, "", "a1"),
    }
    text = rec.dumps()
    assert "## cell a1\n\ntemplate:\n\n~~~\nБарлығы {{ n }} оқушы.\n~~~\n\nedited:\n\n~~~\nҚалада" in text
    assert "edited: removed" in text and "## added cell d4 after start" in text
    back = edits.parse(text, rec.path)
    assert back.entries == rec.entries


def test_broken_record_file_is_one_readable_error(tmp_path):
    with pytest.raises(edits.NarrativeError, match=r"r.md: line 5: the block opened by ~~~ is never closed"):
        edits.parse("## cell a1\n\ntemplate:\n\n~~~\nтекст\n", tmp_path / "r.md")


# --- stale literal numbers ----------------------------------------------------------

def test_literal_numbers_in_kazakh_formats_and_exclusions():
    text = ("1. 2023-2024 оқу жылында (2019 жылы) 22 645 оқушы, үлесі 80,5%, өсім +3 319, "
            "кеміс -202; 1-кестеде, №2 мектеп, 12 345-ке жетті, 2-жартыжылдық.\n"
            "## 3. Бөлім\nБарлығы {{ pupils_total }} (бұрын 21 000).")
    found = [lit.text for lit in narrative.literal_numbers(text)]
    assert found == ["22 645", "80,5%", "+3 319", "-202", "12 345", "21 000"]


def test_stale_numbers_lists_only_numbers_matching_no_figure():
    scraps = {"pupils_total": 22645, "pupils_pct": 80.54, "change": 3319, "place": "Астана, 15 мектеп"}
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("Барлығы 22 645 оқушы (80,5%), +3 319; 15 мектеп; бұрын 21 000, 79,9%.",
                                      metadata={"tags": ["narrative"]}),
        nbformat.v4.new_markdown_cell("Кесте 99 999 (not narrative)")])
    stale = [lit.text for _, lit in narrative.stale_numbers(nb, scraps)]
    assert stale == ["21 000", "79,9%"]


# --- record / apply / publish (fake executed notebook) ------------------------------

def test_publish_records_edit_and_renders_without_executing(mini_project):
    spec, unit, path, _ = fake_run(mini_project)
    edit_cell(path, CELL, "Қалада барлығы {{ pupils_total }} оқушы білім алады.")
    res = runner.invoke(app, ["publish", "toy", "--period", PERIOD])
    assert res.exit_code == 0, res.output
    assert "recorded cell 49d81e24" in res.output
    rec = record_file(mini_project).read_text(encoding="utf-8")
    assert "## cell 49d81e24" in rec
    assert "~~~\nБарлығы {{ pupils_total }} оқушы.\n~~~" in rec                 # the base
    assert "~~~\nҚалада барлығы {{ pupils_total }} оқушы білім алады.\n~~~" in rec  # the edit
    page = (mini_project / f"output/{PERIOD}/toy.html").read_text(encoding="utf-8").replace("\xa0", " ")
    assert "Қалада барлығы 23 845 оқушы білім алады." in page
    man = json.loads((mini_project / f"output/{PERIOD}/toy.manifest.json").read_text(encoding="utf-8"))
    assert man["narrative"]["edited_cells"] == [CELL] and man["published"]
    # publishing again with nothing new records nothing and keeps the file as it is
    res = runner.invoke(app, ["publish", "toy", "--period", PERIOD])
    assert res.exit_code == 0 and "recorded" not in res.output
    assert record_file(mini_project).read_text(encoding="utf-8") == rec


def test_rerun_applies_edit_with_new_numbers_and_untouched_cells_follow_template(mini_project):
    # a second narrative cell the editor will not touch
    p = mini_project / "notebooks/toy.ipynb"
    nb = nbformat.read(str(p), as_version=4)
    extra = nbformat.v4.new_markdown_cell("Екінші: {{ pupils_total }}.", metadata={"tags": ["narrative"]})
    extra["id"] = "second01"
    nb.cells.append(extra)
    nbformat.write(nb, str(p))
    spec, unit, path, _ = fake_run(mini_project)
    edit_cell(path, CELL, "Өңделген: {{ pupils_total }} оқушы.")
    publish.publish(spec, unit)
    set_template_text(mini_project, "second01", "Екінші, жаңа үлгі: {{ pupils_total }}.")
    _, _, path, applied = fake_run(mini_project, total=30000)          # the rerun with new data
    nb = nbformat.read(str(path), as_version=4)
    texts = {c.get("id"): c.source for c in nb.cells}
    assert texts[CELL] == "Өңделген: {{ pupils_total }} оқушы."
    assert texts["second01"] == "Екінші, жаңа үлгі: {{ pupils_total }}."
    assert applied.conflicts == [] and applied.edited == [CELL]
    from esep.publish import render
    page = render.render_html(nb, title="t", period=PERIOD).replace("\xa0", " ")
    assert "Өңделген: 30 000 оқушы." in page and "Екінші, жаңа үлгі: 30 000." in page


def test_conflict_keeps_editor_text_reports_it_and_publish_confirms(mini_project):
    spec, unit, path, _ = fake_run(mini_project)
    edit_cell(path, CELL, "Редактор мәтіні: {{ pupils_total }}.")
    publish.publish(spec, unit)
    set_template_text(mini_project, CELL, "Жаңа үлгі мәтіні: {{ pupils_total }}.")
    _, _, path, applied = fake_run(mini_project)
    assert len(applied.conflicts) == 1
    assert "cell 49d81e24: the template changed this cell after it was edited" in applied.conflicts[0]
    assert "Жаңа үлгі мәтіні" in applied.conflicts[0]
    assert applied.manifest()["conflicts"] == applied.conflicts
    nb = nbformat.read(str(path), as_version=4)
    assert next(c for c in nb.cells if c.get("id") == CELL).source == "Редактор мәтіні: {{ pupils_total }}."
    res = runner.invoke(app, ["publish", "toy", "--period", PERIOD])          # the editor confirms
    assert res.exit_code == 0 and "conflict confirmed: cell 49d81e24" in res.output
    assert "~~~\nЖаңа үлгі мәтіні: {{ pupils_total }}.\n~~~" in record_file(mini_project).read_text(encoding="utf-8")
    _, _, _, applied = fake_run(mini_project)
    assert applied.conflicts == []


def test_unrecorded_edits_are_recorded_before_a_rerun(mini_project):
    _, unit, path, _ = fake_run(mini_project)
    edit_cell(path, CELL, "Жарияланбаған түзету: {{ pupils_total }}.")
    lines = edits.record_pending(unit)                            # what `esep run` does first
    assert "recorded 1 unpublished narrative edit(s)" in lines[0]
    assert "Жарияланбаған түзету" in record_file(mini_project).read_text(encoding="utf-8")
    _, _, path, _ = fake_run(mini_project)
    nb = nbformat.read(str(path), as_version=4)
    assert next(c for c in nb.cells if c.get("id") == CELL).source == "Жарияланбаған түзету: {{ pupils_total }}."
    assert edits.record_pending(unit) == []                           # nothing new: nothing said


def test_reverting_to_template_text_drops_the_recorded_edit(mini_project):
    spec, unit, path, _ = fake_run(mini_project)
    edit_cell(path, CELL, "Уақытша: {{ pupils_total }}.")
    publish.publish(spec, unit)
    edit_cell(path, CELL, "Барлығы {{ pupils_total }} оқушы.")
    res = publish.publish(spec, unit)
    assert res.recorded == ["cell 49d81e24: back to the template text"]
    assert not record_file(mini_project).exists()


def test_added_and_removed_cells_survive_a_rerun(mini_project):
    spec, unit, path, _ = fake_run(mini_project)
    nb = nbformat.read(str(path), as_version=4)
    new = nbformat.v4.new_markdown_cell("Редактор қосқан абзац.")
    nb.cells.insert(nb.cells.index(next(c for c in nb.cells if c.get("id") == CELL)) + 1, new)
    nbformat.write(nb, str(path))
    publish.publish(spec, unit)
    _, _, path, _ = fake_run(mini_project)
    ids = [c.get("id") for c in nbformat.read(str(path), as_version=4).cells]
    assert ids[ids.index(CELL) + 1] == new["id"]
    nb = nbformat.read(str(path), as_version=4)
    nb.cells = [c for c in nb.cells if c.get("id") != CELL]               # the editor deletes a cell
    nbformat.write(nb, str(path))
    publish.publish(spec, unit)
    _, _, path, _ = fake_run(mini_project)
    ids = [c.get("id") for c in nbformat.read(str(path), as_version=4).cells]
    assert CELL not in ids and new["id"] in ids


def test_changed_code_cell_is_refused_by_publish_but_prose_is_recorded(mini_project):
    spec, unit, path, _ = fake_run(mini_project)
    nb = nbformat.read(str(path), as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code" and "sb.glue" in c.source)
    code.source += "\nprint('hack')"
    next(c for c in nb.cells if c.get("id") == CELL).source = "Сақталатын мәтін."
    nbformat.write(nb, str(path))
    html = mini_project / f"output/{PERIOD}/toy.html"
    res = runner.invoke(app, ["publish", "toy", "--period", PERIOD])
    assert res.exit_code == 1
    assert "code cannot be changed this way" in res.output and "Traceback" not in res.output
    assert "esep run toy --period 2023-2024-S2" in res.output
    assert not html.exists()
    assert "Сақталатын мәтін." in record_file(mini_project).read_text(encoding="utf-8")
    lines = edits.record_pending(unit)                # a rerun discards the code change, keeps a copy
    assert any("discarded by the rerun" in ln for ln in lines)
    assert list((mini_project / "output/.esep/edited").glob("*.ipynb"))


def test_unknown_placeholder_is_one_readable_error_naming_the_cell(mini_project):
    spec, unit, path, _ = fake_run(mini_project)
    edit_cell(path, CELL, "Барлығы {{ pupils_totl }} оқушы.")
    res = runner.invoke(app, ["publish", "toy", "--period", PERIOD])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "id 49d81e24" in res.output and "{{ pupils_totl }} names no glued figure" in res.output
    res = runner.invoke(app, ["check-narrative", "toy", "--period", PERIOD])
    assert res.exit_code == 1 and "{{ pupils_totl }}" in res.output
    # the recorded text reaches the next run: the run fails with the cell and the record named
    with pytest.raises(narrative.PlaceholderError) as exc:
        fake_run(mini_project)
    msg = str(exc.value)
    assert "id 49d81e24" in msg and "narrative/toy/2023-2024-S2.md" in msg and "pupils_totl" in msg


def test_stale_literal_number_warned_by_publish_and_check_strict_fails(mini_project):
    spec, unit, path, _ = fake_run(mini_project)
    edit_cell(path, CELL, "Барлығы {{ pupils_total }} оқушы, былтыр 21 000 еді; үлесі 80,5%.")
    res = runner.invoke(app, ["check-narrative", "toy", "--period", PERIOD])
    assert res.exit_code == 0
    assert "'21 000' matches no current figure" in res.output and "80,5%" not in res.output.split("in:")[0]
    assert runner.invoke(app, ["check-narrative", "toy", "--period", PERIOD, "--strict"]).exit_code == 1
    res = runner.invoke(app, ["publish", "toy", "--period", PERIOD, "--strict"])
    assert res.exit_code == 1 and "not published (--strict)" in res.output
    res = runner.invoke(app, ["publish", "toy", "--period", PERIOD])
    assert res.exit_code == 0 and "stale number?" in res.output and "21 000" in res.output
    man = json.loads((mini_project / f"output/{PERIOD}/toy.manifest.json").read_text(encoding="utf-8"))
    assert any("21 000" in s for s in man["narrative"]["stale_numbers"])


def test_publish_before_any_run_says_what_to_do(mini_project):
    res = runner.invoke(app, ["publish", "toy", "--period", PERIOD])
    assert res.exit_code == 1 and "run `esep run toy --period 2023-2024-S2` first" in res.output


def test_edit_prints_path_and_placeholders(mini_project):
    fake_run(mini_project)
    res = runner.invoke(app, ["edit", "toy", "--period", PERIOD, "--print-only"])
    assert res.exit_code == 0, res.output
    assert "{{ pupils_total }}" in res.output and "23 845" in res.output
    assert "esep publish toy --period 2023-2024-S2" in res.output


def test_recorded_edits_in_the_repository_parse_and_match_template_cells():
    for path in sorted((REPO / "narrative").glob("*/**/*.md")):
        report = path.relative_to(REPO / "narrative").parts[0]
        rec = edits.parse(path.read_text(encoding="utf-8"), path)
        nb = nbformat.read(str(REPO / "notebooks" / f"{report}.ipynb"), as_version=4)
        ids = {narrative.cell_id(c) for c in nb.cells if narrative.is_narrative(c)}
        for e in rec.entries.values():
            assert e.added or e.id in ids, f"{path}: cell {e.id} is not a narrative cell of {report}"


def test_record_path_per_variant_matches_the_build_cache(mini_project):
    from esep.pipeline import cache

    whole = params.RunUnit("toy", PERIOD, {}, None)
    region = params.RunUnit("toy", PERIOD, {}, "almaty")
    assert edits.record_path(whole) == mini_project / "narrative/toy/2023-2024-S2.md"
    assert edits.record_path(region) == mini_project / "narrative/toy/2023-2024-S2/almaty.md"
    assert [edits.record_path(u) for u in (whole, region)] == [cache.narrative_paths(u)[0] for u in (whole, region)]


def test_warnings_keep_square_brackets_of_variant_labels(capsys):
    edits.warn("toy 2023-2024-S2 [almaty]: cell x")
    assert "[almaty]" in capsys.readouterr().err


def test_cells_of_skipped_sections_are_not_checked():
    scraps = {"sections_skipped": ["languages"]}
    cell = nbformat.v4.new_markdown_cell("{{ pupils_kaz }} оқушы, 12 345", metadata={
        "tags": ["narrative"], "esep": {"section": "languages"}})
    nb = nbformat.v4.new_notebook(cells=[cell])
    assert narrative.placeholder_errors(nb, scraps) == [] and narrative.stale_numbers(nb, scraps) == []
    assert narrative.placeholder_errors(nb, {}) != []


def test_corrections_marks_are_numbered_in_reading_order():
    """The notebook numbers marks in the order it meets the figures (here 2 before 1 in
    the text); the page numbers them as read and orders the «Түзетулер» rows to match,
    each row keeping its own content."""
    from esep.notebook.narrative import mark_html, renumber_marks

    row = lambda n, label: (f'<tr id="esep-corr-{n}"><td class="num">{n}</td>'
                            f'<td class="text">{label}</td></tr>')
    page = (f"<p>{mark_html('75', '74', 2)} және {mark_html('12', '11', 1)}, тағы {mark_html('75', '74', 2)}</p>"
            f"<table><tbody>{row(1, 'жобалар')}{row(2, 'ұйымдар')}{row(3, 'белгісіз')}</tbody></table>")
    out = renumber_marks(page)
    assert re.findall(r'href="#esep-corr-(\d+)">(\d+)<', out) == [("1", "1"), ("2", "2"), ("1", "1")]
    assert re.findall(r'<tr id="esep-corr-(\d+)"><td class="num">(\d+)</td><td class="text">([^<]*)', out) == [
        ("1", "1", "ұйымдар"), ("2", "2", "жобалар"), ("3", "3", "белгісіз")]
    assert 'data-declared="74">75<sup' in out.split("және")[0]      # the mark stays on its figure
    assert renumber_marks(out) == out                               # already in order: unchanged
    # numbers of different lengths (mark 12 read first, then 3): the rows stay whole
    many = "".join(row(n, f"қатар {n}") for n in range(1, 13))
    page = f"<p>{mark_html('9', '8', 12)} {mark_html('5', '4', 3)}</p><table><tbody>{many}</tbody></table>"
    out = renumber_marks(page)
    rows = re.findall(r'<tr id="esep-corr-(\d+)"><td class="num">(\d+)</td><td class="text">([^<]*)</td></tr>', out)
    assert len(rows) == 12 and out.count("<tr") == 12 and out.count("</tr>") == 12
    table = out[out.index("<table>"):]
    assert table.startswith("<table><tbody><tr id=") and table.endswith("</tr></tbody></table>")
    assert rows[:2] == [("1", "1", "қатар 12"), ("2", "2", "қатар 3")]
