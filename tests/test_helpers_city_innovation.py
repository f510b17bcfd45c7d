"""Report builders of city_innovation, on small in-memory frames with the processed
(nullable) dtypes that `esep prepare` writes."""
import pandas as pd
import pytest

from helpers import city_innovation as ci


def levels():
    return pd.DataFrame({
        "period": pd.array(["2022-2023-S2"] * 3 + ["2023-2024-S2"] * 3, dtype="string"),
        "level": pd.array(["Орта", "Арнайы", "Барлығы"] * 2, dtype="string"),
        "projects": pd.array([21, 1, 54, 9, pd.NA, 11], dtype="Int64"),
        "orgs": pd.array([78, 1, 91, 84, pd.NA, 84], dtype="Int64"),
        "row_type": pd.array(["part", "part", "total"] * 2, dtype="string"),
    })


def test_by_level_two_level_columns_and_computed_totals():
    df = levels()
    before = df.copy()
    w = ci.by_level(df, ["2022-2023-S2", "2023-2024-S2"], {"projects": "Жобалар", "orgs": "ББҰ"})
    pd.testing.assert_frame_equal(df, before)
    assert list(w.columns)[:3] == [("level", ""), ("Жобалар", "2022-2023-S2"), ("Жобалар", "2023-2024-S2")]
    total = w[w[("level", "")] == "Барлығы"]
    assert total[("Жобалар", "2022-2023-S2")].item() == 22      # printed 54
    assert total[("Жобалар", "2023-2024-S2")].item() == 9
    assert w[("level", "")].tolist()[-1] == "Барлығы"
    assert ci.by_level(df, ["2019-2020-S2"], {}).empty
    assert ci.level_totals(df, "2023-2024-S2") == {"projects": 9, "orgs": 84}
    assert ci.level_totals(df, "2019-2020") == {"projects": None, "orgs": None}


def test_check_totals_lists_printed_totals_that_do_not_add_up():
    out = ci.check_totals("2-кесте", levels(), "level", ["projects", "orgs"], by="period")
    assert set(zip(out["row"], out["column"], out["declared"], out["computed"])) == {
        ("Барлығы (2022-2023-S2)", "жобалар саны", 54, 22),
        ("Барлығы (2022-2023-S2)", "ББҰ саны", 91, 79),
        ("Барлығы (2023-2024-S2)", "жобалар саны", 11, 9),
    }


def test_headline_sums_pupils_by_kind():
    kinds = pd.DataFrame({"kind_key": ["international", "city", "total"],
                          "kind": ["Халықаралық", "Қалалық", "Барлығы"],
                          "projects": pd.array([5, 5, 10], dtype="Int64"),
                          "row_type": ["part", "part", "total"], "source": [ci.HEADLINE_SOURCE] * 3})
    projects = pd.DataFrame({"project_key": ["share", "ib", "nestle"],
                             "kind_key": ["international", "international", "city"],
                             "pupils": pd.array([11114, 7126, 4405], dtype="Int64"),
                             "row_type": ["part"] * 3})
    h = ci.headline(kinds, projects)
    assert ci.value(h, "pupils", kind_key="international") == 18240
    assert ci.value(h, "pupils", row_type="total") == 22645
    assert ci.value(h, "projects", row_type="total") == 10
    assert ci.value(h, "pupils_pct", kind_key="city") == pytest.approx(19.4524, abs=1e-4)
    assert ci.headline(kinds.iloc[0:0], projects).empty


def test_member_text_and_distinct_member_orgs():
    m = pd.DataFrame({"project_key": ["a", "a", "b", "b"], "member_no": [1, 2, 1, 2],
                      "member_name": ["№27 мектеп", "№2 арнайы мектеп", "№27 мектеп", "№35 мектеп"],
                      "member_level": ["Орта", "Арнайы", "Орта", "Орта"]})
    txt = ci.member_text(m)
    assert txt["a"] == "№27 мектеп; №2 арнайы мектеп"
    assert txt["b"] == "№№ 27, 35 мектептер"
    orgs = ci.member_orgs(m)
    assert ci.value(orgs, "orgs", member_level="Орта") == 2
    assert ci.value(orgs, "orgs", row_type="total") == 3


def test_events_table_totals_and_shares():
    ev = pd.DataFrame({
        "row_no": pd.array([1, 1, 2, 2], dtype="Int64"), "project_key": ["x", "x", "y", "y"],
        "project_name": ["X", "X", "Y", "Y"], "event_type_key": ["open", "sem", "open", "sem"],
        "event_type": ["Ашық", "Семинар"] * 2, "events": pd.array([pd.NA, 5, 1, 6], dtype="Int64"),
        "row_type": ["part"] * 4})
    orgs = pd.DataFrame({"project_key": ["x", "y"], "project_name": ["X", "Y"],
                         "orgs": pd.array([25, 31], dtype="Int64"), "source": ["6-кесте"] * 2})
    t = ci.events_table(ev, orgs)
    assert ci.value(t, "events_total", project_key="x") == 5
    assert ci.value(t, "events_total", row_type="total") == 12
    assert ci.value(t, "open", row_type="total") == 1
    assert ci.value(t, "events_pct", project_key="y") == pytest.approx(7 / 12 * 100)
    assert ci.value(t, "orgs", project_key="y") == 31


def test_org_growth_and_check_values():
    po = pd.DataFrame({"period": ["2022-2023", "2023-2024"], "project_key": ["ib", "ib"],
                       "orgs": pd.array([4, 6], dtype="Int64")})
    g = ci.org_growth(po, "ib", "2022-2023", "2023-2024")
    assert (g["before"], g["after"], g["change"], g["change_pct"]) == (4, 6, 2, 50.0)
    assert ci.org_growth(po, "ib", "2021-2022", "2022-2023")["change"] is None
    out = ci.check_values("мәтін", [("IB", "өсім, %", 33.3, 50.0), ("GS", "өсім, %", 10.7, 10.714)])
    assert out[["row", "declared", "computed"]].values.tolist() == [["IB", 33.3, 50.0]]


def test_notebook_only_keeps_quoted_numbers_and_shares_not_pipeline_totals():
    slips = pd.DataFrame({
        "where": ["2-кесте", "3-кесте", ci.QUOTED_WHERE],
        "row": ["Барлығы (2022-2023-S2)", "Негізгі орта білім беру (1 жоба)", "мемлекеттік ББҰ"],
        "column": ["ББҰ саны", "үлесі, %", "state_orgs"],
        "declared": [91, 32.5, 244], "computed": [113, 33.0, 237]})
    before = slips.copy()
    out = ci.notebook_only(slips)
    pd.testing.assert_frame_equal(slips, before)                 # input not mutated
    assert out["where"].tolist() == ["3-кесте", "Мәтін"]       # the printed total: pipeline's
    assert out["item"].tolist() == ["Негізгі орта білім беру (1 жоба): үлесі, %", "мемлекеттік ББҰ"]
    assert out["declared"].tolist() == [32.5, 244] and out["computed"].tolist() == [33.0, 237]
    assert list(out.columns) == ci.NOTEBOOK_ONLY_COLUMNS
    assert ci.notebook_only(slips.iloc[0:1]).empty
