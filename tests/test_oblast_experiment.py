"""oblast_experiment (seed 004): unit tests of helpers.oblast and integration tests that
execute the report notebook with papermill and check the glued figures against the seed."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers import oblast as ob
from helpers import tables
from reportrun import cached_runner, prepared_project

REPO = Path(__file__).resolve().parents[1]
REPORT = "oblast_experiment"


# --- unit: helpers.oblast ---------------------------------------------------------

def test_window_takes_last_years_up_to_period():
    years = ["2022-2023", "2021-2022", "2023-2024"]
    assert ob.window(years, "2023-2024") == ["2021-2022", "2022-2023", "2023-2024"]
    assert ob.window(years, "2022-2023") == ["2021-2022", "2022-2023"]
    assert ob.window(years, "2023-2024", size=2) == ["2022-2023", "2023-2024"]


def test_window_unknown_period_names_available():
    with pytest.raises(ValueError, match="2021-2022"):
        ob.window(["2021-2022"], "2024-2025")


def test_share_of_base_truncates_like_the_seed():
    assert ob.share_of_base(206, 1200) == 17.1          # 17.166.. cut, not rounded
    assert ob.share_of_base(206, 1200, rounding="half_up") == 17.2
    assert ob.share_of_base(216, 1200) == 18.0
    assert pd.isna(ob.share_of_base(5, 0))
    assert pd.isna(ob.share_of_base(None, 1200))
    with pytest.raises(ValueError):
        ob.share_of_base(1, 2, rounding="banker")


def test_add_base_share_uses_each_rows_period_base():
    bases = pd.DataFrame({"table": ["t", "t"], "period": ["2022", "2023"], "base": [1200, 1000],
                          "rounding": ["floor", "half_up"], "decimals": [1, 1]})
    df = pd.DataFrame({"period": ["2022", "2023", "2023"], "n": [8, 105, 0]})
    out = ob.add_base_share(df, "n", bases, "t")
    assert out["share_pct"].tolist() == [0.6, 10.5, 0.0]
    assert "share_pct" not in df.columns  # input not mutated


def test_base_for_missing_row_names_table_and_period():
    bases = pd.DataFrame({"table": ["t"], "period": ["2022"], "base": [1200],
                          "rounding": ["floor"], "decimals": [1]})
    with pytest.raises(KeyError, match="2023"):
        ob.base_for(bases, "t", "2023")


def test_wide2_two_level_columns_in_order():
    df = pd.DataFrame({"d": ["a", "a", "b"], "y": ["2022", "2023", "2022"], "l": ["x", "x", "x"],
                       "v": [1, 2, 3]})
    out = ob.wide2(df, "d", ["y", "l"], "v")
    assert list(out.columns) == [("d", ""), ("2022", "x"), ("2023", "x")]
    assert out[("2022", "x")].tolist() == [1, 3]
    assert pd.isna(out[("2023", "x")].iloc[1])


def test_rank_ties_share_best_rank_and_tiebreak_orders():
    df = pd.DataFrame({"d": ["a", "b", "c"], "rep": [14, 18, 14], "obl": [20, 1, 58]})
    out = ob.rank(df, "rep", "d", tiebreak=["obl"])
    assert out["d"].tolist() == ["b", "c", "a"]
    assert out["rank"].tolist() == [1, 2, 2]


def test_rank_missing_counts_as_zero():
    df = pd.DataFrame({"d": ["a", "b", "c"], "rep": [None, 3, 1]})
    assert ob.rank(df, "rep", "d")["d"].tolist() == ["b", "c", "a"]


def test_versus_oblast_share_and_mean():
    scope = pd.DataFrame({"y": ["2022"], "v": [5]})
    obl = pd.DataFrame({"y": ["2022", "2022", "2023"], "v": [5, 15, 4]})
    out = ob.versus_oblast(scope, obl, ["y"], "v", n_districts=2)
    assert out["district"].tolist() == [5, 0]
    assert out["oblast"].tolist() == [20, 4]
    assert out["share_pct"].tolist() == [25.0, 0.0]
    assert out["oblast_mean"].tolist() == [10.0, 2.0]


def test_sum_by_and_add_row_total_count_missing_as_zero():
    df = pd.DataFrame({"g": ["a", "a", "b"], "v": [1, None, 2], "w": [1, 1, None],
                       "row_type": ["part", "part", "part"]})
    assert ob.sum_by(df, "g", "v")["v"].tolist() == [1, 2]
    assert ob.add_row_total(df, ["v", "w"])["total"].tolist() == [2, 1, 2]


def test_passport_rows_numbers_list_items():
    p = pd.DataFrame({"key": ["name", "tasks", "tasks"], "label": ["Атауы", "Міндеттері", "Міндеттері"],
                      "item": [1, 2, 1], "value": ["X", "екі", "бір"]})
    out = ob.passport_rows(p, ["name", "tasks", "absent"])
    # a list ends with one full stop; an item's own stop never becomes ".;"
    assert out["text"].tolist() == ["X", "1. бір; 2. екі."]
    p2 = p.assign(value=["X", "екі.", "бір."])
    assert ".;" not in ob.passport_rows(p2, ["tasks"])["text"].iloc[0]
    assert out["label"].tolist() == ["Атауы", "Міндеттері"]


def test_order_preamble_points_signature_and_paragraphs():
    o = pd.DataFrame({"key": ["basis_issuer", "basis_date", "basis_number", "purpose", "point", "point"],
                      "item": [1, 1, 1, 1, 2, 1],
                      "value": ["Білім басқармасы", "2022-09-26", "763", "бақылау.", "екі.", "бір;"]})
    assert ob.order_preamble(o) == ("Білім басқармасының 2022 жылғы 26 қыркүйектегі №763 бұйрығына "
                                    "сәйкес бақылау мақсатында")
    # items in item order; one separator each, never ";;" or ".;"
    assert ob.numbered_points(o) == "1. бір;\n2. екі."
    assert ob.order_preamble(o[o["key"] != "basis_number"]) is None
    assert ob.numbered_points(o[o["key"] != "point"]) is None
    p = pd.DataFrame({"key": ["issuer", "name", "leader"], "label": ["Басқарма басшысы", "Атауы", "Жетекші"],
                      "item": [1, 1, 1], "value": ["Е.Сафуллин", "X", "Y"]})
    assert ob.signature(p) == "Басқарма басшысы Е.Сафуллин"
    t = pd.DataFrame({"key": ["conclusion", "conclusion", "other"], "item": [2, 1, 1], "text": ["Б.", "А.", "В."]})
    assert ob.paragraphs(t, "conclusion") == "А.\n\nБ."
    assert ob.paragraphs(t, "absent") is None


def test_slips_stacks_and_relabels():
    a = pd.DataFrame({"period": ["2024"], "level": ["Республикалық"], "column": ["share_pct"],
                      "declared": [28.6], "computed": [26.2], "difference": [-2.4]})
    out = ob.slips({"T": a, "E": a.iloc[0:0]}, column_labels={"share_pct": "%"})
    assert out[["table", "item", "column"]].values.tolist() == [["T", "Республикалық", "%"]]
    assert ob.slips({"E": a.iloc[0:0]}).empty


# --- raw data against the seed --------------------------------------------------------

RAW = REPO / "data" / "raw" / REPORT


def _raw(stem: str) -> pd.DataFrame:
    return pd.read_csv(RAW / f"{stem}.csv", dtype={"period": str, "school_year": str})


@pytest.mark.parametrize("stem,key,value", [
    ("teacher_categories", "category_slug", "teachers"),
    ("student_achievements", "level_slug", "achievements"),
    ("teacher_achievements", "level_slug", "achievements"),
])
def test_raw_printed_totals_equal_parts(stem, key, value):
    df = _raw(stem)
    computed = tables.parts(df).groupby(["period", key])[value].sum()
    printed = tables.declared(df).set_index(["period", key])[value]
    assert len(printed) in (9, 12)
    assert (computed.reindex(printed.index) == printed).all()


def test_raw_percent_base_reproduces_every_teacher_category_pct():
    df = tables.declared(_raw("teacher_categories"))
    bases = _raw("percent_base")
    out = ob.add_base_share(df, "teachers", bases, "teacher_categories")
    assert (out["share_pct"] == out["declared_share_pct"]).all()


def test_raw_districts_have_unique_ascii_slugs():
    d = _raw("districts")
    assert len(d) == 12 and d["district_slug"].is_unique
    assert all(s.isascii() and s.isidentifier() for s in d["district_slug"])


# --- integration: execute the notebook ------------------------------------------------

@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A scratch project with this report's notebook, params and raw data, prepared by esep."""
    with prepared_project(tmp_path_factory.mktemp("oblast_project"), REPORT) as root:
        yield root


