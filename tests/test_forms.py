"""School forms (issue 14): generate one form per member school and project, fill two,
drop in a broken one -> two valid forms, one error naming the broken form's sheet and cell;
the tracking table; prepare and the per-school units; the city roll-up equals the forms' sums."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from esep.core import config, params, reports
from esep.core.errors import DataError
from esep.data import forms, prepare

PERIOD = "2024-2025"


def fill(path: Path, out: Path, passport: dict | None = None, sheets: dict | None = None) -> Path:
    """What a school does: open its form, type into the white cells and the sheets, save."""
    wb = load_workbook(path)
    pp = wb[forms.PASSPORT]
    keys = {pp.cell(row=r, column=3).value: r for r in range(2, pp.max_row + 1)}
    for k, v in (passport or {}).items():
        pp.cell(row=keys[k], column=2, value=v)
    for title, rows in (sheets or {}).items():
        ws = wb[title]
        for i, row in enumerate(rows, 2):
            for j, v in enumerate(row, 1):
                ws.cell(row=i, column=j, value=v)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


FORM_27 = dict(
    passport={"school_name": "№27 мектеп-лицей", "school_kind": "мектеп-лицей", "experience_years_from": 5,
              "experience_years_to": 25, "events_month_from": "қыркүйек", "events_month_to": "мамыр"},
    sheets={"Мақсаттар": [["Зерттеу мәдениетін дамыту"], ["Сабақты зерттеу"]],
            "Сыныптар": [["5-8", 10, 300], ["9-11", 8, 200], ["Барлығы", 18, 500]],
            "Оқыту тілі": [["қазақ", 350], ["орыс", 150]],
            "Іс-шаралар": [["семинар", "мектепішілік", "«A»"], ["шебер-сынып", "қалалық", "«B»"],
                           ["ашық сабақ", "қалалық", "«C»"], ["тренинг", None, "«D»"]],
            "Білім сапасы": [["ИЖ қатысатын сыныптар", "71,5"]],
            "SWOT": [["Күшті жақтары", "a"], ["Әлсіз жақтары", "b"], ["Күшті жақтары", "c"]]})
FORM_35 = dict(
    passport={"school_name": "№35 мектеп", "school_kind": "мектеп"},
    sheets={"Сыныптар": [["1-4", 12, None], ["Барлығы", 12, 250]],
            "Оқыту тілі": [["қазақ", 250]],
            "Іс-шаралар": [["конференция", "республикалық", "«E»"], ["вебинар", "халықаралық", "«F»"]]})
BROKEN_37 = dict(passport={"school_name": "№37 мектеп"},
                 sheets={"Іс-шаралар": [["семинар", "қалалық", "«G»"], ["семинар", "облыстық", "«H»"]]})


@pytest.fixture
def returned(project_copy):
    """Forms generated for 2024-2025; №27 and №35 (SHARE) filled in, №37's broken."""
    paths = forms.generate(PERIOD, project="share")
    inbox = config.RAW_DIR / "school_project" / "forms" / PERIOD
    gen = config.OUTPUT_DIR / "forms" / PERIOD
    fill(gen / "astana-27-share.xlsx", inbox / "astana-27-share.xlsx", **FORM_27)
    fill(gen / "astana-35-share.xlsx", inbox / "astana-35-share (1).xlsx", **FORM_35)   # renamed by a mail client
    fill(gen / "astana-37-share.xlsx", inbox / "astana-37-share.xlsx", **BROKEN_37)
    return paths


def test_one_prefilled_form_per_member_school_and_project(project_copy):
    paths = forms.generate(PERIOD)
    members = pd.read_csv(project_copy / "data/raw/city_innovation/project_members.csv")
    assert len(paths) == len(members) == 146
    assert all(p.parent == project_copy / "output/forms" / PERIOD for p in paths)
    assert not (project_copy / "data/raw/school_project/forms").exists()      # never into data/raw
    wb = load_workbook(project_copy / "output/forms" / PERIOD / "astana-67-share.xlsx")
    assert wb.sheetnames[0] == "Нұсқаулық"
    assert "Жоба: SHARE" in "\n".join(str(c.value) for c in wb["Нұсқаулық"]["A"])
    pp = wb["Паспорт"]
    got = {pp.cell(row=r, column=3).value: pp.cell(row=r, column=2).value for r in range(2, pp.max_row + 1)}
    assert got["member_id"] == "astana-67-share" and got["period"] == PERIOD
    assert (got["school_no"], got["school_name"], got["project_name"]) == (67, "№67 мектеп", "SHARE")
    assert pp.protection.sheet and pp["B2"].protection.locked and not pp["B7"].protection.locked
    ev = wb["Іс-шаралар"]
    assert [c.value for c in ev[1]] == ["Түрі", "Деңгейі", "Атауы"]
    lists = {str(dv.sqref): dv.formula1 for dv in ev.data_validations.dataValidation}
    assert "A2:A61" in lists and "B2:B61" in lists                            # drop-downs for kind, level
    # the other projects and the non-numbered members get their ids too
    names = {p.name for p in paths}
    assert {"astana-2-arnaiy-share.xlsx", "astana-politekhnikalyq-kolledzh-cisco.xlsx"} <= names


