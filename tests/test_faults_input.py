"""Issue 17: the bad inputs that used to pass silently, blank a report or end in a
traceback. Each test runs on a scratch copy of the real project (no kernel is started:
every check here happens before one would)."""
from __future__ import annotations

import csv
import io
import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from esep.cli import app

runner = CliRunner()
CITY = "data/raw/city_innovation"
PERIOD = "2023-2024-S2"


def invoke(*args: str):
    res = runner.invoke(app, list(args))
    out = " ".join(res.output.split())  # rich wraps long lines
    assert "Traceback" not in res.output, res.output
    assert not isinstance(res.exception, Exception) or isinstance(res.exception, SystemExit), repr(res.exception)
    return res.exit_code, out


def edit_csv(path: Path, fn) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    fn(rows)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def set_cell(path: Path, row: int, column: str, value: str) -> None:
    """Excel-style row (1 = header) and column name."""
    def fn(rows):
        rows[row - 1][rows[0].index(column)] = value
    edit_csv(path, fn)


# --- item 5: no traceback for any input ------------------------------------------------

def test_31_digit_integer_is_an_error_naming_row_and_column(project_copy):
    set_cell(project_copy / CITY / "events.csv", 3, "events", "1234567890123456789012345678901")
    code, out = invoke("validate", "city_innovation")
    assert code == 1
    assert 'events.csv, row 3, column H "events"' in out and "at most 15 digits" in out


def test_deleted_values_from_file_names_it_in_validate_and_run(project_copy):
    (project_copy / "data/raw/oblast_experiment/districts.csv").unlink()
    code, out = invoke("validate", "oblast_experiment")
    assert code == 1 and "districts.csv: file not found" in out
    code, out = invoke("run", "oblast_experiment", "--period", "2023-2024")
    assert code == 1 and "districts.csv" in out and "FileNotFoundError" not in out


def test_yaml_alias_bomb_is_refused_at_once_without_printing_the_value(project_copy):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefgh"):
        prev = "abcdefgh"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines.append("period: *h")
    (project_copy / "params/city_innovation" / f"{PERIOD}.yaml").write_text("\n".join(lines) + "\n")
    t0 = time.perf_counter()
    code, out = invoke("run", "city_innovation", "--period", PERIOD)
    assert time.perf_counter() - t0 < 10
    assert code == 1 and "aliases" in out and "'lol', 'lol'" not in out


def test_unreadable_raw_file_is_one_message(project_copy, monkeypatch):
    target = project_copy / CITY / "events.csv"
    real = Path.read_bytes

    def deny(self):
        if self == target:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", deny)
    code, out = invoke("validate", "city_innovation")
    assert code == 1 and "events.csv" in out and "permission denied" in out.lower()


def _mount_tmpfs(folder: Path, opts: str) -> bool:
    import subprocess

    folder.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(folder)], capture_output=True)
    return r.returncode == 0


def _umount(folder: Path) -> None:
    import subprocess

    subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_read_only_output_names_the_folder_and_the_fix(project_copy):
    out_dir = project_copy / "output"
    if out_dir.exists() and any(out_dir.iterdir()):
        pytest.skip("output/ not empty")
    if not _mount_tmpfs(out_dir, "size=1m,ro"):
        pytest.skip("cannot mount a tmpfs here (not root?)")
    try:
        for cmd in (["build", "city_innovation"], ["render", "city_innovation", "--period", PERIOD]):
            code, out = invoke(*cmd)
            assert code == 1, out
            assert "output" in out and ("read-only" in out or "no executed notebook" in out), out
        code, out = invoke("build", "city_innovation")
        assert "chmod" in out and "Read-only file system" in out
    finally:
        _umount(out_dir)


# --- item 6: places in params checked before any kernel; merge first --------------------

def test_unknown_district_in_params_is_named_against_the_params_file(project_copy):
    (project_copy / "params/oblast_experiment/2023-2024.yaml").write_text(
        'period: "2023-2024"\noblast: "Батыс Қазақстан облысы"\ndistrict: ["atlantis"]\n', encoding="utf-8")
    t0 = time.perf_counter()
    code, out = invoke("run", "oblast_experiment", "--period", "2023-2024")
    assert code == 1
    assert "params/oblast_experiment/2023-2024.yaml: key 'district': 'atlantis'" in out
    assert "districts.csv" in out and "cell" not in out
    assert time.perf_counter() - t0 < 20  # no kernel was started


