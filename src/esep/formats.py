"""Formats derived from the report HTML (PDF, DOCX). See issue 5; HTML-only until then."""
from __future__ import annotations

from .errors import EsepError


def default_formats() -> tuple[str, ...]:
    return ("html",)


def convert(page: str, fmt: str, *, title: str, period: str) -> bytes:
    raise EsepError(f"format '{fmt}' is not available yet")
