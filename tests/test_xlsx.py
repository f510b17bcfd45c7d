"""esep.data.xlsx, the direct reader of plain workbooks, gives every sheet's text exactly
as openpyxl does (validate._workbook_sheets either way), and steps aside (None: openpyxl
reads the workbook) for what it does not reproduce, such as a formula without a value."""
from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pytest

from esep.data import validate, xlsx

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _both(path: Path):
    """(sheets' text through the direct reader, through openpyxl), and whether the direct
    reader read it."""
    validate._workbook_sheets.cache_clear()
    direct = xlsx.read_values(path) is not None
    fast = validate._workbook_sheets(path, 0.0)
    validate._workbook_sheets.cache_clear()
    real = xlsx.read_values
    try:
        xlsx.read_values = lambda p: None
        slow = validate._workbook_sheets(path, 0.0)
    finally:
        xlsx.read_values = real
        validate._workbook_sheets.cache_clear()
    return fast, slow, direct


def _book(path: Path, formulas: bool = False) -> Path:
    from openpyxl import Workbook
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    wb = Workbook()
    ws = wb.active
    ws.title = "data"
    ws.append(["name", "pct", "n", "when", "flag", "f"])
    ws.append(["  Алматы ", 0.805, 22645, dt.datetime(2024, 5, 1, 10, 30), True, "=C2*2" if formulas else 1.5])
    ws.append(["e\u0301", 0.5, 1.25, dt.date(2023, 9, 1), False, 3])
    ws.append([None] * 6)                                            # an empty row inside the data
    ws.append(["x", 12, 1e20, dt.time(12, 30), None, -0.125])
    ws.append([CellRichText(["ab", TextBlock(InlineFont(b=True), "cd")]), 0.3, 0.1 + 0.2, 45000, 1, None])
    for r in range(2, 7):
        ws.cell(row=r, column=2).number_format = "0.0%"
    ws.cell(row=6, column=4).number_format = "dd.mm.yyyy"
    ws.cell(row=5, column=3).number_format = "#,##0.00"
    ws["H9"] = "far"                                                 # beyond the table
    wb.create_sheet("Нұсқаулық")["C3"] = "note"
    hidden = wb.create_sheet("_lists")
    hidden.sheet_state = "hidden"
    hidden["B2"] = "h"
    wb.create_sheet("empty")
    wb.save(path)
    return path


