"""Read and check every raw input of a report; report every problem at once.

Where a table comes from (``inputs`` of a report list ``<report>/<stem>.csv``), looked up
in ``data/raw/<report>/`` in this order, exactly one of them must exist:

1. ``<stem>.csv`` — UTF-8 (with or without BOM), comma or semicolon separated. A file
   saved by Excel as "CSV (Windows)" (code page 1251) is read as such when the text
   decodes to clean Cyrillic; when Kazakh letters were already lost (Excel writes
   ``?`` for ә ғ қ ң ө ұ ү һ in that code page) or it is not Cyrillic text, it is
   refused with instructions to re-save as "CSV UTF-8".
2. ``<stem>.xlsx`` — its sheet named ``<stem>``, or its only sheet.
3. ``<report>.xlsx`` — one workbook for the whole report, sheet ``<stem>``. Sheets whose
   name starts with ``_`` or is ``Нұсқаулық`` / ``README`` are notes and are skipped;
   any other sheet that names no input is an error (a typo'd sheet name would
   otherwise be silently ignored).

Row 1 is the header row (first row of the sheet). Rows and columns in messages are the
ones the user sees in Excel: ``row 7, column E "pupils"``.

Cells: text is trimmed and Unicode-NFC normalised; numbers may be written ``22645``,
``22 645``, ``80.5``, ``80,5``, ``80,5%``; ``-`` or an empty cell is "none". A Latin
look-alike letter inside a Cyrillic word (``PASСH``, ``Aқтөбе``) is a *warning* (a
finding, see :mod:`esep.findings`): it is often as printed, but it breaks look-ups, so
a column with allowed values or references reports it as an *error* with a hint.

``data/raw/<report>/incoming/<period>/`` (made by ``esep new-period``) is read only when
asked (``esep validate --period P`` and ``esep merge``): same lookup, and files with a
header but no rows are templates not filled in yet, skipped.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from io import StringIO
from pathlib import Path

import pandas as pd

from esep.core import config, periods
from esep.data import schemas
from esep.core.errors import DataError
from esep.core.numbers import NONE_VALUES, parse_number  # noqa: F401  (one parser)

MAX_PER_FILE = 40
NOTE_SHEETS = {"нұсқаулық", "readme", "instructions", "инструкция"}
CYR = re.compile(r"[\u0400-\u04FF]")
LAT = re.compile(r"[A-Za-z]")
WORD = re.compile(r"[^\W\d_]+")
# Latin letters that look like Cyrillic ones (the usual keyboard slips)
LOOKALIKE = {"A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "I": "І", "K": "К", "M": "М",
             "O": "О", "P": "Р", "T": "Т", "X": "Х", "Y": "У", "a": "а", "c": "с", "e": "е",
             "i": "і", "o": "о", "p": "р", "x": "х", "y": "у", "h": "һ"}


# --- problems ------------------------------------------------------------------

def col_letter(i: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (Excel column letters)."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


@dataclass
class Problem:
    """One thing wrong with a raw file, worded for the person who fills it in."""
    source: str
    message: str
    row: int | None = None
    column: str | None = None
    letter: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = [self.source]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f'column {self.letter} "{self.column}"' if self.letter else f'column "{self.column}"')
        found = f"found {self.value!r}, " if self.value is not None else ""
        return ", ".join(where) + f": {found}{self.message}"


@dataclass
class Source:
    """One file (or sheet) holding rows of a table."""
    table: str
    path: Path
    sheet: str | None
    header: list[str]
    frame: pd.DataFrame          # text cells, columns = header
    note: str = ""               # e.g. 'read as Windows-1251'

    @property
    def label(self) -> str:
        return sheet_label(_rel(self.path), self.sheet)

    def letter(self, column: str) -> str | None:
        return col_letter(self.header.index(column)) if column in self.header else None


def sheet_label(rel: str, sheet: str | None) -> str:
    """How messages name a file (``rel``: its path in the project) or one of its sheets."""
    return f'{rel}, sheet "{sheet}"' if sheet else rel


@dataclass
class Loaded:
    """The result of reading and checking a report's raw inputs."""
    report: str
    schema: schemas.Schema
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)   # stem -> parsed (+__source, __row)
    sources: dict[str, list[Source]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list = field(default_factory=list)                     # findings.Finding (text checks)
    notes: list[str] = field(default_factory=list)
    sources_by_label: dict[str, Source] = field(default_factory=dict)

    def error_text(self) -> str:
        by_source: dict[str, list[Problem]] = {}
        for p in self.problems:
            by_source.setdefault(p.source.split(", sheet")[0], []).append(p)
        lines = []
        for probs in by_source.values():
            probs = sorted(probs, key=lambda p: (p.row or 0, len(p.letter or ""), p.letter or ""))
            for p in probs[:MAX_PER_FILE]:
                lines.append(str(p))
            if len(probs) > MAX_PER_FILE:
                lines.append(f"{probs[0].source}: … and {len(probs) - MAX_PER_FILE} more problem(s) in this file")
        n = len(self.problems)
        lines.append(f"{n} problem(s) in the raw data of '{self.report}'; nothing was written. "
                     "Fix them in the file(s) named above and run the command again.")
        return "\n".join(lines)


# --- reading -------------------------------------------------------------------

def decode_csv(data: bytes, rel: str) -> tuple[str, str]:
    """Bytes of a CSV -> (text, note). Refuses what would be read as mojibake."""
    resave = ("Open it in Excel and use File > Save As > 'CSV UTF-8 (Comma delimited) (*.csv)' "
              "(or save the sheet as .xlsx), then run the command again.")
    try:
        return data.decode("utf-8-sig"), ""
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    try:
        text = data.decode("cp1251")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        non_ascii = [ch for ch in text if ord(ch) > 127]
        cyr = sum(1 for ch in non_ascii if CYR.match(ch))
        other = len(non_ascii) - cyr - sum(1 for ch in non_ascii if ch in "№«»–—…‘’“”\u00a0")
        mixed = sum(1 for w in WORD.findall(text) if CYR.search(w) and LAT.search(w))
        lost = re.search(r"[\u0400-\u04FF]\?|\?[\u0400-\u04FF]", text)
        if lost:
            line = text[: lost.start()].count("\n") + 1
            raise DataError(
                f"{rel}: row {line}: saved as 'CSV (Windows)' (code page 1251), which has no letters "
                f"ә ғ қ ң ө ұ ү һ: Excel replaced them with '?' (found {text.splitlines()[line - 1][:60]!r}). "
                "The letters are lost in this file; go back to the original workbook and " + resave[8:])
        # Windows Cyrillic text: its non-ASCII characters are Cyrillic letters (and a few
        # typographic signs), forming whole words; anything else would be mojibake
        if cyr and other == 0 and mixed <= max(1, cyr // 50):
            return text, "read as Windows-1251 (CSV (Windows)); re-saving as 'CSV UTF-8' is recommended"
    line = data[:first_bad].count(b"\n") + 1
    raise DataError(f"{rel}: row {line}: not UTF-8 text (byte 0x{data[first_bad]:02x}) and not readable "
                    f"as Windows Cyrillic either. {resave}")


def _clean(v) -> str:
    return unicodedata.normalize("NFC", str(v)).strip()


def read_csv_source(path: Path, table: str) -> Source:
    rel = _rel(path)
    text, note = decode_csv(path.read_bytes(), rel)
    if not text.strip():
        raise DataError(f"{rel}, row 1: the file is empty (expected a header row and data rows)")
    first = text.lstrip("\ufeff").splitlines()[0]
    sep = ";" if first.count(";") > first.count(",") else ","
    try:
        df = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False, na_filter=False, sep=sep,
                         skip_blank_lines=True)
    except pd.errors.ParserError as exc:
        m = re.search(r"line (\d+)", str(exc))
        where = f", row {m.group(1)}" if m else ""
        raise DataError(f"{rel}{where}: cannot be read as CSV ({exc}); check the separators and "
                        "quotes of that row") from None
    header = [_clean(c) for c in df.columns]
    df.columns = header
    df = df.map(_clean) if len(df) else df
    return Source(table, path, None, header, df.reset_index(drop=True), note)


@lru_cache(maxsize=32)
def _workbook_sheets(path: Path, mtime: float) -> dict[str, tuple[list[str], list[list[str]]]]:
    from openpyxl import load_workbook

    from esep.data import xlsx

    fast = xlsx.read_values(path)   # a plain workbook, read directly (None: openpyxl reads it)
    if fast is not None:
        return {title: _sheet_text([[_value_text(v, f) for v, f in r] for r in rows])
                for title, rows in fast.items()}
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is a user problem
        raise DataError(f"{_rel(path)}: cannot be opened as an Excel workbook (.xlsx): {exc}") from None
    formulas = _uncached_formulas(path)
    if formulas:
        wb.close()
        shown = "; ".join(f'sheet "{s}", row {r}, column {c} ({f[:40]})' for s, r, c, f in formulas[:10])
        more = f" (+{len(formulas) - 10} more)" if len(formulas) > 10 else ""
        raise DataError(f"{_rel(path)}: {len(formulas)} formula cell(s) without a saved value: {shown}{more}. "
                        f"The file was written by a program that does not compute formulas; open and "
                        f"save the workbook in Excel (or LibreOffice Calc) so the values are stored, "
                        f"then run again — esep never reads a formula as an empty cell")
    out = {}
    for ws in wb.worksheets:
        out[ws.title] = _sheet_text([[_cell_text(c) for c in r] for r in ws.iter_rows()])
    wb.close()
    return out


def _sheet_text(rows: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    """(header, data rows) of a sheet's cell texts: trailing empty rows dropped, every row
    as wide as the widest filled cell."""
    while rows and not any(rows[-1]):
        rows.pop()
    width = max((max((i + 1 for i, v in enumerate(r) if v), default=0) for r in rows), default=0)
    rows = [(r + [""] * width)[:width] for r in rows]
    return (rows[0] if rows else [], rows[1:])


def _uncached_formulas(path: Path) -> list[tuple[str, int, str, str]]:
    """(sheet, row, column letter, formula) of every formula cell whose computed value was
    never saved (openpyxl would read it as empty)."""
    from openpyxl import load_workbook

    if not _has_formula_cells(path):
        return []     # the usual case: no formula at all, no need to load the workbook twice more
    try:
        fwb = load_workbook(path, read_only=True, data_only=False)
        vwb = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - the caller reports an unreadable workbook
        return []
    out = []
    try:
        for fws in fwb.worksheets:
            vws = vwb[fws.title]
            for frow, vrow in zip(fws.iter_rows(), vws.iter_rows()):
                for fc, vc in zip(frow, vrow):
                    f = fc.value
                    if isinstance(f, str) and f.startswith("=") and vc.value is None:
                        out.append((fws.title, fc.row, fc.column_letter, f))
    finally:
        fwb.close()
        vwb.close()
    return out


def _has_formula_cells(path: Path) -> bool:
    """Does any worksheet of the workbook hold a formula (an ``<f>`` element)? A scan of
    the sheets' XML inside the zip, much cheaper than loading the workbook; True when
    unsure (not a zip, unreadable), so the full check still runs then."""
    import re
    import zipfile

    pattern = re.compile(rb"<(?:\w+:)?f[\s>/]")
    try:
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if name.startswith("xl/worksheets/") and name.endswith(".xml") and pattern.search(z.read(name)):
                    return True
    except Exception:  # noqa: BLE001 - let the full check decide
        return True
    return False


def _cell_text(cell) -> str:
    v = cell.value
    number = isinstance(v, (int, float)) and not isinstance(v, bool)
    return _value_text(v, getattr(cell, "number_format", "") if number else "")


def _value_text(v, number_format) -> str:
    """A cell's value as text (``number_format``: the cell's, for a percent)."""
    import datetime as dt

    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dt.datetime, dt.date)):
        return v.date().isoformat() if isinstance(v, dt.datetime) else v.isoformat()
    if isinstance(v, (int, float)):
        if "%" in str(number_format or ""):
            v = round(v * 100, 10)
        if float(v).is_integer():
            return str(int(v))
        return format(v, ".15g")
    return _clean(v)


