"""`esep init DIR` and `esep new-report NAME` (issue 11).

Fast tests call the scaffold in-process (nothing executed). The integration test runs
the installed `esep` as a user would, from the new project's folder and without
ESEP_ROOT: init, build, new-report (the built report stays fresh), build (HTML), the
generated tests, and a `cp -a` copy that must act on itself and leave the original alone.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from typer.testing import CliRunner

from esep import scaffold
from esep.cli import app

REPO = Path(__file__).resolve().parents[1]
ESEP_SRC = REPO / "src" / "esep"
runner = CliRunner()

EXPECTED_PROJECT = {
    "esep.toml", "README.md", "Makefile", "environment.yml", ".gitignore", "pytest.ini",
    "src/helpers/__init__.py", "data/raw/README.md", "output/.gitkeep", "data/processed/.gitkeep",
}


def report_files(name: str, period: str) -> set[str]:
    return {f"notebooks/{name}.report.yaml", f"notebooks/{name}.ipynb", f"params/{name}/{period}.yaml",
            f"data/raw/{name}/schema.yaml", f"data/raw/{name}/README.md", f"data/raw/{name}/pupils.csv",
            f"data/raw/{name}/districts.csv", f"src/helpers/{name}.py", f"tests/test_{name}.py"}


def files_of(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def new_project(tmp_path, monkeypatch):
    monkeypatch.delenv("ESEP_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["init", "dept", "--period", "2025-2026"])
    assert res.exit_code == 0, res.output
    root = tmp_path / "dept"
    monkeypatch.chdir(root)
    return root


# --- esep init ---------------------------------------------------------------------

def test_init_writes_the_layout_and_one_example_report(new_project):
    assert files_of(new_project) == EXPECTED_PROJECT | report_files("example", "2025-2026")
    for d in ("notebooks", "params", "data/raw", "data/processed", "output", "src/helpers", "tests"):
        assert (new_project / d).is_dir(), d
    readme = (new_project / "README.md").read_text(encoding="utf-8")
    assert "make report" in readme and "make test" in readme
    assert sys.executable in (new_project / "Makefile").read_text(encoding="utf-8")
    env = yaml.safe_load((new_project / "environment.yml").read_text(encoding="utf-8"))
    assert any(isinstance(d, dict) and "pip" in d for d in env["dependencies"])
    assert 'name = "dept"' in (new_project / "esep.toml").read_text(encoding="utf-8")
    # only the extend(__path__) lines and the example's own module: esep's kit is not copied
    helpers = sorted(p.name for p in (new_project / "src" / "helpers").iterdir())
    assert helpers == ["__init__.py", "example.py"]
    assert "__path__ = extend(__path__)" in (new_project / "src/helpers/__init__.py").read_text(encoding="utf-8")


def test_the_new_project_holds_no_copy_of_esep_source(new_project):
    # esep's code (the scaffold's templates are what a project is made from, not code)
    esep_files = {hashlib.sha256(p.read_bytes()).hexdigest(): p for p in ESEP_SRC.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.stat().st_size > 0
                  and not p.name.endswith(scaffold.SUFFIX)}
    copied = [p for p in new_project.rglob("*") if p.is_file()
              and hashlib.sha256(p.read_bytes()).hexdigest() in esep_files]
    assert copied == []
    assert not [p for p in new_project.rglob("*") if p.name in ("esep", "kit", "cli.py")]


def test_init_refuses_a_non_empty_folder_in_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv("ESEP_ROOT", raising=False)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("x", encoding="utf-8")
    res = runner.invoke(app, ["init", str(tmp_path / "busy")])
    assert res.exit_code == 1
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "not empty" in lines[0], res.output
    assert sorted(p.name for p in (tmp_path / "busy").iterdir()) == ["notes.txt"]
    assert runner.invoke(app, ["init", str(tmp_path / "fresh")]).exit_code == 0  # absent is fine
    (tmp_path / "empty").mkdir()
    assert runner.invoke(app, ["init", str(tmp_path / "empty")]).exit_code == 0  # empty is fine


def test_init_works_outside_any_project_and_other_commands_say_so(tmp_path, monkeypatch):
    monkeypatch.delenv("ESEP_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["new-report", "demo"])
    assert res.exit_code == 1 and "not inside an esep project" in res.output


# --- esep new-report ---------------------------------------------------------------

def test_new_report_writes_every_file_and_nothing_else(new_project):
    before = files_of(new_project)
    res = runner.invoke(app, ["new-report", "demo", "--period", "2023-2024-S2", "--title", "Демо есебі"])
    assert res.exit_code == 0, res.output
    assert files_of(new_project) - before == report_files("demo", "2023-2024-S2")
    from esep.core import reports

    spec = reports.get("demo")
    assert spec.title == "Демо есебі" and spec.periods() == ["2023-2024-S2"]
    assert spec.place_params == ("place",)
    csv = (new_project / "data/raw/demo/pupils.csv").read_text(encoding="utf-8")
    assert "2023-2024-S2," in csv and "2022-2023-S2," in csv  # the period and the one before


@pytest.mark.parametrize("name, words", [
    ("Demo", "snake_case"), ("1st", "snake_case"), ("my-report", "snake_case"), ("", "snake_case"),
    ("class", "keyword"), ("tables", "hide esep's helpers.tables"), ("fmt", "hide"), ("helpers", "hide"),
])
def test_new_report_refuses_a_bad_name(new_project, name, words):
    res = runner.invoke(app, ["new-report", name])
    assert res.exit_code == 1 and words in res.output, res.output
    assert "Traceback" not in res.output


def test_new_report_refuses_a_name_in_use_and_writes_nothing(new_project):
    (new_project / "src/helpers/late.py").write_text("", encoding="utf-8")
    before = files_of(new_project)
    for name in ("example", "late"):
        res = runner.invoke(app, ["new-report", name])
        assert res.exit_code == 1 and "exists already" in res.output, res.output
    assert files_of(new_project) == before


def test_new_report_refuses_a_bad_period(new_project):
    res = runner.invoke(app, ["new-report", "demo", "--period", "2023/24"])
    assert res.exit_code == 1 and "period" in res.output
    assert not (new_project / "notebooks/demo.ipynb").exists()


def test_starter_notebook_follows_the_template_rules(new_project):
    import papermill as pm

    from esep.core import reports
    from esep.notebook import narrative

    path = new_project / "notebooks/example.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].metadata.get("tags") == ["parameters"]
    assert set(pm.inspect_notebook(str(path))) == set(reports.get("example").params)
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert not [c.id for c in code if re.search(r"^\s*def\s|lambda", c.source, re.M)]
    assert "remove" in code[1].metadata.get("tags", [])
    assert re.search(r"""data\.load\(REPORT, "pupils"\)""", code[1].source)
    # explicit, readable, stable ids (the same in every scaffolded notebook)
    ids = [c.id for c in nb.cells]
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", i) for i in ids), ids
    assert narrative.template_problems(nb, path.name) == []
    texts = [c for c in nb.cells if narrative.is_narrative(c)]
    assert len(texts) >= 3 and all(narrative.PLACEHOLDER.search(c.source) for c in texts)
    assert all(c.metadata["esep"]["section"] for c in texts)
    assert any(m.group(2) for c in texts for m in narrative.PLACEHOLDER.finditer(c.source))  # a :style
    assert 'glue("sections_skipped", skipped)' in code[-1].source
    assert "cap.glue()" in code[-1].source and "glue_shown()" in code[-1].source
    assert 'source="pupils"' in nb.cells[[c.id for c in nb.cells].index("districts-table")].source
    # the prose rules of tests/test_templates.py: no ending typed after a placeholder, no «өзгерді»
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert not re.findall(r"\}\}%?-?[^\W\d_]", prose) and "өзгерді" not in prose


def test_schema_has_a_commented_example_of_every_check_and_option(new_project):
    from esep.data import findings, schemas

    text = (new_project / "data/raw/example/schema.yaml").read_text(encoding="utf-8")
    comments = "\n".join(ln for ln in text.splitlines() if ln.lstrip().startswith("#"))
    for kind in findings.CHECKS:
        assert re.search(rf"\{{check: {kind}\b", comments), kind
    for auto in ("latin_letters", "duplicated_row"):
        assert auto in comments
    for typ in schemas.TYPES:
        assert f"{{type: {typ}" in comments, typ
    for key in schemas.COLUMN_KEYS | schemas.TABLE_KEYS:
        assert re.search(rf"\b{key}:", text), key
    # each commented check example is a valid findings item once uncommented
    blocks: list[str] = []
    for ln in text.splitlines():
        if m := re.match(r"#   (- \{check.*)", ln):
            blocks.append(m.group(1))
        elif (m := re.match(r"#      (\S.*)", ln)) and blocks and blocks[-1].count("{") > blocks[-1].count("}"):
            blocks[-1] += " " + m.group(1)
    kinds = set()
    for block in blocks:
        (item,) = yaml.safe_load(block)
        assert item["check"] in findings.CHECKS, block
        kinds.add(item["check"])
    assert kinds == set(findings.CHECKS)
    # the active schema loads and the sample data passes it without a warning
    from esep.core import reports

    schema = schemas.load("example")
    assert set(schema.tables) == {"districts", "pupils"}
    found, loaded = findings.findings_for(reports.get("example"))
    assert loaded.problems == [] and found == []


def test_templates_are_package_data():
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert '"esep.scaffold" = ["**/*", "*"]' in pyproject
    from importlib.resources import files

    root = files("esep.scaffold")
    assert root.joinpath("report", "notebooks", "__report__.ipynb.tmpl").is_file()
    assert root.joinpath("project", "gitignore.tmpl").is_file()
    # no template is a Python module (the layering and code-hash scans read only real code)
    assert not [p for p in Path(scaffold.HERE).rglob("*.py") if p.name != "__init__.py"]


def test_default_period_is_the_school_year_under_way():
    from datetime import date

    assert scaffold.default_period(date(2026, 12, 1)) == "2026-2027"
    assert scaffold.default_period(date(2027, 5, 31)) == "2026-2027"
    assert scaffold.default_period(date(2027, 9, 1)) == "2027-2028"


# --- as a user does it: the installed esep, from the project's folder -----------------

def esep_command() -> list[str]:
    script = Path(sys.executable).parent / "esep"
    return [str(script)] if script.exists() else [sys.executable, "-m", "esep"]


def run(args, cwd: Path, **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("ESEP_ROOT", "ESEP_FORMATS")}
    out = subprocess.run(args, cwd=str(cwd), env=env, capture_output=True, text=True, timeout=900, **kw)
    assert out.returncode == 0, f"{args}: {out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


def snapshot(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
            and ".pytest_cache" not in p.parts}


@pytest.mark.integration
def test_init_new_report_build_test_and_copy_as_a_user(tmp_path):
    esep = esep_command()
    run([*esep, "init", "dept", "--period", "2025-2026"], cwd=tmp_path)
    root = tmp_path / "dept"
    out = run([*esep, "build"], cwd=root / "notebooks")       # from any folder inside the project
    assert "1 ok, 0 failed" in out.stdout, out.stdout
    # a new report type (and its helper module) leaves the built one fresh
    run([*esep, "new-report", "demo", "--period", "2023-2024-S2"], cwd=root)
    status = run([*esep, "status"], cwd=root).stdout
    assert "1 fresh, 1 stale" in status and re.search(r"demo .*never built", status), status
    out = run([*esep, "build"], cwd=root)
    assert "ran 1 (1 ok, 0 failed), skipped 1 up to date" in out.stdout, out.stdout
    for period, name in (("2025-2026", "example"), ("2023-2024-S2", "demo")):
        page = (root / "output" / period / f"{name}.html").read_text(encoding="utf-8").replace("\xa0", " ")
        assert "153 645" in page and "{{" not in page and "Traceback" not in page
        assert "Үлгі қаласы" in page and "Деректер сапасы" in page
    assert (root / "output" / "index.html").is_file()

    # the generated tests pass inside the new project (make test = python -m pytest -q)
    tests = run(["make", "test"] if shutil.which("make") else [sys.executable, "-m", "pytest", "-q"], cwd=root)
    n = sum(p.read_text(encoding="utf-8").count("\ndef test_") for p in (root / "tests").glob("test_*.py"))
    assert f"{n} passed" in tests.stdout and "failed" not in tests.stdout, tests.stdout

    # cp -a of the built project acts on the copy; the original is not touched
    copy = tmp_path / "copy"
    shutil.copytree(root, copy, symlinks=True)
    original = snapshot(root)
    params = copy / "params" / "example" / "2025-2026.yaml"
    params.write_text(params.read_text(encoding="utf-8").replace("Үлгі қаласы", "Көшірме қаласы"),
                      encoding="utf-8")
    out = run([*esep, "build"], cwd=copy)
    assert "1 ok" in out.stdout and "skipped 1 up to date" in out.stdout, out.stdout
    assert "Көшірме қаласы" in (copy / "output/2025-2026/example.html").read_text(encoding="utf-8")
    assert str(copy) in out.stdout and str(root) not in out.stdout
    assert snapshot(root) == original
    status = run([*esep, "status"], cwd=root)
    assert "2 fresh, 0 stale" in status.stdout, status.stdout
