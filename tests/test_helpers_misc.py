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
    assert fig.axes[0].get_legend() is None                     # legend under the plot,
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["y1", "y2"]   # not on it
    fig = charts.line(df, "year", "v", hue="k", percent=True, decimals=1)
    assert "59,0%" in [t.get_text() for t in fig.axes[0].texts]
    assert fig.axes[0].get_legend() is None and len(fig.legends) == 1


def test_horizontal_bar_height_grows_with_categories():
    small = pd.DataFrame({"d": ["a", "b", "c"], "v": [1, 2, 3]})
    many = pd.DataFrame({"d": [f"Аудан {i}" for i in range(12)] * 3,
                         "y": ["2022"] * 12 + ["2023"] * 12 + ["2024"] * 12, "v": range(36)})
    h_small = charts.bar(small, "d", "v", horizontal=True).get_figheight()
    h_many = charts.bar(many, "d", "v", hue="y", horizontal=True).get_figheight()
    regions = pd.DataFrame({"d": [f"Өңір {i}" for i in range(17)], "v": range(17)})
    h_regions = charts.bar(regions, "d", "v", horizontal=True).get_figheight()
    assert abs(h_small - charts.HEIGHT) < 1e-6                 # never below the default
    assert h_small < h_regions < charts.MAX_HEIGHT              # grows with the categories
    assert abs(h_many - charts.MAX_HEIGHT) < 1e-9               # up to what a PDF page shows
    # each bar is thick enough for its 8 pt value label
    assert h_regions / charts.CM >= 17 * charts.BAR_CM / 0.8
    assert charts.bar(many, "d", "v", hue="y", horizontal=True, size=(5, 4)).get_figheight() == 4


def test_vertical_bar_labels_wrap_to_slot_or_rotate():
    few = pd.DataFrame({"k": ["Халықаралық жобаларды жүзеге асыратын барлық ББҰ", "ОББҰ", "ТжКББҰ"],
                        "v": [1, 2, 3]})
    fig = charts.bar(few, "k", "v", wrap=40)
    first = fig.axes[0].get_xticklabels()[0]
    assert first.get_rotation() == 0 and max(len(s) for s in first.get_text().split("\n")) <= 40
    crowded = pd.DataFrame({"k": ["Шыңғырлау", "Бөкейорда", "Жаңақала", "Казталов", "Қаратөбе",
                                  "Тасқала", "Бәйтерек", "Ақжайық", "Жәнібек", "Теректі",
                                  "Сырым", "Бөрлі", "Шыңғырлау2", "Бөкейорда2"], "v": range(14)})
    assert charts.bar(crowded, "k", "v").axes[0].get_xticklabels()[0].get_rotation() > 0


def test_line_labels_never_overlap():
    # three points at one x, two of them 4 pt apart: labels are >= one step apart
    offs = charts.label_offsets([100.0, 60.0, 56.0])
    centres = sorted((y + o for y, o in zip([100.0, 60.0, 56.0], offs)), reverse=True)
    assert all(a - b >= charts.LABEL_STEP_PT - 1e-9 for a, b in zip(centres, centres[1:]))
    assert offs[0] > 0 and offs[1] > 0 and offs[2] < 0      # the crowded one goes below
    # a label never sits on another line's marker (two points 10 pt apart)
    ys = [371.0, 361.0]
    centres = [y + o for y, o in zip(ys, charts.label_offsets(ys))]
    assert abs(centres[0] - ys[1]) >= charts.LABEL_CLEAR_PT
    assert abs(centres[1] - ys[0]) >= charts.LABEL_CLEAR_PT
    assert centres[1] < ys[1]
    assert charts.label_offsets([10.0, 80.0, 40.0]) == [charts.LABEL_GAP_PT] * 3


