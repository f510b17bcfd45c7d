import math

import numpy as np
import pandas as pd
import pytest

from helpers import tables


@pytest.fixture
def levels():
    # first rows of seed 1-кесте; NaN = printed "-"
    return pd.DataFrame({
        "level": ["Негізгі орта", "Мектепке дейінгі", "ТжКБ"],
        "projects": [14, np.nan, 9],
        "orgs": [78, np.nan, 9],
    })


def test_with_total_computes_sum_and_marks_row(levels):
    before = levels.copy()
    out = tables.with_total(levels, "level", ["projects", "orgs"])
    pd.testing.assert_frame_equal(levels, before)
    assert len(out) == 4
    last = out.iloc[-1]
    assert last["level"] == "Барлығы"
    assert last["projects"] == 23 and last["orgs"] == 87
    assert out["row_type"].tolist() == ["part", "part", "part", "total"]


def test_with_total_drops_declared_total_and_groups():
    df = pd.DataFrame({"period": ["a", "a", "a"], "level": ["x", "y", "Барлығы"],
                       "n": [1, 2, 54], "row_type": ["part", "part", "total"]})
    out = tables.with_total(df, "level", "n")
    assert out["n"].tolist() == [1, 2, 3]
    g = pd.DataFrame({"period": ["a", "a", "b"], "level": ["x", "y", "x"], "n": [1, 2, 5]})
    out = tables.with_total(g, "level", "n", by="period")
    assert out["n"].tolist() == [1, 2, 3, 5, 5]
    assert out["period"].tolist() == ["a", "a", "a", "b", "b"]


def test_with_total_all_missing_stays_missing():
    df = pd.DataFrame({"k": ["a", "b", "c"], "v": [np.nan, np.nan, np.nan]})
    out = tables.with_total(df, "k", "v")
    assert math.isnan(out["v"].iloc[-1])


def test_share_and_add_share(levels):
    assert tables.share(18240, 22645) == pytest.approx(80.5476, abs=1e-3)
    assert math.isnan(tables.share(1, 0))
    out = tables.add_share(tables.with_total(levels, "level", "orgs"), "orgs", "orgs_pct")
    assert out["orgs_pct"].iloc[0] == pytest.approx(78 / 87 * 100)
    assert out["orgs_pct"].iloc[-1] == pytest.approx(100)
    assert math.isnan(out["orgs_pct"].iloc[1])
    fixed = tables.add_share(levels, "orgs", "of_city", base=244)
    assert fixed["of_city"].iloc[0] == pytest.approx(78 / 244 * 100)
    assert "of_city" not in levels.columns


def test_dynamics_and_growth():
    df = pd.DataFrame({"k": ["a", "b", "c"], "y1": [28, 4, np.nan], "y2": [31, 6, 2]})
    out = tables.dynamics(df, "y1", "y2")
    assert out["change"].tolist() == [3, 2, 2]
    assert out["change_pct"].iloc[0] == pytest.approx(3 / 28 * 100)
    assert out["change_pct"].iloc[1] == pytest.approx(50.0)
    assert math.isnan(out["change_pct"].iloc[2])
    assert tables.change(35, 56) == 21
    assert tables.growth_pct(35, 56) == pytest.approx(60.0)


def test_wide_two_level_columns_keep_order():
    long = pd.DataFrame({
        "level": ["Орта", "Орта", "Арнайы", "Арнайы"][::-1] + ["Қосымша", "Қосымша"],
        "year": ["2023-2024", "2022-2023"] * 3,
        "projects": [1, 1, 9, 21, 2, 3],
        "orgs": [1, 1, 84, 78, 3, 3],
    })
    out = tables.wide(long, "level", "year", ["projects", "orgs"],
                      labels={"projects": "Жобалар", "orgs": "ББҰ"})
    assert list(out.columns) == [("level", ""), ("Жобалар", "2023-2024"), ("Жобалар", "2022-2023"),
                                 ("ББҰ", "2023-2024"), ("ББҰ", "2022-2023")]
    assert out[("level", "")].tolist() == ["Арнайы", "Орта", "Қосымша"]
    assert out[("ББҰ", "2022-2023")].tolist() == [1, 78, 3]
    one = tables.wide(long, "level", "year", "orgs")
    assert list(one.columns) == ["level", "2023-2024", "2022-2023"]


def test_wide_rejects_duplicates():
    long = pd.DataFrame({"k": ["a", "a", "b"], "c": ["x", "x", "x"], "v": [1, 2, 3]})
    with pytest.raises(ValueError, match="duplicate"):
        tables.wide(long, "k", "c", "v")