def test_two_valid_forms_and_one_error_naming_sheet_and_cell(returned):
    got = {f.member_id: f for f in forms.read_forms(PERIOD)}
    assert set(got) == {"astana-27-share", "astana-35-share", "astana-37-share"}
    assert got["astana-27-share"].valid and got["astana-35-share"].valid
    bad = got["astana-37-share"]
    assert not bad.valid and len(bad.problems) == 1
    msg = bad.first_error
    assert 'astana-37-share.xlsx, sheet "Іс-шаралар", cell B3 "Деңгейі"' in msg
    assert "found 'облыстық'" in msg and "expected one of: мектепішілік, қалалық" in msg


def test_form_problems_are_worded_with_a_fix(returned, project_copy):
    gen = config.OUTPUT_DIR / "forms" / PERIOD
    inbox = config.RAW_DIR / "school_project" / "forms" / PERIOD
    fill(gen / "astana-50-share.xlsx", inbox / "astana-50-share.xlsx",
         passport={"events_month_from": "сентябрь"}, sheets={"Сыныптар": [["1-4", "он", 5]]})
    shutil.copy(inbox / "astana-27-share.xlsx", inbox / "astana-53-share.xlsx")   # someone else's form, renamed
    got = {f.path.name: f for f in forms.read_forms(PERIOD)}
    f50 = [str(p) for p in got["astana-50-share.xlsx"].problems]
    assert any('sheet "Паспорт", cell B11' in p and "found 'сентябрь'" in p and "қыркүйек" in p for p in f50)
    assert any('sheet "Сыныптар", cell B2 "Педагогтер саны"' in p and "whole number" in p for p in f50)
    f53 = got["astana-53-share.xlsx"].first_error
    assert 'cell B2 "Форманың коды"' in f53 and "rename the file to astana-27-share.xlsx" in f53


def test_tracking_table(returned):
    t = forms.tracking(PERIOD)
    share = t[t["project_key"] == "share"].set_index("member_id")
    assert len(share) == 25
    assert share.loc["astana-27-share", "state"] == "valid"
    assert share.loc["astana-35-share", "state"] == "valid"
    assert share.loc["astana-37-share", "state"] == "invalid"
    assert 'sheet "Іс-шаралар", cell B3' in share.loc["astana-37-share", "error"]
    assert (share["state"] == "missing").sum() == 22
    summary = forms.tracking_summary(t).set_index("project_key")
    assert summary.loc["share", ["members", "valid", "invalid", "missing"]].tolist() == [25, 2, 1, 22]
    assert summary.loc["cisco", ["members", "valid", "invalid", "missing"]].tolist() == [28, 0, 0, 28]
    assert (t["state"] == "unknown").sum() == 0