def workbook_sheets(path: Path) -> dict[str, tuple[list[str], list[list[str]]]]:
    from esep.core.fsutil import PathError, confined, os_error_message

    try:
        confined(path, "workbook")
        return _workbook_sheets(path, path.stat().st_mtime)
    except PathError as exc:
        raise DataError(f"{_rel(path)}: refused: {exc}") from None
    except OSError as exc:
        raise DataError(f"{_rel(path)}: {os_error_message(exc).partition(': ')[2]}") from None


def read_sheet_source(path: Path, sheet: str, table: str) -> Source:
    header, rows = workbook_sheets(path)[sheet]
    label = f'{_rel(path)}, sheet "{sheet}"'
    if not header or not any(header):
        raise DataError(f"{label}, row 1: the sheet is empty (expected a header row and data rows)")
    header = [_clean(h) for h in header]
    df = pd.DataFrame(rows, columns=header, dtype=object) if rows else pd.DataFrame(columns=header)
    # drop fully empty rows in the middle? keep them: an empty row is reported (row numbers stay true)
    return Source(table, path, sheet, header, df.astype(str).reset_index(drop=True))


def is_note_sheet(name: str) -> bool:
    return name.startswith("_") or name.strip().lower() in NOTE_SHEETS


def locate(folder: Path, report: str, stem: str, incoming: bool = False) -> list[tuple[Path, str | None]]:
    """Where the table ``stem`` is in ``folder`` (see the module doc); [] if nowhere."""
    found: list[tuple[Path, str | None]] = []
    csv, xlsx, book = folder / f"{stem}.csv", folder / f"{stem}.xlsx", folder / f"{report}.xlsx"
    if csv.is_file():
        found.append((csv, None))
    if xlsx.is_file():
        sheets = workbook_sheets(xlsx)
        data_sheets = [s for s in sheets if not is_note_sheet(s)]
        if stem in sheets:
            found.append((xlsx, stem))
        elif len(data_sheets) == 1:
            found.append((xlsx, data_sheets[0]))
        else:
            raise DataError(f"{_rel(xlsx)}: has sheets {data_sheets}; name the one with the data "
                            f'"{stem}" (or keep only one sheet)')
    if book.is_file() and book != xlsx and stem in workbook_sheets(book):
        found.append((book, stem))
    return found