def test_parts_declared_only():
    df = pd.DataFrame({"k": ["a", "b", "Барлығы"], "v": [1, 2, 4],
                       "row_type": ["part", "part", "total"]})
    assert tables.parts(df)["v"].tolist() == [1, 2]
    assert tables.declared(df)["v"].tolist() == [4]
    assert tables.only(df, k=["a", "b"])["v"].tolist() == [1, 2]
    assert tables.only(df, k="b")["v"].tolist() == [2]


def test_agrees_follows_the_report_rounding_rule():
    from esep.core import numbers

    assert tables.agrees(80.5476, 80.5)
    assert tables.agrees(29.76, 29.8)       # half up (the default rule)
    assert not tables.agrees(29.76, 29.7)   # a cut print differs under half up: disclosed
    with numbers.rounding("truncate"):      # a report whose spec says rounding: truncate
        assert tables.agrees(29.76, 29.7) and not tables.agrees(29.76, 29.8)
    assert not tables.agrees(29.76, 29.6)
    assert tables.agrees(28.09, 28)          # precision inferred from "28"
    assert not tables.agrees(54, 55)
    assert tables.agrees(2.94, 3, decimals=0)


def test_compare_declared_reports_only_disagreements():
    computed = pd.DataFrame({"k": ["a", "b", "c"], "total": [27, 54, 11], "pct": [32.58, 23.6, 1.12]})
    printed = pd.DataFrame({"k": ["a", "b", "c"], "total": [27, 55, np.nan], "declared_pct": [32.6, 23.5, 1.1]})
    out = tables.compare_declared(computed, printed, on="k", columns={"total": "total", "pct": "declared_pct"})
    assert list(out.columns) == ["k", "column", "declared", "computed", "difference"]
    # 23,6 printed as 23,5 differs under the (default) half-up rule
    assert out[["k", "column"]].values.tolist() == [["b", "total"], ["b", "pct"]]
    assert out["difference"].iloc[0] == pytest.approx(-1)
    ok = tables.compare_declared(computed, computed, on="k", columns=["total", "pct"])
    assert ok.empty


def test_nullable_dtypes_from_prepare():
    df = pd.DataFrame({"level": pd.array(["a", "b", "Барлығы"], dtype="string"),
                       "n": pd.array([14, pd.NA, 27], dtype="Int64"),
                       "row_type": pd.array(["part", "part", "total"], dtype="string")})
    out = tables.with_total(df, "level", "n")
    assert out["n"].tolist()[-1] == 14
    shares = tables.add_share(out, "n", "pct")["pct"].tolist()
    assert shares[0] == pytest.approx(100.0) and shares[-1] == pytest.approx(100.0)
    assert pd.isna(shares[1])
    diff = tables.compare_declared(tables.declared(out), tables.declared(df), on="level", columns="n")
    assert diff[["declared", "computed"]].values.tolist() == [[27, 14]]


@pytest.mark.parametrize("dtype", ["int64[pyarrow]", "Int64", "int64"])
def test_with_total_on_any_integer_backend(dtype):
    # pyarrow-backed integers implement no `%`: with_total used to crash with
    # NotImplementedError: mod not implemented
    df = pd.DataFrame({"k": ["a", "b"], "v": pd.array([1200, 22645], dtype=dtype)})
    out = tables.with_total(df, "k", "v")
    assert out["v"].tolist() == [1200, 22645, 23845]
    assert out["row_type"].tolist() == ["part", "part", "total"]


def test_with_total_on_pyarrow_columns_with_missing_values():
    df = pd.DataFrame({"k": ["a", "b", "c"],
                       "v": pd.array([1, None, 2], dtype="int64[pyarrow]"),
                       "w": pd.array([0.5, 1.5, None], dtype="double[pyarrow]")})
    out = tables.with_total(df, "k", ["v", "w"])
    assert out["v"].iloc[-1] == 3 and out["w"].iloc[-1] == 2.0
    assert out["v"].isna().tolist() == [False, True, False, False]


def test_wide_on_pyarrow_floats():
    df = pd.DataFrame({"k": ["a", "a", "b", "b"], "c": ["x", "y", "x", "y"],
                       "v": pd.array([1.0, 2.0, 3.0, 4.0], dtype="double[pyarrow]")})
    out = tables.wide(df, "k", "c", "v")
    assert out["x"].tolist() == [1, 3] and out["y"].tolist() == [2, 4]
