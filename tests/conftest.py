"""Shared fixtures. ``mini_project`` is a throwaway esep project (toy report) in tmp_path;
``project_copy`` is a copy of the real project's notebooks/params/data for scenario tests."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"

# Kernels that tests start with papermill directly (not through esep, which sets this up
# per project) import this repository's helpers, as pytest does (pythonpath = src).
os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO / "src")] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])


@pytest.fixture
def mini_project(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    shutil.copytree(FIXTURES / "mini_project", root)
    monkeypatch.setenv("ESEP_ROOT", str(root))
    return root


@pytest.fixture
def project_copy(tmp_path, monkeypatch):
    """A scratch copy of the real project (notebooks, params, raw data) for end-to-end tests."""
    root = tmp_path / "proj"
    root.mkdir()
    for sub in ("notebooks", "params", "data/raw", "src/helpers"):
        shutil.copytree(REPO / sub, root / sub, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    shutil.copy(REPO / "esep.toml", root / "esep.toml")
    for sub in ("narrative",):
        if (REPO / sub).exists():
            shutil.copytree(REPO / sub, root / sub)
    monkeypatch.setenv("ESEP_ROOT", str(root))
    return root
