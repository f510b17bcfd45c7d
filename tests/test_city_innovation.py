"""Integration: the city_innovation notebook reproduces seed 000 (Astana, 2023-2024-S2)
and builds another period from the same raw files, skipping what has no data."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd
import papermill as pm
import pytest
import scrapbook as sb

from esep.data import prepare
from esep.core import reports

REPO_RAW = Path(__file__).resolve().parents[1] / "data" / "raw" / "city_innovation"

pytestmark = pytest.mark.integration


@pytest.fixture
def city_project(project_copy):
    spec = reports.get("city_innovation")
    known = reports.all_reports()
    for used in spec.uses:            # the school reports it rolls up (issue 14)
        if used in known:
            prepare.prepare_report(known[used])
    prepare.prepare_report(spec)
    return spec


def execute(spec, tmp_path, period):
    out = tmp_path / f"city_innovation_{period}.ipynb"
    pm.execute_notebook(str(spec.notebook), str(out), kernel_name="python3",
                        parameters={"period": period, "city": "Астана"}, progress_bar=False)
    return out, sb.read_notebook(str(out)).scraps.data_dict


def test_reproduces_seed_2023_2024_s2(city_project, tmp_path):
    out, s = execute(city_project, tmp_path, "2023-2024-S2")
    from esep.notebook import consistency
    from esep.notebook.scraps import read_scraps

    # one value per quantity: no named figure printed with two values (text vs tables)
    scraps = read_scraps(nbformat.read(str(out), as_version=4))
    assert scraps.get("esep_figures_shown"), "the notebook declares the table cells that print figures"
    assert consistency.contradictions(scraps) == []
    # headline (intro paragraph)
    assert s["projects_total"] == 10
    assert (s["projects_international"], s["projects_city"]) == (5, 5)
    assert s["pupils_total"] == 22645
    assert s["pupils_international"] == 18240
    assert s["pupils_city"] == 4405
    assert round(s["pupils_international_pct"], 1) == 80.5
    assert s["pupils_of_all_city_pupils_pct"] == 8.6
    assert s["projects_opened"] == 2
    # «… білім алушыларының 8,6%-ы» (a glued form, no ending typed after a placeholder)
    assert s["pupils_of_all_city_pupils_pct_poss"] == "8,6%-ы"
    # two quantities, said as two: 10 projects by kind, 11 summed over the levels (4-кесте)
    assert s["levels_yearly_table_no"] == "4-кесте" and s["levels_opened_table_no"] == "1-кесте"
    assert "10-нан өзгеше" in s["projects_by_level_note"]
    shown = {(f["name"], f["value"]) for f in s["esep_figures_shown"]}
    assert {("year_projects", 11), ("projects_opened", 2), ("year_orgs", 89)} <= shown
    assert (s["global_scholars_name"], s["ib_name"], s["state_orgs_binom_label"]) == (
        "«Global Scholars»", "«IB»", "BINOM Schools")
    # tables 1, 2, 4 (computed totals: 2-кесте's printed 11 and 91 do not add up)
    assert (s["opened_projects_prev_year"], s["opened_orgs_prev_year"]) == (27, 91)
    assert (s["semester_projects"], s["semester_orgs"]) == (12, 89)
    assert s["semester_projects_prev_year"] == 54
    assert (s["year_projects_prev_year"], s["year_projects"], s["year_orgs"]) == (36, 11, 89)
    # table 3 and the text above it
    assert s["secondary_orgs"] == 84
    assert (s["secondary_orgs_1_project"], s["secondary_orgs_2_projects"],
            s["secondary_orgs_3_projects"], s["secondary_orgs_4_projects"]) == (29, 21, 25, 9)
    assert s["secondary_orgs_2_projects_pct"] == 25.0
    # one source for the organisations by level: 3-кесте takes 2-кесте's count where its
    # one-row level disagrees (preschool: printed 1, 2-кесте 2), so table 3, table 2 and
    # the text's "89 ББҰ-ның 84-і" show one value
    assert s["load_orgs_total"] == s["semester_orgs"] == s["orgs_in_projects"]
    assert s["load_orgs_reconciled"] == 1
    assert s["preschool_orgs_1_project"] == 2
    assert s["orgs_in_projects_gen"] == f"{s['orgs_in_projects']}-дың"
    assert s["secondary_orgs_poss"] == f"{s['secondary_orgs']}-і"
    # figure 1 drawn from the intro's counts (the seed's figure printed 30 / 5 / 0 / 25)
    assert s["figure_projects_all"] == s["projects_total"]
    # a change against a base the data-quality check flags carries a caveat
    assert "58-і" in s["year_orgs_caveat"] and "+2,2%" in s["year_orgs_caveat"]
    assert s["year_projects_change_text"].endswith("азайды")
    # no previous-semester data: the quoted change is used and marked as quoted
    assert "құжаттан" in s["pupils_change_quoted_note"]
    assert s["author"].startswith("Әдіскер")
    # figure 2 / international organisations
    assert s["international_orgs"] == 59
    assert s["international_secondary_orgs_change"] == 21
    assert (s["global_scholars_orgs_prev_year"], s["global_scholars_orgs"]) == (28, 31)
    assert (s["ib_orgs_prev_year"], s["ib_orgs"]) == (4, 6)
    assert s["ib_orgs_change_pct"] == 50.0
    # table 5 members, table 6 events, table 7 languages
    assert s["listed_projects"] == 7
    assert s["member_orgs"] == 75
    assert s["events_total"] == 102
    assert (s["events_open_lessons"], s["events_seminars"], s["events_meetings"],
            s["events_master_classes"]) == (21, 29, 17, 35)
    assert s["pupils_kaz"] == 15716
    assert s["pupils_rus"] == 6929
    assert round(s["pupils_kaz_pct"], 1) == 69.4
    assert s["pupils_change_vs_prev_year"] == 3319
    assert s["sections_skipped"] == []
    assert s["slips_count"] >= 20
    # every table and figure of the seed, captioned in order
    nb = nbformat.read(out, as_version=4)
    html = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
    for n in range(1, 8):
        assert f"<caption>{n}-кесте. " in html
    assert "<td class=\"num\">22 645</td>" in html
    charts = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if "image/svg+xml" in o.get("data", {})]            # charts are SVG (esep.kit.charts)
    assert len(charts) == 2
    assert [o["metadata"]["image/svg+xml"]["alt"][:8] for o in charts] == ["1-сурет.", "2-сурет."]


def test_other_period_runs_and_skips_missing_sections(city_project, tmp_path):
    out, s = execute(city_project, tmp_path, "2022-2023-S2")
    for section in ["headline", "project_load", "projects", "events", "languages"]:
        assert section in s["sections_skipped"]
    assert "levels_semester" not in s["sections_skipped"]
    assert s["semester_projects"] == 54            # 2-кесте, 2022-2023 column
    assert s["year_projects"] == 36                # 4-кесте, 2022-2023
    assert s["year_projects_prev_year"] == 19
    assert s["opened_projects"] == 27              # 1-кесте, opened in 2022-2023
    assert s["international_secondary_orgs"] == 35
    assert s["pupils_total"] == "-"                # missing figures are glued as "-"
    nb = nbformat.read(out, as_version=4)
    text = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
    assert "іс-шаралар туралы дерек жоқ" in text
    # 1-, 2- and 4-кесте of the seed (here 1-3), «Түзетулер» (2-кесте's «Барлығы» 113 computed
    # from the levels, 91 printed: marked) and the text checks; nothing else
    assert "<caption>1-кесте. " in text and "<caption>6-кесте" not in text
    assert 'data-declared="91"' in text and "Құжаттағы мәннен өзгеше көрсетілген сандар" in text


def test_decision_file_changes_what_the_report_shows(city_project, tmp_path):
    """No code change: data/raw/city_innovation/decisions.yaml decides declared vs computed."""
    import re

    from esep.core import params
    from esep.pipeline.run import run_unit

    unit = params.units_for(city_project, "2023-2024-S2")[0]
    res = run_unit(city_project, unit, ("html",))
    assert res.status == "ok", res.message
    page = unit.output_base().with_suffix(".html").read_text(encoding="utf-8")
    marks = re.findall(r'<span class="esep-corrected" data-declared="([^"]*)">([^<]*)<sup', page)
    parts = int(sum(pd.read_csv(REPO_RAW / "state_orgs.csv").query("row_type == 'part'")["orgs"]))
    printed = int(pd.read_csv(REPO_RAW / "state_orgs.csv").query("row_type == 'total'")["orgs"].iloc[0])
    assert (str(printed), str(parts)) in marks            # computed by default, marked, explained
    assert 'id="esep-corr-' in page
    # the change against the flagged 2022-2023 base carries the caveat mark by default
    caveats = re.findall(r'<span class="esep-caveat">([^<]*)<sup', page)
    flagged_change = next(c for c in caveats if "ұйымға" in c and "азайды" in c)
    # marks are numbered in reading order, and every difference the notebook's check finds
    # between the text's print and the computed value is marked where the text prints it
    body = page.split("Құжаттағы мәннен өзгеше көрсетілген сандар")[0]
    seen = list(dict.fromkeys(int(n) for n in re.findall(r'href="#esep-corr-\d+">(\d+)<', body)))
    assert seen == list(range(1, len(seen) + 1)), seen
    import io

    slips_html = re.search(r"<table[^>]*><caption>\d+-кесте\. Мәтіндегі сандар мен басылған.*?</table>", page, re.S)
    slips = pd.read_html(io.StringIO(slips_html.group(0)), thousands=None)[0]
    declared_marks = {d.replace("\u00a0", " ") for d in re.findall(r'data-declared="([^"]*)"', body)}
    text_slips = slips[slips.iloc[:, 0] == "Мәтін"]
    assert len(text_slips) >= 5
    for in_text in text_slips.iloc[:, 2].astype(str):
        assert any(d.rstrip("%") == in_text.replace("\u00a0", " ") for d in declared_marks), (in_text, declared_marks)

    raw = city_project.spec_path.parents[1] / "data" / "raw" / "city_innovation"
    (raw / "decisions.yaml").write_text(
        "decisions:\n  - figure: state_orgs_total\n    keep: declared\n"
        "    reason: Ресми сан; түрлері бойынша бөлінісі толық емес\n", encoding="utf-8")
    res = run_unit(city_project, unit, ("html",))
    assert res.status == "ok", res.message
    page = unit.output_base().with_suffix(".html").read_text(encoding="utf-8")
    marks = re.findall(r'<span class="esep-corrected" data-declared="([^"]*)">([^<]*)<sup', page)
    assert (str(printed), str(parts)) not in marks
    text = re.sub(r"<[^>]+>", " ", page)
    assert f"{printed} мемлекеттік білім беру ұйымының" in text.replace("\u00a0", " ")
    assert "құжаттағы мән сақталды" in text and "Ресми сан; түрлері бойынша бөлінісі толық емес" in text

    # withhold the figure on the flagged base: no number, a note, the decision in «Түзетулер»
    (raw / "decisions.yaml").write_text(
        "decisions:\n  - figure: year_orgs_change_text\n    flagged: withhold\n"
        "    reason: Мектепке дейінгі ұйымдар саны тексерілуде\n", encoding="utf-8")
    res = run_unit(city_project, unit, ("html",))
    assert res.status == "ok", res.message
    page = unit.output_base().with_suffix(".html").read_text(encoding="utf-8")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page).replace("\u00a0", " "))
    body = text.split("Құжаттағы мәннен өзгеше көрсетілген сандар")[0]   # before «Түзетулер»
    assert flagged_change.replace("\u00a0", " ") not in body   # the note only (marked, leading to its entry)
    assert re.findall(r'<span class="esep-caveat">([^<]*)<sup', page) == ["өзгеріс көрсетілмеді"]
    assert "салыстырғанда өзгеріс көрсетілмеді" in text
    assert "көрсетілмеді Мектепке дейінгі ұйымдар саны тексерілуде" in text
