"""Typst text helpers shared by the PDF translation modules."""
from __future__ import annotations


def _s(text: str) -> str:
    """A Typst string literal (safe for any text: nothing in it is markup)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'
