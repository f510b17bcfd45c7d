"""Incremental-build keys (esep.pipeline.cache) on the toy project, without executing notebooks:
a build record is written for the current inputs, then each kind of input is changed."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from esep.pipeline import cache
from esep.core import params
from esep.core import reports

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def toy(mini_project, tmp_path, monkeypatch):
    """The toy project with a private copy of the code (so tests can edit 'helpers')."""
    from esep.core import code as codedeps

    code = tmp_path / "code"
    shutil.copytree(REPO / "src" / "esep", code / "esep", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(codedeps, "ESEP_DIR", code / "esep")
    monkeypatch.setattr(codedeps, "KIT_DIR", code / "esep" / "kit")
    cache.reset_memo()
    spec = reports.get("toy")
    unit = params.units_for(spec, "2023-2024-S2")[0]
    return mini_project, code, spec, unit


def _built(spec, unit, formats=("html",)):
    """Pretend ``unit`` was built now: outputs exist and a record is saved."""
    cache.reset_memo()
    key = cache.unit_key(spec, unit, formats)
    outs = [unit.output_base().with_suffix(s) for s in (".ipynb", ".manifest.json")]
    outs += [unit.output_base().with_suffix(f".{f}") for f in formats]
    for o in outs:
        o.parent.mkdir(parents=True, exist_ok=True)
        o.write_text("x", encoding="utf-8")
    cache.save(unit, key, outs)
    return outs


def _check(spec, unit, formats=("html",)):
    cache.reset_memo()
    unit = params.units_for(spec, unit.period)[0] if unit.variant is None else unit
    return cache.check(spec, unit, formats)


def test_never_built_then_fresh(toy):
    root, _, spec, unit = toy
    fr = _check(spec, unit)
    assert not fr.fresh and "never built" in fr.reason
    _built(spec, unit)
    fr = _check(spec, unit)
    assert fr.fresh, fr.reasons


def test_timestamps_alone_do_not_invalidate(toy):
    import os

    root, _, spec, unit = toy
    _built(spec, unit)
    for p in [root / "data/raw/toy/pupils.csv", spec.notebook, unit.params_file]:
        os.utime(p, (1, 1))  # like a git checkout: new timestamps, same bytes
    assert _check(spec, unit).fresh


@pytest.mark.parametrize("kind,edit,expect", [
    ("template", lambda r, c: _append(r / "notebooks/toy.ipynb", "\n"), "template: changed notebooks/toy.ipynb"),
    ("spec", lambda r, c: _append(r / "notebooks/toy.report.yaml", "# note\n"), "notebooks/toy.report.yaml"),
    ("params", lambda r, c: _append(r / "params/toy/2023-2024-S2.yaml", "# a comment\n"),
     "params: changed params/toy/2023-2024-S2.yaml"),
    ("raw", lambda r, c: _append(r / "data/raw/toy/pupils.csv", ""), None),  # no change at all
    ("raw", lambda r, c: _replace(r / "data/raw/toy/pupils.csv", "1", "2"),
     "raw data: changed data/raw/toy/pupils.csv"),
    ("raw-new", lambda r, c: (r / "data/raw/toy/extra.xlsx").write_bytes(b"PK"), "raw data: new data/raw/toy/extra.xlsx"),
    ("helpers", lambda r, c: _append(r / "src/helpers/toy.py", "\n# edit\n"), "code: changed helpers/toy.py"),
    ("kit", lambda r, c: _append(c / "esep/kit/fmt.py", "\n# edit\n"), "code: changed esep/kit/fmt.py"),
    ("kit-unused", lambda r, c: _append(c / "esep/kit/charts.py", "\n# edit\n"), None),  # toy does not import it
    ("helpers-new-module", lambda r, c: _write(r / "src/helpers/other_report.py", "X = 1\n"), None),
    ("esep", lambda r, c: _append(c / "esep/publish/render.py", "\n# edit\n"), "code: changed esep/publish/render.py"),
    ("esep-cli", lambda r, c: _append(c / "esep/cli.py", "\n# edit\n"), None),  # cannot change outputs
    ("esep-scheduler", lambda r, c: _append(c / "esep/pipeline/build.py", "\n# edit\n"), None),
    ("template-css", lambda r, c: _append(c / "esep/publish/templates/report.css", "\n"),
     "esep/publish/templates/report.css"),
    ("narrative", lambda r, c: _write(r / "narrative/toy/2023-2024-S2.md", "# edits\n"),
     "narrative edits: new narrative/toy/2023-2024-S2.md"),
    ("other-period-narrative", lambda r, c: _write(r / "narrative/toy/2022-2023-S2.md", "x"), None),
    ("raw-readme", lambda r, c: _write(r / "data/raw/toy/README.md", "notes"), None),
])
def test_each_kind_of_input_invalidates(toy, kind, edit, expect):
    root, code, spec, unit = toy
    _built(spec, unit)
    edit(root, code)
    spec = reports.get("toy")
    fr = _check(spec, unit)
    if expect is None:
        assert fr.fresh, fr.reasons
    else:
        assert not fr.fresh
        assert expect in fr.reason, fr.reason


def test_processed_data_edited_behind_esep_s_back(toy):
    root, _, spec, unit = toy
    proc = spec.processed_path(spec.inputs[0])
    proc.parent.mkdir(parents=True, exist_ok=True)
    proc.write_bytes(b"one")
    _built(spec, unit)
    proc.write_bytes(b"two")
    fr = _check(spec, unit)
    assert not fr.fresh and "processed data: changed data/processed/toy/pupils.parquet" in fr.reason


def test_formats_and_versions_and_missing_outputs(toy, monkeypatch):
    root, _, spec, unit = toy
    outs = _built(spec, unit, ("html",))
    fr = _check(spec, unit, ("html", "pdf"))
    assert not fr.fresh and "format(s) not built yet: pdf" in fr.reason
    _built(spec, unit, ("html", "pdf"))
    assert _check(spec, unit, ("html",)).fresh          # fewer formats: still fresh
    outs[0].unlink()
    fr = _check(spec, unit)
    assert not fr.fresh and "output missing: output/2023-2024-S2/toy.ipynb" in fr.reason
    _built(spec, unit)
    real = cache.versions
    monkeypatch.setattr(cache, "versions", lambda: {**real(), "pandas": "0.0.1"})
    fr = _check(spec, unit)
    assert not fr.fresh and "package versions: pandas" in fr.reason


def test_variants_have_their_own_records_and_narrative(toy):
    root, _, spec, unit = toy
    (root / "params/toy/2023-2024-S2.yaml").write_text(
        'period: "2023-2024-S2"\ncity: ["all", "*"]\nfail: false\n', encoding="utf-8")
    units = params.units_for(spec, "2023-2024-S2")
    assert [u.variant for u in units] == [None, "astana", "almaty"]
    for u in units:
        _built(spec, u)
    _write(root / "narrative/toy/2023-2024-S2/astana.md", "edited")
    cache.reset_memo()
    state = {u.variant: cache.check(spec, u, ("html",)).fresh for u in units}
    assert state == {None: True, "astana": False, "almaty": True}


def test_prepare_record(toy):
    root, _, spec, _ = toy
    from esep.pipeline import build

    assert not cache.prepare_fresh(spec)
    assert build.prepare_all([spec]) == {}
    cache.reset_memo()
    assert cache.prepare_fresh(spec)
    _replace(root / "data/raw/toy/pupils.csv", "1", "2")
    cache.reset_memo()
    assert not cache.prepare_fresh(spec)


def test_fast_versions_match_manifest():
    from esep.publish import manifest

    assert cache.KEY_PACKAGES == manifest.KEY_PACKAGES
    cache.reset_memo()
    assert cache.versions() == manifest.package_versions()


def test_status_and_noop_build_import_nothing_heavy(mini_project):
    """`esep build` with nothing to do must stay cheap: no pandas/nbformat/papermill."""
    code = ("import sys\nfrom esep.pipeline import build\nbuild.status()\n"
            "heavy = sorted(m for m in ('pandas', 'nbformat', 'papermill', 'nbconvert', 'weasyprint')"
            " if m in sys.modules)\nprint(heavy)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_lazy_rfc3987_keeps_iri_validation_working():
    code = ("import esep.lazy_imports as m; m.install()\nimport jsonschema, sys\n"
            "assert getattr(sys.modules['rfc3987_syntax'], '__esep_lazy__', False)\n"
            "assert 'rfc3987_syntax.syntax_helpers' not in sys.modules\n"
            "v = jsonschema.Draft7Validator({'format': 'iri'}, format_checker=jsonschema.FormatChecker())\n"
            "assert v.is_valid('https://example.kz/a?b=1') and not v.is_valid('not an iri')\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr


def _append(p: Path, text: str) -> None:
    p.write_text(p.read_text(encoding="utf-8") + text, encoding="utf-8")


def _replace(p: Path, old: str, new: str) -> None:
    p.write_text(p.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")


def _write(p: Path, text: str) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
