"""Notebook-side glue: record key figures for the narrative and the tests."""
from __future__ import annotations

import html
import math
from decimal import Decimal
from typing import Any

import numpy as np


def plain(value: Any) -> Any:
    """numpy/pandas scalars -> plain Python (JSON-safe); NaN/NA -> None."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, np.generic):
        value = value.item()
    try:
        import pandas as pd
        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return value
    if isinstance(value, (int, str)):
        return value
    raise TypeError(f"glue: cannot store {type(value).__name__} value {value!r}")


def glue_forms(name: str, value: Any, *cases: str, decimals: int | None = None,
               pct: bool = False) -> None:
    """Glue ``name`` and, for each case, ``name_<case>`` = the printed number with its
    Kazakh ending (``helpers.kazakh.numeral``): ``glue_forms("orgs", 89, "dat")`` glues
    ``orgs`` = 89 and ``orgs_dat`` = "89-ға". A template never types an ending after a
    placeholder; it names the form."""
    from . import kazakh

    glue(name, value)
    for case in cases:
        glue(f"{name}_{case}", kazakh.numeral(value, case, decimals=decimals, pct=pct))


def glue(name: str, value: Any) -> None:
    """``scrapbook.glue`` a JSON-safe version of ``value`` under ``name``.

    A missing value (None, NaN, NA) is stored as ``"-"`` (scrapbook refuses null) and
    text is stored unchanged. Returns None on purpose: a ``glue(...)`` on the last line of a cell must not print
    its value into the report."""
    if not name.isidentifier() or name != name.lower():
        raise ValueError(f"glue name must be snake_case: {name!r}")
    v = plain(value)
    if v is None:           # scrapbook refuses JSON null; "-" is what the narrative shows
        from .fmt import DASH
        v = DASH
    # scrapbook's json encoder would json.loads() a str; text keeps it as is
    emit_scrap(name, v, "text" if isinstance(v, str) else "json")


SCRAP_MIME = "application/scrapbook.scrap.{encoder}+json"


def emit_scrap(name: str, data: Any, encoder: str) -> None:
    """Display exactly what ``scrapbook.glue(name, data, encoder=encoder)`` displays (same
    MIME type, payload and metadata: scrapbook and :mod:`esep.scraps` read it back), without
    importing scrapbook in the kernel (~0.5 s of CPU per notebook, see docs/performance.md)."""
    import json

    from IPython.display import display

    if encoder == "json" and isinstance(data, str):
        data = json.loads(data)          # as scrapbook's JsonEncoder.encode
    elif encoder == "text" and not isinstance(data, str):
        data = str(data)                 # as scrapbook's TextEncoder.encode
    if data is None:
        raise ValueError(f"glue {name!r}: scrapbook cannot store null")
    payload = {"name": name, "data": data, "encoder": encoder, "version": 1}
    display({SCRAP_MIME.format(encoder=encoder): payload},
            metadata={"scrapbook": {"name": name, "data": True, "display": False}}, raw=True)


def note(text: str) -> None:
    """Show a short (Kazakh) note in place of a skipped section."""
    from IPython.display import HTML, display

    display(HTML(f'<p class="esep-note"><em>{html.escape(text)}</em></p>'))


# --- one value per quantity (esep.notebook.consistency) ------------------------------

_shown: list[dict] = []


def shown(name: str, value: Any, where: str) -> None:
    """Record that a table (``where``, e.g. "3-кесте, «Барлығы»") prints the named figure
    ``name`` with ``value``; :func:`glue_shown` glues the record for the consistency check."""
    _shown.append({"name": name, "value": plain(value), "where": where})


def glue_shown() -> None:
    """Glue every recorded table figure (call once, at the end of the notebook)."""
    emit_scrap("esep_figures_shown", list(_shown), "json")