def _not_found(folder: Path, report: str, stem: str) -> str:
    rel = _rel(folder / f"{stem}.csv")
    book = folder / f"{report}.xlsx"
    msg = f"{rel}: file not found (also looked for {stem}.xlsx and sheet \"{stem}\" in {report}.xlsx)"
    if book.is_file():
        sheets = [s for s in workbook_sheets(book) if not is_note_sheet(s)]
        close = difflib.get_close_matches(stem, sheets, n=1, cutoff=0.6)
        msg = (f'{_rel(book)}: no sheet "{stem}" (sheets: {", ".join(sheets) or "none"})'
               + (f'; rename the sheet "{close[0]}" to "{stem}"' if close else ""))
    return msg


def unknown_sheets(folder: Path, report: str, stems: list[str]) -> list[Problem]:
    book = folder / f"{report}.xlsx"
    if not book.is_file():
        return []
    out = []
    for s in workbook_sheets(book):
        if is_note_sheet(s) or s in stems:
            continue
        close = difflib.get_close_matches(s, stems, n=1, cutoff=0.6)
        hint = f'; did you mean "{close[0]}"? Rename the sheet.' if close else \
            f"; sheets must be named after the inputs: {', '.join(stems)}"
        out.append(Problem(f'{_rel(book)}, sheet "{s}"', f"this sheet matches no input of '{report}'{hint}"))
    return out


