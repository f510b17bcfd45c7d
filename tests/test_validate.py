"""Raw-data validation on the toy project: one fixture file per failure mode
(tests/fixtures/validation/<failure_mode>.csv), each message naming file, row and column,
and nothing in data/processed/ changed by data that failed."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from esep.cli import app

runner = CliRunner()
FIX = Path(__file__).parent / "fixtures" / "validation"
PUPILS = "data/raw/toy/pupils.csv"
GRADES = "data/raw/toy/grades.csv"


@pytest.fixture
def toy(mini_project):
    """mini_project + the toy schema, a reference table and a long table; prepared once."""
    raw = mini_project / "data/raw/toy"
    for name in ("schema.yaml", "cities.csv", "grades.csv"):
        shutil.copy(FIX / name, raw / name)
    spec = mini_project / "notebooks/toy.report.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace(
        "  - toy/pupils.csv\n", "  - toy/cities.csv\n  - toy/pupils.csv\n  - toy/grades.csv\n"), encoding="utf-8")
    res = runner.invoke(app, ["prepare", "toy"])
    assert res.exit_code == 0, res.output
    return mini_project


def processed_state(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted((root / "data/processed").rglob("*.parquet"))}


def use(root: Path, fixture: str, target: str = PUPILS) -> None:
    shutil.copy(FIX / fixture, root / target)


def fails(root: Path, *lines: str) -> str:
    """prepare and validate both exit 1 with every expected line; processed unchanged."""
    before = processed_state(root)
    res = runner.invoke(app, ["prepare", "toy"])
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output
    out = " ".join(res.output.split())  # rich wraps long lines
    for line in lines:
        assert line in out, f"{line!r} not in:\n{res.output}"
    assert processed_state(root) == before
    val = runner.invoke(app, ["validate", "toy"])
    assert val.exit_code == 1
    return out


def findings_json(root: Path) -> list[dict]:
    res = runner.invoke(app, ["validate", "toy", "--format", "json"])
    assert res.exit_code == 0, res.output
    return [json.loads(ln) for ln in res.stdout.splitlines() if ln.startswith("{")]


# --- errors --------------------------------------------------------------------------

def test_shipped_toy_data_is_clean(toy):
    assert findings_json(toy) == []
    res = runner.invoke(app, ["validate", "toy", "--strict"])
    assert res.exit_code == 0, res.output


def test_missing_column(toy):
    use(toy, "missing_column.csv")
    fails(toy, f'{PUPILS}, row 1: missing column "pupils"')


def test_extra_column(toy):
    use(toy, "extra_column.csv")
    fails(toy, f'{PUPILS}, row 1, column G "comment": unexpected column')


def test_non_numeric_count(toy):
    use(toy, "non_numeric_count.csv")
    fails(toy, f"{PUPILS}, row 3, column E \"pupils\": found '12a', expected a whole number, 0 or more")


def test_negative_count(toy):
    use(toy, "negative_count.csv")
    fails(toy, f"{PUPILS}, row 2, column E \"pupils\": found '-5', expected a whole number, 0 or more, "
               "not less than 0")


def test_duplicate_key(toy):
    use(toy, "duplicate_key.csv")
    fails(toy, f'{PUPILS}, row 3, column D "school_name": duplicate key', "the same as row 2")


def test_unknown_reference(toy):
    use(toy, "unknown_reference.csv")
    fails(toy, f"{PUPILS}, row 2, column C \"city_slug\": found 'astna', expected a value of column "
               "\"city_slug\" in data/raw/toy/cities.csv; did you mean 'astana'?")


def test_empty_file(toy):
    use(toy, "empty_file.csv")
    fails(toy, f"{PUPILS}, row 1: the file is empty")


def test_header_only(toy):
    use(toy, "header_only.csv")
    fails(toy, f"{PUPILS}, row 2: header only, no data rows")


def test_cp1251_file_with_lost_kazakh_letters_is_refused(toy):
    use(toy, "cp1251_file.csv")
    out = fails(toy, f"{PUPILS}: row 4: saved as 'CSV (Windows)' (code page 1251)", "CSV UTF-8")
    assert "Р‘Р°" not in out  # no mojibake shown


def test_cp1251_readable_semicolons_is_read_correctly(toy):
    use(toy, "cp1251_readable_semicolons.csv")
    res = runner.invoke(app, ["prepare", "toy"])
    assert res.exit_code == 0, res.output
    import pandas as pd

    df = pd.read_parquet(toy / "data/processed/toy/pupils.parquet")
    assert list(df["city"]) == ["Астана", "Алматы", "Итого"]
    assert int(df["pupils"].sum()) == 1200 + 22645 + 23845
    val = runner.invoke(app, ["validate", "toy"])
    assert "Windows-1251" in val.output


def test_xlsx_with_typod_sheet_name(toy):
    (toy / PUPILS).unlink()
    shutil.copy(FIX / "xlsx_sheet_name_typo.xlsx", toy / "data/raw/toy/toy.xlsx")
    fails(toy, 'data/raw/toy/toy.xlsx: no sheet "pupils"', 'rename the sheet "pupil" to "pupils"')


def test_every_problem_of_a_file_in_one_pass(toy):
    (toy / PUPILS).write_text("period,city,city_slug,school_name,pupils,row_type\n"
                              "2023-2024-S2,Астана,astna,x,-1,part\n"
                              "2023-2025,Алматы,almaty,y,1x,parts\n", encoding="utf-8")
    fails(toy, "row 2, column C", "row 2, column E", "row 3, column A", "row 3, column E", "row 3, column F",
          "5 problem(s)")


# --- inputs accepted ------------------------------------------------------------------

def test_xlsx_input_and_kazakh_numbers(toy):
    from openpyxl import Workbook

    (toy / PUPILS).unlink()
    wb = Workbook()
    ws = wb.active
    ws.title = "pupils"
    ws.append(["period", "city", "city_slug", "school_name", "pupils", "row_type"])
    ws.append(["2023-2024-S2", " Астана ", "astana", "x мектебі", "1 200", "part"])
    ws.append(["2023-2024-S2", "Алматы", "almaty", "№2 мектеп", 22645, "part"])
    ws.append(["2023-2024-S2", "Барлығы", None, None, "23 845", "total"])
    wb.save(toy / "data/raw/toy/pupils.xlsx")
    res = runner.invoke(app, ["prepare", "toy"])
    assert res.exit_code == 0, res.output
    import pandas as pd

    df = pd.read_parquet(toy / "data/processed/toy/pupils.parquet")
    assert list(df["pupils"]) == [1200, 22645, 23845]
    assert df["city"].iloc[0] == "Астана"


def test_parse_number_forms():
    from esep.data.validate import parse_number

    assert parse_number("22 645") == (22645.0, False)
    assert parse_number("80,5") == (80.5, False)
    assert parse_number("80,5 %") == (80.5, True)
    assert parse_number("-") == (None, False)
    with pytest.raises(ValueError):
        parse_number("12a")


# --- findings (warnings) ----------------------------------------------------------------

def test_declared_total_wrong(toy):
    use(toy, "declared_total_wrong.csv")
    assert runner.invoke(app, ["prepare", "toy"]).exit_code == 0   # warnings do not block
    (f,) = findings_json(toy)
    assert (f["source"], f["table"], f["row"], f["column"]) == (PUPILS, "pupils", 4, "pupils")
    assert (f["declared"], f["computed"], f["period"], f["report"]) == (23000, 23845, "2023-2024-S2", "toy")
    assert runner.invoke(app, ["validate", "toy", "--strict"]).exit_code == 1


def test_declared_percentage_wrong(toy):
    use(toy, "declared_percentage_wrong.csv", GRADES)
    (f,) = findings_json(toy)
    assert (f["source"], f["row"], f["column"], f["declared"]) == (GRADES, 6, "declared_share_pct", 48.9)
    assert f["computed"] == pytest.approx(47.37, abs=0.01)
    assert "48.9%" in f["message"]


def test_agreement_follows_the_report_rounding_rule(toy):
    """47,368 printed as 47,3 is a finding under half up (the default) and agrees for a
    report whose spec says ``rounding: truncate``."""
    from helpers.tables import agrees

    assert agrees(47.368, 47.4) and not agrees(47.368, 47.3) and not agrees(47.368, 47.2)
    grades = toy / GRADES
    grades.write_text(grades.read_text(encoding="utf-8").replace(",47.4", ",47.3"), encoding="utf-8")
    (f,) = findings_json(toy)
    assert (f["check"], f["declared"]) == ("share", 47.3)
    spec = toy / "notebooks/toy.report.yaml"
    spec.write_text(spec.read_text(encoding="utf-8") + "rounding: truncate\n", encoding="utf-8")
    assert findings_json(toy) == []


def test_duplicated_row(toy):
    use(toy, "duplicated_row.csv", GRADES)
    (f,) = findings_json(toy)
    assert (f["source"], f["row"], f["column"], f["check"]) == (GRADES, 4, "pupils", "duplicate_profile")
    assert f["computed"] == "astana"


def test_latin_letter_in_kazakh_name(toy):
    use(toy, "latin_letter_in_kazakh_name.csv")
    (f,) = findings_json(toy)
    assert (f["source"], f["row"], f["column"], f["check"]) == (PUPILS, 3, "school_name", "latin_letters")
    assert "'e'" in f["message"]
    text = runner.invoke(app, ["validate", "toy"]).output
    assert f'{PUPILS}, row 3, column D "school_name"' in " ".join(text.split())


def test_latin_letter_in_a_value_with_allowed_list_is_an_error(toy):
    (toy / PUPILS).write_text("period,city,city_slug,school_name,pupils,row_type\n"
                              "2023-2024-S2,Астана,astana,x,1,pаrt\n", encoding="utf-8")  # Cyrillic а
    fails(toy, f"{PUPILS}, row 2, column F \"row_type\": found 'pаrt', expected one of: part, total",
          "mixes Latin and Cyrillic")


def test_appendix_lists_findings_and_escapes_values():
    from esep.data.findings import Finding, appendix_markdown

    f = Finding("toy", "2023-2024-S2", "data/raw/toy/pupils.csv", "pupils", 4, "pupils", 23000, 23845.0,
                "declared total", "total", "«Барлығы» жолында 23 000, қосындысы 23 845 <b>x</b>",
                row_label="Барлығы")
    md = appendix_markdown([f], "toy")
    assert md.startswith("## Деректер сапасы")
    assert "23 000" in md and "23 845" in md and "&lt;b&gt;" in md and "<b>" not in md
    assert "ешқандай" in appendix_markdown([], "toy")


def test_appendix_for_reviewers_names_the_report_table_and_row_and_merges_duplicates():
    from esep.data.findings import Finding, appendix_markdown

    total = Finding("city", "2023-2024", "data/raw/city/levels.csv", "levels", 9, "orgs", 89, 88.0,
                    "declared total 89 but the parts add up to 88", "total",
                    "«Барлығы» жолында 89 көрсетілген, бөліктерінің қосындысы 88.", printed_in="3-кесте",
                    row_label="Барлығы")
    letters = [Finding("city", "2023-2024", f"data/raw/city/{t}.csv", t, 3, "project_name", "PASСH", None,
                       "mixed alphabets", "latin_letters", "«PASСH» сөзінде латын және кириллица әріптері "
                       "араласқан.", printed_in=p, row_label="PASСH") for t, p in
               [("events", "6-кесте"), ("members", "5-кесте"), ("events", "6-кесте")]]
    md = appendix_markdown([total, *letters], "city", numbers={"levels": "3-кесте", "members": "5-кесте"})
    body = md.split("<details")[0]
    assert "3-кесте, «Барлығы» жолы" in body                       # the report's own table and row
    assert body.count("«PASСH» сөзінде") == 1                         # one remark, every place listed once
    assert "6-кесте, «PASСH» жолы; 5-кесте, «PASСH» жолы" in body
    assert "levels.csv" not in body and "project_name" not in body   # analyst's detail: collapsed block only
    assert "levels.csv" in md.split("<details")[1]


def test_period_filter():
    from esep.data.findings import Finding, for_period

    mk = lambda p: Finding("r", p, "s", "t", 2, "c", 1, 2, "m")  # noqa: E731
    found = [mk("2022"), mk("2023-2024"), mk("2024-2025-S1"), mk(None)]
    # issue 17: a period's findings, not every earlier period's (t does not compare periods)
    assert [f.period for f in for_period(found, "2023-2024")] == ["2023-2024", None]
    # a semester report also lists its school year's findings (the yearly tables it prints)
    assert [f.period for f in for_period(found + [mk("2024-2025")], "2024-2025-S1")] == \
        ["2024-2025-S1", None, "2024-2025"]


def test_period_filter_keeps_earlier_periods_of_tables_the_report_compares():
    from esep.data import schemas
    from esep.data.findings import Finding, for_period

    schema = schemas.Schema("r", None, {"t": schemas.Table("t", {}, history=True),
                                        "u": schemas.Table("u", {})})
    found = [Finding("r", "2022-2023", "s", t, 2, "c", 1, 2, "m") for t in ("t", "u")]
    assert [f.table for f in for_period(found, "2023-2024", schema)] == ["t"]


# --- a new period ------------------------------------------------------------------------

def test_new_period_templates_validate_and_merge(toy):
    from openpyxl import load_workbook

    res = runner.invoke(app, ["new-period", "toy", "--from", "2023-2024-S2", "--to", "2024-2025-S1"])
    assert res.exit_code == 0, res.output
    assert "esep merge toy --period 2024-2025-S1" in res.output
    params = (toy / "params/toy/2024-2025-S1.yaml").read_text(encoding="utf-8")
    assert 'period: "2024-2025-S1"' in params
    inc = toy / "data/raw/toy/incoming/2024-2025-S1"
    wb = load_workbook(inc / "toy.xlsx")
    assert wb.sheetnames[0] == "Нұсқаулық" and "pupils" in wb.sheetnames
    assert [c.value for c in wb["pupils"][1]] == ["period", "city", "city_slug", "school_name", "pupils", "row_type"]
    assert wb["pupils"].data_validations.dataValidation  # drop-downs (row_type, city_slug)
    # empty templates: nothing to merge yet, validation still passes
    assert runner.invoke(app, ["validate", "toy", "--period", "2024-2025-S1"]).exit_code == 0
    # fill the CSV template; a bad row is reported against the incoming file
    (inc / "pupils.csv").write_text(
        "\ufeffperiod,city,city_slug,school_name,pupils,row_type\n"
        "2024-2025-S1,Астана,astana,x мектебі,1 300,part\n"
        "2024-2025-S1,Барлығы,,,1300,total\n", encoding="utf-8")
    before = (toy / PUPILS).read_bytes()
    res = runner.invoke(app, ["merge", "toy", "--period", "2024-2025-S1"])
    assert res.exit_code == 0, res.output
    after = (toy / PUPILS).read_bytes()
    assert after.startswith(before) and after.endswith(b"2024-2025-S1,\xd0\x91\xd0\xb0\xd1\x80\xd0\xbb\xd1\x8b\xd2\x93\xd1\x8b,,,1300,total\n")
    assert b"1300,part" in after
    assert not inc.exists() and (inc.parent / "2024-2025-S1.merged").is_dir()
    assert runner.invoke(app, ["prepare", "toy"]).exit_code == 0


def test_new_period_refuses_to_overwrite(toy):
    args = ["new-period", "toy", "--from", "2023-2024-S2", "--to", "2023-2024-S2"]
    res = runner.invoke(app, args)
    assert res.exit_code == 1 and "already exists" in res.output


# --- shipped data -------------------------------------------------------------------------

def test_shipped_data_has_warnings_only(project_copy):
    res = runner.invoke(app, ["validate", "--format", "json"])
    assert res.exit_code == 0, res.output
    found = [json.loads(ln) for ln in res.stdout.splitlines() if ln.startswith("{")]
    keys = {(f["table"], f["row"], f["column"]) for f in found}
    assert ("schools_by_region", 19, "leading_schools") in keys            # 1 020 vs 1 030
    assert ("student_achievements", 118, "declared_share_pct") in keys     # 28,6% vs 26,2%
    for f in found:
        assert set(f) >= {"report", "period", "source", "table", "row", "column", "declared", "computed",
                          "message"}


# --- reports: appendix, manifest, failed data leaves outputs alone --------------------------

@pytest.mark.integration
def test_report_appendix_and_manifest_count_and_bad_data_keeps_outputs(toy):
    use(toy, "declared_total_wrong.csv")
    res = runner.invoke(app, ["run", "toy", "--period", "2023-2024-S2", "--only", "all"])
    assert res.exit_code == 0, res.output
    out = toy / "output/2023-2024-S2"
    page = (out / "toy.html").read_text(encoding="utf-8")
    assert "Деректер сапасы" in page and "23 000" in page and "23 845" in page
    man = json.loads((out / "toy.manifest.json").read_text(encoding="utf-8"))
    assert man["warnings_count"] == 1
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    use(toy, "non_numeric_count.csv")
    res = runner.invoke(app, ["run", "toy", "--period", "2023-2024-S2", "--only", "all"])
    assert res.exit_code == 1
    assert 'row 3, column E "pupils"' in " ".join(res.output.split())
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_share_denominator_is_taken_per_period(toy):
    """`on:` inside a selector (YAML reads a bare `on` as true) must still join by period."""
    g = toy / GRADES
    g.write_text(g.read_text(encoding="utf-8")
                 + "2024-2025-S1,astana,1,100,part,\n2024-2025-S1,total,1,100,total,100\n", encoding="utf-8")
    assert findings_json(toy) == []