def test_prepare_takes_valid_forms_only_and_the_bad_form_fails_its_own_unit(returned):
    spec = reports.get("school_project")
    prepare.prepare_report(spec)                       # one bad form: prepare still succeeds
    members = pd.read_parquet(config.PROCESSED_DIR / "school_project/members.parquet")
    assert set(members["member_id"]) == {"astana-67-share", "astana-27-share", "astana-35-share"}
    ev = pd.read_parquet(config.PROCESSED_DIR / "school_project/events.parquet")
    mine = ev[ev["member_id"] == "astana-27-share"]
    assert mine["item"].tolist() == [1, 2, 3, 4]
    assert mine["kind_key"].tolist() == ["seminar", "master_class", "open_lesson", "training"]
    assert mine["level_key"].isna().tolist() == [False, False, False, True]
    assert "astana-37-share" not in set(ev["member_id"])          # never the bad form's rows
    bands = pd.read_parquet(config.PROCESSED_DIR / "school_project/grade_bands.parquet")
    b27 = bands[bands["member_id"] == "astana-27-share"]
    assert b27[["grade_from", "grade_to"]].iloc[1].tolist() == [9, 11]
    assert b27["row_type"].tolist() == ["part", "part", "total"]
    swot = pd.read_parquet(config.PROCESSED_DIR / "school_project/swot.parquet")
    assert swot[swot["member_id"] == "astana-27-share"]["item"].tolist() == [1, 1, 2]   # within quadrant
    q = pd.read_parquet(config.PROCESSED_DIR / "school_project/knowledge_quality.parquet")
    assert q[q["member_id"] == "astana-27-share"]["quality_pct"].tolist() == [71.5]
    schools = pd.read_parquet(config.PROCESSED_DIR / "school_project/schools.parquet").set_index("school_id")
    assert schools.loc["astana-27", "school_name"] == "№27 мектеп-лицей"
    assert schools.loc["astana-67", "school_name"].startswith("Ілияс Есенберлин")   # the CSV's row wins

    # units: the members of the period's forms (file names), each checked on its own
    (config.PARAMS_DIR / "school_project" / f"{PERIOD}.yaml").write_text(
        f'period: "{PERIOD}"\nmember: ["all", "*"]\n', encoding="utf-8")
    units = {u.variant: u for u in params.units_for(spec, PERIOD)}
    assert {"astana-27-share", "astana-35-share", "astana-37-share"} <= set(units)
    forms.check_unit(spec, units["astana-27-share"])
    forms.check_unit(spec, units[None])
    with pytest.raises(DataError) as exc:
        forms.check_unit(spec, units["astana-37-share"])
    assert 'sheet "Іс-шаралар", cell B3 "Деңгейі"' in str(exc.value)


def test_a_form_repeating_a_report_already_in_the_data_is_refused(project_copy):
    forms.generate("2023-2024", only=["astana-67-share"])
    gen = config.OUTPUT_DIR / "forms" / "2023-2024"
    inbox = config.RAW_DIR / "school_project" / "forms" / "2023-2024"
    fill(gen / "astana-67-share.xlsx", inbox / "astana-67-share.xlsx", **FORM_35)
    f = forms.read_forms("2023-2024", existing=pd.read_csv(config.RAW_DIR / "school_project/members.csv"))[0]
    assert not f.valid and "already in school_project/members.csv" in f.first_error


