"""Narrative cells: markdown cells tagged ``narrative`` whose numbers are placeholders.

``{{ name }}`` is bound to the glued figure ``name`` of the executed notebook and is
formatted in Kazakh convention at render time:

- whole numbers -> ``22 645``; names ending in ``_pct`` -> ``80,5%``;
  other floats -> one decimal with a comma;
- ``{{ name:signed }}`` -> ``+3 319`` / ``-202``; ``{{ name:pct }}``, ``{{ name:num }}``,
  ``{{ name:int }}`` force a format; ``{{ name:pct0 }}`` -> ``25%`` (0 decimals).

A placeholder naming an unknown figure is an error that names the cell.
"""
from __future__ import annotations

import re

from .errors import EsepError

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?::\s*([a-z0-9]+)\s*)?\}\}")
TAG = "narrative"


class PlaceholderError(EsepError):
    pass


def format_value(name: str, value, style: str | None = None) -> str:
    from helpers import fmt

    if value is None:
        return fmt.dash if hasattr(fmt, "dash") and isinstance(fmt.dash, str) else "-"
    if isinstance(value, str):
        return value
    if style == "signed":
        dec = 0 if float(value).is_integer() else 1
        return fmt.signed(value, dec)
    if style in ("pct", "pct1") or (style is None and name.endswith("_pct")):
        return fmt.pct(value, 1)
    if style == "pct0":
        return fmt.pct(value, 0)
    if style in ("int", "num0"):
        return fmt.num(value, 0)
    if style == "num1":
        return fmt.num(value, 1)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and style != "num"):
        return fmt.num(value, 0)
    return fmt.num(value, 1)


def is_narrative(cell) -> bool:
    return cell.cell_type == "markdown" and TAG in cell.get("metadata", {}).get("tags", [])


def cell_label(idx: int, cell) -> str:
    first = next((ln.strip() for ln in cell.source.splitlines() if ln.strip()), "")
    return f"cell {idx + 1} ({first[:50]!r})"


def fill_text(text: str, scraps: dict, where: str = "") -> str:
    def sub(m: re.Match) -> str:
        name, style = m.group(1), m.group(2)
        if name not in scraps:
            known = ", ".join(sorted(scraps)) or "none"
            raise PlaceholderError(f"{where}: placeholder {{{{ {name} }}}} names no glued figure "
                                   f"(known: {known})")
        return format_value(name, scraps[name], style)

    return PLACEHOLDER.sub(sub, text)


def fill_notebook(nb, scraps: dict) -> None:
    """Replace placeholders in every markdown cell (in place on a copy the caller owns)."""
    for idx, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and PLACEHOLDER.search(cell.source):
            cell.source = fill_text(cell.source, scraps, cell_label(idx, cell))
