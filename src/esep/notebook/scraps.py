"""Read glued figures (scrapbook scraps) straight from an executed notebook's JSON.

Faster than ``scrapbook.read_notebook`` (no kernel-side imports) and used by render,
narrative and the index.
"""
from __future__ import annotations

SCRAP_PREFIX = "application/scrapbook.scrap."


def read_scraps(nb) -> dict:
    scraps: dict = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            for mime, payload in out.get("data", {}).items():
                if mime.startswith(SCRAP_PREFIX) and isinstance(payload, dict):
                    scraps[payload["name"]] = payload.get("data")
    return scraps


def is_scrap_output(out) -> bool:
    """A display_data output that only carries a glued scrap (invisible to readers)."""
    data = out.get("data", {})
    return out.get("output_type") == "display_data" and any(m.startswith(SCRAP_PREFIX) for m in data)
