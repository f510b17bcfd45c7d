"""Integration: the city_innovation notebook reproduces seed 000 (Astana, 2023-2024-S2)
and builds another period from the same raw files, skipping what has no data."""
from __future__ import annotations

import nbformat
import papermill as pm
import pytest
import scrapbook as sb

from esep.data import prepare
from esep.core import reports

pytestmark = pytest.mark.integration


@pytest.fixture
def city_project(project_copy):
    spec = reports.get("city_innovation")
    prepare.prepare_report(spec)
    return spec


def execute(spec, tmp_path, period):
    out = tmp_path / f"city_innovation_{period}.ipynb"
    pm.execute_notebook(str(spec.notebook), str(out), kernel_name="python3",
                        parameters={"period": period, "city": "Астана"}, progress_bar=False)
    return out, sb.read_notebook(str(out)).scraps.data_dict


def test_reproduces_seed_2023_2024_s2(city_project, tmp_path):
    out, s = execute(city_project, tmp_path, "2023-2024-S2")
    # headline (intro paragraph)
    assert s["projects_total"] == 10
    assert (s["projects_international"], s["projects_city"]) == (5, 5)
    assert s["pupils_total"] == 22645
    assert s["pupils_international"] == 18240
    assert s["pupils_city"] == 4405
    assert round(s["pupils_international_pct"], 1) == 80.5
    assert s["pupils_of_all_city_pupils_pct"] == 8.6
    assert s["projects_opened"] == 2
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
    assert s["load_orgs_total"] == 88          # printed 89
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
    assert "<caption>1-кесте. " in text and "<caption>5-кесте" not in text.replace("Басылған", "")