def read_source(path: Path, sheet: str | None, table: str) -> Source:
    """One table's source; a file that leaves the project (symlink) or cannot be read
    (permissions) is a DataError naming it."""
    from esep.core.fsutil import PathError, confined, os_error_message

    try:
        confined(path, "raw file")
        return read_csv_source(path, table) if sheet is None else read_sheet_source(path, sheet, table)
    except PathError as exc:
        raise DataError(f"{_rel(path)}: refused: {exc}") from None
    except OSError as exc:
        raise DataError(f"{_rel(path)}: {os_error_message(exc).partition(': ')[2]}") from None


# --- cell parsing ----------------------------------------------------------------



class CellError(ValueError):
    """A cell that cannot be read, with its own wording of what was expected."""


MAX_DIGITS = 15  # what a number in a table can hold exactly (a double has 15-17 digits)


def parse_cell(col: schemas.Column, text: str):
    """Parsed value (None for empty) or ValueError with what was expected."""
    if col.numeric:
        if sum(ch.isdigit() for ch in text) > MAX_DIGITS:
            raise CellError(f"a number of at most {MAX_DIGITS} digits ({col.expected()}); "
                            f"this one has {sum(ch.isdigit() for ch in text)} — a typing slip?")
        v, pct = parse_number(text)  # ValueError propagates
        if v is None:
            return None
        if pct and col.type not in ("percent", "number"):
            raise ValueError(text)
        if col.type in ("int", "count"):
            if not float(v).is_integer():
                raise ValueError(text)
            return int(v)
        return v
    if text in ("",):
        return None
    if col.type == "period":
        from esep.core.params import check_period

        if check_period(text):
            raise ValueError(text)
        return text
    if col.type == "bool":
        low = text.lower()
        if low in ("true", "false"):
            return low
        raise ValueError(text)
    return text


def mixed_script_words(text: str) -> list[tuple[str, list[str]]]:
    """Words that mix Cyrillic and Latin letters, with the odd-script letters."""
    out = []
    for w in WORD.findall(text):
        cyr = CYR.findall(w)
        lat = LAT.findall(w)
        if cyr and lat:
            odd = lat if len(lat) <= len(cyr) else cyr
            out.append((w, odd))
    return out


# --- checking ----------------------------------------------------------------------

def check_header(src: Source, table: schemas.Table | None) -> list[Problem]:
    out = []
    seen = {}
    for i, h in enumerate(src.header):
        if h == "" or h.startswith("Unnamed:"):
            out.append(Problem(src.label, "empty header cell (every column needs a name in row 1)",
                               1, None, col_letter(i)))
            out[-1].column = ""
        elif h in seen:
            out.append(Problem(src.label, f"the column name is repeated (also column {col_letter(seen[h])})",
                               1, h, col_letter(i)))
        seen.setdefault(h, i)
    if table is None or not table.columns:
        return out
    expected = list(table.columns)
    for i, h in enumerate(src.header):
        if h and h not in table.columns and not h.startswith("Unnamed:"):
            close = difflib.get_close_matches(h, [c for c in expected if c not in src.header], n=1, cutoff=0.6)
            hint = f'; did you mean "{close[0]}"? rename it' if close else \
                "; remove it or add it to the schema (data/raw/<report>/schema.yaml) and README"
            out.append(Problem(src.label, f"unexpected column{hint}", 1, h, col_letter(i)))
    missing = [c for c in expected if c not in src.header]
    for c in missing:
        out.append(Problem(src.label, f'missing column "{c}" (expected columns: {", ".join(expected)})', 1))
    return out


def parse_source(src: Source, table: schemas.Table | None) -> tuple[pd.DataFrame, list[Problem], list[dict]]:
    """Parsed frame (+ __source, __row), type problems, text warnings."""
    df = src.frame
    first: dict = {}
    for j, c in enumerate(df.columns):
        first.setdefault(c, j)
    cells = df.to_numpy(dtype=object) if len(df.columns) else None
    columns = {name: cells[:, first[name]].tolist() for name in src.header if name and name in first}
    values, problems, texts = parse_columns(src, columns, table)
    if cells is not None:   # an entirely empty row inside the data is a slip (Excel shows it as a gap)
        for i, r in zip(df.index, cells.tolist()):
            if all(v == "" for v in r):
                problems.append(Problem(src.label, "empty row inside the data (delete it)", int(i) + 2))
    return parsed_frame(values, src.label, len(df), df.index), problems, texts