def test_rollup_equals_the_sums_of_the_forms(project_copy):
    """Forms of the city's school year (2023-2024: the city report 2023-2024-S2) beside
    5-7-кесте: the roll-up's numbers are the forms' sums (+ №67's transcribed report)."""
    from helpers import rollup

    college = "astana-politekhnikalyq-kolledzh-cisco"         # no school number
    forms.generate("2023-2024", only=["astana-27-share", "astana-35-share", "astana-37-share", "astana-27-cisco",
                                      college])
    gen = config.OUTPUT_DIR / "forms" / "2023-2024"
    inbox = config.RAW_DIR / "school_project" / "forms" / "2023-2024"
    fill(gen / "astana-27-share.xlsx", inbox / "astana-27-share.xlsx", **FORM_27)
    fill(gen / "astana-35-share.xlsx", inbox / "astana-35-share.xlsx", **FORM_35)
    fill(gen / "astana-37-share.xlsx", inbox / "astana-37-share.xlsx", **BROKEN_37)
    fill(gen / "astana-27-cisco.xlsx", inbox / "astana-27-cisco.xlsx",
         sheets={"Сыныптар": [["10-11", 2, 40]], "Оқыту тілі": [["орыс", 40]],
                 "Іс-шаралар": [["ашық сабақ", "мектепішілік", "«K»"]]})
    fill(gen / f"{college}.xlsx", inbox / f"{college}.xlsx", passport={"school_name": "Политехникалық колледж"},
         sheets={"Сыныптар": [["1", 1, 60]], "Оқыту тілі": [["орыс", 60]]})
    assert all(f.valid for f in forms.read_forms("2023-2024") if "37" not in f.path.name)
    for name in ("school_project", "city_innovation"):
        prepare.prepare_report(reports.get(name))
    load = lambda r, s: pd.read_parquet(config.PROCESSED_DIR / r / f"{s}.parquet")   # noqa: E731
    city = {s: load("city_innovation", s) for s in ("projects", "project_orgs", "project_members", "events",
                                                    "pupils_by_language")}
    city = {s: df[df["period"] == "2023-2024-S2"] for s, df in city.items()}
    school = {s: load("school_project", s) for s in ("members", "grade_bands", "events", "pupils_by_language")}
    reps = rollup.reports_for(school["members"], "2023-2024", "Астана")
    cov = rollup.coverage(city["project_members"], city["projects"], city["project_orgs"],
                          city["pupils_by_language"], reps, school["grade_bands"],
                          school["pupils_by_language"]).set_index("project_key")
    # SHARE: №67 (transcribed, 550) + №27 (bands 300 + 200; the printed 500 is not added) + №35 (250)
    assert cov.loc["share", "orgs_forms"] == 3 and cov.loc["share", "orgs_city"] == 25
    assert cov.loc["share", "pupils_forms"] == 550 + 300 + 200 + 250
    assert cov.loc["share", "pupils_city"] == 11114
    assert cov.loc["share", "kaz_forms"] == 350 + 250 and cov.loc["share", "rus_forms"] == 150
    assert cov.loc["cisco", "orgs_forms"] == 2 and cov.loc["cisco", "pupils_forms"] == 40 + 60
    assert cov.loc["cisco", "rus_forms"] == 40 + 60 and cov.loc["cisco", "kaz_forms"] is None
    assert cov.loc["cisco", "orgs_not_listed"] == 0
    assert cov.loc["ib", "orgs_forms"] == 0 and cov.loc["ib", "pupils_forms"] is None
    ev = rollup.events_by_group(city["events"], reps, school["events"])
    share = ev[ev["project_key"] == "share"].set_index("group")["events_forms"].to_dict()
    # №67: 5 seminars + webinar, conference, master class + 2 trainings; №27: seminar, master class,
    # open lesson, training; №35: conference, webinar
    assert share == {"seminars": 6 + 1 + 1, "meetings": 1 + 1, "master_classes": 3 + 2, "open_lessons": 1}
    assert ev[ev["project_key"] == "cisco"].set_index("group")["events_forms"]["open_lessons"] == 1
    found = rollup.findings(cov.reset_index(), ev)
    share_f = found[found["project_key"] == "share"]["finding_en"].tolist()
    assert "SHARE: 3 of 25 member schools reported; 1 300 pupils in the forms, 11 114 in 5-кесте" in \
        [s.replace("\u00a0", " ") for s in share_f]


def test_rollup_helpers_on_three_row_frames():
    from helpers import rollup

    bands = pd.DataFrame({"member_id": ["a", "a", "b"], "period": ["y"] * 3, "row_type": ["part", "total", "total"],
                          "pupils": [10, 99, 7]})
    assert rollup.pupils_per_report(bands).set_index("member_id")["pupils"].to_dict() == {"a": 10, "b": 7}
    members = pd.DataFrame({"city": ["Астана"] * 3, "project_key": ["p"] * 3,
                            "member_name": ["№67 мектеп", "№2 арнайы мектеп", "политехникалық колледж"]})
    assert rollup.city_members(members)["school_id"].tolist() == ["astana-67", "astana-2-arnaiy",
                                                                   "astana-politekhnikalyq-kolledzh"]
    assert forms.list_period(["2022-2023-S2", "2023-2024-S2"], "2024-2025") == "2023-2024-S2"
    assert forms.list_period(["2023-2024-S1", "2023-2024-S2", "2024-2025-S1"], "2023-2024") == "2023-2024-S2"
    assert forms.short_name("2 сыныптарға арналған «Салауатты тамақтану мектебі»") == "Салауатты тамақтану мектебі"
    from esep.core.reports import form_member
    assert [form_member(n) for n in ("astana-67-share (1).xlsx", "~$astana-67-share.xlsx", "Форма.xlsx",
                                     "astana-67-share.pdf")] == ["astana-67-share", None, None, None]


