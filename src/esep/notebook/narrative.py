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

from esep.core.errors import EsepError

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?::\s*([a-z0-9]+)\s*)?\}\}")
TAG = "narrative"


class PlaceholderError(EsepError):
    pass


def format_value(name: str, value, style: str | None = None) -> str:
    from esep.core import numbers as fmt

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


def cell_label(idx: int, cell, with_id: bool = True) -> str:
    first = next((ln.strip() for ln in cell.source.splitlines() if ln.strip()), "")
    cid = cell_id(cell) if with_id else None
    ident = f" id {cid}" if cid else ""
    return f"cell {idx + 1}{ident} ({first[:50]!r})"


NBSP = "\u00a0"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]()!|~#{}])")


def escape_text(value: str) -> str:
    """A value from data as literal text inside markdown: HTML-escaped (``<`` -> ``&lt;``)
    and markdown punctuation backslash-escaped, so a project or district name can never
    become a tag, a link or emphasis in the reader's page."""
    import html

    return html.escape(_MD_SPECIAL.sub(r"\\\1", str(value)), quote=True)


CORRECTIONS_SCRAP = "esep_corrections"  # glued by helpers.corrections.Ledger.records()


def mark_html(shown: str, declared_text: str | None, number: int, *, shown_is_html: bool = False) -> str:
    """A printed value that differs from the source's print, with its footnote mark leading
    to the «Түзетулер» entry; machine-checkable: class ``esep-corrected`` + ``data-declared``.
    ``declared_text`` None: a figure on a flagged base (class ``esep-caveat``, same mark)."""
    import html

    shown = shown if shown_is_html else html.escape(shown)
    if declared_text is None:
        return (f'<span class="esep-caveat">{shown}<sup class="esep-mark">'
                f'<a href="#esep-corr-{int(number)}">{int(number)}</a></sup></span>')
    return (f'<span class="esep-corrected" data-declared="{html.escape(str(declared_text), quote=True)}">'
            f'{shown}<sup class="esep-mark"><a href="#esep-corr-{int(number)}">{int(number)}</a>'
            f"</sup></span>")


_MARK_RE = re.compile(r'(<sup class="esep-mark"><a href="#esep-corr-)(\d+)(">)(\d+)(</a>)')
_CORR_ROW_RE = re.compile(r'<tr id="esep-corr-(\d+)"><td class="num">\d+</td>.*?</tr>', re.S)


def renumber_marks(page: str) -> str:
    """Number the corrections marks of a rendered page in their order of appearance (the
    notebook numbers them in the order it meets the figures, which is not always the
    reading order: a table's column before its rows, a figure computed before an earlier
    paragraph prints it), and order the «Түзетулер» rows to match. Marks are counted
    before the «Түзетулер» table; a number never marked keeps its place after them."""
    first = page.find('<tr id="esep-corr-')
    head = page if first < 0 else page[:first]
    order: dict[str, int] = {}
    for m in _MARK_RE.finditer(head):
        order.setdefault(m.group(2), len(order) + 1)
    rows = list(_CORR_ROW_RE.finditer(page))
    for m in rows:                                  # entries no mark points at keep their order
        order.setdefault(m.group(1), len(order) + 1)
    if all(k == str(v) for k, v in order.items()):
        return page

    def mark(m: re.Match) -> str:
        n = order.get(m.group(2))
        return m.group(0) if n is None else f"{m.group(1)}{n}{m.group(3)}{n}{m.group(5)}"

    page = _MARK_RE.sub(mark, page)
    rows = list(_CORR_ROW_RE.finditer(page))        # offsets after the marks' new numbers
    if rows:
        start, end = rows[0].start(), rows[-1].end()
        if all(not page[rows[i].end():rows[i + 1].start()].strip() for i in range(len(rows) - 1)):
            ranked = sorted(rows, key=lambda m: order[m.group(1)])
            body = []
            for m in ranked:
                n = order[m.group(1)]
                body.append(re.sub(r'^<tr id="esep-corr-\d+"><td class="num">\d+</td>',
                                   f'<tr id="esep-corr-{n}"><td class="num">{n}</td>', m.group(0)))
            page = page[:start] + "".join(body) + page[end:]
    return page


