"""Unit tests of helpers.leading (pure functions of the leading_schools report)."""
import pandas as pd
import pytest

from helpers import leading


def regions_frame(total_leading=10):
    return pd.DataFrame({
        "period": ["2019"] * 4,
        "region": ["A қ.", "B обл.", "C обл.", "Барлығы"],
        "region_slug": ["a", "b", "c", None],
        "pilot_schools": pd.array([1, None, 2, 3], dtype="Int64"),
        "leading_schools": pd.array([2, 5, 5, total_leading], dtype="Int64"),
        "row_type": ["part", "part", "part", "total"],
    })


def test_check_region_accepts_all_and_known_slugs():
    df = regions_frame()
    assert leading.check_region("all", df) == "all"
    assert leading.check_region("b", df) == "b"


def test_check_region_unknown_slug_names_the_known_ones():
    with pytest.raises(leading.UnknownRegionError, match=r"'zz'.*a, b, c"):
        leading.check_region("zz", regions_frame())


def test_rank_desc_ties_share_best_rank_and_missing_has_none():
    r = leading.rank_desc(pd.Series([5, 7, 5, None]))
    assert r.tolist()[:3] == [2, 1, 2]
    assert pd.isna(r.iloc[3])


def test_by_region_computes_total_share_and_rank_from_parts():
    df = regions_frame(total_leading=99)  # printed total is wrong on purpose
    before = df.copy()
    t = leading.by_region(df)
    pd.testing.assert_frame_equal(df, before)  # input not mutated
    total = t[t["row_type"] == "total"].iloc[0]
    assert total["leading_schools"] == 12 and total["pilot_schools"] == 3
    b = t[t["region_slug"] == "b"].iloc[0]
    assert b["leading_share_pct"] == pytest.approx(5 / 12 * 100)
    assert b["leading_rank"] == 1 and pd.isna(b["pilot_rank"])
    assert t["leading_share_pct"].iloc[-1] == pytest.approx(100)


def test_profile_and_focus_slug():
    t = leading.by_region(regions_frame())
    p = leading.profile(t, "a")
    assert p == {"region_slug": "a", "region": "A қ.", "regions": 3, "leading_schools": 2,
                 "pilot_schools": 1, "leading_share_pct": pytest.approx(2 / 12 * 100),
                 "pilot_share_pct": pytest.approx(1 / 3 * 100), "leading_rank": 3,
                 "pilot_rank": 2}
    assert leading.focus_slug(t, "all") == "b"      # first of the tied leaders
    assert leading.focus_slug(t, "c") == "c"


def test_respondents_totals_from_parts_not_printed_totals():
    waves = pd.DataFrame({
        "period": ["2018", "2018", "2018"], "wave": ["I"] * 3,
        "school_type": ["ЖМ"] * 3, "role_key": ["heads", "teachers", "total"],
        "respondents": [10, 30, 41], "row_type": ["part", "part", "total"],
    })
    w = leading.respondents(waves)
    assert w["total"].tolist() == [40]
    assert w["heads_share_pct"].iloc[0] == pytest.approx(25.0)


def test_declared_vs_computed_lists_only_disagreements():
    diff = leading.declared_vs_computed(regions_frame(total_leading=11), "region",
                                        ["pilot_schools", "leading_schools"], table="x")
    assert diff[["label", "column", "declared", "computed"]].values.tolist() == [
        ["Барлығы", "leading_schools", 11, 12]]
    assert leading.declared_vs_computed(regions_frame(12), "region",
                                        ["pilot_schools", "leading_schools"], "x").empty


def test_sections_skipped_country_vs_region():
    assert leading.sections_skipped(leading.COUNTRY) == [leading.REGION_SECTION]
    assert leading.sections_skipped("kostanay") == [leading.COUNTRY_SECTION]
    assert leading.COUNTRY_SECTION != leading.REGION_SECTION


def test_by_region_with_a_kept_total_uses_it_as_base_and_total():
    t = leading.by_region(regions_frame(total_leading=10), totals={"leading_schools": 10})
    total = t[t["row_type"] == "total"].iloc[0]
    assert total["leading_schools"] == 10                       # the kept (printed) total
    b = t[t["region_slug"] == "b"].iloc[0]
    assert b["leading_share_pct"] == pytest.approx(5 / 10 * 100)
    assert total["leading_share_pct"] == pytest.approx(12 / 10 * 100)   # the parts' sum of it
    assert total["pilot_schools"] == 3                          # other counts: computed


def test_network_table_puts_the_leading_count_in_and_totals_the_parts():
    net = pd.DataFrame({"period": ["2019"] * 4, "category": ["A", "Жетекші", "C", "Барлығы"],
                        "category_key": ["a", "leading", "c", "total"],
                        "schools": [10, 20, 70, 100], "row_type": ["part", "part", "part", "total"]})
    t = leading.network_table(net, leading=30)
    assert t["schools"].tolist() == [10, 30, 70, 110]
    assert t["share_pct"].iloc[1] == pytest.approx(30 / 110 * 100)
    kept = leading.network_table(net, leading=30, total=100)
    assert kept["schools"].iloc[-1] == 100 and kept["share_pct"].iloc[1] == pytest.approx(30.0)
    assert kept["share_pct"].iloc[-1] == pytest.approx(110.0)   # the parts' shares, summed
    assert leading.network_table(net)["schools"].tolist() == [10, 20, 70, 100]


def test_ties_names_the_other_regions_sharing_a_rank():
    t = leading.by_region(regions_frame())
    assert leading.ties(t, "b") == ["C обл."] and leading.ties(t, "c") == ["B обл."]
    assert leading.ties(t, "a") == []
