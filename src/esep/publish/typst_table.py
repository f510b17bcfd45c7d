"""Typst for one report table: esep's ``esep-table`` HTML (caption, ``thead`` with
``colspan``/``rowspan`` cells, ``td.num``, ``tr.total``, a table note after it) as a
Typst ``table``, with the columns sized from the content (used by :mod:`pdf_typst`).

Column widths are computed here, as a browser's auto table layout would: each column
lies between its narrowest sensible width (header text wraps between words, body text
at ~22 characters, numbers never) and its width with every cell on one line, and the
table takes at most the text block. Typst's own ``auto`` columns give an unwrapped
header cell its full one-line width, which starves the other columns.
"""
from __future__ import annotations

import re

from esep.publish.typst_text import _s  # noqa: F401  (re-exported)

# A4 text block widths (pt): portrait 210 - 20 - 16 mm, landscape 297 - 20 - 18 mm
_PORTRAIT_PT, _LANDSCAPE_PT = 174 / 25.4 * 72, 259 / 25.4 * 72
# table type: 8.5 pt when the table fits the portrait block (60 em), down to 6.5 pt
_BASE_PT, _MIN_PT = 8.5, 6.5
_PORTRAIT_EM_AT_BASE = 60
LANDSCAPE_SLACK = 1.25
SHORT_TABLE_ROWS = 15    # tables up to this many body rows are kept on one page

_NUMBER = re.compile(r"[-+−–]?\s?[\d\s.,]*\d[\d\s.,]*\s?%?|[-–—]|")


def _classes(el) -> set[str]:
    return set((el.get("class") or "").split())


def _text(s: str | None) -> str:
    text = re.sub(r"\s+", " ", s or "")
    return "#" + _s(text) if text else ""


def _inline(el) -> str:
    """Inline HTML (text, strong, em, code, a, br) inside ``el`` as Typst content markup."""
    out = [_text(el.text)]
    for child in el:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag and tag not in ("style", "script") and "anchor-link" not in _classes(child):
            inner = _inline(child)
            if tag in ("strong", "b"):
                out.append(f"#strong[{inner}]")
            elif tag in ("em", "i"):
                out.append(f"#emph[{inner}]")
            elif tag == "code":
                out.append(f'#text(font: "DejaVu Sans Mono", size: 0.9em)[{inner}]')
            elif tag == "br":
                out.append(" \\ ")
            elif tag == "sup":
                out.append(f"#super[{inner}]")
            elif tag == "sub":
                out.append(f"#sub[{inner}]")
            else:
                out.append(inner)
        out.append(_text(child.tail))
    return "".join(out)


def _plain(el) -> str:
    return " ".join(el.text_content().split())


def _value_text(el) -> str:
    """A cell's text without its corrections mark (``+7,7%`` of ``+7,7%<sup>5</sup>``)."""
    parts = [el.text or ""]
    for child in el:
        if not (child.tag == "sup" and "esep-mark" in _classes(child)):
            parts.append(_value_text(child))
        parts.append(child.tail or "")
    return " ".join("".join(parts).split())


def _cells(tr) -> list:
    return [c for c in tr if c.tag in ("td", "th")]


def _span(c, name: str) -> int:
    try:
        return max(1, int(c.get(name, 1) or 1))
    except ValueError:
        return 1


def _cell_em(c, text: str | None = None) -> float:
    """Natural width of a cell (em at the table's size): numbers never wrap, text wraps
    at ~22 characters, bold header text wraps between words (as formats.table_width_em)."""
    text = _plain(c) if text is None else text
    if not text:
        return 1.0
    longest = max(len(w) for w in text.split())
    if c.tag == "th":
        return longest * 0.80 + 1.2       # bold Cyrillic is wide
    chars = len(text) if "num" in _classes(c) else max(longest, min(len(text), 22))
    return chars * 0.62 + 1.0


def _cell_max_em(c, text: str | None = None) -> float:
    """Width of a cell's text on one line (em), capped: what the column would like."""
    text = _plain(c) if text is None else text
    if not text:
        return 1.0
    per = 0.70 if c.tag == "th" else 0.62
    return min(len(text), 60 if c.tag == "th" else 110) * per + 1.0


_STATS: dict = {}