def fill_text(text: str, scraps: dict, where: str = "", *, nbsp: bool = False,
              escape: bool = False, marks: bool = False) -> str:
    """Fill placeholders. With ``nbsp`` the thousands separator of a filled *number* is a
    no-break space, so a reader never sees `22` at a line end and `645` on the next.
    With ``escape`` a filled text value (from data) is escaped: see :func:`escape_text`.
    With ``marks`` a figure recorded in the glued corrections carries its footnote mark."""
    corrections = scraps.get(CORRECTIONS_SCRAP) if marks else None
    corrections = corrections if isinstance(corrections, dict) else {}

    def sub(m: re.Match) -> str:
        name, style = m.group(1), m.group(2)
        if name not in scraps:
            known = ", ".join(sorted(scraps)) or "none"
            raise PlaceholderError(f"{where}: placeholder {{{{ {name} }}}} names no glued figure "
                                   f"(known: {known})")
        value = scraps[name]
        out = format_value(name, value, style)
        if escape and isinstance(value, str):
            out = escape_text(out)
        if nbsp and isinstance(value, (int, float)) and not isinstance(value, bool):
            out = out.replace(" ", NBSP)
        c = corrections.get(name)
        if isinstance(c, dict) and "number" in c:
            if not escape:
                import html

                out = html.escape(out)
            out = mark_html(out, c.get("declared_text"), c["number"], shown_is_html=True)
        return out

    return PLACEHOLDER.sub(sub, text)


def fill_notebook(nb, scraps: dict) -> None:
    """Replace placeholders in every markdown cell (in place on a copy the caller owns).
    Render-time only: filled numbers use a no-break space as thousands separator."""
    for idx, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and PLACEHOLDER.search(cell.source):
            cell.source = fill_text(cell.source, scraps, cell_label(idx, cell), nbsp=True,
                                    escape=True, marks=True)


# --------------------------------------------------------------------------------------
# Stable cell ids
# --------------------------------------------------------------------------------------
# A narrative cell is identified by its nbformat 4.5 cell ``id`` (papermill and JupyterLab
# keep it). ``metadata.esep.narrative_id`` in the template overrides it if ever needed
# (for example after a tool that regenerates cell ids touched the template).

def cell_id(cell) -> str | None:
    meta = cell.get("metadata", {}).get("esep", {})
    if isinstance(meta, dict) and meta.get("narrative_id"):
        return str(meta["narrative_id"])
    return cell.get("id") or None


def template_problems(nb, name: str = "template") -> list[str]:
    """Narrative cells without an id, or with an id used twice (a test keeps this empty)."""
    seen: dict[str, int] = {}
    problems = []
    for idx, cell in enumerate(nb.cells):
        cid = cell_id(cell)
        if is_narrative(cell) and not cid:
            problems.append(f"{name}: narrative {cell_label(idx, cell)} has no cell id")
        if cid:
            if cid in seen:
                problems.append(f"{name}: cell id {cid!r} used by cells {seen[cid] + 1} and {idx + 1}")
            seen[cid] = idx
    return problems


def unknown_placeholders(text: str, scraps: dict) -> list[str]:
    return [m.group(1) for m in PLACEHOLDER.finditer(text) if m.group(1) not in scraps]


# --------------------------------------------------------------------------------------
# Stale literal numbers
# --------------------------------------------------------------------------------------
# Numbers typed by hand into the prose (not placeholders) are compared with the current
# glued figures: a literal that no figure formats to (rounded or cut to the literal's
# decimals, as a percent of a 0..1 share too) is listed. Not checked: years (1900-2100),
# periods (2023-2024, 2023-2024-S2), list/section numbering at the start of a line,
# "№ 5", and small ordinals / hyphenated suffixes ("1-кесте", "5-сынып").

_PERIOD = re.compile(r"\b\d{4}\s?[-–—]\s?\d{2,4}(?:-S[12])?\b")
_NUMERO = re.compile(r"№\s*\d+")
_LINK_URL = re.compile(r"\]\([^)]*\)|<[^>]+>|`[^`]*`|https?://\S+")
_LIST_NUM = re.compile(r"^(\s*(?:#{1,6}\s*)?(?:[-*]\s+)?)\d+(?:\.\d+)*[.)](?=\s)", re.M)
_NUMBER = re.compile(
    r"(?<![\w№/.,:+\-−])"
    r"(?P<sign>[+\-−](?=\d))?"
    r"(?P<int>\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?!\d)|\d+)"
    r"(?P<frac>,\d+(?!\d))?"
    r"(?P<pct>\s?%)?"
    r"(?P<suffix>-[^\W\d_]+)?"
)


class Literal:
    """One number typed into the prose."""

    def __init__(self, text: str, value, decimals: int, line: str):
        self.text, self.value, self.decimals, self.line = text, value, decimals, line

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Literal({self.text!r})"


