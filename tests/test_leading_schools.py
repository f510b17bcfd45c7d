"""leading_schools report (seed 001): template hygiene, per-region expansion, and the
executed notebook's glued figures checked against the numbers printed in the seed."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
REPORT = "leading_schools"
TEMPLATE = REPO / "notebooks" / f"{REPORT}.ipynb"
SLUGS = ["nur-sultan", "almaty-city", "shymkent", "aktobe", "akmola", "almaty-oblast",
         "atyrau", "east-kazakhstan", "zhambyl", "west-kazakhstan", "karaganda", "kostanay",
         "kyzylorda", "mangystau", "pavlodar", "north-kazakhstan", "turkistan"]


# --- fast checks (no kernel) ---------------------------------------------------------


def test_text_items_lists_and_repeated_indicator_names():
    import pandas as pd

    from helpers import leading

    t = pd.DataFrame({"key": ["stage", "stage", "goal"], "item": [2, 1, 1],
                      "title": ["Екінші", "Бірінші", None], "text": ["оқыту;", "талдау", "мақсат"]})
    items = leading.text_items(t, "stage")
    assert items["title"].tolist() == ["Бірінші", "Екінші"] and items["text"].tolist() == ["талдау", "оқыту"]
    assert leading.text_value(t, "goal") == "мақсат" and leading.text_value(t, "absent") is None
    assert leading.markdown_list(["а;", "б."]) == "- а;\n- б."
    assert leading.markdown_list(["а", "б"], numbered=True) == "1. а;\n2. б."
    assert leading.markdown_list([]) is None
    ind = pd.DataFrame({"indicator_no": [6, 7, 8], "indicator": ["A", "B", "B"]})
    assert leading.repeated_names_note(ind) == "7 және 8-көрсеткіштердің атауы слайдта бірдей берілген."
    assert leading.repeated_names_note(ind.iloc[:2]) is None
    assert leading.slide_label("slide «Механизм» (map)") == "«Механизм» слайды"
    assert leading.slide_label("no slide named") is None


def test_template_is_thin_and_clean():
    nb = nbformat.read(TEMPLATE, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert 'period = "2019"' in code[0].source and 'region = "all"' in code[0].source
    for c in code:
        assert c.outputs == [] and c.execution_count is None
        assert not re.search(r"^\s*def\s", c.source, re.M), c.source[:80]
        assert "lambda" not in c.source
    narrative = [c for c in nb.cells if "narrative" in c.metadata.get("tags", [])]
    assert narrative and all(c.cell_type == "markdown" for c in narrative)


def test_parameters_cell_matches_spec():
    from esep.core import reports

    spec = reports.get(REPORT)
    nb = nbformat.read(TEMPLATE, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    names = re.findall(r"^(\w+)\s*=", first.source, re.M)
    assert names == list(spec.params) == ["period", "region"]
    assert all((REPO / "data" / "raw" / rel).is_file() for rel in spec.inputs)


def test_params_star_expands_to_country_plus_every_region_with_unique_outputs():
    from esep.core import config
    from esep.core import params
    from esep.core import reports

    spec = reports.get(REPORT)
    units = params.units_for(spec, "2019")
    assert [u.variant for u in units] == [None, *SLUGS]
    assert [u.params["region"] for u in units] == ["all", *SLUGS]
    out = config.OUTPUT_DIR / "2019"
    bases = [u.output_base() for u in units]
    assert bases[0] == out / REPORT
    assert bases[1:] == [out / REPORT / s for s in SLUGS]
    assert len(set(bases)) == len(bases)


# --- integration: execute the notebook ------------------------------------------------

@pytest.fixture(scope="module")
def prepared_root(tmp_path_factory):
    """A scratch project (notebooks, params, raw data) whose processed data was built by
    esep.data.prepare; ESEP_ROOT points at it (the kernel inherits the environment)."""
    root = tmp_path_factory.mktemp("leading") / "proj"
    for sub in ("notebooks", "params", "data/raw"):
        shutil.copytree(REPO / sub, root / sub, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ESEP_ROOT", str(root))
        from esep.data import prepare
        from esep.core import reports

        prepare.prepare_report(reports.get(REPORT))
        yield root


def execute(root: Path, out: Path, **params) -> Path:
    import papermill as pm

    pm.execute_notebook(str(root / "notebooks" / f"{REPORT}.ipynb"), str(out),
                        parameters=params, kernel_name="python3", progress_bar=False)
    return out


def scraps_of(path: Path) -> dict:
    import scrapbook as sb

    return sb.read_notebook(str(path)).scraps.data_dict


@pytest.fixture(scope="module")
def country(prepared_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "all.ipynb"
    return execute(prepared_root, out, period="2019", region="all")


@pytest.fixture(scope="module")
def kostanay(prepared_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "kostanay.ipynb"
    return execute(prepared_root, out, period="2019", region="kostanay")


@pytest.mark.integration
def test_country_report_reproduces_the_seed(country):
    s = scraps_of(country)
    # network table: 20 + 30 + 1 020 + 5 977
    # leading schools summed over the 17 regions: 1 030, while the slides print 1 020; the
    # report prints one value everywhere (computed by default: decisions.yaml is empty), so
    # the network table's total is 20 + 30 + 1 030 + 5 977 (its printed 7 047 is marked)
    assert s["leading_schools_total"] == 1030
    assert s["network_schools_total"] == 7057
    assert s["leading_schools_every_nth"] == 7           # "every 7th school"
    assert s["declared_mismatches"] == 1
    assert s["pilot_schools_total"] == 30
    assert s["regions_count"] == 17
    # methodological pool: 9 043 + 17 517 + 3 526 + 8 510
    assert s["method_pool_total"] == 38596
    assert s["method_trainers"] == 17517
    # survey waves
    assert (s["wave_2018_respondents"], s["wave_2018_heads"], s["wave_2018_teachers"]) == (6198, 763, 5435)
    assert (s["wave_2019_respondents"], s["wave_2019_heads"], s["wave_2019_teachers"]) == (8511, 1867, 6644)
    assert s["survey_respondents_total"] == 14709
    # indicators and quoted shares
    assert s["indicators_count"] == 10
    assert s["indicator_max_pct"] == pytest.approx(61.9)
    assert s["indicator_min_pct"] == pytest.approx(39.3)
    assert s["heads_leadership_groups_pct"] == pytest.approx(72.0)
    assert s["teachers_practice_changed_pct"] == pytest.approx(41.0)
    assert s["partner_schools"] == 5994
    assert s["events_total"] == 35667
    # the country report's region paragraph describes the first-ranked region
    assert (s["region_name"], s["region_leading_schools"], s["region_leading_rank"]) == ("Түркістан обл.", 118, 1)
    assert s["report_place"] == "Қазақстан Республикасы"
    # the slides' words, from texts.csv / quoted.csv (never typed into the notebook)
    assert s["slides_date_attr"] == "2019 жылғы 24 қазандағы"
    assert s["slides_source"].startswith("«Назарбаев Зияткерлік мектептері» ДББҰ тәжірибесін тарату департаменті")
    assert s["context_sources"].startswith("Оксфорд Университеті және Deloitte LLP, 2014; Сколково, 2015")
    assert (s["digital_economy_by_year"], s["unemployment_horizon_years"], s["uk_robots_by_year"]) == ("2025", "25", "2030")
    assert s["programme_goal"].startswith("білім берудің жаңартылған мазмұнын енгізу")
    assert s["programme_stages_count"] == 3
    assert s["study_directions"].count("\n- ") == 3
    assert s["publications"].count("\n") == 3 and "4. \"Жаңа буын мектебі\"" in s["publications"]


@pytest.mark.integration
def test_country_report_captions_are_numbered_in_order(country):
    nb = nbformat.read(country, as_version=4)
    html = ""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get("text/html", "")
            html += text if isinstance(text, str) else "".join(text)
    numbers = [int(n) for n in re.findall(r"<caption>(\d+)-кесте\. ", html)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 10


@pytest.mark.integration
def test_region_report_has_the_regions_counts_share_and_rank(kostanay):
    s = scraps_of(kostanay)
    assert s["region_slug"] == "kostanay" and s["report_place"] == "Қостанай обл."
    assert s["region_leading_schools"] == 66
    assert s["region_pilot_schools"] == 2
    assert s["region_leading_share_pct"] == pytest.approx(66 / 1030 * 100)
    assert s["region_pilot_share_pct"] == pytest.approx(2 / 30 * 100)
    assert s["region_leading_rank"] == 8                 # tied with Қызылорда обл. (66)
    assert "Қызылорда обл." in s["region_leading_rank_text"]   # the tie is said
    assert s["method_pool_total"] == 38596               # national context still there


@pytest.mark.integration
def test_unknown_region_slug_fails_with_a_clear_error(prepared_root, tmp_path):
    from papermill.exceptions import PapermillExecutionError

    with pytest.raises(PapermillExecutionError) as exc:
        execute(prepared_root, tmp_path / "bad.ipynb", period="2019", region="atlantis")
    assert exc.value.ename == "UnknownRegionError"
    assert "'atlantis'" in exc.value.evalue and "kostanay" in exc.value.evalue


@pytest.mark.integration
def test_esep_build_writes_the_country_report_and_one_file_per_region(project_copy):
    from typer.testing import CliRunner

    from esep.cli import app

    result = CliRunner().invoke(app, ["build", REPORT])
    assert result.exit_code == 0, result.output
    out = project_copy / "output" / "2019"
    assert (out / f"{REPORT}.html").is_file()
    written = sorted(p.stem for p in (out / REPORT).glob("*.html"))
    assert written == sorted(SLUGS)
    page = (out / REPORT / "kostanay.html").read_text(encoding="utf-8")
    assert "Қостанай обл." in page and "{{" not in page
    index = (project_copy / "output" / "index.html").read_text(encoding="utf-8")
    assert all(f"{REPORT}/{s}.html" in index for s in SLUGS)


# --- one value per quantity; the corrections policy ------------------------------------

RAW = REPO / "data" / "raw" / REPORT
MARK = re.compile(r'<span class="esep-corrected" data-declared="([^"]*)">([^<]*)<sup class="esep-mark">'
                  r'<a href="#esep-corr-(\d+)">')


def leading_counts():
    """(printed total, sum over the regions) of leading schools, read from the raw data."""
    import pandas as pd

    df = pd.read_csv(RAW / "schools_by_region.csv", dtype={"period": str})
    df = df[df["period"] == "2019"]
    return (int(df.loc[df["row_type"] == "total", "leading_schools"].iloc[0]),
            int(df.loc[df["row_type"] == "part", "leading_schools"].sum()))


def norm(text: str) -> str:
    """HTML text with no-break spaces as plain spaces."""
    import html

    return html.unescape(text).replace("\u00a0", " ")


def corrections_rows(page: str) -> dict[str, list[str]]:
    """«Түзетулер» table: {mark number: cell texts}."""
    rows = re.findall(r'<tr id="esep-corr-(\d+)">(.*?)</tr>', page, re.S)
    return {n: [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)]
            for n, body in rows}


@pytest.mark.integration
@pytest.mark.parametrize("run", ["country", "kostanay"])
def test_no_figure_is_printed_with_two_values(run, request):
    from esep.notebook import consistency
    from esep.notebook.scraps import read_scraps

    scraps = read_scraps(nbformat.read(request.getfixturevalue(run), as_version=4))
    assert scraps.get("esep_figures_shown"), "the notebook declares the table cells that print figures"
    names = {f["name"] for f in scraps["esep_figures_shown"]}
    assert "leading_schools_total" in names and "region_leading_share_pct" in names
    assert consistency.contradictions(scraps) == []


@pytest.mark.integration
def test_decision_file_changes_what_the_report_shows(project_copy):
    """No code change: data/raw/leading_schools/decisions.yaml decides declared vs computed."""
    from esep.core import params, reports
    from esep.core.numbers import auto
    from esep.data import prepare
    from esep.pipeline.run import run_unit

    spec = reports.get(REPORT)
    prepare.prepare_report(spec)
    unit = params.units_for(spec, "2019")[0]
    printed, parts = leading_counts()
    assert printed != parts                               # the seed's slip this test is about

    res = run_unit(spec, unit, ("html",))
    assert res.status == "ok", res.message
    page = unit.output_base().with_suffix(".html").read_text(encoding="utf-8")
    marks = MARK.findall(page)
    leading_marks = [m for m in marks if (norm(m[0]), norm(m[1])) == (auto(printed), auto(parts))]
    # computed by default: 2-кесте, 3-кесте and the text print the regions' sum, each marked
    assert len(leading_marks) >= 3
    rows = corrections_rows(page)
    for declared, shown, n in marks:                      # every mark leads to its row, same values
        assert (norm(rows[n][2]), norm(rows[n][3])) == (norm(declared), norm(shown))
    assert "esep-caveat" in page                          # shares of the flagged total: caveat
    assert re.search(rf"Елде {re.escape(auto(parts))}\d* жетекші", norm(re.sub(r"<[^>]+>", "", page)))

    reason = "Ресми сан: слайдтарда бірнеше рет қайталанған"
    (project_copy / "data" / "raw" / REPORT / "decisions.yaml").write_text(
        "decisions:\n  - figure: leading_schools_total\n    keep: declared\n"
        f"    reason: \"{reason}\"\n", encoding="utf-8")
    res = run_unit(spec, unit, ("html",))
    assert res.status == "ok", res.message
    page = unit.output_base().with_suffix(".html").read_text(encoding="utf-8")
    marks = MARK.findall(page)
    assert not [m for m in marks if norm(m[0]) == auto(printed)]   # neither 1 020 nor 7 047 differs now
    text = norm(re.sub(r"<[^>]+>", "", page))
    assert f"Елде {auto(printed)} жетекші" in text
    assert "құжаттағы мән сақталды" in text and reason in text
    # the regions' sum is still said, next to the kept total (3-кесте's note)
    assert f"өңірлердің сандарының қосындысы — {auto(parts)}" in text