def test_city_report_is_keyed_on_the_school_reports_it_rolls_up(project_copy):
    """city_innovation `uses: [school_project]`: a returned form makes the city report stale."""
    from esep.pipeline import cache

    spec = reports.get("city_innovation")
    assert spec.uses == ("school_project",)
    unit = params.units_for(spec, "2023-2024-S2")[0]
    cache.reset_memo()
    before = cache.unit_inputs(spec, unit)["raw"]
    assert "data/raw/school_project/members.csv" in before
    forms.generate("2023-2024", only=["astana-27-share"])
    fill(config.OUTPUT_DIR / "forms/2023-2024/astana-27-share.xlsx",
         config.RAW_DIR / "school_project/forms/2023-2024/astana-27-share.xlsx", **FORM_35)
    cache.reset_memo()
    after = cache.unit_inputs(spec, unit)["raw"]
    assert set(after) - set(before) == {"data/raw/school_project/forms/2023-2024/astana-27-share.xlsx"}


@pytest.mark.integration
def test_city_report_shows_the_rollup_and_skips_it_without_school_reports(project_copy, tmp_path):
    """The city notebook's roll-up section: the forms' sums for 2023-2024-S2 (№67's transcribed
    report + two forms), and no section (sections_skipped) for a year with no school report."""
    import papermill as pm
    import scrapbook as sb

    forms.generate("2023-2024", only=["astana-27-share", "astana-35-share"])
    gen = config.OUTPUT_DIR / "forms" / "2023-2024"
    inbox = config.RAW_DIR / "school_project" / "forms" / "2023-2024"
    fill(gen / "astana-27-share.xlsx", inbox / "astana-27-share.xlsx", **FORM_27)
    fill(gen / "astana-35-share.xlsx", inbox / "astana-35-share.xlsx", **FORM_35)
    spec = reports.get("city_innovation")
    for name in ("school_project", "city_innovation"):
        prepare.prepare_report(reports.get(name))
    scraps = {}
    for period in ("2023-2024-S2", "2022-2023-S2"):
        out = tmp_path / f"city_{period}.ipynb"
        pm.execute_notebook(str(spec.notebook), str(out), kernel_name="python3",
                            parameters={"period": period, "city": "Астана"}, progress_bar=False)
        scraps[period] = sb.read_notebook(str(out)).scraps.data_dict
    s = scraps["2023-2024-S2"]
    assert "school_forms" not in s["sections_skipped"]
    assert (s["rollup_reports"], s["rollup_projects"]) == (3, 1)
    assert s["rollup_share_orgs_forms"] == 3
    assert s["rollup_share_pupils_forms"] == 550 + 300 + 200 + 250
    assert s["rollup_findings_count"] >= 2
    assert "school_forms" in scraps["2022-2023-S2"]["sections_skipped"]
    assert scraps["2022-2023-S2"]["rollup_reports"] == 0


def _expected_rollup(*filled: dict) -> dict:
    """What the roll-up must show, computed from the forms as the test filled them: pupils
    (the bands' sum, else the printed «Барлығы»), pupils by language, events by 6-кесте's group."""
    from helpers import rollup

    ev = forms.school_schema().tables["events"].columns
    kind_key = dict(zip(ev["kind"].allowed, ev["kind_key"].allowed))
    lang = forms.school_schema().tables["pupils_by_language"].columns
    lang_key = dict(zip(lang["language"].allowed, lang["language_key"].allowed))
    out = {"pupils": 0, "events": dict.fromkeys(rollup.GROUP_ORDER, 0), "langs": {}}
    for form in filled:
        bands = form["sheets"].get("Сыныптар", [])
        parts = [r[2] for r in bands if r[0] != "Барлығы" and r[2] is not None]
        out["pupils"] += sum(parts) if parts else sum(r[2] for r in bands if r[0] == "Барлығы")
        for name, n in form["sheets"].get("Оқыту тілі", []):
            out["langs"][lang_key[name]] = out["langs"].get(lang_key[name], 0) + n
        for kind, _level, _title in form["sheets"].get("Іс-шаралар", []):
            out["events"][rollup.EVENT_GROUPS[kind_key[kind]]] += 1
    return out


def _cell(v) -> int | None:
    s = str(v).replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    return None if s in ("-", "nan", "") else int(float(s))