@pytest.fixture(scope="module")
def run(project):
    """Execute the notebook once per parameter set; return its scraps as plain values."""
    import scrapbook as sb

    return cached_runner(project, REPORT,
                         lambda out: {k: v.data for k, v in sb.read_notebook(str(out)).scraps.items()})


SEED_CATEGORIES = {  # БЛАРЫҒЫ row of «ПЕДАГОГ КАДРЛАРДЫҢ САПАЛЫҚ ҚҰРАМЫ»
    "2021_2022": {"moderator": 216, "expert": 221, "researcher": 206, "master": 8},
    "2022_2023": {"moderator": 229, "expert": 263, "researcher": 195, "master": 8},
    "2023_2024": {"moderator": 273, "expert": 250, "researcher": 222, "master": 6},
}
SEED_STUDENTS = {  # БАРЛЫҒЫ row of «БІЛІМ АЛУШЫЛАРДЫҢ ЖЕТІСТІКТЕРІ»
    "2022": {"district": 988, "oblast": 299, "republic": 371},
    "2023": {"district": 1120, "oblast": 342, "republic": 357},
    "2024": {"district": 1143, "oblast": 339, "republic": 315},
}
SEED_TEACHERS = {  # БАРЛЫҒЫ row of «ПЕДАГОГТАРДЫҢ ЖЕТІСТІКТЕРІ»
    "2022": {"district": 168, "oblast": 103, "republic": 100},
    "2023": {"district": 219, "oblast": 92, "republic": 95},
    "2024": {"district": 299, "oblast": 122, "republic": 105},
}