def test_bar_highlight_marks_one_category():
    df = pd.DataFrame({"region": ["Түркістан обл.", "Қостанай обл.", "Шымкент қ."], "n": [118, 66, 17]})
    fig = charts.bar(df, "region", "n", horizontal=True, highlight=["Қостанай обл."])
    ax = fig.axes[0]
    colors = [matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches]
    assert colors == [charts.PALETTE[0], charts.ACCENT, charts.PALETTE[0]]
    weights = [t.get_fontweight() for t in ax.get_yticklabels()]
    assert weights[1] == "bold" and weights[0] != "bold"
    plain = charts.bar(df, "region", "n", horizontal=True).axes[0]
    assert {matplotlib.colors.to_hex(p.get_facecolor()) for p in plain.patches} == {charts.PALETTE[0]}


def _svg_shape(text: str) -> str:
    """An SVG with its clip-path ids (hashes of the clip rectangles' float coordinates)
    numbered in order of appearance and its numbers rounded to 1e-4 pt."""
    import re

    ids: dict[str, str] = {}
    text = re.sub(r"p[0-9a-f]{10}\b", lambda m: ids.setdefault(m.group(0), f"clip{len(ids)}"), text)
    return re.sub(r"-?\d+\.\d+|-0\b", lambda m: f"{float(m.group(0)) + 0.0:.4f}".rstrip("0").rstrip("."), text)


def _plain_figure(layout):
    fig = matplotlib.figure.Figure(figsize=(4, 3), layout=layout)
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [3, 1, 2], label="сызық")
    ax.set_title("Тақырып $x^2$")
    ax.set_ylabel("Өте ұзын ось атауы\nекі жол")
    ax.legend()
    return fig


def test_svg_is_savefig_tight_at_less_cost():
    """charts.svg (one layout, one draw) gives the picture savefig(bbox_inches="tight")
    gives: vertical, rotated, wrapped, horizontal grouped and line charts."""
    import io
    import time

    charts.setup()
    long = [f"Облыс атауы ұзын {i} облысы" for i in range(10)]
    figs = [
        lambda: charts.bar(pd.DataFrame({"k": ["1-4 сыныптар", "5-9 сыныптар", "10-11 сыныптар"],
                                         "v": [12, 30, 25]}), "k", "v", ylabel="Педагогтер, адам"),
        lambda: charts.bar(pd.DataFrame({"k": long, "v": [float(i) * 111.1 for i in range(10)]}), "k", "v",
                           decimals=1),                                  # rotated labels
        lambda: charts.bar(pd.DataFrame({"k": ["Жалпы білім беретін мектептер", "Мамандандырылған лицейлер",
                                               "ОББҰ"], "v": [45.2, 30.1, np.nan]}), "k", "v", percent=True),
        lambda: charts.bar(pd.DataFrame({"k": long * 2, "y": ["2023"] * 10 + ["2024"] * 10, "v": range(20)}),
                           "k", "v", hue="y", horizontal=True, legend_title="Жыл", highlight=[long[3]]),
        lambda: charts.line(pd.DataFrame({"t": ["2022", "2023", "2024"] * 2, "g": ["A"] * 3 + ["B"] * 3,
                                          "v": [10.5, 20.1, 30, 11, 19.9, 35]}), "t", "v", hue="g", percent=True),
        lambda: _plain_figure(None), lambda: _plain_figure("tight"),     # other layouts too
    ]
    spent = {"tight": 0.0, "svg": 0.0}
    for make in figs:
        buf = io.StringIO()
        fig = make()
        t = time.process_time()
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
        spent["tight"] += time.process_time() - t
        fig = make()
        engine = fig.get_layout_engine()
        t = time.process_time()
        ours = charts.svg(fig)
        spent["svg"] += time.process_time() - t
        assert _svg_shape(ours) == _svg_shape(buf.getvalue())
        assert fig.get_layout_engine() is engine             # the figure is left as it was
        assert charts.svg(make()) == ours                    # deterministic
    assert spent["svg"] < spent["tight"]
