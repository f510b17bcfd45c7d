"""Shared by the report tests that execute one report's notebook directly with papermill
(tests/test_oblast_experiment.py, tests/test_school_project.py): a scratch project holding
that report only, prepared by esep, and a runner that executes each parameter set once."""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import pytest

REPO = Path(__file__).resolve().parents[1]


@contextmanager
def prepared_project(root: Path, report: str):
    """``root`` with the report's notebook, spec, params and raw data, prepared by esep;
    ESEP_ROOT points at it while the context is open."""
    (root / "notebooks").mkdir()
    for f in (f"{report}.ipynb", f"{report}.report.yaml"):
        shutil.copy(REPO / "notebooks" / f, root / "notebooks" / f)
    shutil.copytree(REPO / "params" / report, root / "params" / report)
    shutil.copytree(REPO / "data" / "raw" / report, root / "data" / "raw" / report)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ESEP_ROOT", str(root))
        from esep.core import reports
        from esep.data import prepare
        prepare.prepare_report(reports.get(report))
        yield root


def cached_runner(project: Path, report: str, read: Callable[[Path], dict]):
    """``run(**params)``: execute the notebook once per parameter set and return
    ``read(output_notebook)``; ``run.path(**params)`` is that output notebook's path."""
    import papermill as pm

    cache: dict = {}
    paths: dict = {}

    def _run(**params):
        key = tuple(sorted(params.items()))
        if key not in cache:
            out = project / "out" / ("_".join(f"{v}" for _, v in key) + ".ipynb")
            paths[key] = out
            out.parent.mkdir(exist_ok=True)
            old = os.environ.get("ESEP_ROOT")
            os.environ["ESEP_ROOT"] = str(project)
            try:
                pm.execute_notebook(str(project / "notebooks" / f"{report}.ipynb"), str(out),
                                    parameters=params, kernel_name="python3", progress_bar=False)
            finally:
                if old is None:
                    os.environ.pop("ESEP_ROOT", None)
                else:
                    os.environ["ESEP_ROOT"] = old
            cache[key] = read(out)
        return cache[key]

    _run.path = lambda **params: (_run(**params), paths[tuple(sorted(params.items()))])[1]
    return _run
