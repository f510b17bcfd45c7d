"""The data-quality rules a narrative must respect, as pure functions.

The pipeline's «Деректер сапасы» appendix lists implausible jumps and copied rows
(``findings:`` of a report's ``schema.yaml``). A figure the text derives from such a base
(a growth against a year that holds a flagged value, a ranking that counts a copied
district) must carry a caveat next to it. These functions find the flagged rows with the
same rule and the same parameters (read from the schema by :func:`helpers.data.finding_rules`),
so the notebook knows where a caveat is due.
"""
from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from . import fmt


def _num(v: Any) -> float | None:
    return None if fmt.is_missing(v) else float(v)


def jumps(df: pd.DataFrame, entity: Sequence[str] | str, value: str, *, order: str = "period",
          ratio: float = 3, min: float = 10, **_: Any) -> pd.DataFrame:
    """Pairs of consecutive values of one entity that change by a factor >= ``ratio`` (or
    to/from 0) with the larger >= ``min``: columns ``*entity``, ``before_period``, ``before``,
    ``after_period``, ``after``. Same rule as the ``jump`` finding."""
    ent = [entity] if isinstance(entity, str) else list(entity)
    rows = []
    for key, g in df.groupby(ent, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        g = g.assign(__o=g[order].astype(str)).sort_values("__o", kind="stable")
        prev = None
        for _, r in g.iterrows():
            v = _num(r[value])
            if prev is not None and v is not None and prev[1] is not None:
                big, small = max(prev[1], v), min_(prev[1], v)
                if big >= min and (small == 0 or big / small >= ratio):
                    rows.append({**dict(zip(ent, key)), "before_period": prev[0], "before": prev[1],
                                 "after_period": str(r[order]), "after": v})
            prev = (str(r[order]), v)
    return pd.DataFrame(rows, columns=[*ent, "before_period", "before", "after_period", "after"])


def min_(a: float, b: float) -> float:
    return a if a < b else b


def duplicate_profiles(df: pd.DataFrame, entity: str, across: str, value: str, *,
                       within: Sequence[str] = (), name: str | None = None,
                       min_values: int = 2, **_: Any) -> pd.DataFrame:
    """Entities whose values (over ``across``) repeat an earlier entity's exactly, within
    each group of ``within``: columns ``*within``, ``entity``, ``name``, ``copy_of``.
    Same rule as the ``duplicate_profile`` finding."""
    name = name or entity
    within = list(within)
    groups = df.groupby(within, sort=False) if within else [((), df)]
    rows = []
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        seen: dict[tuple, str] = {}
        for e, eg in g.groupby(entity, sort=False):
            prof = tuple(sorted((str(a), _num(v) or 0.0) for a, v in zip(eg[across], eg[value])))
            if len([v for _, v in prof if v]) < min_values:
                continue
            if prof in seen:
                rows.append({**dict(zip(within, key)), "entity": e,
                             "name": str(eg[name].iloc[0]), "copy_of": seen[prof]})
            else:
                seen[prof] = str(eg[name].iloc[0])
    return pd.DataFrame(rows, columns=[*within, "entity", "name", "copy_of"])


def flagged(df: pd.DataFrame, rules: Sequence[dict]) -> pd.DataFrame:
    """Apply ``jump`` / ``duplicate_profile`` rules (dicts as in ``schema.yaml``, their
    ``where`` filter included) to ``df``; all flagged rows, with the rule's ``value``."""
    out = []
    for rule in rules:
        d = df
        for col, want in (rule.get("where") or {}).items():
            want = want if isinstance(want, list) else [want]
            d = d[d[col].astype(str).isin([str(w) for w in want])]
        args = {k: v for k, v in rule.items() if k not in ("check", "table", "where", "label_columns")}
        f = jumps(d, **args) if rule["check"] == "jump" else duplicate_profiles(d, **args)
        out.append(f.assign(value=rule["value"]))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()