def _column_stats(rows) -> tuple[list[float], list[int], list[float]]:
    rows = list(rows)
    key = tuple(id(r) for r in rows)
    if key not in _STATS:
        if len(_STATS) > 256:
            _STATS.clear()
        _STATS[key] = (rows, _column_stats_of(rows))       # rows kept: ids stay unique
    return _STATS[key][1]


def _column_stats_of(rows) -> tuple[list[float], list[int], list[float]]:
    """Per column: the narrowest sensible width (em: headers wrap between words, text at
    ~22 characters, numbers never), the longest body text (characters) and the widest
    it would take with every cell on one line (em)."""
    widths: dict[int, float] = {}
    longest: dict[int, int] = {}
    wide: dict[int, float] = {}
    taken: set[tuple[int, int]] = set()      # (row, column) slots held by a rowspan above
    for i, tr in enumerate(rows):
        j = 0
        for c in _cells(tr):
            while (i, j) in taken:           # a cell spanning down from an earlier row
                j += 1
            span = _span(c, "colspan")
            for di in range(1, _span(c, "rowspan")):
                taken.update((i + di, k) for k in range(j, j + span))
            text = _plain(c)
            w = _cell_em(c, text) / span
            mx = _cell_max_em(c, text) / span
            for k in range(j, j + span):
                widths[k] = max(widths.get(k, 0.0), w)
                wide[k] = max(wide.get(k, 0.0), mx, w)
                if c.tag == "td" and span == 1:
                    longest[k] = max(longest.get(k, 0), len(text))
            j += span
    n = max(widths) + 1 if widths else 0
    return ([widths.get(k, 1.0) for k in range(n)], [longest.get(k, 0) for k in range(n)],
            [wide.get(k, 1.0) for k in range(n)])


def _floor_em(rows, col: int) -> float:
    """The narrowest a column can get (em): its longest word (a number never wraps),
    a header's longest word in bold."""
    out, taken = 1.0, set()
    for i, tr in enumerate(rows):
        j = 0
        for c in _cells(tr):
            while (i, j) in taken:
                j += 1
            span = _span(c, "colspan")
            for di in range(1, _span(c, "rowspan")):
                taken.update((i + di, k) for k in range(j, j + span))
            if j <= col < j + span:
                text = _plain(c)
                if text:
                    words = [text] if "num" in _classes(c) else text.split()
                    per = 0.80 if c.tag == "th" else 0.62
                    out = max(out, (max(len(w) for w in words) * per + 1.2) / span)
            j += span
    return out


def _table_em(table) -> float:
    return sum(_column_stats(table.iter("tr"))[0])


def _table_size(em: float) -> float:
    """Table type size (pt): 8.5 pt when the table fits the portrait width, smaller
    (down to 6.5 pt) when it does not."""
    if em <= _PORTRAIT_EM_AT_BASE:
        return _BASE_PT
    return max(_MIN_PT, round(_BASE_PT * _PORTRAIT_EM_AT_BASE / em * 2) / 2)


def needs_landscape(table) -> bool:
    """Too wide for the portrait block even at the smallest table type."""
    # (the estimate is a lower bound with a margin: tables up to ~20 % over it still set
    # well at 6.5 pt, so the orientation does not alternate for the shipped reports)
    return _table_em(table) * _MIN_PT > _PORTRAIT_EM_AT_BASE * _BASE_PT * LANDSCAPE_SLACK


