"""The editor's desk (issue 16), fast tests: the edit view, the save hook, build identity.

No browser and no execution here: an executed toy notebook is faked as in
test_narrative.py; JupyterLab's save is the hook called the way jupyter_server calls it.
The real browser test is test_editor_browser.py.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from tornado.web import HTTPError
from typer.testing import CliRunner

from esep.cli import app
from esep.notebook import editview, edits, savehook
from esep.pipeline import editdesk, publish
from test_narrative import CELL, PERIOD, fake_run, record_file

runner = CliRunner()


class FakeContents:
    """What the hook uses of jupyter_server's FileContentsManager."""

    def __init__(self, root: Path):
        self.root = root

    def _get_os_path(self, path: str) -> str:
        return str(self.root / path)


def save_in_lab(view_file: Path, view) -> dict:
    """JupyterLab's save: the hook sees the model first, then the file is written."""
    content = json.loads(nbformat.writes(view))
    model = {"type": "notebook", "content": content}
    savehook.pre_save(model=model, path=view_file.name, contents_manager=FakeContents(view_file.parent))
    view_file.write_text(json.dumps(model["content"], ensure_ascii=False), encoding="utf-8")
    return model["content"]


def text_cell(view, cid=CELL):
    return next(c for c in view.cells if c.get("id") == cid)


def html(root: Path) -> str:
    return (root / f"output/{PERIOD}/toy.html").read_text(encoding="utf-8").replace("\xa0", " ")


def test_view_shows_the_report_as_read_with_text_editable_and_numbers_beside(mini_project):
    _, unit, _, _ = fake_run(mini_project)
    view = nbformat.read(str(editview.write_view(unit)), as_version=4)
    roles = [editview._role(c) for c in view.cells]
    assert "parameters" not in json.dumps([c.metadata.get("tags") for c in view.cells])
    for cell in view.cells:
        if cell.cell_type == "code":                 # outputs only: no code, locked
            assert cell.metadata["jupyter"]["source_hidden"] and cell.source == ""
        if editview._role(cell) != editview.TEXT:
            assert cell.metadata["editable"] is False and cell.metadata["deletable"] is False
    text = text_cell(view)
    assert editview._role(text) == editview.TEXT and "editable" not in text.metadata
    assert text.source == "Барлығы {{ pupils_total }} оқушы."
    preview = view.cells[view.cells.index(text) + 1]
    assert editview._role(preview) == editview.PREVIEW
    assert "Барлығы 23 845 оқушы." in preview.source and "`pupils_total` = 23 845" in preview.source
    assert roles[-1] == editview.FIGURES and "| `{{ pupils_total }}` | 23 845 |" in view.cells[-1].source
    assert view.cells[editview.first_text_index(view)].get("id") == CELL
    assert view.metadata["esep_edit"]["build_id"] == edits.build_id(
        nbformat.read(str(unit.output_base().with_suffix(".ipynb")), as_version=4))
    nbformat.validate(view)


def test_a_save_is_recorded_at_once_and_published(mini_project):
    spec, unit, _, _ = fake_run(mini_project)
    path = editview.write_view(unit)
    view = nbformat.read(str(path), as_version=4)
    text_cell(view).source = "Қалада {{ pupils_total }} оқушы (редактор)."
    saved = save_in_lab(path, view)
    assert "Қалада {{ pupils_total }} оқушы (редактор)." in record_file(mini_project).read_text(encoding="utf-8")
    preview = next(c for c in saved["cells"] if editview._role(c) == editview.PREVIEW)
    assert "Қалада 23 845 оқушы (редактор)." in preview["source"]       # refreshed in the saved file
    res = publish.publish(spec, unit)
    assert "Қалада 23 845 оқушы (редактор)." in html(mini_project)
    assert res.recorded == [] and res.notes == []                           # the hook recorded it already
    again = nbformat.read(str(path), as_version=4)                          # the same tab saved again
    assert editview.record_view(again).recorded == []


def test_save_with_unknown_placeholder_or_new_code_cell_is_refused_with_a_message(mini_project):
    _, unit, _, _ = fake_run(mini_project)
    path = editview.write_view(unit)
    view = nbformat.read(str(path), as_version=4)
    text_cell(view).source = "Қалада {{ pupils_totl }} оқушы."
    with pytest.raises(HTTPError) as exc:
        save_in_lab(path, view)
    assert exc.value.status_code == 409 and "{{ pupils_totl }} names no figure" in exc.value.log_message
    assert not record_file(mini_project).exists()
    text_cell(view).source = "Қалада {{ pupils_total }} оқушы."
    view.cells.insert(1, nbformat.v4.new_code_cell("print(1)"))
    with pytest.raises(HTTPError, match="only text can be added"):
        save_in_lab(path, view)
    assert not record_file(mini_project).exists()


def test_added_and_removed_text_in_the_view_are_recorded(mini_project):
    spec, unit, _, _ = fake_run(mini_project)
    path = editview.write_view(unit)
    view = nbformat.read(str(path), as_version=4)
    idx = view.cells.index(text_cell(view))
    view.cells.insert(idx + 2, nbformat.v4.new_markdown_cell("Жаңа абзац: {{ pupils_total }}."))
    save_in_lab(path, view)
    assert "## added cell" in record_file(mini_project).read_text(encoding="utf-8")
    publish.publish(spec, unit)
    assert "Жаңа абзац: 23 845." in html(mini_project)


