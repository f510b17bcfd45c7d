"""school_project (seed 002): raw data against the seed, params expansion, and integration
tests that execute the report notebook with papermill and check the glued figures against
the values read from the raw data (and, where that is the point, the seed's printed value).

Unit tests of helpers.school: tests/test_helpers_school.py."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from helpers import tables
from reportrun import cached_runner, prepared_project

REPO = Path(__file__).resolve().parents[1]
REPORT = "school_project"
RAW = REPO / "data" / "raw" / REPORT
MEMBER = "astana-67-share"        # gymnasium №67, Astana, SHARE (seed 002)
PERIOD = "2023-2024"
MEMBER_SECTIONS = {"member", "bands", "qualification", "events", "quality", "outputs", "courses",
                   "swot", "recommendations"}


def _raw(stem: str) -> pd.DataFrame:
    df = pd.read_csv(RAW / f"{stem}.csv", dtype={"period": str})
    return df


def _mine(stem: str, member: str = MEMBER, period: str = PERIOD) -> pd.DataFrame:
    df = _raw(stem)
    return df[(df["member_id"] == member) & (df["period"] == period)]


# --- raw data against the seed ----------------------------------------------------------

def test_raw_keeps_the_printed_teacher_total_as_declared():
    bands = _mine("grade_bands")
    printed = tables.declared(bands)
    assert printed["teachers"].tolist() == [67]          # «педагогтердің жалпы саны-67»
    assert printed["pupils"].tolist() == [550]           # «білім алушыларының жалпы саны-550»
    assert tables.parts(bands)["teachers"].sum() == 67   # 25 + 17 + 25: the seed adds up


def test_raw_every_table_is_keyed_by_member_and_period():
    members = _raw("members")
    ids = set(members["member_id"])
    for p in RAW.glob("*.csv"):
        if p.stem in ("schools", "projects", "members"):
            continue
        df = _raw(p.stem)
        assert {"member_id", "period"} <= set(df.columns), p.name
        assert set(df["member_id"]) <= ids, p.name
    for mid, school, project in zip(members["member_id"], members["school_id"], members["project_key"]):
        assert mid == f"{school}-{project}"


def test_shipped_data_has_no_findings(monkeypatch):
    from esep.data import findings
    from esep.core import reports

    monkeypatch.setenv("ESEP_ROOT", str(REPO))
    found, loaded = findings.findings_for(reports.get(REPORT), PERIOD)
    assert loaded.problems == []
    assert found == []


def test_declared_teacher_total_wrong_is_a_finding(project_copy):
    path = project_copy / "data/raw" / REPORT / "grade_bands.csv"
    text = path.read_text(encoding="utf-8")
    assert ",67,550,total," in text
    path.write_text(text.replace(",67,550,total,", ",68,550,total,"), encoding="utf-8")
    from esep.data import findings
    from esep.core import reports

    found, loaded = findings.findings_for(reports.get(REPORT), PERIOD)
    assert loaded.problems == []
    totals = [f for f in found if f.check == "total"]
    assert len(totals) == 1 and totals[0].table == "grade_bands" and totals[0].row == 5
    assert (totals[0].declared, totals[0].computed) == (68, 67)


@pytest.mark.parametrize("period", [PERIOD])
def test_params_expand_to_summary_and_every_member(period, monkeypatch):
    monkeypatch.setenv("ESEP_ROOT", str(REPO))
    from esep.core import params
    from esep.core import reports

    spec = reports.get(REPORT)
    units = params.units_for(spec, period)
    ids = list(dict.fromkeys(_raw("members")["member_id"]))
    assert [u.variant for u in units] == [None, *ids]
    assert units[0].output_base().relative_to(REPO).as_posix() == f"output/{period}/{REPORT}"
    assert units[1].output_base().relative_to(REPO).as_posix() == f"output/{period}/{REPORT}/{MEMBER}"
    assert set(spec.inputs) == {f"{REPORT}/{p.name}" for p in RAW.glob("*.csv")}


def test_expand_picks_up_a_new_member_from_the_data(project_copy):
    """A school's data added to members.csv becomes one more report, no code change."""
    path = project_copy / "data/raw" / REPORT / "members.csv"
    row = path.read_text(encoding="utf-8").splitlines()[1].replace("astana-67", "astana-35")
    path.write_text(path.read_text(encoding="utf-8") + row + "\n", encoding="utf-8")
    from esep.core import params
    from esep.core import reports

    units = params.units_for(reports.get(REPORT), PERIOD)
    assert [u.variant for u in units] == [None, MEMBER, "astana-35-share"]


# --- integration: execute the notebook ---------------------------------------------------

@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A scratch project with this report's notebook, params and raw data, prepared by esep."""
    with prepared_project(tmp_path_factory.mktemp("school_project"), REPORT) as root:
        yield root


@pytest.fixture(scope="module")
def run(project):
    """Execute the notebook once per parameter set; return its scraps as plain values."""
    import nbformat

    from esep.notebook.scraps import read_scraps

    return cached_runner(project, REPORT, lambda out: read_scraps(nbformat.read(str(out), as_version=4)))