@pytest.mark.integration
def test_oblast_2023_2024_reproduces_seed_totals(run):
    s = run(period="2023-2024", district="all")
    assert s["report_place"] == "Батыс Қазақстан облысы"
    assert (s["first_year"], s["last_year"], s["n_years"]) == ("2021-2022", "2023-2024", 3)
    for y, cats in SEED_CATEGORIES.items():
        for cat, n in cats.items():
            assert s[f"teacher_categories_{cat}_{y}"] == n, (cat, y)
        assert s[f"teacher_categories_total_{y}"] == sum(cats.values())
    for y, levels in SEED_STUDENTS.items():
        for lvl, n in levels.items():
            assert s[f"student_achievements_{lvl}_{y}"] == n, (lvl, y)
        assert s[f"student_achievements_total_{y}"] == sum(levels.values())
    for y, levels in SEED_TEACHERS.items():
        for lvl, n in levels.items():
            assert s[f"teacher_achievements_{lvl}_{y}"] == n, (lvl, y)
    assert s["teacher_categories_total_change"] == 751 - 651

    # the seed's order, from order.csv / passport.csv: basis №763 of 2022, six points, signatory
    assert s["order_heading"] == "Батыс Қазақстан облысы білім басқармасының 2024 жылғы 28 қарашадағы №1402 бұйрығы"
    assert s["order_preamble"].startswith("Білім басқармасының 2022 жылғы 26 қыркүйектегі №763 бұйрығына сәйкес")
    assert s["order_points"].count("\n") == 5 and s["order_points"].startswith("1. 2025–2027 жылдары")
    assert "6. Бұйрықтың орындалуын бақылау" in s["order_points"]
    assert s["order_signatory"] == "Басқарма басшысы Е.Сафуллин"
    assert s["conclusion"].startswith("Эксперименттік жобаға қатысып отырған 11 мектептің")
    assert not {"order", "conclusion"} & set(s["sections_skipped"])


