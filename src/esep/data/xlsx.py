"""A fast reader of plain .xlsx workbooks: every worksheet's cell values, as openpyxl's
``load_workbook(read_only=True, data_only=True)`` gives them, in a few milliseconds.

openpyxl builds an object for every style, property and cell of a workbook: about 50 ms
of CPU for one returned school form (:mod:`esep.data.forms`), most of it not needed to
read a few hundred values. This module reads the zip's XML directly (lxml) and gives,
per worksheet, the rows of ``(value, number format)`` pairs that openpyxl's read-only
worksheet yields (its dimension, row and column padding rules included), so that
:func:`esep.data.validate._workbook_sheets` turns them into the same text.

It reads only what it understands exactly. Whenever a workbook holds anything else (a
part not where Excel, LibreOffice and openpyxl put it, a chart sheet, a DTD, a formula
without a saved value, a cell style it cannot resolve, ...) :func:`read_values` returns
None, and the caller reads the workbook with openpyxl as before: the same values, the same
messages (unreadable file, formulas without saved values) in every case.
"""
from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
WORKBOOK_TYPES = {   # what openpyxl accepts as the workbook part (reader.excel._find_workbook_part)
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
}
SHARED_STRINGS = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
WORKSHEET_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"

_C, _V, _F, _IS, _T, _R, _ROW = (NS + t for t in ("c", "v", "f", "is", "t", "r", "row"))
_parser = None


class Unsure(Exception):
    """Something this reader does not reproduce exactly: read with openpyxl instead."""


def _xml(data: bytes):
    global _parser
    from lxml import etree

    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise Unsure("DTD")      # openpyxl (defusedxml) refuses these: let it word the error
    if _parser is None:
        _parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    return etree.fromstring(data, _parser)


def _text_content(node) -> str:
    """openpyxl's ``Text.from_tree(node).content``: the last plain ``t`` child, then each
    run's last ``t``; phonetic runs left out."""
    plain, runs = None, []
    for el in node:
        tag = el.tag.rpartition("}")[2] if isinstance(el.tag, str) else ""
        if tag == "t":
            plain = el.text
        elif tag == "r":
            t = None
            for sub in el:
                if isinstance(sub.tag, str) and sub.tag.rpartition("}")[2] == "t":
                    t = sub.text
            runs.append(t)
    return "".join(s for s in [plain, *runs] if s is not None)


def _shared_strings(z: zipfile.ZipFile, part: str | None) -> list[str]:
    if part is None:
        return []
    root = _xml(z.read(part))
    return [_text_content(si).replace("x005F_", "") for si in root.iter(NS + "si")]


def _styles(z: zipfile.ZipFile, names: set[str]) -> tuple[list[str], set[int], set[int]]:
    """Per cell style (``s``): its number format, and which styles are dates / durations
    (openpyxl's ``Stylesheet._normalise_numbers``)."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format

    if "xl/styles.xml" not in names:
        raise Unsure("no stylesheet")       # openpyxl falls back to its defaults (and warns)
    root = _xml(z.read("xl/styles.xml"))
    if root.tag != NS + "styleSheet":
        raise Unsure("stylesheet")
    custom = {}
    for nf in root.iterchildren(NS + "numFmts"):
        for f in nf.iterchildren(NS + "numFmt"):
            custom[int(f.get("numFmtId"))] = f.get("formatCode")
    xfs = [xf for cx in root.iterchildren(NS + "cellXfs") for xf in cx.iterchildren(NS + "xf")]
    if not xfs:
        raise Unsure("no cell styles")
    fmts, dates, durations = [], set(), set()
    for i, xf in enumerate(xfs):
        n = int(xf.get("numFmtId") or 0)
        if n in custom:
            fmt = custom[n]
        elif n < 164:
            fmt = BUILTIN_FORMATS.get(n)
        else:
            raise Unsure("unknown number format")
        if fmt is None and n in custom:
            raise Unsure("number format without a code")
        if is_date_format(fmt):
            dates.add(i)
        if is_timedelta_format(fmt):
            durations.add(i)
        fmts.append("General" if fmt is None else fmt)
    return fmts, dates, durations


def _cast_number(value: str):
    """openpyxl's ``worksheet._reader._cast_number``."""
    if "." in value or "E" in value or "e" in value:
        return float(value)
    return int(value)


