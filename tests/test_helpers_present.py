import re

import numpy as np
import pandas as pd

from helpers import present, tables


def frame():
    return pd.DataFrame({"school": ["<b>x</b>", "№ 67", "Барлығы"],
                         "n": [22645, np.nan, 3], "share": [80.54, 19.46, 100.0]})


def test_table_escapes_formats_and_captions():
    df = frame()
    before = df.copy()
    t = present.table(df, "1-кесте. Мектептер & жобалар", formats={"share": "pct"})
    pd.testing.assert_frame_equal(df, before)
    h = t._repr_html_()
    assert "<caption>1-кесте. Мектептер &amp; жобалар</caption>" in h
    assert "&lt;b&gt;x&lt;/b&gt;" in h and "<b>x</b>" not in h
    assert '<td class="num">22 645</td>' in h
    assert '<td class="num">-</td>' in h
    assert '<td class="num">80,5%</td>' in h
    assert '<tr class="total">' in h
    assert t.data["n"].tolist() == ["22 645", "-", "3"]


def test_table_has_no_external_urls_or_scripts():
    h = present.table(frame(), "x").html
    assert "http" not in h and "@import" not in h and "<script" not in h


def test_spanners_flat_columns():
    df = pd.DataFrame({"p": ["a", "b", "c"], "open": [1, 2, 3], "sem": [4, 5, 6], "all": [5, 7, 9]})
    h = present.table(df, "c", spanners={"Іс-шаралар": ["open", "sem"]},
                      labels={"open": "Ашық сабақтар"}).html
    thead = re.search("<thead>(.*)</thead>", h).group(1)
    assert thead.count("<tr>") == 2
    assert '<th scope="colgroup" colspan="2">Іс-шаралар</th>' in thead
    assert '<th scope="col" rowspan="2">p</th>' in thead
    assert "<th scope=\"col\">Ашық сабақтар</th>" in thead


def test_multiindex_columns_from_wide():
    long = pd.DataFrame({"lvl": ["A", "A", "B", "B"], "y": ["y1", "y2", "y1", "y2"],
                         "pr": [1, 2, 3, 4], "org": [5, 6, 7, 8]})
    w = tables.wide(long, "lvl", "y", ["pr", "org"], labels={"pr": "Жобалар", "org": "ББҰ"})
    h = present.table(w, "2-кесте. x", labels={"lvl": "Деңгей"}).html
    assert '<th scope="col" rowspan="2">Деңгей</th>' in h
    assert '<th scope="colgroup" colspan="2">Жобалар</th>' in h
    assert h.count('<th scope="col">y1</th>') == 2
    assert "<td class=\"num\">8</td>" in h


def test_row_type_hidden_and_total_bold():
    df = tables.with_total(pd.DataFrame({"k": ["a", "b", "c"], "v": [1, 2, 3]}), "k", "v")
    h = present.table(df, "x").html
    assert "row_type" not in h and "part" not in h
    assert h.count('<tr class="total">') == 1
    assert '<td class="num">6</td>' in h


def test_nullable_dtypes_and_blank_total_cells():
    df = pd.DataFrame({"k": pd.array(["a", pd.NA, "Барлығы"], dtype="string"),
                       "n": pd.array([1, pd.NA, 1], dtype="Int64"),
                       "row_type": pd.array(["part", pd.NA, "total"], dtype="string")})
    h = present.table(df, "x").html
    assert h.count('<td class="num">-</td>') == 1          # missing part cell
    assert '<tr class="total"><td class="text">Барлығы</td><td class="num">1</td></tr>' in h


def test_only_numeric_columns_get_num_class():
    # a formatted text column (long Kazakh list, "text"/"auto" spec) must wrap and
    # align left; only columns whose values are numbers are right-aligned, unwrapped
    df = pd.DataFrame({
        "members": ["№№ 3, 4, 5, 6, 10, 17, 26, 37 мектептер; политехникалық колледж",
                    "№ 67 мектеп", np.nan],
        "code": [1, 2, 3],
        "declared": ["Ақжайық, Бөрлі", 12, 7.5],          # mixed: text wins
        "computed": [11, np.nan, 7.25],                    # object of numbers: numeric
        "orgs": [31, 1, 4],
    }).astype({"computed": object})
    h = present.table(df, "x", formats={"members": "text", "code": "text", "declared": "auto",
                                        "computed": "auto", "orgs": "num"}, total_label=None).html
    rows = re.findall(r"<tr>(.*?)</tr>", re.search("<tbody>(.*)</tbody>", h).group(1))
    assert len(rows) == 3
    classes = [re.findall(r'<td class="(\w+)">', r) for r in rows]
    assert classes == [["text", "text", "text", "num", "num"]] * 3
    assert '<td class="text">№№ 3, 4, 5, 6, 10, 17, 26, 37 мектептер; политехникалық колледж</td>' in h
    assert '<td class="text">-</td>' in h                  # missing text cell
    assert '<td class="num">7,3</td>' in h and '<td class="text">12</td>' in h


def test_is_numeric_column_rules():
    assert present.is_numeric_column(pd.Series([1, 2, None]))
    assert not present.is_numeric_column(pd.Series([1, 2, 3]), "text")
    assert not present.is_numeric_column(pd.Series(["a", "b", None]), "num")
    assert present.is_numeric_column(pd.Series([None, None, None], dtype=object), ("num", 1))
    assert not present.is_numeric_column(pd.Series([None, None, None], dtype=object))
    assert not present.is_numeric_column(pd.Series([True, False, True]))
