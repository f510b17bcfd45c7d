"""Raw-data checks. Placeholder seam for the schema layer (issue 7): ``check_raw``
returns a list of human-readable problems for one raw file (empty = fine)."""
from __future__ import annotations

import pandas as pd


def check_raw(rel: str, df: pd.DataFrame) -> list[str]:
    problems = []
    if len(df.columns) == 0:
        problems.append(f"data/raw/{rel}: no header row")
    elif len(df) == 0:
        problems.append(f"data/raw/{rel}: header only, no data rows")
    return problems
