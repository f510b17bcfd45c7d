import math

import numpy as np
import pandas as pd
import pytest

from helpers import fmt


def test_num_thousands_space_and_decimal_comma():
    assert fmt.num(22645) == "22 645"
    assert fmt.num(1234567.891, 2) == "1 234 567,89"
    assert fmt.num(999) == "999"
    assert fmt.num(4405) == "4 405"
    assert fmt.num(np.int64(18240)) == "18 240"


def test_round_half_up_everywhere():
    assert fmt.num(0.05, 1) == "0,1"
    assert fmt.num(2.675, 2) == "2,68"      # binary float would give 2.67
    assert fmt.num(0.5) == "1"              # banker's rounding would give 0
    assert fmt.num(-2.5) == "-3"            # halves away from zero
    assert fmt.pct(80.55) == "80,6%"
    assert fmt.rounded(24.25, 1) == 24.3


def test_pct_and_signed():
    assert fmt.pct(80.54) == "80,5%"
    assert fmt.pct(28, 0) == "28%"
    assert fmt.signed(3319) == "+3 319"
    assert fmt.signed(-202) == "-202"
    assert fmt.signed(0) == "0"
    assert fmt.signed_pct(37.5) == "+37,5%"
    assert fmt.num(-0.04, 1) == "0,0"       # no "-0,0"


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, ""])
def test_missing_is_dash(missing):
    assert fmt.num(missing) == fmt.DASH == "-"
    assert fmt.pct(missing) == "-"
    assert fmt.signed(missing) == "-"
    assert fmt.dash(missing) == "-"


def test_dash_with_formatter():
    assert fmt.dash(80.54, fmt.pct) == "80,5%"
    assert fmt.dash(1500) == "1 500"


def test_truncate():
    assert str(fmt.truncate(29.76, 1)) == "29.7"
    assert str(fmt.round_half_up(29.76, 1)) == "29.8"


def test_format_frame_does_not_mutate_and_formats():
    df = pd.DataFrame({"name": ["A", "B", "C"], "n": [22645, np.nan, 3],
                       "share": [80.54, 19.46, math.nan]})
    before = df.copy()
    out = fmt.format_frame(df, {"share": "pct", "n": ("num", 0)})
    pd.testing.assert_frame_equal(df, before)
    assert out["n"].tolist() == ["22 645", "-", "3"]
    assert out["share"].tolist() == ["80,5%", "19,5%", "-"]
    assert out["name"].tolist() == ["A", "B", "C"]


def test_format_frame_auto_and_errors():
    df = pd.DataFrame({"x": [1.0, 2.94, 1000.0]})
    assert fmt.format_frame(df)["x"].tolist() == ["1", "2,9", "1 000"]
    with pytest.raises(KeyError):
        fmt.format_frame(df, {"nope": "num"})
    with pytest.raises(ValueError):
        fmt.format_frame(df, {"x": "bogus"})


def test_one_rounding_rule_per_report_switches_every_formatter():
    from esep.core import numbers

    assert fmt.num(19.45, 1) == "19,5" and fmt.pct(30.55) == "30,6%"
    with numbers.rounding("truncate"):
        assert (fmt.num(19.45, 1), fmt.pct(30.55), fmt.signed(2.69, 1)) == ("19,4", "30,5%", "+2,6")
    assert fmt.num(19.45, 1) == "19,5"          # back to the default after the block
    import pytest

    with pytest.raises(ValueError, match="rounding must be one of"):
        numbers.set_rounding("banker")
