"""Numbered Kazakh captions: "1-кесте. ..." for tables, "1-сурет. ..." for figures."""
from __future__ import annotations


class Captions:
    """Numbers tables and figures separately, in order of appearance.

    >>> c = Captions()
    >>> c.table("Жобалар саны")
    '1-кесте. Жобалар саны'
    >>> c.figure("Динамика")
    '1-сурет. Динамика'
    """

    TABLE = "кесте"
    FIGURE = "сурет"

    def __init__(self, table_start: int = 1, figure_start: int = 1):
        self._next = {self.TABLE: table_start, self.FIGURE: figure_start}
        self.items: list[tuple[str, int, str]] = []  # (kind, number, text)
        self.sources: dict[str, str] = {}             # raw table stem -> "N-кесте"

    def _take(self, kind: str, text: str) -> str:
        n = self._next[kind]
        self._next[kind] = n + 1
        self.items.append((kind, n, text))
        text = text.strip()
        return f"{n}-{kind}. {text}" if text else f"{n}-{kind}"

    def table(self, text: str = "", source: str | list[str] | None = None) -> str:
        """Caption of the next table; ``source``: the raw table(s) it shows, so the
        «Деректер сапасы» appendix names this table ("3-кесте") for their findings."""
        cap = self._take(self.TABLE, text)
        for s in ([source] if isinstance(source, str) else list(source or [])):
            self.sources.setdefault(s, cap.split(".")[0])
        return cap

    def glue(self) -> None:
        """Glue {raw table: "N-кесте"} as ``esep_table_numbers`` (read by the appendix)."""
        from .report import glue

        glue("esep_table_numbers", dict(self.sources))

    def figure(self, text: str, source: str | list[str] | None = None) -> str:
        """Caption of the next figure; ``source`` as for :meth:`table`."""
        cap = self._take(self.FIGURE, text)
        for s in ([source] if isinstance(source, str) else list(source or [])):
            self.sources.setdefault(s, cap.split(".")[0])
        return cap

    @property
    def tables(self) -> int:
        """How many table captions were issued."""
        return self._next[self.TABLE] - 1

    @property
    def figures(self) -> int:
        return self._next[self.FIGURE] - 1
