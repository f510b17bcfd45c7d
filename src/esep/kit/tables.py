"""Table builders: totals, shares, dynamics, pivots, declared-vs-computed checks.

Pure functions: a DataFrame in, a new DataFrame out; inputs are never mutated.
Convention (docs/CONVENTIONS.md): a ``row_type`` column marks ``part`` rows and the
printed ``total`` rows; printed totals/shares are *declared* values, never inputs.
Missing counts ("-" in the print) count as 0 in sums.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from . import fmt
from .fmt import agrees, printed_decimals  # noqa: F401  (re-exported; home: esep.core.numbers)

TOTAL = "Барлығы"
ROW_TYPE = "row_type"


def _list(x: Any) -> list:
    if x is None:
        return []
    if isinstance(x, (str, tuple)):
        return [x]
    return list(x)


# --- part / total rows --------------------------------------------------------

def parts(df: pd.DataFrame) -> pd.DataFrame:
    """The part rows (``row_type == "part"``); the whole frame if there is no row_type."""
    if ROW_TYPE not in df.columns:
        return df.copy()
    return df[df[ROW_TYPE].fillna("part") == "part"].copy()


def declared(df: pd.DataFrame) -> pd.DataFrame:
    """The printed total rows (``row_type == "total"``)."""
    if ROW_TYPE not in df.columns:
        return df.iloc[0:0].copy()
    return df[df[ROW_TYPE] == "total"].copy()


def only(df: pd.DataFrame, **where: Any) -> pd.DataFrame:
    """Rows where every ``column == value`` (a list/tuple/set value means "is in")."""
    mask = pd.Series(True, index=df.index)
    for col, val in where.items():
        if col not in df.columns:
            raise KeyError(f"only(): no column {col!r}; columns: {list(df.columns)}")
        if isinstance(val, (list, tuple, set)):
            mask &= df[col].isin(list(val))
        else:
            mask &= df[col] == val
    return df[mask].copy()


# --- totals and shares --------------------------------------------------------

def total(values: Iterable[Any]) -> float | int:
    """Sum treating missing as 0; an int when every value is integral."""
    s = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").fillna(0)
    v = s.sum()
    return int(v) if float(v).is_integer() else float(v)


def with_total(df: pd.DataFrame, label_col: str, value_cols: Sequence[str] | str,
               label: str = TOTAL, by: Sequence[str] | str | None = None) -> pd.DataFrame:
    """Part rows plus one computed total row (per ``by`` group) appended at the end.

    Declared total rows (``row_type == "total"``) are dropped first, so the total
    shown is always computed from the parts. Missing counts count as 0; a column with
    no value at all stays missing in the total. Other columns of the total row are
    empty (the ``by`` columns carry the group values). The result always has a
    ``row_type`` column (``part`` / ``total``), which :func:`helpers.present.table`
    hides and :func:`add_share` uses to leave the total out of the base.
    """
    value_cols = _list(value_cols)
    by = _list(by)
    missing = [c for c in [label_col, *value_cols, *by] if c not in df.columns]
    if missing:
        raise KeyError(f"with_total(): columns not in frame: {missing}")
    body = parts(df)
    if ROW_TYPE not in body.columns:
        body[ROW_TYPE] = "part"
    groups = [((), body)] if not by else list(body.groupby(by, sort=False, dropna=False))
    pieces = []
    for key, g in groups:
        row: dict[str, Any] = {c: np.nan for c in body.columns}
        row[label_col] = label
        for c in value_cols:
            row[c] = g[c].sum(min_count=1) if g[c].notna().any() else np.nan
        key = key if isinstance(key, tuple) else (key,)
        for c, k in zip(by, key):
            row[c] = k
        row[ROW_TYPE] = "total"
        tot = pd.DataFrame([row], columns=body.columns)
        pieces.append(pd.concat([g, tot], ignore_index=True) if len(g) else tot)
    out = pd.concat(pieces, ignore_index=True)
    for c in value_cols:  # keep integer columns integer when possible
        s = out[c]
        if pd.api.types.is_numeric_dtype(s) and _whole(s):
            out[c] = s.astype("int64")
    return out


def _whole(s: pd.Series) -> bool:
    """Every value present and integral. Works for every numeric backend: numpy, the
    nullable ``Int64``/``Float64`` and pyarrow-backed columns (``int64[pyarrow]``
    implements no ``%``), by comparing as plain floats."""
    if not s.notna().all():
        return False
    v = pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return bool(np.isfinite(v).all() and (v % 1 == 0).all())


def share(part: Any, whole: Any) -> Any:
    """``part / whole * 100`` (percent). Scalars or Series; a zero/missing whole gives NaN."""
    if isinstance(part, pd.Series) or isinstance(whole, pd.Series):
        p = pd.to_numeric(part, errors="coerce")
        w = pd.to_numeric(whole, errors="coerce")
        if isinstance(w, pd.Series):
            w = w.replace(0, np.nan)
        elif w == 0:
            w = np.nan
        return p / w * 100
    if fmt.is_missing(part) or fmt.is_missing(whole) or float(whole) == 0:
        return float("nan")
    return float(part) / float(whole) * 100


def add_share(df: pd.DataFrame, col: str, name: str = "share_pct",
              base: Any = None) -> pd.DataFrame:
    """Copy of ``df`` with ``name`` = ``col`` as a percent of ``base``.

    ``base``: None -> sum of ``col`` over the part rows (missing = 0); a number; or
    a column name (row-wise base).
    """
    if col not in df.columns:
        raise KeyError(f"add_share(): no column {col!r}")
    out = df.copy()
    if base is None:
        b = total(parts(df)[col])
    elif isinstance(base, str):
        b = out[base]
    else:
        b = base
    out[name] = share(out[col], b)
    return out


def change(before: Any, after: Any) -> Any:
    """Absolute change ``after - before`` (missing counts as 0 for scalars)."""
    if isinstance(before, pd.Series) or isinstance(after, pd.Series):
        return pd.to_numeric(after, errors="coerce").fillna(0) - pd.to_numeric(before, errors="coerce").fillna(0)
    b = 0 if fmt.is_missing(before) else before
    a = 0 if fmt.is_missing(after) else after
    return a - b


def growth_pct(before: Any, after: Any) -> Any:
    """Relative change in percent ``(after - before) / before * 100`` (NaN if before is 0/missing)."""
    return share(change(before, after), before)


def dynamics(df: pd.DataFrame, before: str, after: str, abs_name: str = "change",
             pct_name: str = "change_pct") -> pd.DataFrame:
    """Copy of ``df`` with ``abs_name`` = after - before and ``pct_name`` = growth in %."""
    for c in (before, after):
        if c not in df.columns:
            raise KeyError(f"dynamics(): no column {c!r}")
    out = df.copy()
    out[abs_name] = change(out[before], out[after])
    out[pct_name] = share(out[abs_name], out[before])
    return out


# --- reshaping ----------------------------------------------------------------

def _first_seen(values: Iterable[Any]) -> list:
    return list(dict.fromkeys(values))


def wide(df: pd.DataFrame, index: Sequence[str] | str, columns: str,
         values: Sequence[str] | str, labels: Mapping[str, str] | None = None,
         top: str = "values") -> pd.DataFrame:
    """Pivot long -> wide keeping the order of first appearance of rows and columns.

    With several ``values`` the columns are two-level: (value label, column value),
    e.g. ("Жобалар саны", "2022-2023"); ``labels`` renames the value level. With one
    value the columns are flat (the ``columns`` values). The index becomes columns.
    ``top="columns"`` puts the column values on the upper level instead:
    ("2022-2023", "Жобалар саны"), ("2022-2023", "ББҰ саны"), ("2023-2024", ...).
    """
    if top not in ("values", "columns"):
        raise ValueError("wide(): top must be 'values' or 'columns'")
    index = _list(index)
    vals = _list(values)
    labels = dict(labels or {})
    dup = df.duplicated(subset=[*index, columns])
    if dup.any():
        raise ValueError(f"wide(): duplicate rows for {index + [columns]}: "
                         f"{df.loc[dup, index + [columns]].head(3).to_dict('records')}")
    row_order = _first_seen(map(tuple, df[index].itertuples(index=False, name=None)))
    col_order = _first_seen(df[columns])
    p = df.pivot(index=index, columns=columns, values=vals)
    p = p.reindex(pd.MultiIndex.from_tuples(row_order, names=index) if len(index) > 1
                  else pd.Index([r[0] for r in row_order], name=index[0]))
    if top == "values" or len(vals) == 1:
        p = p.reindex(columns=pd.MultiIndex.from_product([vals, col_order]))
    else:
        p = p.reindex(columns=pd.MultiIndex.from_tuples([(v, c) for c in col_order for v in vals]))
    if len(vals) == 1:
        p.columns = list(col_order)
        out = p.reset_index()
    else:
        p.columns = pd.MultiIndex.from_tuples(
            [(labels.get(v, v), c) if top == "values" else (c, labels.get(v, v))
             for v, c in p.columns])
        out = p.reset_index()
        out.columns = pd.MultiIndex.from_tuples(
            [(c[0], "") if c[0] in index else c for c in out.columns])
    for c in out.columns:  # back to ints where the pivot made floats
        s = out[c]
        if pd.api.types.is_float_dtype(s) and _whole(s):
            out[c] = s.astype("int64")
    return out


# --- declared vs computed ------------------------------------------------------



def compare_declared(computed: pd.DataFrame, declared: pd.DataFrame,
                     on: Sequence[str] | str, columns: Mapping[str, str] | Sequence[str] | str,
                     decimals: int | None = None, missing_as_zero: bool = False) -> pd.DataFrame:
    """Rows where a printed (declared) value disagrees with the computed one.

    ``computed`` and ``declared`` are joined on ``on``; ``columns`` lists the value
    columns to compare (same name in both) or maps computed column -> declared column.
    Returns one row per disagreement: the ``on`` columns, ``column`` (computed name),
    ``declared``, ``computed``, ``difference`` (computed - declared). Empty frame
    (same columns) when everything agrees. A declared value that was not printed
    (missing) is not checked; a printed value without a computed counterpart is
    reported with ``computed`` missing. ``missing_as_zero``: treat "-" as 0 on both
    sides (for counts).
    """
    on = _list(on)
    if isinstance(columns, Mapping):
        pairs = dict(columns)
    else:
        pairs = {c: c for c in _list(columns)}
    left = computed[on + list(pairs)].rename(columns={c: f"__c_{c}" for c in pairs})
    right = declared[on + list(dict.fromkeys(pairs.values()))]
    right = right.rename(columns={d: f"__d_{d}" for d in pairs.values()})
    m = left.merge(right, on=on, how="outer", sort=False)
    rows = []
    for _, r in m.iterrows():
        for c, d in pairs.items():
            cv, dv = r[f"__c_{c}"], r[f"__d_{d}"]
            if missing_as_zero:
                cv = 0 if fmt.is_missing(cv) else cv
                dv = 0 if fmt.is_missing(dv) else dv
            if fmt.is_missing(dv):
                continue  # nothing printed, nothing to check
            if not agrees(cv, dv, decimals):
                diff = (np.nan if fmt.is_missing(cv) or fmt.is_missing(dv)
                        else float(cv) - float(dv))
                rows.append({**{k: r[k] for k in on}, "column": c, "declared": dv,
                             "computed": cv, "difference": diff})
    return pd.DataFrame(rows, columns=[*on, "column", "declared", "computed", "difference"])
