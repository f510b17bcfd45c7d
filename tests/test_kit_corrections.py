"""The corrections policy (helpers.corrections): decisions file, marks, appendix rows."""
from __future__ import annotations

import pandas as pd
import pytest

from esep.notebook import narrative
from helpers import corrections, present


def _ledger(tmp_path, text: str | None):
    if text is not None:
        (tmp_path / "decisions.yaml").write_text(text, encoding="utf-8")
    return corrections.Ledger.load("demo", raw_dir=tmp_path)


def test_default_is_computed_and_a_difference_is_recorded(tmp_path):
    led = _ledger(tmp_path, None)
    assert led.choose("orgs_total", computed=237, declared=244, label="ББҰ саны") == 237
    c = led.get("orgs_total")
    assert (c.number, c.kept, c.declared, c.computed) == (1, "computed", 244, 237)
    assert led.choose("same", computed=80.46, declared=80.5) == 80.46   # agrees at printed precision
    assert led.get("same") is None


def test_decision_file_keeps_declared_with_reason(tmp_path):
    led = _ledger(tmp_path, "decisions:\n  - figure: orgs_total\n    keep: declared\n"
                            "    reason: Ресми сан\n")
    assert led.choose("orgs_total", computed=237, declared=244) == 244
    row = led.table_rows()[0]
    assert row["Құжатта"] == "244" and row["Есептелген"] == "237"
    assert row["Шешім"] == "құжаттағы мән сақталды" and row["Негіздеме"] == "Ресми сан"


def test_flagged_base_caveat_or_withhold(tmp_path):
    led = _ledger(tmp_path, "decisions:\n  - figure: growth_pct\n    flagged: withhold\n    reason: база күмәнді\n")
    assert led.flagged("growth_pct", -38.6, "база тексеруден өтпеді") is None
    assert led.flagged("other_pct", 12.5, "база тексеруден өтпеді") == 12.5
    assert led.get("other_pct").kept == "caveat"


@pytest.mark.parametrize("text,msg", [
    ("decisions:\n  - keep: declared\n", "needs a 'figure'"),
    ("decisions:\n  - figure: x\n    keep: maybe\n    reason: r\n", "keep must be one of"),
    ("decisions:\n  - figure: x\n    keep: declared\n", "give a 'reason'"),
    ("decisions: [1, 2", "not valid YAML"),
])
def test_bad_decision_file_names_file_and_entry(tmp_path, text, msg):
    with pytest.raises(corrections.DecisionError, match=msg) as exc:
        _ledger(tmp_path, text)
    assert "data/raw/demo/decisions.yaml" in str(exc.value)


def test_narrative_placeholder_and_table_cell_carry_the_mark(tmp_path):
    led = _ledger(tmp_path, None)
    led.choose("orgs_total", computed=88, declared=89)
    scraps = {"orgs_total": 88, "esep_corrections": led.records()}
    out = narrative.fill_text("Барлығы {{ orgs_total }} ББҰ.", scraps, nbsp=True, marks=True)
    assert '<span class="esep-corrected" data-declared="89">88<sup class="esep-mark">' in out
    assert 'href="#esep-corr-1"' in out
    assert narrative.fill_text("{{ orgs_total }}", scraps) == "88"   # checks see the plain number
    df = pd.DataFrame({"kind": ["a", "Барлығы"], "n": [88, 88]})
    t = present.table(df, "3-кесте. X", marks={(1, "n"): "orgs_total"}, ledger=led)
    assert t._repr_html_().count('class="esep-corrected" data-declared="89"') == 1
    assert 'id="esep-corr-1"' in led.appendix_html("Түзетулер")


def test_one_value_per_quantity_check_finds_a_figure_printed_twice():
    from esep.notebook import consistency

    ok = {"orgs_in_projects": 89, "esep_figures_shown": [
        {"name": "orgs_in_projects", "value": 89, "where": "3-кесте, «Барлығы» жолы"}]}
    assert consistency.contradictions(ok) == []
    bad = {"orgs_in_projects": 89, "esep_figures_shown": [
        {"name": "orgs_in_projects", "value": 88, "where": "3-кесте, «Барлығы» жолы"}]}
    [line] = consistency.contradictions(bad)
    assert "orgs_in_projects" in line and "88 in 3-кесте" in line and "89 in the text" in line
    # the same quantity at the printed precision is one value
    assert consistency.contradictions({"share_pct": 80.46, "esep_figures_shown": [
        {"name": "share_pct", "value": 80.5, "where": "1-кесте"}]}) == []


def test_table_cells_declared_as_figures_are_recorded():
    from helpers import report

    report._shown.clear()
    df = pd.DataFrame({"level": ["a", "Барлығы"], "orgs": [88, 88], "row_type": ["part", "total"]})
    present.table(df, "3-кесте. X", figures={(1, "orgs"): "orgs_in_projects"})
    assert report._shown == [{"name": "orgs_in_projects", "value": 88, "where": "3-кесте, «Барлығы» жолы"}]
    report._shown.clear()