@pytest.mark.integration
def test_member_report_teachers_pupils_and_declared_total(run):
    s = run(period=PERIOD, member=MEMBER)
    bands = _mine("grade_bands")
    parts = tables.parts(bands)
    assert s["teachers_total"] == int(parts["teachers"].sum())
    assert s["teachers_total_declared"] == 67            # the seed's printed total, kept as declared
    assert s["teachers_total_agrees"] is True
    for band, n in zip(parts["grade_band"], parts["teachers"]):
        assert s[f"teachers_grades_{band.replace('-', '_')}"] == n
    # no band carries pupils: the report uses the printed total and says so
    assert s["pupils_total"] == int(tables.declared(bands)["pupils"].iloc[0])
    assert s["pupils_total_from"] == "declared"
    assert s["grade_bands"] == ", ".join(parts["grade_band"])
    assert s["teachers_by_band"].startswith(f"{parts['grade_band'].iloc[0]} сыныптар арасында "
                                            f"{parts['teachers'].iloc[0]} мұғалім")


@pytest.mark.integration
def test_member_report_names_and_heading(run):
    s = run(period=PERIOD, member=MEMBER)
    school = _raw("schools").set_index("school_id").loc["astana-67"]
    assert s["school_name"] == school["school_name"]
    assert s["school_name_loc"] == "Ілияс Есенберлин атындағы №67 гимназиясында"   # as the seed's title
    assert s["project_title"] == "«SHARE» халықаралық жобасы"                       # as the seed prints it
    assert s["report_place"].startswith("Астана қаласы, ")
    assert s["n_leaders"] == len(_mine("leaders")) and s["n_goals"] == len(_mine("goals"))
    assert s["leaders"] == ", ".join(_mine("leaders")["teacher_name"])


@pytest.mark.integration
def test_member_report_events_by_kind_and_level(run):
    s = run(period=PERIOD, member=MEMBER)
    ev = _mine("events")
    assert s["events_total"] == len(ev)
    for k, n in ev["kind_key"].value_counts().items():
        assert s[f"events_{k}"] == n, k
    for k, n in ev["level_key"].value_counts().items():
        assert s[f"events_level_{k}"] == n, k
    assert s["events_level_none"] == int(ev["level_key"].isna().sum())
    m = _mine("members").iloc[0]
    assert s["events_months"] == f"{m['events_month_from']} – {m['events_month_to']}"
    assert s["events_by_kind"].startswith(f"{(ev['kind_key'] == 'seminar').sum()} семинар, ")


@pytest.mark.integration
def test_member_report_quality_outputs_courses_swot(run):
    s = run(period=PERIOD, member=MEMBER)
    q = _mine("knowledge_quality")
    assert s["knowledge_quality_pct"] == q["quality_pct"].iloc[0]
    assert s["knowledge_quality_text"] == "84%"                    # the seed prints «84 %»
    assert s["outputs_total"] == len(_mine("outputs"))
    c = _mine("courses")
    assert s["course_teachers_total"] == int(c["teachers"].sum())
    assert s["courses_text"] == f"{c['course'].iloc[0]} тренері – {c['teachers'].iloc[0]} мұғалім"
    sw = _mine("swot")
    for k in ("strengths", "weaknesses", "threats", "opportunities"):
        assert s[f"swot_{k}"] == int((sw["quadrant_key"] == k).sum())
    assert s["recommendations_total"] == len(_mine("recommendations"))
    m = _mine("members").iloc[0]
    assert s["experience_years"] == f"{m['experience_years_from']}-{m['experience_years_to']}"
    assert s["categories"] == ", ".join(_mine("qualification")["category"])


@pytest.mark.integration
def test_member_report_captions_and_sections(run):
    s = run(period=PERIOD, member=MEMBER)
    assert s["sections_skipped"] == ["summary"]
    assert (s["n_tables"], s["n_figures"]) == (8, 2)


@pytest.mark.integration
def test_summary_lists_every_member_of_the_period(run):
    s = run(period=PERIOD, member="all")
    members = _raw("members")
    mine = members[members["period"] == PERIOD]
    assert s["n_reports"] == len(mine)
    assert s["n_schools"] == mine["school_id"].nunique()
    assert s["summary_events_total"] == len(_raw("events").query("period == @PERIOD"))
    assert set(s["sections_skipped"]) == MEMBER_SECTIONS
    assert s["n_tables"] == 1


@pytest.mark.integration
def test_member_without_data_for_the_period_is_a_note_not_a_failure(run):
    s = run(period="2022-2023", member=MEMBER)
    assert set(s["sections_skipped"]) == MEMBER_SECTIONS | {"summary"}
    assert s["n_tables"] == 0


@pytest.mark.integration
def test_unknown_member_fails_with_known_ids(run):
    import papermill as pm

    with pytest.raises(pm.PapermillExecutionError, match=MEMBER):
        run(period=PERIOD, member="nowhere")


# --- template hygiene ------------------------------------------------------------------------

def test_notebook_template_is_clean_and_parameterised():
    import nbformat

    nb = nbformat.read(REPO / "notebooks" / f"{REPORT}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert f'period = "{PERIOD}"' in code[0].source and f'member = "{MEMBER}"' in code[0].source
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert len({c.id for c in nb.cells}) == len(nb.cells)
    narrative = [c for c in nb.cells if "narrative" in c.metadata.get("tags", [])]
    assert narrative and all("{{" in c.source for c in narrative)
    # every markdown cell of the member report says its section (so a skipped one is dropped)
    assert all(c.metadata.get("esep", {}).get("section") for c in nb.cells if c.cell_type == "markdown")