def test_unknown_city_in_params_is_named(project_copy):
    (project_copy / "params/city_innovation" / f"{PERIOD}.yaml").write_text(
        f'period: "{PERIOD}"\ncity: "Астанаа"\n', encoding="utf-8")
    code, out = invoke("run", "city_innovation", "--period", PERIOD)
    assert code == 1 and "key 'city': 'Астанаа'" in out and "did you mean 'Астана'" in out


def test_run_before_merge_says_merge_first(project_copy):
    code, out = invoke("new-period", "city_innovation", "--from", PERIOD, "--to", "2024-2025-S1")
    assert code == 0, out
    # header-only templates hold nothing to merge (the school forms' roll-up may run first);
    # one filled-in row does
    from esep.data.newperiod import filled_templates

    inc = project_copy / CITY / "incoming/2024-2025-S1"
    assert filled_templates(inc) == []
    main = (project_copy / CITY / "projects.csv").read_text(encoding="utf-8").splitlines()
    with open(inc / "projects.csv", "a", encoding="utf-8") as fh:
        fh.write(main[1].replace(PERIOD, "2024-2025-S1") + "\n")
    assert filled_templates(inc) == ["projects.csv"]
    code, out = invoke("run", "city_innovation", "--period", "2024-2025-S1")
    assert code == 1 and "run `esep merge city_innovation --period 2024-2025-S1` first" in out
    assert "projects.csv filled in" in out
    assert "No objects to concatenate" not in out


# --- item 7: grand totals of tables whose rows are totals --------------------------------

def test_table6_grand_total_is_compared_with_its_parts(project_copy):
    import json

    path = project_copy / CITY / "events.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    n = next(i for i, r in enumerate(rows) if r[3] == "" and r[5] == "total") + 1
    assert rows[n - 1][7] == "102"
    set_cell(path, n, "events", "103")
    res = runner.invoke(app, ["validate", "city_innovation", "--format", "json"])
    found = [json.loads(line) for line in res.output.splitlines() if line.startswith("{")]
    grand = [f for f in found if f["table"] == "events" and f["row"] == n and f["check"] == "total"]
    assert len(grand) == 2, grand  # vs the 4 type totals and vs the 7 project totals
    assert {f["computed"] for f in grand} == {102}


def test_shipped_table6_grand_total_agrees():
    from esep.core import reports
    from esep.data import findings

    found = findings.for_unit(reports.get("city_innovation"), PERIOD)
    assert not [f for f in found if f.table == "events" and f.check == "total"]


# --- items 1-4: a new semester's workbook ------------------------------------------------

def _new_semester(root: Path) -> Path:
    code, out = invoke("new-period", "city_innovation", "--from", PERIOD, "--to", "2024-2025-S1")
    assert code == 0, out
    return root / CITY / "incoming/2024-2025-S1/city_innovation.xlsx"


def _fill(book: Path, sheet: str, rows: list[list]) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(book)
    ws = wb[sheet]
    for r in rows:
        ws.append(r)
    wb.save(book)


def _row_from(root: Path, table: str, **changes) -> list:
    rows = list(csv.DictReader(io.StringIO((root / CITY / f"{table}.csv").read_text(encoding="utf-8-sig"))))
    r = dict(rows[0])
    r.update(changes)
    return list(r.values())


def test_semester_typed_in_a_yearly_sheet_is_an_error_naming_sheet_row_column(project_copy):
    book = _new_semester(project_copy)
    _fill(book, "levels_yearly", [_row_from(project_copy, "levels_yearly", period="2024-2025-S1")])
    code, out = invoke("validate", "city_innovation", "--period", "2024-2025-S1")
    assert code == 1
    assert 'sheet "levels_yearly", row 2, column A "period": found \'2024-2025-S1\'' in out
    assert "per school year" in out
    code, out = invoke("merge", "city_innovation", "--period", "2024-2025-S1")
    assert code == 1  # and nothing appended


def test_unknown_source_label_is_an_error_with_the_accepted_values(project_copy):
    book = _new_semester(project_copy)
    _fill(book, "project_orgs", [_row_from(project_copy, "project_orgs", period="2024-2025-S1", source="5 кесте")])
    code, out = invoke("validate", "city_innovation", "--period", "2024-2025-S1")
    assert code == 1
    assert 'sheet "project_orgs", row 2' in out and "found '5 кесте'" in out and "5-кесте" in out