@pytest.mark.integration
def test_oblast_2023_2024_percent_rows_and_slips(run):
    s = run(period="2023-2024", district="all")
    # the seed's % row of the teacher table, reproduced from the explicit base (1200)
    assert s["teacher_share_moderator_2023_2024_pct"] == 22.7
    assert s["teacher_share_researcher_2021_2022_pct"] == 17.1
    assert s["student_share_district_2024_pct"] == 95.2
    assert s["student_share_republic_2024_pct"] == 26.2    # printed 28,6: a seed slip
    assert s["declared_mismatches"] == 6                   # README lists six % slips


@pytest.mark.integration
def test_oblast_2023_2024_ranking_knowledge_quality_project_totals(run):
    s = run(period="2023-2024", district="all")
    assert s["ranking_leaders"] == "Шыңғырлау" and s["ranking_leader_value"] == 100
    assert s["ranking_order"][:4] == ["Шыңғырлау", "Бөкейорда", "Казталов", "Тасқала"]
    assert s["knowledge_quality_max_pct"] == 98.0 and s["knowledge_quality_schools"] == 9
    assert (s["project_open_lessons"], s["project_practices_shared"], s["project_publications"],
            s["project_international_publications"]) == (42, 38, 42, 14)


@pytest.mark.integration
def test_oblast_2022_2023_is_a_two_year_window(run):
    s = run(period="2022-2023", district="all")
    assert (s["first_year"], s["last_year"], s["n_years"]) == ("2021-2022", "2022-2023", 2)
    assert str(s["last_calendar_year"]) == "2023"
    assert "teacher_categories_total_2023_2024" not in s
    assert s["teacher_categories_total_last"] == 695
    assert s["student_achievements_total_last"] == 1120 + 342 + 357
    assert s["ranking_leaders"] == "Бөкейорда"             # 94 republic-level in 2023
    assert "project_open_lessons" not in s                 # three-year totals: 2023-2024 only
    assert s["declared_mismatches"] == 4
    # the order (№1402) and the conclusion close the 2023-2024 results: not shown here
    assert {"order", "conclusion"} <= set(s["sections_skipped"])


@pytest.mark.integration
def test_district_report_compares_with_oblast(run):
    s = run(period="2023-2024", district="terekti")
    assert s["scope_name"] == "Теректі ауданы"
    assert s["teacher_categories_total_2021_2022"] == 12 + 16 + 46 + 0
    assert s["teacher_categories_total_2023_2024"] == 28 + 14 + 48 + 0
    assert s["student_achievements_republic_2024"] == 18
    assert s["teacher_achievements_total_2024"] == 15 + 6 + 1
    assert s["district_rank_2024"] == 5
    assert s["knowledge_quality_district_pct"] == 57.0
    # the order concerns every district; the conclusion (all 11 schools) is the oblast's
    assert "order" not in s["sections_skipped"] and "conclusion" in s["sections_skipped"]


@pytest.mark.integration
def test_unknown_district_fails_with_known_slugs(run):
    import papermill as pm

    with pytest.raises(pm.PapermillExecutionError, match="akzhaiyk"):
        run(period="2023-2024", district="nowhere")


# --- template hygiene and params ------------------------------------------------------

