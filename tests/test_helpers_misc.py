import json

import matplotlib.figure
import numpy as np
import pandas as pd
import pytest

from helpers import captions, charts, data, report


def test_captions_numbered_in_order():
    c = captions.Captions()
    assert c.table("Жобалар") == "1-кесте. Жобалар"
    assert c.figure("Динамика") == "1-сурет. Динамика"
    assert c.table("ББҰ") == "2-кесте. ББҰ"
    assert c.figure("") == "2-сурет"
    assert (c.tables, c.figures) == (2, 2)


def test_plain_converts_numpy_and_pandas():
    assert report.plain(np.int64(22645)) == 22645 and type(report.plain(np.int64(1))) is int
    assert type(report.plain(np.float64(80.5))) is float
    assert report.plain(float("nan")) is None
    assert report.plain(pd.NA) is None
    assert report.plain({"a": np.int32(3), "b": [np.float32(0.5)]}) == {"a": 3, "b": [0.5]}
    json.dumps(report.plain({"x": np.int64(1)}))
    with pytest.raises(TypeError):
        report.plain(object())


def test_glue_rejects_bad_name():
    with pytest.raises(ValueError):
        report.glue("Bad Name", 1)


def test_load_reads_processed_parquet(tmp_path, monkeypatch):
    monkeypatch.setenv("ESEP_ROOT", str(tmp_path))
    d = tmp_path / "data" / "processed" / "rep"
    d.mkdir(parents=True)
    pd.DataFrame({"period": ["a", "b", "a"], "v": [1, 2, 3]}).to_parquet(d / "t.parquet")
    df = data.load("rep", "t")
    assert df["v"].tolist() == [1, 2, 3]
    assert data.for_period(df, "a")["v"].tolist() == [1, 3]


def test_load_missing_file_says_run_prepare(tmp_path, monkeypatch):
    monkeypatch.setenv("ESEP_ROOT", str(tmp_path))
    with pytest.raises(data.MissingDataError, match=r"esep prepare") as e:
        data.load("rep", "nothing")
    assert "nothing.parquet" in str(e.value)


def test_bar_chart_labels_and_returns_figure():
    charts.setup()
    df = pd.DataFrame({"kind": ["Барлық", "Халықаралық", "Қалалық"], "n": [22645, 18240, np.nan]})
    fig = charts.bar(df, "kind", "n")
    assert isinstance(fig, matplotlib.figure.Figure)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["22 645", "18 240", "-"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Барлық", "Халықаралық", "Қалалық"]
    assert abs(fig.get_figwidth() - 16 / 2.54) < 1e-6


def test_grouped_bar_and_line():
    df = pd.DataFrame({"k": ["a", "b", "a"], "year": ["y1", "y1", "y2"], "v": [59, 35, 56]})
    fig = charts.bar(df, "k", "v", hue="year")
    assert [t.get_text() for t in fig.axes[0].texts] == ["59", "35", "56", "-"]
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["y1", "y2"]
    fig = charts.line(df, "year", "v", hue="k", percent=True, decimals=1)
    assert "59,0%" in [t.get_text() for t in fig.axes[0].texts]
