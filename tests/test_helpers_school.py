"""Unit tests of helpers.school (three-row frames; no files, no notebook)."""
from __future__ import annotations

import pandas as pd
import pytest

from helpers import school as sc

# --- Kazakh grammar ---------------------------------------------------------------


@pytest.mark.parametrize("n,case,want", [
    (89, "dat", "89-ға"), (84, "poss", "84-і"), (36, "acc", "36-ны"),
    (22645, "loc", "22 645-те"), (100, "dat", "100-ге"), (1000, "abl", "1 000-нан"),
    (50, "acc", "50-ді"), (67, "gen", "67-нің"), (40, "dat", "40-қа"), (10, "abl", "10-нан"),
    (0, "dat", "0-ге"), (3, "loc", "3-те"), (20, "poss", "20-сы"),
])
def test_numeral_case_follows_the_spoken_number(n, case, want):
    assert sc.numeral_case(n, case) == want


def test_numeral_case_decimals_and_percent():
    assert sc.numeral_case(80.5, "dat", decimals=1) == "80,5-ке"      # ... бүтін оннан бес
    assert sc.numeral_case(84, "dat", percent=True) == "84%-ға"      # ... пайызға
    with pytest.raises(ValueError):
        sc.numeral_case(1, "instr")


@pytest.mark.parametrize("name,want", [
    ("Ілияс Есенберлин атындағы №67 гимназиясы", "Ілияс Есенберлин атындағы №67 гимназиясында"),
    ("№5 мектеп-лицей", "№5 мектеп-лицейде"),
    ("№27 мектеп", "№27 мектепте"),
    ("№2 мектеп-гимназия", "№2 мектеп-гимназияда"),
    ("Мектеп №12", "Мектеп №12-де"),
    ("№8 мектебі", "№8 мектебінде"),
])
def test_locative(name, want):
    assert sc.locative(name) == want


# --- member ---------------------------------------------------------------------------

def _member_frames():
    members = pd.DataFrame({"member_id": ["a-1-x", "a-1-x", "a-2-x"],
                            "period": ["2022-2023", "2023-2024", "2023-2024"],
                            "city": ["А", "А", "А"], "school_id": ["a-1", "a-1", "a-2"],
                            "project_key": ["x", "x", "x"], "events_month_from": [None, "қыркүйек", None],
                            "source": ["s", "s", "s"]})
    schools = pd.DataFrame({"school_id": ["a-1", "a-2", "a-3"], "school_name": ["№1 мектеп", "№2 лицей", "№3"],
                            "school_no": [1, 2, 3]})
    projects = pd.DataFrame({"project_key": ["x", "y", "z"], "project_name": ["X", "Y", "Z"],
                             "kind": ["халықаралық", None, None]})
    return members, schools, projects


def test_member_info_joins_school_and_project():
    info = sc.member_info(*_member_frames(), "a-1-x", "2023-2024")
    assert info["school_name"] == "№1 мектеп" and info["project_name"] == "X"
    assert info["project_kind"] == "халықаралық" and info["events_month_from"] == "қыркүйек"
    assert "source" not in info


def test_member_info_period_without_row_is_none_and_unknown_member_names_known():
    assert sc.member_info(*_member_frames(), "a-2-x", "2022-2023") is None
    with pytest.raises(ValueError, match="a-1-x, a-2-x"):
        sc.member_info(*_member_frames(), "nowhere", "2023-2024")


def test_for_member_selects_and_sorts_by_item():
    df = pd.DataFrame({"member_id": ["m", "m", "n"], "period": ["p", "p", "p"], "item": [2, 1, 1],
                       "t": ["b", "a", "c"]})
    assert sc.for_member(df, "m", "p")["t"].tolist() == ["a", "b"]
    assert sc.for_member(df, None, "p").empty


# --- text pieces ------------------------------------------------------------------------

def test_numbered_joined_value_range_pct_text():
    assert sc.numbered(["a", None, "b"]) == "1. a; 2. b"
    assert sc.numbered(["a"]) == "a"
    assert sc.joined(["Оразалы С.К.", None, "Досова Н.Б."]) == "Оразалы С.К., Досова Н.Б."
    assert sc.joined([None]) == "-"
    assert sc.value_range(20, 30) == "20-30" and sc.value_range(20, None) == "20"
    assert sc.value_range("қыркүйек", "сәуір", " – ") == "қыркүйек – сәуір"
    assert sc.value_range(None, None) == "-"
    assert (sc.pct_text(84.0), sc.pct_text(80.5), sc.pct_text(None)) == ("84%", "80,5%", "-")


def test_count_phrase_skips_zero_and_missing():
    df = pd.DataFrame({"k": ["семинар", "вебинар", "тренинг"], "n": [5, 0, None]})
    assert sc.count_phrase(df, "k", "n") == "5 семинар"
    assert sc.count_phrase(df.iloc[1:], "k", "n") == "-"


def test_blank_formatter():
    assert [sc.blank(x) for x in (None, float("nan"), "SWOT")] == ["", "", "SWOT"]


def test_course_phrase_puts_role_in_possessive():
    df = pd.DataFrame({"course": ["«A»", "«B»", "«C»"], "role": ["тренер", None, "модератор"],
                       "teachers": [5, 12, 1]})
    assert sc.course_phrase(df) == "«A» тренері – 5 мұғалім; «B» – 12 мұғалім; «C» модераторы – 1 мұғалім"


