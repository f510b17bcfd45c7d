"""Read glued figures (scrapbook scraps) straight from an executed notebook's JSON.

Faster than ``scrapbook.read_notebook`` (no kernel-side imports) and used by render,
narrative and the index.
"""
from __future__ import annotations

SCRAP_MIME = "application/scrapbook.scrap.json+json"


def read_scraps(nb) -> dict:
    scraps: dict = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if SCRAP_MIME in data:
                payload = data[SCRAP_MIME]
                scraps[payload["name"]] = payload.get("data")
    return scraps