@pytest.mark.integration
def test_new_city_period_rolls_up_the_forms_before_the_city_tables_are_filled(returned, project_copy):
    """Issue 14's scenario, city side: the methodologist makes 2024-2025-S2 (params + empty
    templates) while the schools' 2024-2025 forms come in (two valid, one broken). Both report
    types build: two school reports, one failed unit naming the broken form's sheet and cell,
    the tracking table in the index, and the city report of 2024-2025-S2 whose sections
    without rows are skipped with a note and whose roll-up shows the forms' sums against the
    member list the forms were made from (2023-2024-S2's), with no city figure of another period."""
    from io import StringIO

    import scrapbook as sb

    from esep.core import periods
    from esep.data import newperiod
    from esep.pipeline.build import build

    city_period = "2024-2025-S2"
    made = newperiod.new_period(reports.get("city_innovation"), "2023-2024-S2", city_period)
    assert made.workbook.is_file() and made.params_file.is_file()            # header-only templates
    # the params `esep forms` writes: the period's summary + one report per returned form (№67's
    # transcribed report is of 2023-2024: no 2024-2025 unit)
    assert forms.ensure_params(PERIOD) is not None
    school = {r.unit.variant: r for r in build("school_project", PERIOD, formats=("html",), jobs=2)}
    assert set(school) == {None, "astana-27-share", "astana-35-share", "astana-37-share"}
    assert school["astana-27-share"].status == "ok" and school["astana-35-share"].status == "ok"
    assert school["astana-37-share"].status == "failed"
    assert 'sheet "Іс-шаралар", cell B3 "Деңгейі"' in school["astana-37-share"].message
    school_dir = project_copy / "output" / PERIOD / "school_project"
    assert "№27 мектеп-лицей" in (school_dir / "astana-27-share.html").read_text(encoding="utf-8")
    import json                 # a school's manifest names its own form, not the other schools'

    doc = json.loads((school_dir / "astana-27-share.manifest.json").read_text(encoding="utf-8"))
    assert [k for k in doc["inputs"] if "/forms/" in k] == [f"data/raw/school_project/forms/{PERIOD}/astana-27-share.xlsx"]
    city = build("city_innovation", city_period, formats=("html",), jobs=1)
    assert [(r.unit.period, r.status) for r in city] == [(city_period, "ok")], [r.message for r in city]

    index = (project_copy / "output" / "index.html").read_text(encoding="utf-8")
    assert "Мектептердің есеп формалары" in index and "№37 мектеп" in index and "cell B3" in index
    assert f"{city_period}/city_innovation.html" in index

    out = project_copy / "output" / city_period
    s = sb.read_notebook(str(out / "city_innovation.ipynb")).scraps.data_dict
    assert {"projects", "events", "languages", "levels_semester"} <= set(s["sections_skipped"])
    assert "school_forms" not in s["sections_skipped"]
    members = pd.read_csv(project_copy / "data/raw/city_innovation/project_members.csv")
    list_period = forms.list_period(sorted(set(members["period"])), PERIOD)
    share_listed = int(((members["period"] == list_period) & (members["project_key"] == "share")).sum())
    want = _expected_rollup(FORM_27, FORM_35)
    assert s["rollup_list_period"] == list_period == "2023-2024-S2"
    assert (s["rollup_reports"], s["rollup_projects"], s["rollup_invalid"]) == (2, 1, 1)
    assert (s["rollup_share_orgs_listed"], s["rollup_share_orgs_forms"]) == (share_listed, 2)
    assert s["rollup_share_pupils_forms"] == want["pupils"]

    html = (out / "city_innovation.html").read_text(encoding="utf-8")
    assert "Traceback" not in html and not list((project_copy / "output/.esep/failed").glob(f"{city_period}*"))
    assert f"{periods.label(list_period, 'attr')} мүшелер тізімімен" in html     # says which list
    assert "қалалық кестелер әлі толтырылмаған" in html and "дерек жоқ" in html
    assert "№37 мектеп (SHARE)" in html                                        # the form left out
    found = pd.read_html(StringIO(html))
    cov = next(t for t in found if ("ББҰ саны", "тізімде") in list(t.columns))
    assert not any("кесте" in str(c) for c in cov.columns)                     # no city column, no figure
    row = cov[cov[("Жоба", "Жоба")] == "SHARE"].iloc[0]
    got = {c[1]: _cell(v) for c, v in row.items() if c[0] != "Жоба"}
    assert (got["тізімде"], got["есеп бергені"], got["барлығы"]) == (share_listed, 2, want["pupils"])
    assert (got["қазақ тілінде"], got["орыс тілінде"]) == (want["langs"]["kaz"], want["langs"]["rus"])
    others = cov[cov[("Жоба", "Жоба")] != "SHARE"]
    assert (others[("ББҰ саны", "есеп бергені")].map(_cell) == 0).all()
    ev = next(t for t in found if "Барлығы" in [str(c) for c in t.columns] and "Жоба" in [str(c) for c in t.columns])
    labels = pd.read_csv(project_copy / "data/raw/city_innovation/events.csv").drop_duplicates("event_type_key")
    labels = dict(zip(labels["event_type_key"], labels["event_type"]))
    share_ev = ev[ev["Жоба"] == "SHARE"].iloc[0]
    for group, n in want["events"].items():
        label = labels[group]
        assert _cell(share_ev[label[:1].upper() + label[1:]]) == n, group
    assert _cell(share_ev["Барлығы"]) == sum(want["events"].values())
    quality = next(t for t in found if list(t.columns) == ["Айырмашылық"])
    from helpers import kazakh as kz
    assert quality["Айырмашылық"].tolist() == [f"SHARE: тізімдегі {share_listed} мүше мектептің "
                                               f"{kz.numeral(2, 'poss')} есеп берді"]


