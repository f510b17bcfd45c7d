"""Data access for notebooks: the only helper module that touches files."""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd


class MissingDataError(FileNotFoundError):
    """A processed file is absent: the user has to run `esep prepare`."""


def processed_dir() -> Path:
    """``<root>/data/processed``, root from ``esep.config`` (honours ``ESEP_ROOT``)."""
    try:
        from esep.core import config
        return Path(config.PROCESSED_DIR)
    except (ImportError, AttributeError):
        env = os.environ.get("ESEP_ROOT")
        root = Path(env).resolve() if env else Path(__file__).resolve().parents[2]
        return root / "data" / "processed"


def path(report: str, stem: str) -> Path:
    return processed_dir() / report / f"{stem}.parquet"


def load(report: str, stem: str) -> pd.DataFrame:
    """Processed table ``data/processed/<report>/<stem>.parquet`` as a DataFrame."""
    p = path(report, stem)
    if not p.is_file():
        raise MissingDataError(
            f"processed data file not found: {p} — run `esep prepare {report}` "
            f"(it builds data/processed/ from data/raw/{report}/{stem}.csv)")
    return pd.read_parquet(p)


def for_period(df: pd.DataFrame, period: str, city: str | None = None) -> pd.DataFrame:
    """Rows of ``df`` for one period (and city, when the frame has a ``city`` column)."""
    out = df[df["period"].astype(str) == str(period)]
    if city is not None and "city" in out.columns:
        out = out[out["city"] == city]
    return out.reset_index(drop=True)


def for_city(df: pd.DataFrame, city: str | None) -> pd.DataFrame:
    """Rows of ``df`` for one city (all rows when the frame has no ``city`` column)."""
    if city is None or "city" not in df.columns:
        return df.reset_index(drop=True)
    return df[df["city"] == city].reset_index(drop=True)


def load_all(report: str, stems: list[str] | tuple[str, ...],
             city: str | None = None) -> dict[str, pd.DataFrame]:
    """{stem: frame} for several processed tables of a report, each limited to ``city``."""
    return {stem: for_city(load(report, stem), city) for stem in stems}


def finding_rules(report: str, check: str, table: str | None = None) -> list[dict]:
    """The ``findings:`` rules of ``data/raw/<report>/schema.yaml`` of one kind (e.g.
    ``jump``), optionally for one table: the notebook applies the same thresholds the
    data-quality appendix uses (helpers.quality), so its caveats and the appendix agree."""
    import yaml

    p = processed_dir().parent / "raw" / report / "schema.yaml"
    if not p.is_file():
        return []
    spec = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    return [dict(r) for r in spec.get("findings") or []
            if isinstance(r, dict) and r.get("check") == check and (table is None or r.get("table") == table)]