# --- grade bands ---------------------------------------------------------------------------

def _bands(teachers_total=67, pupils=(None, None, None)):
    return pd.DataFrame({
        "grade_band": ["5-8", "1-4", "9-10", "Барлығы"], "grade_from": [5, 1, 9, None],
        "teachers": [17, 25, 25, teachers_total], "pupils": [*pupils, 550],
        "row_type": ["part", "part", "part", "total"]})


def test_bands_table_orders_by_grade_and_computes_total():
    out = sc.bands_table(_bands(teachers_total=99))
    assert out["grade_band"].tolist() == ["1-4", "5-8", "9-10", "Барлығы"]
    assert out["teachers"].tolist() == [25, 17, 25, 67]         # computed, not the printed 99
    assert "pupils" not in out.columns                          # no band carries pupils


def test_declared_vs_parts_and_value_or_declared():
    chk = sc.declared_vs_parts(_bands(teachers_total=68), ["teachers", "pupils"]).set_index("column")
    assert (chk.loc["teachers", "declared"], chk.loc["teachers", "computed"]) == (68, 67)
    assert chk.loc["teachers", "agrees"] is False
    assert chk.loc["pupils", "computed"] is None and chk.loc["pupils", "agrees"] is None
    assert sc.value_or_declared(_bands(), "pupils") == (550, "declared")
    assert sc.value_or_declared(_bands(pupils=(200, 300, 50)), "pupils") == (550, "parts")
    assert sc.value_or_declared(_bands(), "teachers") == (67, "parts")


def test_band_phrase():
    assert sc.band_phrase(_bands().iloc[:2]) == "5-8 сыныптар арасында 17 мұғалім, 1-4 сыныптар арасында 25 мұғалім"


# --- events ---------------------------------------------------------------------------------

def _events():
    return pd.DataFrame({"kind_key": ["seminar", "seminar", "training"], "kind": ["семинар", "семинар", "тренинг"],
                         "level_key": ["city", "school", None], "level": ["қалалық", "мектепішілік", None]})


def test_level_and_kind_counts():
    lv = sc.level_counts(_events())
    assert lv["level"].tolist() == ["мектепішілік", "қалалық", sc.NO_LEVEL]   # canonical order
    assert lv["events"].tolist() == [1, 1, 1]
    k = sc.kind_counts(_events())
    assert k[["kind", "events"]].values.tolist() == [["семинар", 2], ["тренинг", 1]]


def test_events_matrix_levels_by_kinds_with_totals():
    m = sc.events_matrix(_events())
    assert list(m.columns) == ["level", "семинар", "тренинг", "Барлығы", "row_type"]
    assert m["level"].tolist() == ["мектепішілік", "қалалық", sc.NO_LEVEL_SHORT, "Барлығы"]
    assert m["Барлығы"].tolist() == [1, 1, 1, 3]
    assert m.iloc[-1][["семинар", "тренинг"]].tolist() == [2, 1]


# --- lists and summary ---------------------------------------------------------------------

def test_grouped_list_labels_first_row_of_each_group_only():
    df = pd.DataFrame({"q": ["Қауіптер", "Күшті жақтары", "Күшті жақтары"],
                       "qk": ["threats", "strengths", "strengths"], "item": [1, 2, 1], "text": ["t", "s2", "s1"]})
    df = df.astype({"q": "string"})                              # parquet text comes back as string dtype
    out = sc.grouped_list(df, "q", "text", "qk", sc.SWOT_ORDER)
    assert out["text"].tolist() == ["s1", "s2", "t"]
    assert out["q"].tolist() == ["Күшті жақтары", None, "Қауіптер"]
    assert out["no"].tolist() == [1, 2, 1]


def test_summary_one_row_per_member_of_the_period():
    members, schools, projects = _member_frames()
    bands = pd.DataFrame({"member_id": ["a-1-x"] * 2 + ["a-2-x"], "period": ["2023-2024"] * 3,
                          "grade_band": ["1-4", "Барлығы", "1-4"], "teachers": [5, 5, 7],
                          "pupils": [None, 40, None], "row_type": ["part", "total", "part"]})
    events = pd.DataFrame({"member_id": ["a-1-x", "a-1-x", "a-2-x"], "period": ["2023-2024"] * 3, "item": [1, 2, 1]})
    quality = pd.DataFrame({"member_id": ["a-1-x"], "period": ["2023-2024"], "quality_pct": [84.0]})
    out = sc.summary(members, schools, projects, bands, events, quality, "2023-2024")
    assert out["school"].tolist() == ["№1 мектеп", "№2 лицей"]
    assert out["pupils"].tolist()[0] == 40 and pd.isna(out["pupils"].tolist()[1])
    assert out["teachers"].tolist() == [5, 7] and out["events"].tolist() == [2, 1]
    assert out["quality_pct"].tolist()[0] == 84.0 and pd.isna(out["quality_pct"].tolist()[1])


def test_whole_number_ticks_on_a_count_chart():
    from helpers import charts

    df = pd.DataFrame({"level": ["мектепішілік", "қалалық", "республикалық"], "events": [2, 3, 1]})
    fig = sc.whole_number_ticks(charts.bar(df, x="level", y="events"))
    ticks = fig.axes[0].get_yticks()
    assert len(ticks) and all(float(t).is_integer() for t in ticks)