def _table(table, landscape: bool) -> str:
    """An HTML table (caption, thead with spans, tbody with td.num / tr.total) as Typst."""
    rows = list(table.iter("tr"))
    rows_head = [tr for tr in rows if tr.getparent() is not None and tr.getparent().tag == "thead"]
    rows_body = [tr for tr in rows if tr not in rows_head]
    if not rows_head and rows_body and all(c.tag == "th" for c in _cells(rows_body[0])):
        rows_head, rows_body = [rows_body[0]], rows_body[1:]
    widths, longest, wide = _column_stats(rows)
    ncols = len(widths)
    if not ncols:
        return ""
    em = sum(widths)
    size = _BASE_PT if landscape else _table_size(em)
    # columns sized by their content, as a browser sizes an auto table: each between its
    # narrowest sensible width (headers wrap between words, text at ~22 characters,
    # numbers never) and its width on one line, sharing the text width in proportion;
    # scaled down only when even the narrowest widths do not fit
    avail = (_LANDSCAPE_PT if landscape else _PORTRAIT_PT) - ncols * 0.5
    lo = [w * size for w in widths]
    hi = [w * size for w in wide]
    if sum(hi) <= avail:
        natural = hi
    elif sum(lo) >= avail:
        # several text columns: each keeps at least its longest word, and the rest of the
        # width goes to the columns with the most text (a short decision column no longer
        # takes as much as the long label beside it)
        floor = [min(a, _floor_em(rows, j) * size) for j, a in enumerate(lo)]
        if sum(floor) >= avail:
            natural = [w * avail / sum(floor) for w in floor]
        else:
            f = (avail - sum(floor)) / max(sum(hi) - sum(floor), 1e-9)
            natural = [a + max(b - a, 0.0) * f for a, b in zip(floor, hi)]
            if sum(natural) > avail:
                natural = [w * avail / sum(natural) for w in natural]
    else:
        f = (avail - sum(lo)) / (sum(hi) - sum(lo))
        natural = [a + (b - a) * f for a, b in zip(lo, hi)]
    cols = ", ".join(f"{w:.1f}pt" for w in natural) + ("," if ncols == 1 else "")

    def cell(c, head: bool, total: bool) -> str:
        body = "[" + _inline(c).strip() + "]"
        if total:
            body = f"strong({body})"
        attrs = []
        cs, rs = _span(c, "colspan"), _span(c, "rowspan")
        if cs > 1:
            attrs.append(f"colspan: {cs}")
        if rs > 1:
            attrs.append(f"rowspan: {rs}")
        if head:
            attrs.append("align: center + horizon")
            attrs.append('fill: rgb("#e8eef6")')
        elif "num" in _classes(c) and _NUMBER.fullmatch(_value_text(c)):
            attrs.append("align: right")
        if total:
            attrs.append('fill: rgb("#eef1f5")')
        return f"table.cell({', '.join(attrs)}, {body})" if attrs else body

    head_cells = [cell(c, True, False) for tr in rows_head for c in _cells(tr)]
    body_cells = []
    for i, tr in enumerate(rows_body):
        total = bool({"total", "esep-total"} & _classes(tr))
        if total and i:
            body_cells.append(f'table.hline(y: {len(rows_head) + i}, stroke: 1pt + rgb("#1d2433"))')
        body_cells += [cell(c, False, total) for c in _cells(tr)]
    stripes = 'fill: (_, y) => if y >= %d and calc.odd(y - %d) { rgb("#f7f8fa") },' % (
        len(rows_head), len(rows_head))
    cap = table.find("caption")
    caption = f"#esep-caption[{_inline(cap)}]\n" if cap is not None and _plain(cap) else ""
    header = f"table.header(repeat: true, {', '.join(head_cells)})," if head_cells else ""
    nxt = table.getnext()
    note = ""
    if nxt is not None and nxt.tag == "p" and "esep-table-note" in _classes(nxt):
        nxt.set("data-esep-done", "1")          # the note goes with the table, not after it
        note = f"\n#esep-note[{_inline(nxt).strip()}]"
    # a short table (with its caption and note) is never split; a long one breaks between
    # rows, repeating its header, and its note stays with its last rows (table footer)
    short = len(rows_body) <= SHORT_TABLE_ROWS
    footer = ""
    if note and not short:
        footer = (f"table.footer(repeat: false, table.cell(colspan: {ncols}, stroke: none, "
                  f"inset: (x: 0pt, y: 2pt), fill: none, [{note.strip()}])),")
        note = ""
    table_src = (f"#block(width: 100%, above: 1.5mm, below: 0pt)[#set text({size}pt)\n"
                 f"#table(columns: ({cols}), {stripes}\n{header}\n{', '.join(body_cells)},\n{footer})]")
    breakable = "false" if short else "true"
    parts = [f"#block(width: 100%, above: 3mm, below: 4mm, breakable: {breakable})[\n"
             f"{caption}{table_src}{note}\n]"]
    return "\n".join(parts)


_NUMBER = re.compile(r"[-+−–]?\s?[\d\s.,]*\d[\d\s.,]*\s?%?|[-–—]|")
