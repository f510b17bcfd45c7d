"""One value per quantity: a named figure printed with two values in one report.

Notebooks glue each figure once (``glue(name, value)``) and every narrative placeholder
prints that value. Tables print numbers of their own; a table cell that shows a named
figure is declared by the notebook (``present.table(..., figures={(row, col): name})``)
and recorded in the glued ``esep_figures_shown`` list ({name, value, where}). This module
compares, for each name, the glued value with every table cell showing it, as printed
(the same formatting, so 88 vs 89 is a contradiction but 80,46 vs 80,5 is not), and a
name declared by two cells with different values. ``esep check-narrative`` reports the
contradictions and the shipped reports' tests fail on any.
"""
from __future__ import annotations

SHOWN_SCRAP = "esep_figures_shown"


def contradictions(scraps: dict) -> list[str]:
    """One Kazakh-free, analyst-facing line per figure printed with two values."""
    from esep.notebook.narrative import format_value

    shown = scraps.get(SHOWN_SCRAP) or []
    if not isinstance(shown, list):
        return []
    by_name: dict[str, list[tuple[str, str]]] = {}
    for item in shown:
        if not isinstance(item, dict) or "name" not in item:
            continue
        name = str(item["name"])
        by_name.setdefault(name, []).append((str(item.get("where", "a table")),
                                             format_value(name, item.get("value"))))
    out = []
    for name, cells in sorted(by_name.items()):
        printed = list(cells)
        if name in scraps:
            printed.insert(0, ("the text (glued figure)", format_value(name, scraps[name])))
        values = {v for _, v in printed}
        if len(values) > 1:
            out.append(f"{name}: printed with {len(values)} values — "
                       + "; ".join(f"{v} in {w}" for w, v in printed))
    return out
