"""The corrections policy: which value a report prints where the source's printed
(declared) value and the value computed from its parts differ, and how the reader learns it.

The default is **computed**. The analyst may record a decision per figure in a reviewed
file beside the raw data, ``data/raw/<report>/decisions.yaml``::

    decisions:
      - figure: state_orgs_total      # the glued figure's name
        keep: declared                # declared | computed
        reason: "Ресми сан; түрлері бойынша бөлінісі толық емес"
      - figure: orgs_change_pct       # a figure derived from a base a check flags
        flagged: withhold             # caveat (default) | withhold | show
        reason: "2022-2023 оқу жылындағы мектепке дейінгі ұйымдар саны күмәнді"

Every figure whose printed value differs from the source's print carries a footnote mark
(HTML: ``<span class="esep-corrected" data-declared="244">…<sup>1</sup></span>``; the mark
survives into PDF and DOCX as a superscript number) that leads to its entry in the
«Түзетулер» table stating both values and the decision. The engine's placeholder filler
marks narrative numbers the same way, from the glued ``esep_corrections`` record.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from esep.notebook.narrative import CORRECTIONS_SCRAP as SCRAP, mark_html  # one mark format

from . import fmt

FILE = "decisions.yaml"
KEEP = ("computed", "declared")
FLAGGED = ("caveat", "withhold", "show")


class DecisionError(ValueError):
    pass


@dataclass
class Correction:
    number: int
    figure: str
    label: str
    declared: Any
    computed: Any
    kept: str                  # computed | declared | withheld | caveat
    reason: str = ""
    where: str = ""

    @property
    def value(self) -> Any:
        if self.kept == "declared":
            return self.declared
        if self.kept == "withheld":
            return None
        return self.computed

    @property
    def is_pct(self) -> bool:
        return self.figure.endswith("_pct")

    def shown(self, v: Any) -> str:
        if fmt.is_missing(v):
            return fmt.DASH
        if isinstance(v, str):
            return v
        return fmt.pct(v) if self.is_pct else fmt.auto(v)

    @property
    def shown_declared(self) -> str:
        return self.shown(self.declared)

    def record(self) -> dict:
        return {"number": self.number, "label": self.label, "declared": self.declared,
                "computed": self.computed, "kept": self.kept, "reason": self.reason,
                "where": self.where,
                "declared_text": None if self.declared is None else self.shown_declared}


@dataclass
class Ledger:
    """The decisions of one report and the corrections made while its notebook runs."""
    report: str
    decisions: dict[str, dict] = field(default_factory=dict)
    source: str = ""
    items: list[Correction] = field(default_factory=list)
    aliases: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, report: str, raw_dir: Path | None = None) -> "Ledger":
        from esep.core import config
        import yaml

        path = (Path(raw_dir) if raw_dir else config.RAW_DIR / report) / FILE
        if not path.is_file():
            return cls(report)
        where = f"data/raw/{report}/{FILE}"
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise DecisionError(f"{where}: not valid YAML ({str(exc).splitlines()[0]})") from None
        entries = doc.get("decisions") if isinstance(doc, dict) else None
        if entries is None:
            entries = []
        if not isinstance(entries, list):
            raise DecisionError(f"{where}: 'decisions' must be a list of entries")
        out: dict[str, dict] = {}
        for i, e in enumerate(entries, 1):
            if not isinstance(e, dict) or not str(e.get("figure", "")).strip():
                raise DecisionError(f"{where}: decision {i} needs a 'figure' (the glued figure's name)")
            name = str(e["figure"]).strip()
            keep = str(e.get("keep", "computed")).strip()
            flagged = str(e.get("flagged", "caveat")).strip()
            if keep not in KEEP:
                raise DecisionError(f"{where}: decision {i} ({name}): keep must be one of {', '.join(KEEP)}, not {keep!r}")
            if flagged not in FLAGGED:
                raise DecisionError(f"{where}: decision {i} ({name}): flagged must be one of "
                                    f"{', '.join(FLAGGED)}, not {flagged!r}")
            if not str(e.get("reason", "")).strip():
                raise DecisionError(f"{where}: decision {i} ({name}): give a 'reason' (shown to the reader)")
            if name in out:
                raise DecisionError(f"{where}: decision {i}: figure {name!r} is decided twice")
            out[name] = {"keep": keep, "flagged": flagged, "reason": str(e["reason"]).strip()}
        return cls(report, out, where)

    # --- choosing --------------------------------------------------------------------
    def choose(self, figure: str, computed: Any, declared: Any, label: str = "", where: str = "") -> Any:
        """The value to print for ``figure``: computed unless the decision file says
        declared; a difference (at the printed precision) is recorded for its mark."""
        if fmt.is_missing(declared) or fmt.is_missing(computed) or fmt.agrees(computed, declared):
            return computed if not fmt.is_missing(computed) else declared
        d = self.decisions.get(figure, {})
        kept = d.get("keep", "computed")
        return self._add(figure, label, declared, computed, kept, d.get("reason", ""), where).value

    def glue_choice(self, figure: str, computed: Any, declared: Any, label: str = "", where: str = "",
                    *, also: tuple[str, ...] = ()) -> Any:
        """:meth:`choose` and glue the chosen value under ``figure``; ``also``: other glued
        names showing the same figure (its case forms, a sentence built from it), which
        carry its mark too. Returns the chosen value (build those other names from it)."""
        from .report import glue

        value = self.choose(figure, computed, declared, label, where)
        glue(figure, value)
        if also:
            self.also(figure, *also)
        return value

    def choose_column(self, frame, column: str, declared: dict, figure: str, labels: dict,
                      where: str = "") -> dict:
        """:meth:`choose` for the cells of one table column: ``declared`` maps a row index
        of ``frame`` to the source's printed value, ``figure`` names each cell's figure
        (``"share_{n}_pct"``, ``n`` counting those rows from 1) and ``labels`` its label.
        The value to print is written into ``frame`` (in place); returns the marks
        ``{(index, column): figure}`` for ``present.table(marks=..., ledger=...)``."""
        marks = {}
        for n, (i, printed) in enumerate(declared.items(), 1):
            name = figure.format(n=n)
            frame.loc[i, column] = self.choose(name, computed=frame.loc[i, column], declared=printed,
                                               label=labels[i], where=where)
            if self.get(name) is not None:
                marks[(i, column)] = name
        return marks

    def flagged(self, figure: str, value: Any, why: str, label: str = "", where: str = "") -> Any:
        """``value`` derived from a base a data-quality check flags: with a caveat mark
        (default), withheld (None, the text shows a note) or shown plainly, as decided."""
        d = self.decisions.get(figure, {})
        how = d.get("flagged", "caveat")
        if how == "show":
            return value
        kept = "withheld" if how == "withhold" else "caveat"
        return self._add(figure, label, None, value, kept, d.get("reason") or why, where).value

    def _add(self, figure, label, declared, computed, kept, reason, where) -> Correction:
        for c in self.items:
            if c.figure == figure:
                return c
        c = Correction(len(self.items) + 1, figure, label or figure, declared, computed, kept, reason, where)
        self.items.append(c)
        return c

    def get(self, figure: str) -> Correction | None:
        return next((c for c in self.items if c.figure == figure), None)

    # --- showing ---------------------------------------------------------------------
    def mark(self, figure: str, shown: str, shown_is_html: bool = False) -> str:
        """HTML of ``shown`` with the figure's mark (unchanged, escaped, if it has none);
        ``shown_is_html``: ``shown`` is HTML already (e.g. carries another mark)."""
        c = self.get(figure)
        if c is None or c.kept == "declared":  # printed as the source printed it: no mark
            return shown if shown_is_html else html.escape(shown)
        return mark_html(shown, c.shown_declared if c.declared is not None else None, c.number,
                         shown_is_html=shown_is_html)

    def also(self, figure: str, *names: str) -> None:
        """Other glued names showing the same figure (e.g. its case forms ``x_poss``)."""
        self.aliases.setdefault(figure, []).extend(names)

    def records(self) -> dict[str, dict]:
        """What the engine needs to mark placeholders (every figure printed otherwise than
        the source printed it, and its aliases): glue it as ``esep_corrections``."""
        out = {}
        for c in self.items:
            if c.kept == "declared":
                continue
            for name in [c.figure, *self.aliases.get(c.figure, [])]:
                out[name] = c.record()
        return out

    def glue(self) -> None:
        """Glue the records under the name the engine reads (``esep_corrections``)."""
        from .report import glue

        glue(SCRAP, self.records())

    def table_rows(self) -> list[dict]:
        """Rows of the «Түзетулер» table (Kazakh), one per correction, in mark order."""
        kept_kk = {"computed": "есептелген мән алынды", "declared": "құжаттағы мән сақталды",
                   "withheld": "көрсетілмеді", "caveat": "ескертпемен көрсетілді"}
        rows = []
        for c in self.items:
            label = c.label[:1].upper() + c.label[1:]      # a sentence in the table's first column
            rows.append({"№": c.number, "Көрсеткіш": label + (f" ({c.where})" if c.where else ""),
                         "Құжатта": "" if c.declared is None else c.shown_declared,
                         "Есептелген": c.shown(c.computed),
                         "Шешім": kept_kk[c.kept], "Негіздеме": c.reason or "әдепкі ереже: есептелген мән"})
        return rows

    def appendix_html(self, caption: str) -> str:
        """The «Түзетулер» table: each row anchored (``#esep-corr-N``) for its marks."""
        if not self.items:
            return ""
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.table_rows()[0])
        body = []
        for c, r in zip(self.items, self.table_rows()):
            # numbers right-aligned and unwrapped; a computed sentence («25 жобаға азайды») wraps
            numeric = {"№", "Құжатта"} | (set() if isinstance(c.computed, str) else {"Есептелген"})
            cells = "".join(f'<td class="{"num" if k in numeric else "text"}">'
                            f"{html.escape(str(v))}</td>" for k, v in r.items())
            body.append(f'<tr id="esep-corr-{r["№"]}">{cells}</tr>')
        return (f'<table class="esep-table esep-corrections"><caption>{html.escape(caption)}</caption>'
                f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