def test_formula_without_a_saved_value_is_an_error_with_the_fix(project_copy):
    book = _new_semester(project_copy)
    row = _row_from(project_copy, "projects", period="2024-2025-S1")
    row[7] = "=100+23"  # pupils, written by a script: no cached value
    _fill(book, "projects", [row])
    code, out = invoke("validate", "city_innovation", "--period", "2024-2025-S1")
    assert code == 1
    assert 'sheet "projects", row 2, column H' in out and "open and save the workbook in Excel" in out


def test_validate_period_confirms_rows_read_and_lists_skipped_sections(project_copy):
    book = _new_semester(project_copy)
    _fill(book, "events", [_row_from(project_copy, "events", period="2024-2025-S1")])
    code, out = invoke("validate", "city_innovation", "--period", "2024-2025-S1")
    assert code == 0, out
    assert "events: 1 row(s) for 2024-2025-S1, 1 from incoming/2024-2025-S1/" in out
    assert "levels_yearly: 0 row(s) for 2024-2025" in out
    assert "section «7-кесте (оқыту тілі)» (languages) will be skipped" in out
    assert "(events) will be skipped" not in out
    # the new period's findings, and earlier ones only of tables its report compares over
    # time (levels by semester/year): 4, not the 18 of every period
    import re

    m = re.search(r"city_innovation: (\d+) warning\(s\) about 2024-2025-S1", out)
    assert m and int(m.group(1)) <= 5, out
    assert "warning: data/raw/city_innovation/events.csv" not in out
    assert "warning: data/raw/city_innovation/projects_by_kind.csv" not in out


def test_workbook_states_period_kinds_labels_and_accepts_new_keys(project_copy):
    from openpyxl import load_workbook

    book = _new_semester(project_copy)
    wb = load_workbook(book)
    text = "\n".join(str(r[0].value or "") for r in wb["Нұсқаулық"].iter_rows())
    assert "levels_yearly: 2024-2025  (оқу жылы)" in text
    assert "projects: 2024-2025-S1  (жартыжылдық)" in text
    assert "project_orgs.source: 5-кесте | 6-кесте | 7-кесте" in text
    assert "project_orgs.project_key → projects.project_key" in text
    dvs = {str(dv.sqref): dv for dv in wb["project_orgs"].data_validations.dataValidation}
    key_dv = next(dv for sq, dv in dvs.items() if sq.startswith("C"))  # project_key
    assert key_dv.errorStyle == "warning"  # a new project can be typed
    src_dv = next(dv for sq, dv in dvs.items() if sq.startswith("F"))  # source: closed list
    assert src_dv.errorStyle in (None, "stop")


# --- item 9: paths stay in the project -------------------------------------------------

def test_spec_input_with_dotdot_is_refused(project_copy):
    spec = project_copy / "notebooks/city_innovation.report.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace(
        "  - city_innovation/quoted.csv", "  - city_innovation/../../../evil/quoted.csv"), encoding="utf-8")
    code, out = invoke("prepare", "city_innovation")
    assert code == 1 and "leaves the project" in out
    assert not (project_copy.parent / "evil").exists()


def test_expanded_value_that_climbs_out_is_refused(project_copy):
    set_cell(project_copy / "data/raw/leading_schools/regions.csv", 2, "region_slug", "../../../evil")
    for cmd in (["run", "leading_schools", "--period", "2019"],
                ["render", "leading_schools", "--period", "2019"]):
        code, out = invoke(*cmd)
        assert code == 1 and "regions.csv, row 2, column 'region_slug'" in out and "not a slug" in out
    set_cell(project_copy / "data/raw/leading_schools/regions.csv", 2, "region_slug", "nur-sultan")
    code, out = invoke("render", "leading_schools", "--period", "2019", "--only", "../../evil")
    assert code == 1 and "not a region/district slug" in out
    assert not list(project_copy.parent.glob("**/evil*"))


def test_symlink_in_raw_leading_out_is_refused(project_copy, tmp_path):
    outside = tmp_path / "outside.csv"
    target = project_copy / CITY / "events.csv"
    outside.write_bytes(target.read_bytes())
    target.unlink()
    target.symlink_to(outside)
    code, out = invoke("validate", "city_innovation")
    assert code == 1 and "events.csv" in out and "symlink leading outside the project" in out


def test_output_base_is_confined():
    from esep.core.fsutil import PathError
    from esep.core.params import RunUnit

    with pytest.raises(PathError):
        RunUnit("city_innovation", PERIOD, {}, "../../x").output_base()
    with pytest.raises(PathError):
        RunUnit("city_innovation", "../x", {}).output_base()