def _sheet_rows(data: bytes, strings, fmts, dates, durations, epoch) -> list[list[tuple]]:
    """The rows openpyxl's ``ReadOnlyWorksheet.iter_rows()`` yields, as lists of
    (value, number format) (None, None for an empty cell)."""
    from openpyxl.utils.cell import coordinate_to_tuple, range_boundaries

    root = _xml(data)
    if root.tag != NS + "worksheet":
        raise Unsure("worksheet")
    max_col = max_row = None
    sheet_data = None
    for el in root:
        if el.tag == NS + "dimension" and sheet_data is None:
            _, _, max_col, max_row = range_boundaries(el.get("ref"))
        elif el.tag == NS + "sheetData":
            sheet_data = el
            break
    empty = [] if max_col is None else [(None, None)] * max_col
    out: list[list[tuple]] = []
    counter, idx, row_counter = 1, 1, 0
    for row in (sheet_data.iter(_ROW) if sheet_data is not None else ()):
        r = row.get("r")
        if r is not None:
            if not r.isdigit():
                raise Unsure("row number")
            row_counter = int(r)
        else:
            row_counter += 1
        idx = row_counter
        if max_row is not None and idx > max_row:
            break
        cells, col_counter = [], 0
        for c in row:
            if c.tag != _C:
                raise Unsure("row content")
            t = c.get("t", "n")
            s = c.get("s", 0)
            if s:
                s = int(s)
            coord = c.get("r")
            if coord:
                col_counter = coordinate_to_tuple(coord)[1]
            else:
                col_counter += 1
            value = None if t == "inlineStr" else (c.findtext(_V, None) or None)
            if c.find(_F) is not None and (value is None or t == "inlineStr"):
                raise Unsure("formula without a saved value")   # openpyxl words the error
            fmt = None
            if value is not None:
                if t == "n":
                    value = _cast_number(value)
                    if s in dates:
                        from openpyxl.utils.datetime import from_excel

                        value = from_excel(value, epoch, timedelta=s in durations)   # errors: Unsure
                    fmt = fmts[s]
                elif t == "s":
                    value = strings[int(value)]
                elif t == "b":
                    value = bool(int(value))
                elif t == "d":
                    raise Unsure("ISO date cell")
                elif t not in ("str", "e"):
                    raise Unsure("cell type")
            elif t == "inlineStr":
                child = c.find(_IS)
                if child is not None:
                    value = _text_content(child)
            cells.append((col_counter, value, fmt))
        for _ in range(counter, idx):
            counter += 1
            out.append(empty)
        if counter <= idx:
            if not cells and not max_col:
                out.append([])
            else:
                width = max_col or cells[-1][0]
                new = [(None, None)] * width
                for col, value, fmt in cells:
                    if 1 <= col <= width:
                        new[col - 1] = (value, fmt)
                out.append(new)
            counter += 1
    return out


def read_values(path: Path) -> dict[str, list[list[tuple]]] | None:
    """Worksheet title -> rows of (value, number format), in the workbook's order; None
    when openpyxl should read this workbook (see the module doc)."""
    try:
        return _read(path)
    except Exception:  # noqa: BLE001 - Unsure, or anything unexpected: openpyxl decides
        return None


def _read(path: Path) -> dict[str, list[list[tuple]]]:
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        ct = _xml(z.read("[Content_Types].xml"))
        overrides = {o.get("PartName"): o.get("ContentType") for o in ct.iter(CT_NS + "Override")}
        books = [p for p, t in overrides.items() if t in WORKBOOK_TYPES]
        if books != ["/xl/workbook.xml"] or "xl/workbook.xml" not in names:
            raise Unsure("workbook part")
        sst = [p for p, t in overrides.items() if t == SHARED_STRINGS]
        if len(sst) > 1 or (sst and sst[0] != "/xl/sharedStrings.xml"):
            raise Unsure("shared strings part")
        strings = _shared_strings(z, sst[0][1:] if sst else None)
        wb = _xml(z.read("xl/workbook.xml"))
        if wb.tag != NS + "workbook":
            raise Unsure("workbook")
        epoch_1904 = False
        for pr in wb.iterchildren(NS + "workbookPr"):
            d = pr.get("date1904")
            if d is not None:
                if d not in ("0", "1", "true", "false"):
                    raise Unsure("date1904")
                epoch_1904 = d in ("1", "true")
        from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

        epoch = CALENDAR_MAC_1904 if epoch_1904 else CALENDAR_WINDOWS_1900
        rels = {}
        for r in _xml(z.read("xl/_rels/workbook.xml.rels")).iter(PKG_REL):
            if r.get("TargetMode") == "External":
                continue
            target = r.get("Target") or ""
            target = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
            rels[r.get("Id")] = (r.get("Type"), target)
        fmts, dates, durations = _styles(z, names)
        out: dict[str, list[list[tuple]]] = {}
        for sheets in wb.iterchildren(NS + "sheets"):
            for sh in sheets.iterchildren(NS + "sheet"):
                rid = sh.get(REL_NS + "id")
                if not rid or rid not in rels:
                    raise Unsure("sheet without a part")
                kind, target = rels[rid]
                if kind != WORKSHEET_REL or target not in names:
                    raise Unsure("not a worksheet")
                name = sh.get("name")
                if name is None or name in out:
                    raise Unsure("sheet name")
                out[name] = _sheet_rows(z.read(target), strings, fmts, dates, durations, epoch)
        return out