def test_rollup_against_an_earlier_member_list_without_city_tables():
    """No 5-7-кесте for the period: the city's columns are None (never another period's value),
    the list is the latest before the school year, and the one finding is the list's coverage."""
    from helpers import rollup

    members = pd.DataFrame({"period": ["2023-2024-S2"] * 3, "city": ["Астана"] * 3, "project_key": ["p"] * 3,
                            "member_name": ["№1 мектеп", "№2 мектеп", "№3 мектеп"]})
    used, listed = rollup.member_list(members, "2024-2025")
    assert used == "2023-2024-S2" and len(listed) == 3
    reports = pd.DataFrame({"member_id": ["astana-1-p", "astana-1-p"], "period": ["2024-2025", "2023-2024"],
                            "school_id": ["astana-1"] * 2, "project_key": ["p"] * 2})
    this_year = rollup.reports_for(reports, "2024-2025")
    bands = pd.DataFrame({"member_id": ["astana-1-p"] * 2, "period": ["2024-2025", "2023-2024"],
                          "row_type": ["part"] * 2, "pupils": [40, 999]})        # last year's row is not summed
    empty = {c: pd.DataFrame(columns=cols) for c, cols in (
        ("projects", ["project_key", "project_name", "row_type", "pupils"]),
        ("orgs", ["project_key", "source", "orgs"]),
        ("langs", ["project_key", "row_type", "language_key", "pupils"]),
        ("events", ["project_key", "project_name", "row_type", "event_type_key", "event_type", "events"]))}
    status = {"a.xlsx": {"period": "2024-2025", "member_id": "astana-2-p", "valid": False},
              "b.xlsx": {"period": "2024-2025", "member_id": "astana-1-p", "valid": True}}
    invalid = rollup.invalid_forms(status, "2024-2025")
    assert invalid == {"astana-2-p"}
    cov = rollup.coverage(listed, empty["projects"], empty["orgs"], empty["langs"], this_year, bands, None,
                          names={"p": "«Жоба»"}, invalid=invalid).set_index("project_key")
    assert cov.loc["p", ["project_name", "orgs_listed", "orgs_forms", "orgs_invalid", "pupils_forms"]].tolist() \
        == ["Жоба", 3, 1, 1, 40]
    assert cov.loc["p", "pupils_city"] is None and cov.loc["p", "orgs_city"] is None
    school_events = pd.DataFrame({"member_id": ["astana-1-p"] * 2, "period": ["2024-2025", "2023-2024"],
                                  "kind_key": ["webinar", "seminar"]})
    ev = rollup.events_by_group(empty["events"], this_year, school_events, names={"p": "Жоба"},
                                labels={"seminars": "Семинар"})
    assert ev.set_index("group").loc["seminars", ["events_forms", "events_city", "in_city", "event_type"]].tolist() \
        == [1, None, False, "Семинар"]
    found = rollup.findings(cov.reset_index(), ev, {})
    assert found["finding_en"].tolist() == ["Жоба: 1 of 3 member schools reported"]
    assert list(rollup.coverage_table(cov.reset_index(), city=False).columns) == \
        ["project_name", "orgs_listed", "orgs_forms", "pupils_forms"]
    assert rollup.table_list(["5-кесте", "6-кесте", "7-кесте"]) == "5-, 6-, 7-кесте"


# --- at scale (issue 14 item 6): a school's report keyed on its own form; forms read once -------

