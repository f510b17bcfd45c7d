"""`esep build` on the toy project: skipping, invalidation, --force, `esep status`,
parallel failure isolation and two builds at once (these execute notebooks)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from esep.cli import app

runner = CliRunner()
PARAMS = "params/toy/2023-2024-S2.yaml"


@pytest.fixture(autouse=True)
def frozen_code(tmp_path, monkeypatch):
    """Hash a private copy of the code: edits others make to src/ meanwhile must not count."""
    import shutil

    from esep.core import code

    repo_src = Path(__file__).resolve().parents[1] / "src"
    shutil.copytree(repo_src / "esep", tmp_path / "code" / "esep", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(code, "ESEP_DIR", tmp_path / "code" / "esep")
    monkeypatch.setattr(code, "KIT_DIR", tmp_path / "code" / "esep" / "kit")
    return tmp_path / "code"


def _messages(root: Path) -> dict:
    doc = json.loads((root / "output/.esep/last_build.json").read_text(encoding="utf-8"))
    return {u["unit"]: u["message"] for u in doc["units"]}


def _last(root: Path) -> dict:
    doc = json.loads((root / "output/.esep/last_build.json").read_text(encoding="utf-8"))
    return {u["unit"]: u["status"] for u in doc["units"]}


@pytest.mark.integration
def test_build_skips_up_to_date_and_rebuilds_what_changed(mini_project, frozen_code):
    res = runner.invoke(app, ["build", "--jobs", "1"])
    assert res.exit_code == 0, res.output
    html = mini_project / "output/2023-2024-S2/toy.html"
    before = (html.read_bytes(), html.stat().st_mtime_ns)
    assert _last(mini_project) == {"2023-2024-S2/toy": "ok"}

    res = runner.invoke(app, ["build"])                       # nothing changed
    assert res.exit_code == 0, res.output
    assert "1 of 1 up to date, skipped" in res.output
    assert _last(mini_project) == {"2023-2024-S2/toy": "skipped"}
    assert (html.read_bytes(), html.stat().st_mtime_ns) == before

    # no heavy import when nothing has to run (keeps `esep build` instant)
    code = ("import os, sys\nfrom pathlib import Path\nfrom esep.pipeline import build, cache\nfrom esep.core import code\n"
            "code.ESEP_DIR = Path(os.environ['FROZEN']) / 'esep'; code.KIT_DIR = code.ESEP_DIR / 'kit'\n"
            "r = build.build()\nassert r[0].status == 'skipped', r\n"
            "print(sorted(m for m in ('pandas', 'nbformat', 'papermill', 'nbconvert') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, FROZEN=str(frozen_code)))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"

    p = mini_project / PARAMS
    p.write_text(p.read_text(encoding="utf-8") + "# reviewed\n", encoding="utf-8")
    res = runner.invoke(app, ["status"])
    assert res.exit_code == 0
    assert "stale" in res.output and "params/toy/2023-2024-S2.yaml" in res.output
    res = runner.invoke(app, ["build"])
    assert res.exit_code == 0, res.output
    assert _last(mini_project) == {"2023-2024-S2/toy": "ok"}
    assert _messages(mini_project)["2023-2024-S2/toy"] == "rebuilt: params: changed params/toy/2023-2024-S2.yaml"
    res = runner.invoke(app, ["status"])
    assert "1 fresh, 0 stale" in res.output

    res = runner.invoke(app, ["build", "--force"])
    assert res.exit_code == 0
    assert _last(mini_project) == {"2023-2024-S2/toy": "ok"}


@pytest.mark.integration
def test_parallel_build_one_failure_does_not_stop_the_others(mini_project):
    (mini_project / PARAMS).write_text(
        'period: "2023-2024-S2"\ncity: ["all", "*"]\nfail: false\n', encoding="utf-8")
    (mini_project / "params/toy/2022-2023-S2.yaml").write_text(
        'period: "2022-2023-S2"\ncity: all\nfail: true\n', encoding="utf-8")
    res = runner.invoke(app, ["build", "--jobs", "2"])
    assert res.exit_code == 1
    assert _last(mini_project) == {
        "2022-2023-S2/toy": "failed", "2023-2024-S2/toy": "ok",
        "2023-2024-S2/toy/astana": "ok", "2023-2024-S2/toy/almaty": "ok"}
    assert "AssertionError: asked to fail" in res.output
    assert "1 of 4 failed" in res.output
    out = mini_project / "output"
    assert (out / "2023-2024-S2/toy/almaty.html").exists()
    assert not (out / "2022-2023-S2/toy.html").exists()
    # the failed unit is still stale, the others are not rebuilt
    res = runner.invoke(app, ["build", "--jobs", "2"])
    assert _last(mini_project) == {
        "2022-2023-S2/toy": "failed", "2023-2024-S2/toy": "skipped",
        "2023-2024-S2/toy/astana": "skipped", "2023-2024-S2/toy/almaty": "skipped"}


@pytest.mark.integration
def test_two_builds_at_once_share_the_work(mini_project):
    (mini_project / PARAMS).write_text(
        'period: "2023-2024-S2"\ncity: ["astana", "almaty"]\nfail: false\n', encoding="utf-8")
    env = dict(os.environ, ESEP_ROOT=str(mini_project))
    cmd = [sys.executable, "-m", "esep.cli", "build", "--jobs", "1"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    text = "\n".join(outs)
    # each unit executed once in total; the other process found it built meanwhile or fresh
    assert text.count("toy 2023-2024-S2 [astana]: ok") == 1, text
    assert text.count("toy 2023-2024-S2 [almaty]: ok") == 1, text
    for v in ("astana", "almaty"):
        page = (mini_project / f"output/2023-2024-S2/toy/{v}.html").read_text(encoding="utf-8")
        assert page.rstrip().endswith("</html>")
    assert not list((mini_project / "output/2023-2024-S2").rglob("*.tmp"))


@pytest.mark.parametrize("value", [23845, 80.5, True, [1, 2], {"a": 1}, "Ақжайық", "2024"])
def test_glue_emits_what_scrapbook_glue_emits(monkeypatch, value):
    """helpers.report.glue writes scrapbook's display format without importing scrapbook."""
    import json as _json

    import IPython.display
    import scrapbook as sb

    from helpers import report

    shown = []
    monkeypatch.setattr(IPython.display, "display",
                        lambda *a, **kw: shown.append((a, kw)))
    enc = "text" if isinstance(value, str) else "json"
    sb.glue("x_name", value, encoder=enc)
    report.glue("x_name", value)
    if isinstance(value, str):  # the JSON-document form used for text by helpers.oblast.glue
        sb.glue("x_name", _json.dumps(value, ensure_ascii=False), encoder="json")
        report.emit_scrap("x_name", _json.dumps(value, ensure_ascii=False), "json")
    assert len(shown) in (2, 4)
    for i in range(0, len(shown), 2):
        assert shown[i] == shown[i + 1]


def test_kernel_start_race_is_retried_once(mini_project, monkeypatch):
    """A kernel that dies at start-up (TCP port race between workers) is retried once."""
    from esep.pipeline import executors as b
    from esep.core import params
    from esep.core import reports
    from esep.pipeline import run

    calls = []
    real = run.run_unit

    def flaky(spec, unit, formats, quality=None):
        calls.append(unit.key)
        if len(calls) == 1:
            raise RuntimeError("Kernel died before replying to kernel_info")
        return real(spec, unit, formats, quality=quality)

    monkeypatch.setattr(run, "run_unit", flaky)
    from esep.pipeline import cache
    from esep.data import prepare

    spec = reports.get("toy")
    prepare.prepare_report(spec)
    unit = params.units_for(spec, "2023-2024-S2")[0]

    res = b.run_task(b.Task(0, spec, unit, ("html",), cache.unit_key(spec, unit, ("html",)), True,
                            False, True))
    assert res.status == "ok", res.message
    assert len(calls) == 2
    assert not b._kernel_start_failed(RuntimeError("ZeroDivisionError in cell 3"))
