"""Repository hygiene for the template notebooks (STYLE: thin notebooks, no outputs in git)."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from esep.core import reports

SPECS = reports.all_reports()


@pytest.mark.parametrize("name", sorted(SPECS))
def test_template_is_committed_clean_and_thin(name):
    nb = nbformat.read(str(SPECS[name].notebook), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "a template without code cells"
    assert [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.outputs] == []
    assert [c.execution_count for c in code if c.execution_count is not None] == []
    # notebooks are thin: functions belong in src/helpers
    assert not [c.source[:40] for c in code if "\ndef " in "\n" + c.source]
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and code[0] is tagged[0], "the first code cell must be the parameters cell"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_spec_inputs_exist(name):
    spec = SPECS[name]
    missing = [p for p in spec.input_paths if not p.exists() and not p.with_suffix(".xlsx").exists()]
    assert missing == []


import re  # noqa: E402

from esep.notebook import narrative  # noqa: E402

# a letter, or a hyphen and a letter, right after a placeholder is a case ending typed
# by hand: the template must name a glued form (helpers.kazakh / report.glue_forms)
_ENDING_AFTER = re.compile(r"\}\}(?:%?-?[^\W\d_])")


@pytest.mark.parametrize("name", sorted(SPECS))
def test_no_case_ending_typed_after_a_placeholder(name):
    nb = nbformat.read(str(SPECS[name].notebook), as_version=4)
    bad = [m.group(0) + " in " + c.source[max(0, m.start() - 40):m.end() + 10]
           for c in nb.cells if c.cell_type == "markdown"
           for m in _ENDING_AFTER.finditer(c.source)]
    assert bad == []


RAW = Path(__file__).resolve().parents[1] / "data" / "raw"
TEXT_FILES = sorted(RAW.glob("*/texts.csv"))


@pytest.mark.parametrize("path", TEXT_FILES, ids=[p.parent.name for p in TEXT_FILES])
def test_no_case_ending_typed_after_a_placeholder_in_texts_csv(path):
    # texts.csv holds the seed's own words; where a text is a template, its placeholders
    # follow the same rule as the notebooks' markdown
    import csv

    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows, f"{path} has no rows"
    bad = [f"{path.name}:{i + 2}: {m.group(0)}" for i, row in enumerate(rows)
           for value in row.values() if value
           for m in _ENDING_AFTER.finditer(value)]
    assert bad == []


def test_placeholder_rule_catches_every_glued_form():
    # the forms helpers.kazakh writes are exactly what a template must not type by hand
    from helpers import kazakh as kz

    for case in kz.FORMS:
        if case == "nom":
            continue
        for value, kw in ((84, {}), (36, {}), (25, {"pct": True, "decimals": 0})):
            typed = "{{ x }}" + kz.numeral(value, case, **kw)[len(kz.numeral(value, **kw)):]
            assert _ENDING_AFTER.search(typed), typed


# in code, an f-string that types a suffix after a value (f"{n}-ші", f"{kind}тер") makes the
# same mistake as a template: helpers.kazakh writes the form (numeral, inflect, plural)
def _suffixes() -> list[str]:
    from helpers import kazakh as kz

    words = ["тоғыз", "төрт", "алты", "жеті", "он", "елу", "мың", "жоба", "мектеп"]
    found = {kz.ending(w, c) for w in words for c in kz.FORMS} | {
        kz.plural(w)[len(w):] for w in words}
    return sorted((f for f in found if f), key=len, reverse=True)


def _code_sources():
    import nbformat as nbf

    root = Path(__file__).resolve().parents[1]
    for name in sorted(SPECS):
        nb = nbf.read(str(SPECS[name].notebook), as_version=4)
        for c in nb.cells:
            if c.cell_type == "code":
                yield f"{SPECS[name].notebook.name}[{c.get('id')}]", c.source
    for py in sorted((root / "src" / "helpers").glob("*.py")):
        yield f"src/helpers/{py.name}", py.read_text(encoding="utf-8")


def test_no_suffix_typed_after_a_value_in_code():
    pattern = re.compile(r"\}%?-?(?:" + "|".join(_suffixes()) + r")(?![^\W\d_])")
    bad = [f"{where}: {src[max(0, m.start() - 30):m.end() + 5]!r}"
           for where, src in _code_sources() for m in pattern.finditer(src)]
    assert bad == []


@pytest.mark.parametrize("name", sorted(SPECS))
def test_changes_are_said_with_a_verb_not_ozgerdi(name):
    nb = nbformat.read(str(SPECS[name].notebook), as_version=4)
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    # "+21 ұйымға өзгерді" reads machine-made: the helper writes өсті / азайды
    assert not re.search(r"\{\{[^}]*:signed\s*\}\}\s+\w+\s+өзгерді", prose)
    assert "өзгерді" not in prose
    assert narrative.PLACEHOLDER.search(prose)


# --- the generated city notebook -----------------------------------------------------------

GENERATOR = Path(__file__).resolve().parents[1] / "notebooks" / "_build_city_innovation.src.py"


def _generate(src_text: str, tmp_path: Path, name: str) -> dict:
    import json
    import subprocess
    import sys

    gen = tmp_path / f"{name}.py"
    gen.write_text(src_text, encoding="utf-8")
    out = tmp_path / f"{name}.ipynb"
    res = subprocess.run([sys.executable, str(gen), str(out)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return json.loads(out.read_text(encoding="utf-8"))


def test_generator_output_equals_the_committed_city_notebook(tmp_path):
    import json

    made = _generate(GENERATOR.read_text(encoding="utf-8"), tmp_path, "gen")
    committed = json.loads((GENERATOR.parent / "city_innovation.ipynb").read_text(encoding="utf-8"))
    assert made == committed, ("notebooks/city_innovation.ipynb is not what the generator makes: run "
                               "`.venv/bin/python notebooks/_build_city_innovation.src.py notebooks/city_innovation.ipynb`")


def test_inserting_or_removing_a_cell_keeps_every_other_id(tmp_path):
    src = GENERATOR.read_text(encoding="utf-8")
    before = [c["id"] for c in _generate(src, tmp_path, "a")["cells"]]
    first_md = src.index("\nmd(")
    inserted = src[:first_md] + '\nmd("ci-inserted-paragraph", \'\'\'Жаңа абзац.\'\'\')\n' + src[first_md:]
    after = [c["id"] for c in _generate(inserted, tmp_path, "b")["cells"]]
    assert [i for i in after if i != "ci-inserted-paragraph"] == before
    # removing the first narrative cell: the others keep their ids
    start = src.index("\nmd(") + 1
    end = min(src.index(f"\n{kind}(", start) for kind in ("md", "code")) + 1  # up to the next cell
    removed_id = src[start:end].split('"')[1]
    after = [c["id"] for c in _generate(src[:start] + src[end:], tmp_path, "c")["cells"]]
    assert after == [i for i in before if i != removed_id]