def test_a_save_from_an_older_build_keeps_the_text_and_never_writes_old_numbers(mini_project):
    """The tab was opened on build A; a data correction rebuilt the report (build B): the
    save of the old tab records the text, refuses to write the old view and rewrites the
    view from build B; publish shows the text with B's numbers and says so."""
    spec, unit, _, _ = fake_run(mini_project)
    path = editview.write_view(unit)
    tab = nbformat.read(str(path), as_version=4)                   # what the browser holds
    fake_run(mini_project, total=23945)                            # the rebuild
    text_cell(tab).source = "Қалада {{ pupils_total }} оқушы (редактор)."
    with pytest.raises(HTTPError) as exc:
        save_in_lab(path, tab)
    assert "Your text is safe" in exc.value.log_message and "Reload Notebook from Disk" in exc.value.log_message
    assert "(редактор)" in record_file(mini_project).read_text(encoding="utf-8")
    fresh = nbformat.read(str(path), as_version=4)                 # what "Reload from Disk" shows
    assert text_cell(fresh).source == "Қалада {{ pupils_total }} оқушы (редактор)."
    assert "23 945" in fresh.cells[fresh.cells.index(text_cell(fresh)) + 1].source
    publish.publish(spec, unit)
    assert "Қалада 23 945 оқушы (редактор)." in html(mini_project) and "23 845" not in html(mini_project)


def test_a_save_while_a_run_executes_is_not_lost(mini_project):
    """The run loaded the record before the save (the race of issue 16): the new notebook
    lacks the edit, the record has it, publish applies it on the newest build."""
    spec, unit, _, _ = fake_run(mini_project)
    path = editview.write_view(unit)
    rec_before = edits.load(unit)
    view = nbformat.read(str(path), as_version=4)
    text_cell(view).source = "Сақталды: {{ pupils_total }}."
    save_in_lab(path, view)                                        # accepted: same build so far
    real_load = edits.load
    edits.load = lambda u: rec_before                              # the run read the record earlier
    try:
        fake_run(mini_project, total=23945)
    finally:
        edits.load = real_load
    res = publish.publish(spec, unit)
    assert "Сақталды: 23 945." in html(mini_project)
    assert any("older build" in n for n in res.notes)


def test_an_executed_notebook_saved_over_a_newer_build_is_refused_and_its_text_kept(mini_project):
    spec, unit, nb_path, _ = fake_run(mini_project)
    old = nbformat.read(str(nb_path), as_version=4)                # a tab on output/ (`make lab`)
    fake_run(mini_project, total=23945)
    text_cell(old).source = "Ескі көшірмедегі мәтін: {{ pupils_total }}."
    model = {"type": "notebook", "content": json.loads(nbformat.writes(old))}
    with pytest.raises(HTTPError, match="Your text is safe"):
        savehook.pre_save(model=model, path=nb_path.name, contents_manager=FakeContents(nb_path.parent))
    assert "Ескі көшірмедегі" in record_file(mini_project).read_text(encoding="utf-8")
    # "Overwrite" through some other tool: publish refuses the old numbers, keeps the text
    nbformat.write(old, str(nb_path))
    with pytest.raises(edits.NarrativeError, match="saved from an older build"):
        publish.publish(spec, unit)
    text_cell(old).source = "Тағы бір түзету: {{ pupils_total }}."
    nbformat.write(old, str(nb_path))
    lines = edits.record_pending(unit)                             # what a rebuild does first
    assert "saved from an older build" in lines[0] and "only its text is kept" in lines[0]
    assert "Тағы бір түзету" in record_file(mini_project).read_text(encoding="utf-8")


def test_lab_command_opens_the_view_itself_without_prompts_and_as_root(mini_project, monkeypatch):
    _, unit, _, _ = fake_run(mini_project)
    desk = editdesk.prepare(unit)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    argv, env = editdesk.lab_command(desk, 8899, "tok", open_browser=False)
    assert "--allow-root" in argv
    assert any(a.startswith("--LabApp.default_url=/doc/tree/toy%202023-2024-S2") for a in argv)
    assert editdesk.view_url(desk, 8899, "tok").endswith(f"?token=tok#cell-id={CELL}")
    cfg = Path(env["JUPYTER_CONFIG_DIR"])
    server = json.loads((cfg / "jupyter_server_config.json").read_text(encoding="utf-8"))
    assert server["ContentsManager"]["pre_save_hook"] == "esep.notebook.savehook.pre_save"
    assert server["LabApp"]["notebook_starts_kernel"] is False
    news = (cfg / "lab/user-settings/@jupyterlab/apputils-extension/notification.jupyterlab-settings").read_text()
    assert '"fetchNews": "false"' in news
    assert sorted(p.name for p in desk.view.parent.iterdir()) == [desk.view.name]   # one file served


def test_edit_print_only_writes_the_view(mini_project):
    fake_run(mini_project)
    res = runner.invoke(app, ["edit", "toy", "--period", PERIOD, "--print-only"])
    assert res.exit_code == 0, res.output
    assert "edit the text.ipynb" in res.output and "esep publish toy --period 2023-2024-S2" in res.output