def _as_excel_saves(src: Path, dst: Path) -> Path:
    """The workbook as Excel writes one: text in shared strings (some as rich-text runs,
    with a phonetic run that is not part of the text), formulas with their saved values
    (numbers, text, errors), a custom "%" number format."""
    from lxml import etree

    with zipfile.ZipFile(src) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    strings: list[str] = []
    for name in [n for n in parts if re.match(r"xl/worksheets/sheet\d+\.xml$", n)]:
        root = etree.fromstring(parts[name])
        for k, c in enumerate(root.iter(_q("c"))):
            if c.get("t") == "inlineStr" and c.find(_q("is")) is not None:
                text = "".join(c.find(_q("is")).itertext())
                for ch in list(c):
                    c.remove(ch)
                c.set("t", "s")
                etree.SubElement(c, _q("v")).text = str(len(strings))
                strings.append(text)
            elif c.get("t", "n") == "n" and c.find(_q("v")) is not None:
                v = c.find(_q("v"))
                f = etree.Element(_q("f"))
                f.text = f"1*{v.text}"
                c.insert(0, f)
                if k % 5 == 1:
                    c.set("t", "str")
                    v.text = f"мәтін {k}"
                elif k % 5 == 3:
                    c.set("t", "e")
                    v.text = "#N/A"
                elif k % 4 == 0 and not c.get("s"):
                    c.set("s", "99")        # -> the custom format below
        parts[name] = etree.tostring(root)
    sst = etree.Element(_q("sst"), nsmap={None: NS})
    for i, s in enumerate(strings):
        si = etree.SubElement(sst, _q("si"))
        if i % 3 == 2 and len(s) > 1:
            for piece in (s[: len(s) // 2], s[len(s) // 2:]):
                r = etree.SubElement(si, _q("r"))
                etree.SubElement(r, _q("t")).text = piece
            etree.SubElement(etree.SubElement(si, _q("rPh"), sb="0", eb="1"), _q("t")).text = "фонетика"
        else:
            etree.SubElement(si, _q("t")).text = s
    parts["xl/sharedStrings.xml"] = etree.tostring(sst)
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                     b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdS" Target="sharedStrings.xml" Type="http://schemas.'
                             b'openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/></Relationships>')
    st = etree.fromstring(parts["xl/styles.xml"])
    nf = st.find(_q("numFmts"))
    if nf is None:
        nf = etree.Element(_q("numFmts"))
        st.insert(0, nf)
    etree.SubElement(nf, _q("numFmt"), numFmtId="170", formatCode='0.00"%"')
    cx = st.find(_q("cellXfs"))
    while len(cx) < 99:
        etree.SubElement(cx, _q("xf"), numFmtId="0", fontId="0", fillId="0", borderId="0", xfId="0")
    etree.SubElement(cx, _q("xf"), numFmtId="170", fontId="0", fillId="0", borderId="0", xfId="0")
    parts["xl/styles.xml"] = etree.tostring(st)
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            z.writestr(n, data)
    return dst


def test_a_plain_workbook_reads_as_openpyxl_reads_it(tmp_path):
    fast, slow, direct = _both(_book(tmp_path / "b.xlsx"))
    assert direct and fast == slow
    header, rows = fast["data"]
    assert header == ["name", "pct", "n", "when", "flag", "f", "", ""] and rows[-1][-1] == "far"   # H9: 8 wide
    assert rows[0][:5] == ["Алматы", "80.5", "22645", "2024-05-01", "true"]   # trimmed, %, date, bool
    assert rows[2] == [""] * len(header)                                     # the empty row is kept
    assert list(fast) == ["data", "Нұсқаулық", "_lists", "empty"] and fast["empty"] == ([], [])


def test_a_workbook_as_excel_saves_it_reads_as_openpyxl_reads_it(tmp_path):
    book = _as_excel_saves(_book(tmp_path / "b.xlsx"), tmp_path / "excel.xlsx")
    fast, slow, direct = _both(book)
    assert direct and fast == slow
    text = [v for r in fast["data"][1] for v in r]
    assert "#N/A" in text and any(v.startswith("мәтін") for v in text) and "abcd" in text


def test_a_returned_school_form_reads_as_openpyxl_reads_it(tmp_path, monkeypatch):
    from openpyxl import load_workbook

    from esep.data.forms import layout, write

    monkeypatch.setenv("ESEP_ROOT", str(Path(__file__).resolve().parents[1]))   # its schema; the form goes to tmp
    path = tmp_path / "astana-67-share.xlsx"
    member = {"member_id": "astana-67-share", "school_id": "astana-67", "school_no": 67, "member_name": "№67 мектеп",
              "city": "Астана", "project_key": "share", "project_name": "SHARE", "project_kind": "international",
              "list_period": "2024-2025"}
    write.write_form(path, member, "2024-2025", layout.school_schema())
    wb = load_workbook(path)                  # what a school types in
    wb["Іс-шаралар"].append(["семинар", "қалалық", "«Зерттеу сабағы»"])
    wb["Сыныптар"].append(["5-8", 7, 250])
    wb["Білім сапасы"].append(["ИЖ қатысатын сыныптар", "84,5"])
    wb.save(path)
    for book in (path, _as_excel_saves(path, tmp_path / "excel.xlsx")):
        fast, slow, direct = _both(book)
        assert direct and fast == slow
        assert ["семинар", "қалалық", "«Зерттеу сабағы»"] in fast["Іс-шаралар"][1]
        assert "Паспорт" in fast and layout.NOTE_SHEET in fast


def test_what_it_does_not_reproduce_is_left_to_openpyxl(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["a", "=1+2"])           # a formula without a saved value: openpyxl words the error
    wb.save(tmp_path / "f.xlsx")
    assert xlsx.read_values(tmp_path / "f.xlsx") is None
    with pytest.raises(validate.DataError, match="formula cell"):
        validate._workbook_sheets.cache_clear()
        validate._workbook_sheets(tmp_path / "f.xlsx", 0.0)
    (tmp_path / "z.xlsx").write_bytes(b"PK not a zip")
    assert xlsx.read_values(tmp_path / "z.xlsx") is None
    with pytest.raises(validate.DataError, match="cannot be opened as an Excel workbook"):
        validate._workbook_sheets(tmp_path / "z.xlsx", 0.0)


def test_a_dimension_smaller_than_the_data_cuts_it_as_openpyxl_does(tmp_path):
    book = _book(tmp_path / "b.xlsx")
    with zipfile.ZipFile(book) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["xl/worksheets/sheet1.xml"] = re.sub(rb'<dimension ref="[^"]+"/>', b'<dimension ref="A1:C3"/>',
                                               parts["xl/worksheets/sheet1.xml"])
    cut = tmp_path / "cut.xlsx"
    with zipfile.ZipFile(cut, "w") as z:
        for n, data in parts.items():
            z.writestr(n, data)
    fast, slow, direct = _both(cut)
    assert direct and fast == slow and fast["data"][0] == ["name", "pct", "n"] and len(fast["data"][1]) == 2
