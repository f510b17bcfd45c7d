"""Runner, outputs and CLI on the toy project: atomic outputs, failure handling, errors."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from esep.publish import render
from esep.cli import app

runner = CliRunner()


def test_prepare_writes_parquet_and_leaves_raw_alone(mini_project):
    raw = mini_project / "data/raw/toy/pupils.csv"
    before = raw.read_bytes()
    res = runner.invoke(app, ["prepare", "toy"])
    assert res.exit_code == 0, res.output
    import pandas as pd

    df = pd.read_parquet(mini_project / "data/processed/toy/pupils.parquet")
    assert int(df.loc[df.row_type == "part", "pupils"].sum()) == 23845
    assert raw.read_bytes() == before


@pytest.mark.integration
def test_run_writes_outputs_and_index(mini_project):
    res = runner.invoke(app, ["run", "toy", "--period", "2023-2024-S2"])
    assert res.exit_code == 0, res.output
    out = mini_project / "output/2023-2024-S2"
    raw_page = (out / "toy.html").read_text(encoding="utf-8")
    page = raw_page.replace("\xa0", " ")
    assert "Барлығы 23 845 оқушы." in page                  # placeholder filled, Kazakh format
    assert "23\xa0845" in raw_page                          # ... and never split across lines
    assert "&lt;b&gt;x&lt;/b&gt; мектебі" in page           # data strings escaped
    assert "import pandas" not in page                     # no code
    assert render.external_urls(page) == []                # opens offline
    man = json.loads((out / "toy.manifest.json").read_text(encoding="utf-8"))
    assert "data/raw/toy/pupils.csv" in man["inputs"]
    assert man["parameters"]["period"] == "2023-2024-S2"
    idx = (mini_project / "output/index.html").read_text(encoding="utf-8")
    assert 'href="2023-2024-S2/toy.html"' in idx


@pytest.mark.integration
def test_failed_run_keeps_last_good_output(mini_project):
    assert runner.invoke(app, ["run", "toy", "-p", "2023-2024-S2"]).exit_code == 0
    html = mini_project / "output/2023-2024-S2/toy.html"
    good = html.read_bytes()
    (mini_project / "params/toy/2023-2024-S2.yaml").write_text(
        'period: "2023-2024-S2"\ncity: all\nfail: true\n', encoding="utf-8")
    res = runner.invoke(app, ["run", "toy", "-p", "2023-2024-S2"])
    assert res.exit_code == 1
    assert "AssertionError: asked to fail" in res.output
    assert "cell 3 of the template" in res.output
    assert html.read_bytes() == good
    assert list((mini_project / "output/.esep/failed").glob("*.ipynb"))


@pytest.mark.integration
def test_expanded_build_one_file_per_variant_and_summary(mini_project):
    (mini_project / "params/toy/2023-2024-S2.yaml").write_text(
        'period: "2023-2024-S2"\ncity: ["all", "*"]\nfail: false\n', encoding="utf-8")
    res = runner.invoke(app, ["build"])
    assert res.exit_code == 0, res.output
    out = mini_project / "output/2023-2024-S2"
    assert (out / "toy.html").exists()
    assert (out / "toy/astana.html").exists() and (out / "toy/almaty.html").exists()
    assert "Барлығы 1\xa0200 оқушы." in (out / "toy/astana.html").read_text(encoding="utf-8")
    idx = (mini_project / "output/index.html").read_text(encoding="utf-8")
    assert "<td>Астана</td>" in idx and 'href="2023-2024-S2/toy/almaty.html"' in idx
    assert "summary" in res.output


def test_cli_bad_params_is_one_readable_message(mini_project):
    (mini_project / "params/toy/2023-2024-S2.yaml").write_text(
        'period: "2023-2024-S2"\ncity: all\nfail: false\nextra: 1\n', encoding="utf-8")
    res = runner.invoke(app, ["run", "toy", "--period", "2023-2024-S2"])
    assert res.exit_code == 1
    assert "params/toy/2023-2024-S2.yaml: key 'extra': unknown key" in res.output
    assert "Traceback" not in res.output


def test_cli_bad_period_and_unknown_report(mini_project):
    res = runner.invoke(app, ["run", "toy", "--period", "2023"])
    assert res.exit_code == 1 and "no such params file" in res.output
    res = runner.invoke(app, ["run", "toy", "--period", "23-24"])
    assert res.exit_code == 1 and "period convention" in res.output
    res = runner.invoke(app, ["run", "nope", "--period", "2024"])
    assert res.exit_code == 1 and "unknown report 'nope'" in res.output


def test_list_shows_reports_and_periods(mini_project):
    res = runner.invoke(app, ["list"])
    assert res.exit_code == 0
    assert "toy" in res.output and "2023-2024-S2" in res.output


def test_atomic_writes_keep_normal_permissions_and_leave_no_temp(tmp_path):
    import os
    import stat

    from esep.core.fsutil import atomic_write, commit_files

    target = tmp_path / "a" / "report.html"
    atomic_write(target, "<p>бір</p>")
    commit_files({target: "<p>екі</p>", tmp_path / "a" / "report.json": b"{}"})
    assert target.read_text(encoding="utf-8") == "<p>екі</p>"
    mode = stat.S_IMODE(os.stat(target).st_mode)
    assert mode & 0o044, f"outputs must be readable by others, got {oct(mode)}"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.html", "report.json"]


@pytest.mark.integration
def test_spec_formats_key_sets_the_report_default(mini_project):
    spec = mini_project / "notebooks/toy.report.yaml"
    spec.write_text(spec.read_text(encoding="utf-8") + "formats: [html]\n", encoding="utf-8")
    res = runner.invoke(app, ["build", "--jobs", "1"])
    assert res.exit_code == 0, res.output
    out = mini_project / "output/2023-2024-S2"
    assert (out / "toy.html").exists() and not (out / "toy.pdf").exists()
    status = runner.invoke(app, ["status"])
    assert "1 fresh, 0 stale" in status.output


def test_spec_formats_key_bad_value_is_named(mini_project):
    spec = mini_project / "notebooks/toy.report.yaml"
    spec.write_text(spec.read_text(encoding="utf-8") + "formats: [html, pdfx]\n", encoding="utf-8")
    res = runner.invoke(app, ["build", "--jobs", "1"])
    assert res.exit_code == 1
    assert "toy.report.yaml: key 'formats'" in res.output and "pdfx" in res.output


def test_spec_unknown_key_is_refused_with_the_nearest_known_key(mini_project):
    """A typo in an optional spec key (``roundng:``) would silently keep the default rule:
    every command refuses it in one line naming the file, the key and the likely meant key."""
    spec = mini_project / "notebooks/toy.report.yaml"
    spec.write_text(spec.read_text(encoding="utf-8") + "roundng: truncate\n", encoding="utf-8")
    res = runner.invoke(app, ["status"])
    assert res.exit_code == 1
    assert "toy.report.yaml: unknown key 'roundng' (did you mean 'rounding'?)" in res.output
    assert "Traceback" not in res.output