def parsed_frame(values: dict[str, list], label: str, n: int, index=None) -> pd.DataFrame:
    """The frame of :func:`parse_source`: each parsed column (object), then ``__source``
    (``label``) and ``__row`` (the rows in Excel: 2, 3, ...)."""
    import numpy as np

    if values and hasattr(pd.DataFrame, "_from_arrays"):
        # the same frame built from its columns at once: a quarter of the time of a frame
        # and two inserted columns (it matters for the many small frames of school forms)
        arrays = []
        for vals in values.values():
            a = np.empty(n, dtype=object)
            a[:] = vals
            arrays.append(a)
        arrays.append(np.full(n, label, dtype=object) if _TEXT == object else pd.array([label] * n, dtype=_TEXT))
        arrays.append(np.arange(2, n + 2, dtype=np.int64))
        return pd.DataFrame._from_arrays(arrays, columns=[*values, "__source", "__row"],
                                         index=pd.RangeIndex(n) if index is None else index, verify_integrity=False)
    parsed = pd.DataFrame(values, index=index, dtype=object) if values else pd.DataFrame(index=index)
    parsed["__source"] = label
    parsed["__row"] = range(2, n + 2)
    return parsed


_TEXT = pd.Series(["x"]).dtype   # the dtype pandas gives a column of text: "str" (pandas 3) or object


def parse_columns(src: Source, columns: dict[str, list], table: schemas.Table | None
                  ) -> tuple[dict[str, list], list[Problem], list[dict]]:
    """:func:`parse_source` on plain lists: ``columns`` (the text cells of each column of
    ``src.header`` that has cells) -> (parsed values by column, type problems, text
    warnings), in the header's order (a repeated header name is parsed again)."""
    problems: list[Problem] = []
    texts: list[dict] = []
    out: dict[str, list] = {}
    cols = table.columns if table else {}
    for name in src.header:
        if not name or name not in columns:
            continue
        col = cols.get(name)
        series = columns[name]
        if col is None:
            out[name] = [text if text != "" else None for text in series]
            continue
        values = []
        for i, text in enumerate(series):
            try:
                values.append(parse_cell(col, text))
            except ValueError as exc:
                values.append(None)
                what = str(exc) if isinstance(exc, CellError) else col.expected()
                problems.append(Problem(src.label, f"expected {what}", i + 2, name,
                                        src.letter(name), text))
                continue
            if col.type == "text" and text:
                for word, odd in mixed_script_words(text):
                    texts.append({"row": i + 2, "column": name, "value": text, "word": word, "odd": odd})
        out[name] = values
    return out, problems, texts


def check_period_kind(frame: pd.DataFrame, table: schemas.Table, sources: dict[str, Source],
                      columns: dict[str, list] | None = None) -> list[Problem]:
    """Rows whose period is of the wrong kind for the table (a semester typed in a yearly
    sheet): the report would silently find no rows for them. ``columns``: see
    :func:`check_values`."""
    if not table.period_kind or "period" not in set(frame.columns):
        return []
    if columns is not None and "period" in columns and all(
            v is None or (isinstance(v, float) and pd.isna(v)) or table.takes(str(v)) for v in columns["period"]):
        return []
    out = []
    for idx, v in frame["period"].items():
        if v is None or (isinstance(v, float) and pd.isna(v)) or table.takes(str(v)):
            continue
        label = frame.at[idx, "__source"]
        src = sources[label]
        out.append(Problem(label, f"this table has one set of rows per {table.period_words()}, "
                                  f"not per {schemas.KIND_WORDS[periods.kind(str(v))].split(' (')[0]}; "
                                  f"type the period as the table expects", int(frame.at[idx, "__row"]),
                           "period", src.letter("period"), str(v)))
    return out


def check_values(frame: pd.DataFrame, table: schemas.Table, sources: dict[str, Source],
                 columns: dict[str, list] | None = None) -> list[Problem]:
    """Required / allowed / range / pattern / unique key, through pandera; period kind.
    ``columns``: some object columns of ``frame`` as plain lists (what :func:`parse_columns`
    gave), to check a small valid frame without pandas."""
    return _check_values(frame, table, sources, columns) + check_period_kind(frame, table, sources, columns)


