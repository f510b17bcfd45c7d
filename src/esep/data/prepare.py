"""raw -> processed: read every raw file a report declares, check it, write parquet.

``data/raw/`` is never written. ``data/processed/<report>/<stem>.parquet`` is rebuilt
from raw by this module only, atomically (temp file + rename), and only after the whole
report's raw data has been read and validated: a failed validation leaves the previous
processed files (and outputs) untouched.

Numbers in raw files may be plain (``22645``, ``80.5``) or in Kazakh print convention
(``22 645``, ``80,5``, ``80,5%``); an empty cell or ``-`` means "none" (missing).
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from esep.core.reports import ReportSpec



def load_raw_tables(spec: ReportSpec, forms_status: dict | None = None) -> dict[str, pd.DataFrame]:
    """Read and check every raw input of a report; raise DataError listing all problems.

    Reading (CSV/cp1251/xlsx), the schema (``data/raw/<report>/schema.yaml``) and the
    wording of the problems live in :mod:`esep.validate`. Returned school forms
    (``data/raw/<report>/forms/``, :mod:`esep.data.forms`) add the rows of every valid
    form; an invalid form is left out (and recorded in ``forms_status``), never fatal."""
    from esep.data import forms
    from esep.data import validate as _validate

    loaded = _validate.load_report(spec)
    if loaded.problems:
        raise _validate.DataError(loaded.error_text())
    tables, status = forms.tables_with_forms(spec, loaded)
    if forms_status is not None:
        forms_status.update(status)
    return tables


def prepare_report(spec: ReportSpec) -> list[Path]:
    """Validate all raw inputs of ``spec`` and (re)write their processed parquet files."""
    from esep.data import forms

    status: dict = {}
    tables = load_raw_tables(spec, status)
    forms.write_status(spec.name, status)
    written = []
    for rel, df in tables.items():
        out = spec.processed_path(rel)
        atomic_write_parquet(df, out)
        written.append(out)
    forms.write_units(spec.name, tables)   # per-school digests: a school's report keyed on its own rows
    return written


def atomic_write_parquet(df: pd.DataFrame, out: Path) -> None:
    from esep.core import config
    from esep.core.fsutil import confined, temp_beside

    out = confined(out, "processed file", config.PROCESSED_DIR)
    tmp = temp_beside(out)
    try:
        df.to_parquet(tmp, index=False)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
