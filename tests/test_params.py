"""Params validation: every refusal names the file and the key."""
from __future__ import annotations

import pytest

from esep.core import params
from esep.core import reports
from esep.core.errors import ParamsError


def write(root, text, name="2023-2024-S2.yaml"):
    p = root / "params" / "toy" / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.fixture
def spec(mini_project):
    return reports.get("toy")


def test_valid_params_load(spec, mini_project):
    data = params.load(spec, mini_project / "params/toy/2023-2024-S2.yaml")
    assert data == {"period": "2023-2024-S2", "city": "all", "fail": False}


@pytest.mark.parametrize("text, key, words", [
    ('period: "2023-2024-S2"\ncity: all\nfail: false\ncolour: red\n', "colour", "unknown key"),
    ('period: "2023-2024-S2"\nfail: false\n', "city", "missing"),
    ('period: "2023-2024-S2"\ncity: all\nfail: 3\n', "fail", "true or false"),
    ('period: "2023-2024-S2"\ncity: ../../etc\nfail: false\n', "city", "outside the project"),
    ('period: 2024\ncity: all\nfail: false\n', "period", "must be a string"),
])
def test_bad_params_name_file_and_key(spec, mini_project, text, key, words):
    p = write(mini_project, text)
    with pytest.raises(ParamsError) as exc:
        params.load(spec, p)
    msg = str(exc.value)
    assert "params/toy/2023-2024-S2.yaml" in msg
    assert f"key '{key}'" in msg
    assert words in msg


@pytest.mark.parametrize("value, ok", [
    ("2023-2024-S2", True), ("2023-2024", True), ("2024", True),
    ("2023-2025", False), ("2023-2024-S3", False), ("23-24", False), ("2023/2024", False),
])
def test_period_convention(value, ok):
    assert (params.check_period(value) is None) is ok


def test_period_must_match_file_name(spec, mini_project):
    p = write(mini_project, 'period: "2022-2023-S2"\ncity: all\nfail: false\n')
    with pytest.raises(ParamsError, match="does not match the file name"):
        params.load(spec, p)


@pytest.mark.parametrize("value", ["/etc/passwd", "../secret", "a/../../b", "~/x", "C:\\x"])
def test_path_escape_refused_for_str(value):
    assert "outside the project" in params._check_scalar("x", "str", value)


def test_expand_star_and_list(spec, mini_project):
    units = params.expand(spec, {"period": "2023-2024-S2", "city": ["all", "*"], "fail": False})
    assert [u.variant for u in units] == [None, "astana", "almaty"]
    assert units[1].params["city"] == "astana"
    assert units[0].output_base() == mini_project / "output" / "2023-2024-S2" / "toy"
    assert units[1].output_base() == mini_project / "output" / "2023-2024-S2" / "toy" / "astana"


def test_every_params_file_matches_its_notebook_parameters():
    """Keep each params file's keys in step with the notebook's parameters cell."""
    import papermill as pm

    specs = reports.all_reports()
    assert specs, "no report specs found"
    for spec in specs.values():
        nb_params = set(pm.inspect_notebook(str(spec.notebook)))
        assert nb_params == set(spec.params), f"{spec.name}: notebook {sorted(nb_params)} vs spec {sorted(spec.params)}"
        for period in spec.periods():
            data = params.load(spec, spec.params_dir / f"{period}.yaml")
            assert set(data) == nb_params, f"params/{spec.name}/{period}.yaml keys differ from the notebook"