def literal_numbers(text: str) -> list[Literal]:
    """Hand-typed numbers of a narrative text (placeholders, years, numbering excluded)."""
    from decimal import Decimal

    out = []
    for line in text.splitlines():
        clean = PLACEHOLDER.sub(" ", line)
        clean = _LINK_URL.sub(" ", clean)
        clean = _PERIOD.sub(" ", clean)
        clean = _NUMERO.sub(" ", clean)
        clean = _LIST_NUM.sub(r"\1", clean)
        for m in _NUMBER.finditer(clean):
            digits = re.sub(r"\D", "", m.group("int"))
            frac = (m.group("frac") or "")[1:]
            grouped = not m.group("int").isdigit()
            plain_int = not frac and not m.group("pct") and not m.group("sign") and not grouped
            value = Decimal(digits + ("." + frac if frac else ""))
            if plain_int and 1900 <= value <= 2100:
                continue  # a year
            if m.group("suffix") and plain_int and value < 100:
                continue  # an ordinal: "1-кесте", "5-сынып", "2-жартыжылдығы"
            shown = (m.group("sign") or "") + m.group("int") + (m.group("frac") or "") + (m.group("pct") or "")
            out.append(Literal(shown, value, len(frac), line.strip()))
    return out


def figure_values(scraps: dict) -> list:
    """Every number the glued figures hold (numbers inside glued strings too), absolute."""
    from decimal import Decimal, InvalidOperation

    vals: list = []

    def walk(v, depth=0):
        if depth > 4 or v is None:
            return
        if isinstance(v, bool):
            return
        if isinstance(v, (int, float)):
            try:
                d = Decimal(repr(v)) if isinstance(v, float) else Decimal(v)
            except InvalidOperation:
                return
            if d.is_finite():
                vals.append(abs(d))
                if isinstance(v, float) and abs(v) <= 1:
                    vals.append(abs(d) * 100)  # a 0..1 share shown as a percent
        elif isinstance(v, str):
            for lit in literal_numbers(v):
                vals.append(lit.value)
            for m in re.finditer(r"\d+(?:[.,]\d+)?", v):  # years etc. inside strings
                vals.append(Decimal(m.group(0).replace(",", ".")))
        elif isinstance(v, dict):
            for x in list(v.values())[:500]:
                walk(x, depth + 1)
        elif isinstance(v, (list, tuple)):
            for x in v[:500]:
                walk(x, depth + 1)

    for v in scraps.values():
        walk(v)
    return vals


def matches_figure(lit: Literal, values) -> bool:
    from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

    q = Decimal(1).scaleb(-lit.decimals)
    for v in values:
        if v.quantize(q, rounding=ROUND_HALF_UP) == lit.value or v.quantize(q, rounding=ROUND_DOWN) == lit.value:
            return True
    return False


def narrative_cells(nb):
    """(index, cell) of every narrative cell: tagged, or added by an editor (esep metadata)."""
    for idx, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and (is_narrative(cell) or cell_id(cell) in _tracked_ids(nb)):
            yield idx, cell


def _tracked_ids(nb) -> set:
    meta = nb.get("metadata", {}).get("esep_narrative", {})
    return set(meta.get("narrative", {})) if isinstance(meta, dict) else set()


def skipped_sections(scraps: dict) -> list[str]:
    """Sections the notebook skipped for lack of data (glued ``sections_skipped``); their
    markdown cells (``metadata.esep.section``) are not rendered, so not checked either."""
    skipped = scraps.get("sections_skipped") or []
    if isinstance(skipped, str):
        skipped = [s.strip() for s in skipped.split(",") if s.strip()]
    return list(skipped) if isinstance(skipped, (list, tuple)) else []


def in_skipped_section(cell, skipped) -> bool:
    meta = cell.get("metadata", {}).get("esep", {})
    return bool(skipped) and isinstance(meta, dict) and meta.get("section") in skipped


def stale_numbers(nb, scraps: dict | None = None) -> list[tuple[str, Literal]]:
    """(cell label, literal) for every hand-typed number that matches no current figure."""
    from esep.notebook.scraps import read_scraps

    scraps = read_scraps(nb) if scraps is None else scraps
    values = figure_values(scraps)
    skipped = skipped_sections(scraps)
    found = []
    for idx, cell in narrative_cells(nb):
        if in_skipped_section(cell, skipped):
            continue
        for lit in literal_numbers(cell.source):
            if not matches_figure(lit, values):
                found.append((cell_label(idx, cell, with_id=True), lit))
    return found


def placeholder_errors(nb, scraps: dict | None = None) -> list[str]:
    """One readable line per narrative cell that names an unknown figure."""
    from esep.notebook.scraps import read_scraps

    scraps = read_scraps(nb) if scraps is None else scraps
    skipped = skipped_sections(scraps)
    errors = []
    for idx, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or in_skipped_section(cell, skipped):
            continue
        bad = unknown_placeholders(cell.source, scraps)
        if bad:
            names = ", ".join("{{ %s }}" % b for b in dict.fromkeys(bad))
            errors.append(f"{cell_label(idx, cell, with_id=True)}: {names} names no glued figure")
    return errors