def _all_valid(frame: pd.DataFrame, table: schemas.Table, present: list[str],
               columns: dict[str, list] | None = None) -> bool:
    """True when the pandera schema of :func:`schemas.build_pandera` surely finds nothing
    (plain Python over a small frame: a school form's sheet); False when unsure, and the
    pandera check then words every problem exactly as before."""
    import re

    if len(frame) > 2000:
        return False
    for name in present:
        col = table.columns[name]
        if columns is not None and name in columns:
            raw = columns[name]
        else:
            s = frame[name]
            if s.dtype != object:
                return False
            raw = s.tolist()
        vals = [None if v is None or (isinstance(v, float) and v != v) else v for v in raw]
        if any(v is not None and not isinstance(v, (str, int, float)) for v in vals):
            return False
        if col.required and any(v is None for v in vals):
            return False
        given = [v for v in vals if v is not None]
        if col.allowed is not None and any(v not in col.allowed for v in given):
            return False
        if col.numeric and (col.lower is not None or col.max is not None):
            try:
                nums = [float(v) for v in given]
            except (TypeError, ValueError):
                return False
            if col.lower is not None and any(not x >= col.lower for x in nums):
                return False
            if col.max is not None and any(not x <= col.max for x in nums):
                return False
        pat = col.pattern or {"slug": schemas.SLUG_RE, "period": schemas.PERIOD_RE,
                              "date": schemas.DATE_RE}.get(col.type)
        if pat:
            rx = re.compile(pat)
            if any(not rx.match(str(v)) for v in given):
                return False
    key = [k for k in table.key if k in present]
    if key and len(key) == len(table.key):
        rows = list(zip(*(columns[k] if columns is not None and k in columns else frame[k].tolist() for k in key)))
        if any(any(v is None or (isinstance(v, float) and v != v) for v in r) for r in rows):
            return False
        if len(set(rows)) != len(rows):
            return False
    return True


def _check_values(frame: pd.DataFrame, table: schemas.Table, sources: dict[str, Source],
                  columns: dict[str, list] | None = None) -> list[Problem]:
    names = set(frame.columns)    # (a set: cheaper than asking a new frame's column index)
    present = [c for c in table.columns if c in names]
    if _all_valid(frame, table, present, columns):
        return []
    import pandera.pandas as pa

    schema = schemas.build_pandera(table, present)
    try:
        schema.validate(frame[present], lazy=True)
        return []
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
    except pa.errors.SchemaError as exc:  # pragma: no cover - lazy mode raises SchemaErrors
        return [Problem(frame["__source"].iloc[0], str(exc))]
    problems = []
    key_rows_done = False
    for _, f in fc.iterrows():
        check = str(f["check"])
        idx = f["index"]
        if idx is None or pd.isna(idx):
            continue
        idx = int(idx)
        label, row = frame.at[idx, "__source"], int(frame.at[idx, "__row"])
        src = sources[label]
        if check == "multiple_fields_uniqueness":
            if key_rows_done:
                continue
            key_rows_done = True
            problems.extend(_key_problems(frame, table, sources))
            continue
        colname = str(f["column"])
        col = table.columns[colname]
        value = frame.at[idx, colname]
        shown = _shown(value)
        if check == "not_nullable":
            msg = "an empty cell; this column must be filled in" + (f" ({col.expected()})" if col.type != "text" else "")
            problems.append(Problem(label, msg, row, colname, src.letter(colname)))
        elif check == "allowed":
            problems.append(Problem(label, _allowed_msg(str(value), col.allowed), row, colname,
                                    src.letter(colname), shown))
        elif check == "min":
            lo = col.lower
            problems.append(Problem(label, f"expected {col.expected()}, not less than {_num(lo)}", row,
                                    colname, src.letter(colname), shown))
        elif check == "max":
            problems.append(Problem(label, f"expected at most {_num(col.max)}", row, colname,
                                    src.letter(colname), shown))
        elif check == "pattern":
            problems.append(Problem(label, f"expected {col.expected()}" if col.type != "text"
                                    else f"expected text matching {col.pattern}", row, colname,
                                    src.letter(colname), shown))
    return problems


def _key_problems(frame: pd.DataFrame, table: schemas.Table, sources) -> list[Problem]:
    key = list(table.key)
    out = []
    first: dict[tuple, tuple[str, int]] = {}
    for idx, r in frame.iterrows():
        k = tuple(r[c] for c in key)
        if any(v is None for v in k) and len(key) == 1:
            continue
        if k in first:
            lbl, row = first[k]
            where = f"row {row}" if lbl == r["__source"] else f"{lbl}, row {row}"
            shown = ", ".join(f"{c}={_shown(v)!s}" for c, v in zip(key, k))
            src = sources[r["__source"]]
            out.append(Problem(r["__source"], f"duplicate key ({shown}): the same as {where}; "
                               f"each ({', '.join(key)}) may appear once", int(r["__row"]), key[-1],
                               src.letter(key[-1])))
        else:
            first[k] = (r["__source"], int(r["__row"]))
    return out


def _allowed_msg(value: str, allowed) -> str:
    allowed = list(allowed or [])
    msg = "expected one of: " + ", ".join(allowed[:25]) + (" …" if len(allowed) > 25 else "")
    mixed = mixed_script_words(value)
    if mixed:
        w, odd = mixed[0]
        msg += f" (the word {w!r} mixes Latin and Cyrillic letters: {', '.join(odd)})"
    else:
        close = difflib.get_close_matches(value, allowed, n=1, cutoff=0.7)
        if close:
            msg += f"; did you mean {close[0]!r}?"
    return msg