def test_one_changed_form_makes_only_its_own_report_stale(returned):
    """Each school's unit is keyed on its own form and its own rows (data/processed/
    school_project/_units.json), not on every form: re-filling №35's form changes №35's
    key and the summary's, never №27's; №27's key and manifest inputs name no other form."""
    from esep.pipeline import cache

    spec = reports.get("school_project")
    (config.PARAMS_DIR / "school_project" / f"{PERIOD}.yaml").write_text(
        f'period: "{PERIOD}"\nmember: ["all", "*"]\n', encoding="utf-8")

    def keys():
        cache.reset_memo()
        prepare.prepare_report(spec)
        units = {u.variant: u for u in params.units_for(spec, PERIOD)}
        return units, {v: cache.unit_key(spec, u, ("html",)) for v, u in units.items()}

    units, before = keys()
    raw27 = before["astana-27-share"].inputs["raw"]
    forms27 = [k for k in raw27 if "/forms/" in k]
    assert forms27 == [f"data/raw/school_project/forms/{PERIOD}/astana-27-share.xlsx"]
    assert "data/raw/school_project/events.csv" in raw27              # the shared CSVs stay in the key
    assert len([k for k in before[None].inputs["raw"] if "/forms/" in k]) == 3   # the summary: every form
    assert cache.unit_scope(spec, units[None]) is None

    gen = config.OUTPUT_DIR / "forms" / PERIOD
    inbox = config.RAW_DIR / "school_project" / "forms" / PERIOD
    fill(gen / "astana-35-share.xlsx", inbox / "astana-35-share (1).xlsx",
         passport=FORM_35["passport"], sheets={**FORM_35["sheets"], "Ұсыныстар": [["Жаңа ұсыныс"]]})
    _, after = keys()
    assert after["astana-27-share"].digest == before["astana-27-share"].digest
    assert after["astana-35-share"].digest != before["astana-35-share"].digest
    assert after[None].digest != before[None].digest
    recs = pd.read_parquet(config.PROCESSED_DIR / "school_project/recommendations.parquet")
    assert recs[recs["member_id"] == "astana-35-share"]["text"].tolist() == ["Жаңа ұсыныс"]


def test_forms_are_read_once_per_content(returned, monkeypatch):
    """A second read of the period's forms takes every form from the cache (no workbook is
    opened); a changed form is read again; the results equal a fresh read's."""
    from esep.data.forms import read

    first = {f.member_id: (f.valid, [str(p) for p in f.problems]) for f in forms.read_forms(PERIOD)}
    opened = []
    real = read.read_form
    monkeypatch.setattr(read, "read_form", lambda path, *a: opened.append(path.name) or real(path, *a))
    read._memo.clear()
    again = {f.member_id: (f.valid, [str(p) for p in f.problems]) for f in forms.read_forms(PERIOD)}
    assert again == first and opened == []
    light = {f.member_id: (f.valid, [str(p) for p in f.problems]) for f in forms.read_forms(PERIOD, light=True)}
    assert light == first
    gen = config.OUTPUT_DIR / "forms" / PERIOD
    inbox = config.RAW_DIR / "school_project" / "forms" / PERIOD
    fill(gen / "astana-37-share.xlsx", inbox / "astana-37-share.xlsx", passport={"school_name": "№37 мектеп"},
         sheets={"Іс-шаралар": [["семинар", "қалалық", "«G»"]]})               # №37 fixes its form
    fixed = {f.member_id: f for f in forms.read_forms(PERIOD)}
    assert opened == ["astana-37-share.xlsx"] and fixed["astana-37-share"].valid


def test_many_forms_are_prepared_in_a_child_process(returned, monkeypatch):
    """With many returned forms prepare runs in a forked child (the build process does not
    keep the memory of reading them): the same processed tables; a data error comes back
    as the build's error text."""
    from esep.pipeline import build

    monkeypatch.setattr(build, "IN_CHILD_FROM", 1)
    spec = reports.get("school_project")
    assert build.prepare_all([spec], force=True) == {}
    members = pd.read_parquet(config.PROCESSED_DIR / "school_project/members.parquet")
    assert {"astana-27-share", "astana-35-share"} <= set(members["member_id"])
    assert "astana-37-share" not in set(members["member_id"])
    with open(config.RAW_DIR / "school_project/members.csv", "a", encoding="utf-8") as fh:
        fh.write("astana-99-share,2024-2025,Астана,astana-99,nope\n")
    errors = build.prepare_all([spec], force=True)
    assert "school_project" in errors and "members.csv" in errors["school_project"]