def test_notebook_template_is_clean_and_parameterised():
    import nbformat

    nb = nbformat.read(REPO / "notebooks" / f"{REPORT}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert 'period = "2023-2024"' in code[0].source and 'district = "all"' in code[0].source
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert not any(line.lstrip().startswith("def ") for c in code for line in c.source.splitlines())
    assert any("narrative" in c.metadata.get("tags", []) for c in nb.cells if c.cell_type == "markdown")


@pytest.mark.parametrize("period", ["2023-2024", "2022-2023"])
def test_params_expand_to_oblast_and_every_district(period, monkeypatch):
    monkeypatch.setenv("ESEP_ROOT", str(REPO))
    from esep.core import params
    from esep.core import reports

    spec = reports.get(REPORT)
    units = params.units_for(spec, period)
    slugs = _raw("districts")["district_slug"].tolist()
    assert [u.variant for u in units] == [None, *slugs]
    assert units[0].output_base().relative_to(REPO).as_posix() == f"output/{period}/{REPORT}"
    assert units[1].output_base().relative_to(REPO).as_posix() == f"output/{period}/{REPORT}/{slugs[0]}"
    assert set(spec.inputs) == {f"{REPORT}/{p.name}" for p in RAW.glob("*.csv")}


# --- corrections, caveats, one value per quantity (issue 12) --------------------------

import re

MARK = re.compile(r'<span class="esep-corrected" data-declared="([^"]*)">(.*?)<sup')


def _page(nb_path) -> str:
    """What the reader's page holds: the notebook's HTML outputs and its narrative with the
    placeholders filled (and marked) as the render step fills them."""
    import nbformat
    from esep.core import numbers
    from esep.notebook import narrative

    nb = nbformat.read(str(nb_path), as_version=4)
    from esep.notebook.scraps import read_scraps

    scraps = read_scraps(nb)
    with numbers.rounding("truncate"):
        narrative.fill_notebook(nb, scraps)
    out = []
    for c in nb.cells:
        if c.cell_type == "markdown":
            out.append(c.source)
        for o in c.get("outputs", []):
            out.append(o.get("data", {}).get("text/html", ""))
    return "\n".join(out)


def _printed_share_slips() -> list[str]:
    """The seed's printed % values that the parts / base do not reproduce (read from data)."""
    from esep.core import numbers

    bases = _raw("percent_base")
    out = []
    for stem in ("student_achievements", "teacher_achievements", "teacher_categories"):
        df = tables.declared(_raw(stem))
        value = "teachers" if stem == "teacher_categories" else "achievements"
        with numbers.rounding("truncate"):
            computed = ob.add_base_share(df, value, bases, stem)
            for c, d in zip(computed["share_pct"], computed["declared_share_pct"]):
                if not numbers.agrees(c, d):
                    out.append(numbers.pct(d, 1))
    return out


@pytest.mark.integration
@pytest.mark.parametrize("district", ["all", "shyngyrlau"])
def test_no_contradictions_and_marks_carry_the_printed_value(run, district):
    import nbformat
    from esep.notebook import consistency
    from esep.notebook.scraps import read_scraps

    path = run.path(period="2023-2024", district=district)
    scraps = read_scraps(nbformat.read(str(path), as_version=4))
    assert scraps.get("esep_figures_shown"), "tables declare the cells that print a named figure"
    assert consistency.contradictions(scraps) == []
    page = _page(path)
    declared = {d for d, _ in MARK.findall(page)}
    # the district count: the order's «11 аудан» (quoted.csv) against the 12 listed
    q = _raw("quoted").query("key == 'participating_districts'")["value"].iloc[0]
    assert str(int(q)) in declared
    if district == "all":
        # every % the parts do not reproduce is marked with the seed's printed value
        slips = _printed_share_slips()
        assert len(slips) == 6 and set(slips) <= declared
        # the ranking: a computed place that differs from the text's place carries it
        ranks = _raw("declared_ranking").query("period == '2024'")
        assert {str(r) for r in ranks["declared_rank"]} & declared
    else:
        # Шыңғырлау's teacher achievements copy Ақжайық's rows: the +663,6% and
        # «Республикалық +1 500,0%» carry the caveat mark where they appear
        text = re.sub(r"\s+", " ", page.replace("\u00a0", " "))
        assert re.search(r'<span class="esep-caveat">73 жетістікке \(663,6%-ға\) өсті<sup', text) or \
            re.search(r'esep-caveat">[^<]*663,6%', text)
        assert re.search(r'<span class="esep-caveat">\+1 500,0%<sup', text)
        assert re.search(r'<span class="esep-caveat">\+663,6%<sup', text)
        assert "ескерту: Шыңғырлау ауданының 2023, 2024 жылғы мәндері Ақжайық" in text
        assert "Түзетулер" in page and 'id="esep-corr-' in page


@pytest.fixture(scope="module")
def decided(project, tmp_path_factory):
    """The same project with an analyst's decisions.yaml (no code change)."""
    root = tmp_path_factory.mktemp("oblast_decided") / "proj"
    shutil.copytree(project, root, ignore=shutil.ignore_patterns("out"))
    (root / "data" / "raw" / REPORT / "decisions.yaml").write_text(
        "decisions:\n"
        "  - figure: student_share_republic_2024_pct\n    keep: declared\n"
        "    reason: Баяндамадағы мән сақталды\n"
        "  - figure: teacher_achievements_total_change\n    flagged: withhold\n"
        "    reason: Шыңғырлау жолдары Ақжайықтың көшірмесі\n", encoding="utf-8")
    return root


def _execute(root, **params):
    import papermill as pm
    import scrapbook as sb

    out = root / "out" / ("_".join(str(v) for _, v in sorted(params.items())) + ".ipynb")
    out.parent.mkdir(exist_ok=True)
    old = os.environ.get("ESEP_ROOT")
    os.environ["ESEP_ROOT"] = str(root)
    try:
        pm.execute_notebook(str(root / "notebooks" / f"{REPORT}.ipynb"), str(out), parameters=params,
                            kernel_name="python3", progress_bar=False)
    finally:
        if old is None:
            os.environ.pop("ESEP_ROOT", None)
        else:
            os.environ["ESEP_ROOT"] = old
    return {k: v.data for k, v in sb.read_notebook(str(out)).scraps.items()}, _page(out)


@pytest.mark.integration
def test_decision_file_keeps_declared_and_withholds_flagged(run, decided):
    printed = float(tables.declared(_raw("student_achievements"))
                    .query("period == '2024' and level_slug == 'republic'")["declared_share_pct"].iloc[0])
    printed_text = f"{printed:.1f}".replace(".", ",") + "%"
    # default: computed, marked with the printed value
    s0 = run(period="2023-2024", district="all")
    assert s0["student_share_republic_2024_pct"] != printed
    assert printed_text in {d for d, _ in MARK.findall(_page(run.path(period="2023-2024", district="all")))}
    # keep: declared -> the seed's value, no mark, and the «Түзетулер» row says so
    s, page = _execute(decided, period="2023-2024", district="all")
    assert s["student_share_republic_2024_pct"] == printed
    assert printed_text not in {d for d, _ in MARK.findall(page)}
    assert "құжаттағы мән сақталды" in page and "Баяндамадағы мән сақталды" in page
    # flagged: withhold -> Шыңғырлау's change on copied rows is not printed, with a note
    s0 = run(period="2023-2024", district="shyngyrlau")
    assert "663,6" in s0["teacher_achievements_total_change_text"]
    s, page = _execute(decided, period="2023-2024", district="shyngyrlau")
    assert s["teacher_achievements_total_change"] == "-"
    assert s["teacher_achievements_total_change_text"] == "өзгерісі көрсетілмеді"
    # (the «Түзетулер» table still states the computed value and the decision)
    shown = re.sub(r'<table class="esep-table esep-corrections">.*?</table>', "", page, flags=re.S)
    assert "663,6" not in shown and "көрсетілмеді" in s["teacher_achievements_total_caveat"]
    assert "Шыңғырлау жолдары Ақжайықтың көшірмесі" in page


# --- unit: flagged bases (helpers.oblast) ----------------------------------------------

def _three_rows():
    return pd.DataFrame({"district_slug": ["a", "b", "c"], "district": ["А", "Б", "В"],
                         "period": ["2024", "2024", "2024"], "level_slug": ["x", "x", "x"],
                         "achievements": [5, 5, 9], "row_type": ["part"] * 3})


def test_flagged_cells_copies_and_jumps_and_flag_text():
    df = _three_rows()
    copies = pd.DataFrame({"period": ["2024"], "entity": ["b"], "name": ["Б"], "copy_of": ["А"], "value": ["achievements"]})
    jumps = pd.DataFrame({"district_slug": ["c"], "level_slug": ["x"], "before_period": ["2023"], "before": [1.0],
                          "after_period": ["2024"], "after": [9.0], "value": ["achievements"]})
    cells = ob.flagged_cells(df, copies, jumps, "level_slug")
    assert cells[["district_slug", "why"]].values.tolist() == [["b", "copy"], ["c", "jump"]]
    flagged = ob.with_flags(df, cells, "level_slug")["flagged"].tolist()
    assert flagged == [False, True, True]
    assert "Б ауданының 2024 жылғы мәндері А ауданының" in ob.flag_text(cells)
    assert ob.flag_text(cells, {"x": "Икс"}, short=True) == (
        "Б 2024 – А жолдарының көшірмесі; В / Икс 2024: 1 → 9 (күрт өзгеріс)")
    assert ob.flag_text(cells.iloc[0:0]) == ""


class _Ledger:
    """Stands in for helpers.corrections.Ledger: records flagged figures with one decision."""
    def __init__(self, how="caveat"):
        from helpers import corrections
        self.real = corrections.Ledger("t", {"t_total_change": {"keep": "computed", "flagged": how, "reason": "r"}})

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_headline_caveat_withhold_and_plain():
    plain = ob.headline(_Ledger(), "t", 11, 84, False, False, "", "жетістік", "", "9-кесте", "2022", "2024")
    assert plain["t_total_change_text"].strip() == "73 жетістікке (663,6%-ға) өсті" and plain["t_total_caveat"] == ""
    led = _Ledger()
    cav = ob.headline(led, "t", 11, 84, False, True, "көшірме", "жетістік", "", "9-кесте", "2022", "2024")
    assert cav["t_total_change"] == 73 and "ескерту: көшірме" in cav["t_total_caveat"]
    assert [c.kept for c in led.items] == ["caveat", "caveat"]
    assert "t_total_change_text" in led.records()          # the text's clause carries the mark
    held = ob.headline(_Ledger("withhold"), "t", 11, 84, False, True, "көшірме", "жетістік", "", "9-кесте",
                       "2022", "2024")
    assert held["t_total_change"] is None and held["t_total_change_text"] == "өзгерісі көрсетілмеді"
    assert "көрсетілмеді" in held["t_total_caveat"]


def test_flag_marks_merge_and_blank():
    from helpers import corrections

    led = corrections.Ledger("t", {"grp": {"keep": "computed", "flagged": "withhold", "reason": "r"}})
    shown = pd.DataFrame({"label": ["a", "b", "Барлығы"], "v": [1, 2, 3]})
    flags = pd.DataFrame({"label": ["a", "b", "Барлығы"], "v": [0, 1, 1]})
    marks, hold = ob.flag_marks(led, flags, "label", "grp", "1-кесте", "себеп")
    assert marks == {(1, "v"): ["grp"], (2, "v"): ["grp"]} and hold == {(1, "v"), (2, "v")}
    assert ob.blank(shown, hold)["v"].isna().tolist() == [False, True, True]
    assert shown["v"].tolist() == [1, 2, 3]                 # input not mutated
    assert ob.merge_marks({(0, "v"): "x"}, {(0, "v"): ["y"]}) == {(0, "v"): ["x", "y"]}