def check_refs(loaded: Loaded) -> list[Problem]:
    out = []
    for tname, table in loaded.schema.tables.items():
        frame = loaded.frames.get(tname)
        if frame is None:
            continue
        for col in table.columns.values():
            if not col.ref or col.name not in frame.columns:
                continue
            rt, _, rc = col.ref.partition(".")
            target = loaded.frames.get(rt)
            if target is None or rc not in target.columns:
                continue
            known = {v for v in target[rc] if v is not None}
            known_list = sorted(map(str, known))
            for idx, v in frame[col.name].items():
                if v is None or str(v) in col.ref_skip or v in known:
                    continue
                label = frame.at[idx, "__source"]
                src = loaded.sources_by_label[label]
                tsrc = loaded.sources[rt][0].label if loaded.sources.get(rt) else rt
                msg = f'expected a value of column "{rc}" in {tsrc}'
                close = difflib.get_close_matches(str(v), known_list, n=1, cutoff=0.7)
                msg += f"; did you mean {close[0]!r}?" if close else \
                    f" ({', '.join(known_list[:12])}{' …' if len(known_list) > 12 else ''})"
                out.append(Problem(label, msg, int(frame.at[idx, "__row"]), col.name,
                                   src.letter(col.name), _shown(v)))
    return out


def load_report(spec, incoming: str | None = None, only_incoming: bool = False) -> Loaded:
    """Read, parse and check every raw input of ``spec`` (never raises for data problems:
    they are collected in ``Loaded.problems``). ``incoming``: also read
    ``incoming/<period>/`` (``only_incoming``: nothing else, for the template check)."""
    from esep.data.finding import text_findings

    schema = schemas.load(spec.name)
    loaded = Loaded(spec.name, schema)
    folders_seen = set()
    for rel in spec.inputs:
        relp = Path(rel)
        stem, folder = relp.stem, config.RAW_DIR / relp.parent
        report_dir_name = relp.parent.name or spec.name
        table = schema.tables.get(stem)
        places: list[tuple[Path, str | None, bool]] = []
        try:
            if not only_incoming:
                found = locate(folder, report_dir_name, stem)
                if not found:
                    raise DataError(_not_found(folder, report_dir_name, stem))
                if len(found) > 1:
                    names = " and ".join(f'{_rel(p)}{f" (sheet {s})" if s else ""}' for p, s in found)
                    raise DataError(f"{_rel(folder / rel_name(stem))}: the table '{stem}' is given twice: "
                                    f"{names}; keep one")
                places.append((*found[0], False))
            if incoming:
                inc = folder / "incoming" / incoming
                if inc.is_dir():
                    for p, s in locate(inc, report_dir_name, stem, incoming=True):
                        places.append((p, s, True))
        except DataError as exc:
            loaded.problems.append(Problem(str(exc).split(": ")[0], str(exc).partition(": ")[2]))
            continue
        if folder not in folders_seen:
            folders_seen.add(folder)
            stems = [Path(r).stem for r in spec.inputs if Path(r).parent == relp.parent]
            if not only_incoming:
                loaded.problems.extend(unknown_sheets(folder, report_dir_name, stems))
        parts = []
        for path, sheet, is_incoming in places:
            try:
                src = read_source(path, sheet, stem)
            except DataError as exc:
                text = str(exc)
                loaded.problems.append(Problem(text.split(": ")[0], text.partition(": ")[2]))
                continue
            if len(src.frame) == 0:
                if is_incoming:
                    continue  # a template not filled in yet
                loaded.problems.append(Problem(src.label, "header only, no data rows (expected at least one row "
                                               "of data under the header)", 2))
                continue
            if src.note:
                loaded.notes.append(f"{src.label}: {src.note}")
            loaded.sources.setdefault(stem, []).append(src)
            loaded.sources_by_label[src.label] = src
            hp = check_header(src, table)
            loaded.problems.extend(hp)
            parsed, tp, texts = parse_source(src, table)
            loaded.problems.extend(tp)
            loaded.warnings.extend(text_findings(spec.name, stem, src.label, parsed, texts, table))
            parts.append(parsed)
        if not parts:
            continue
        frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        loaded.frames[stem] = frame
        if table is not None and not any(p.row == 1 and p.source in {s.label for s in loaded.sources[stem]}
                                         and p.message.startswith("missing") for p in loaded.problems):
            srcs = {s.label: s for s in loaded.sources[stem]}
            loaded.problems.extend(check_values(frame, table, srcs))
    loaded.problems.extend(check_refs(loaded))
    seen, unique = set(), []
    for p in loaded.problems:  # a cell that failed to parse is not also "empty"
        k = (p.source, p.row, p.column)
        if p.row is not None and p.column is not None and k in seen:
            continue
        seen.add(k)
        unique.append(p)
    loaded.problems = unique
    return loaded


def rel_name(stem: str) -> str:
    return f"{stem}.csv"


def coerce(df: pd.DataFrame, rel: str, text_columns=None) -> pd.DataFrame:
    """Turn numeric-looking columns into numbers; keep text columns (``text_columns``: a
    compiled regex from the report spec) as text."""
    out = df.copy()
    for col in out.columns:
        if text_columns is not None and text_columns.search(col):
            out[col] = out[col].replace("", pd.NA).astype("string")
            continue
        vals = out[col]
        nonempty = vals[~vals.isin(NONE_VALUES)]
        if len(nonempty) == 0:
            out[col] = pd.array([pd.NA] * len(vals), dtype="Float64")
            continue
        parsed = []
        ok = True
        for v in vals:
            try:
                parsed.append(parse_number(v)[0])
            except ValueError:
                ok = False
                break
        if ok:
            ser = pd.Series(parsed, index=out.index, dtype="Float64")
            if all(x is None or float(x).is_integer() for x in parsed):
                ser = ser.astype("Int64")
            out[col] = ser
        else:
            out[col] = vals.replace("", pd.NA).astype("string")
    return out


_NO_FILL = object()


def stack(frames: list[pd.DataFrame], fill=_NO_FILL) -> pd.DataFrame:
    """``pd.concat(frames, ignore_index=True)`` (``fill``: then ``.reindex(columns=union,
    fill_value=fill)`` of each frame first). Many small frames (one per school form) are
    stacked column by column: the same frame, far faster than pandas' general concat,
    whose cost per frame grows with the frames' column sets."""
    if len(frames) == 1 and fill is _NO_FILL:
        return frames[0]
    cols = list(dict.fromkeys(c for f in frames for c in f.columns))
    unique = all(f.columns.is_unique for f in frames)
    if len(frames) <= 8 or not unique:
        if fill is not _NO_FILL:
            frames = [f.reindex(columns=cols, fill_value=fill) for f in frames]
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    import numpy as np

    data = {}
    for c in cols:
        parts, dts = [], set()
        for f in frames:
            if c in f.columns:
                a = f[c].to_numpy()
                dts.add(a.dtype)
            else:
                a = np.full(len(f), np.nan if fill is _NO_FILL else fill, dtype=object)
                dts.add(None)
            parts.append(a)
        if len(dts) == 1 and None not in dts and (next(iter(dts)) == object or next(iter(dts)).kind in "iufb"):
            data[c] = np.concatenate(parts)
        elif all(d is None or d == object for d in dts):
            data[c] = np.concatenate([p.astype(object, copy=False) for p in parts])
        else:
            return pd.concat([f.reindex(columns=cols, fill_value=fill) if fill is not _NO_FILL else f
                              for f in frames], ignore_index=True)
    return pd.DataFrame(data, columns=cols)


def typed_tables(spec, loaded: Loaded, texts: dict[str, pd.DataFrame] | None = None) -> dict[str, pd.DataFrame]:
    """Frames for data/processed (same dtypes as :func:`coerce` on plain CSV text).
    ``texts``: a table's text rows already stacked (stem -> frame), e.g. the school forms'."""
    out = {}
    for rel in spec.inputs:
        stem = Path(rel).stem
        srcs = loaded.sources.get(stem, [])
        if not srcs:
            continue
        table = loaded.schema.tables.get(stem)
        text = texts[stem] if texts and stem in texts else stack([s.frame for s in srcs])
        text = text.copy()
        if table is not None:
            for name, col in table.columns.items():
                if name in text.columns and col.numeric:
                    text[name] = [_plain(v) for v in loaded.frames[stem][name]]
        typed = coerce(text, rel, spec.text_columns)
        if table is not None:
            for name, col in table.columns.items():
                if name in typed.columns and not col.numeric:
                    typed[name] = text[name].replace("", pd.NA).astype("string")
        out[rel] = typed
    return out


def load_tables(spec) -> dict[str, pd.DataFrame]:
    """For prepare: typed frames of every input, or DataError listing every problem."""
    loaded = load_report(spec)
    if loaded.problems:
        raise DataError(loaded.error_text())
    return typed_tables(spec, loaded)


def input_files(spec, forms: bool = True) -> list[Path]:
    """The files that actually hold the report's raw data (CSV or workbook), for hashing;
    ``forms=False``: without the returned school forms (one school's unit adds its own)."""
    out: list[Path] = []
    for rel in spec.inputs:
        relp = Path(rel)
        folder = config.RAW_DIR / relp.parent
        try:
            found = locate(folder, relp.parent.name or spec.name, relp.stem)
        except DataError:
            found = []
        for p, _ in found or [(config.RAW_DIR / rel, None)]:
            if p not in out:
                out.append(p)
    sp = schemas.schema_path(spec.name)
    if sp.is_file():
        out.append(sp)
    decisions = config.RAW_DIR / spec.name / "decisions.yaml"   # the analyst's corrections (esep.kit.corrections)
    if decisions.is_file():
        out.append(decisions)
    from esep.core.reports import FORMS_DIR  # returned school forms (esep.data.forms) are raw inputs too

    folder = config.RAW_DIR / spec.name / FORMS_DIR
    if forms and folder.is_dir():
        out.extend(p for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith((".", "~$")))
    return out


def _plain(v) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _shown(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _num(v) -> str:
    return _shown(float(v)) if v is not None else ""


from esep.core.fsutil import rel as _rel  # noqa: E402
