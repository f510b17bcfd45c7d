"""A new period for a report: params, empty input templates, and merging them in.

``esep new-period REPORT --from P --to Q``
    * ``params/<report>/<Q>.yaml``: a copy of ``<P>.yaml`` with ``period: "<Q>"``
      (comments kept; an existing file is never overwritten);
    * ``data/raw/<report>/incoming/<Q>/``: one empty CSV per table (UTF-8 with BOM, so
      Excel shows Kazakh letters) and one workbook ``<report>.xlsx`` with a sheet per
      table (headers, drop-downs for allowed values and references) and an
      instructions sheet ``Нұсқаулық`` (what each column holds, the period to write).
      Reference lists (``template: false`` in the schema, e.g. the districts) get no
      template: new members are added to the main file by hand.

The analyst fills in EITHER the workbook OR the CSV files (a table given in both is an
error). ``esep validate REPORT --period Q`` checks the incoming rows together with the
existing data (header-only templates are skipped). ``esep merge REPORT --period Q``
checks again and appends the rows to ``data/raw/<report>/<table>.csv`` (numbers written
plainly, existing lines untouched, all files written atomically), then renames the
folder to ``incoming/<Q>.merged``. A second merge of the same rows fails on the
duplicate keys, so nothing is appended twice.
"""
from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from esep.core import config
from esep.core import params
from esep.data import schemas
from esep.data import validate
from esep.core.errors import DataError, EsepError

NOTE_SHEET = "Нұсқаулық"
TYPE_KK = {
    "text": "мәтін", "slug": "латынша кішкентай әріптермен кілт (a-z, 0-9, -)", "int": "бүтін сан",
    "count": "бүтін сан, 0 не одан көп", "number": "сан (80,5 не 80.5)",
    "percent": "пайыз (80,5 не 80,5%)", "period": "кезең (2023-2024-S2, 2023-2024 не 2024)",
    "date": "күні (ЖЖЖЖ-АА-КК)", "bool": "true / false",
}


@dataclass
class NewPeriod:
    params_file: Path
    folder: Path
    csvs: list[Path] = field(default_factory=list)
    workbook: Path | None = None

    def next_steps(self, report: str, period: str) -> str:
        wb = _rel(self.workbook) if self.workbook else ""
        return "\n".join([
            f"Created {_rel(self.params_file)} and input templates in {_rel(self.folder)}/.",
            "Next steps:",
            f"  1. Fill in {wb} (one sheet per table; read the sheet '{NOTE_SHEET}')",
            f"     or the CSV files next to it (not both). Periods in the rows: {period}.",
            f"  2. esep validate {report} --period {period}      # fix every error it lists",
            f"  3. esep merge {report} --period {period}         # appends the rows to data/raw/{report}/",
            f"  4. esep run {report} --period {period}           # read the 'Деректер сапасы' appendix",
        ])


def new_period(spec, src: str, dst: str) -> NewPeriod:
    for opt, p in (("--from", src), ("--to", dst)):
        msg = params.check_period(p)
        if msg:
            raise EsepError(f"{opt}: {msg}")
    src_file = spec.params_dir / f"{src}.yaml"
    dst_file = spec.params_dir / f"{dst}.yaml"
    if not src_file.is_file():
        have = ", ".join(spec.periods()) or "none"
        raise EsepError(f"{_rel(src_file)}: no params file for --from {src} (periods with params: {have})")
    if dst_file.exists():
        raise EsepError(f"{_rel(dst_file)} already exists; nothing was changed")
    text = src_file.read_text(encoding="utf-8")
    new_text, n = re.subn(r"(?m)^period:\s*.*$", f'period: "{dst}"', text)
    if n != 1:
        raise EsepError(f"{_rel(src_file)}: expected exactly one 'period:' line to copy")
    new_text = new_text.replace(src, dst)  # e.g. a comment naming the output folder
    import yaml

    errs = params.validate(spec, yaml.safe_load(new_text) or {}, expanded=False)
    if errs:
        raise EsepError(f"{_rel(src_file)}: the copy for {dst} would not be valid: "
                        + "; ".join(f"{k}: {m}" for k, m in errs))
    schema = schemas.load(spec.name)
    folder = config.RAW_DIR / spec.name / "incoming" / dst
    if folder.exists() and any(folder.iterdir()):
        raise EsepError(f"{_rel(folder)}/ already exists and is not empty; nothing was changed")
    tables = template_tables(spec, schema)
    loaded = validate.load_report(spec)
    folder.mkdir(parents=True, exist_ok=True)
    res = NewPeriod(dst_file, folder)
    for stem, cols in tables:
        path = folder / f"{stem}.csv"
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerow(cols)
        res.csvs.append(path)
    res.workbook = folder / f"{spec.name}.xlsx"
    write_workbook(res.workbook, spec, schema, tables, loaded, dst)
    _atomic_write(dst_file, new_text.encode("utf-8"))
    return res


def template_tables(spec, schema) -> list[tuple[str, list[str]]]:
    out = []
    for rel in spec.inputs:
        stem = Path(rel).stem
        table = schema.tables.get(stem)
        if table is not None and not table.template:
            continue
        if table is not None and table.columns:
            cols = list(table.columns)
        else:
            f = config.RAW_DIR / rel
            cols = validate.read_csv_source(f, stem).header if f.is_file() else []
        if cols:
            out.append((stem, cols))
    return out


def write_workbook(path: Path, spec, schema, tables, loaded, period: str) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    note = wb.active
    note.title = NOTE_SHEET
    lines = [
        f"{spec.title} — {period} кезеңіне арналған деректер",
        "",
        "Әр парақ — бір кесте (парақтың аты = файлдың аты, өзгертпеңіз). 1-жол — баған атаулары, "
        "оларды өзгертпеңіз; деректерді 2-жолдан бастап енгізіңіз, бос жол қалдырмаңыз.",
        f"period бағанына кезеңді жазыңыз: {period} (жылдық кестелерде — сол кестенің кезеңі).",
        "Сандар: 22645 не 22 645, 80,5 не 80.5; «жоқ» — бос ұяшық не -.",
        "Кестеде «Барлығы» жолы басылған болса, оны да енгізіңіз: row_type = total, "
        "қалған жолдар row_type = part. Басылған пайыздар declared_... бағандарына жазылады.",
        "Ашылмалы тізімі бар ұяшықтарға тек тізімдегі мәндер жазылады.",
        "Толтырған соң: esep validate " + spec.name + " --period " + period
        + ", содан кейін esep merge " + spec.name + " --period " + period + ".",
        "Толтырылмаған парақтар ескерілмейді. Бұл жұмыс кітабын НЕ осы қалтадағы CSV файлдарын "
        "толтырыңыз (екеуін бірдей емес).",
        "",
        "Әр парақтың period бағанына жазылатын кезең (жартыжылдық кестеде — жартыжылдық, "
        "жылдық кестеде — оқу жылы; басқа кезең қате деп саналады):",
    ]
    from esep.data import completeness

    kind_kk = {"semester": "жартыжылдық", "school_year": "оқу жылы", "year": "күнтізбелік жыл"}
    for stem, cols in tables:
        t = schema.tables.get(stem)
        if t is None or "period" not in cols:
            continue
        want = completeness.wanted_period(t, period)
        kinds = " не ".join(kind_kk[k] for k in t.period_kind) if t.period_kind else "кез келген"
        lines.append(f"  {stem}: {want or period}  ({kinds})")
    closed = [(stem, c, t.columns[c].allowed) for stem, cols in tables
              for t in [schema.tables.get(stem)] if t is not None
              for c in cols if c in t.columns and t.columns[c].allowed]
    if closed:
        lines += ["", "Тек тізімдегі мәндер жазылатын бағандар (басқа мән — қате; мысалы source "
                      "бағанында «5 кесте» емес, «5-кесте»):"]
        lines += [f"  {stem}.{c}: " + " | ".join(vals) for stem, c, vals in closed]
    refs = [(stem, c, t.columns[c].ref) for stem, cols in tables
            for t in [schema.tables.get(stem)] if t is not None
            for c in cols if c in t.columns and t.columns[c].ref]
    if refs:
        lines += ["", "Жаңа кілттер (мысалы жаңа жоба): алдымен оны өз парағына жазыңыз "
                      "(мысалы projects парағының project_key бағанына), содан кейін басқа парақтарда "
                      "қолданыңыз. Ашылмалы тізімде тек бұрынғы кілттер бар, бірақ жаңа кілтті қолмен "
                      "жазуға болады (Excel ескертеді, «Иә» басыңыз); esep validate оны тексереді:"]
        lines += [f"  {stem}.{c} → {ref}" for stem, c, ref in refs]
    lines += ["", "Кесте / баған / түрі / сипаттамасы"]
    for stem, cols in tables:
        t = schema.tables.get(stem)
        for c in cols:
            col = t.columns.get(c) if t else None
            kind = TYPE_KK.get(col.type, "") if col else ""
            desc = col.description if col else ""
            extra = []
            if col and col.required:
                extra.append("міндетті")
            if col and col.allowed:
                extra.append("мәндері: " + ", ".join(col.allowed))
            if col and col.ref:
                extra.append(f"{col.ref.replace('.', ' кестесінің ')} бағанындағы мән")
            lines.append(" / ".join([stem, c, kind, "; ".join(x for x in [desc, *extra] if x)]))
    for i, text in enumerate(lines, 1):
        cell = note.cell(row=i, column=1, value=text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    note["A1"].font = Font(bold=True, size=13)
    note.column_dimensions["A"].width = 120

    lists = wb.create_sheet("_lists")
    lists.sheet_state = "hidden"
    list_col = 0
    head_fill = PatternFill("solid", fgColor="DDE7F0")
    for stem, cols in tables:
        ws = wb.create_sheet(stem[:31])
        t = schema.tables.get(stem)
        for j, c in enumerate(cols, 1):
            cell = ws.cell(row=1, column=j, value=c)
            cell.font = Font(bold=True)
            cell.fill = head_fill
            ws.column_dimensions[get_column_letter(j)].width = max(12, min(40, len(c) + 4))
            col = t.columns.get(c) if t else None
            if col is None:
                continue
            values = list(col.allowed or [])
            open_list = False  # a reference list: new keys may be typed (declared on their own sheet)
            if not values and col.ref:
                open_list = True
                rt, _, rc = col.ref.partition(".")
                frame = loaded.frames.get(rt)
                if frame is not None and rc in frame.columns:
                    values = list(dict.fromkeys(str(v) for v in frame[rc] if v is not None))
                    values += [v for v in col.ref_skip if v not in values]
            if not values:
                continue
            list_col += 1
            letter = get_column_letter(list_col)
            lists.cell(row=1, column=list_col, value=f"{stem}.{c}")
            for k, v in enumerate(values, 2):
                lists.cell(row=k, column=list_col, value=v)
            if open_list:
                rt, _, rc = col.ref.partition(".")
                dv = DataValidation(type="list", formula1=f"=_lists!${letter}$2:${letter}${len(values) + 1}",
                                    allow_blank=True, showErrorMessage=True, errorStyle="warning",
                                    errorTitle="Жаңа кілт пе?",
                                    error=(f"Бұл мән бұрынғы тізімде жоқ. Жаңа болса, алдымен оны «{rt}» "
                                           f"парағының {rc} бағанына жазыңыз, содан кейін «Иә» басыңыз.")[:255])
            else:
                dv = DataValidation(type="list", formula1=f"=_lists!${letter}$2:${letter}${len(values) + 1}",
                                    allow_blank=True, showErrorMessage=True,
                                    errorTitle="Тізімде жоқ мән", error="Тізімнен таңдаңыз: " + ", ".join(values)[:200])
            ws.add_data_validation(dv)
            dv.add(f"{get_column_letter(j)}2:{get_column_letter(j)}1000")
        ws.freeze_panes = "A2"
    tmp = path.with_suffix(".tmp.xlsx")
    wb.save(tmp)
    os.replace(tmp, path)


from esep.core.params import filled_templates  # noqa: E402,F401  (what check_data reads; here for callers)


# --- merge ---------------------------------------------------------------------------

def merge(spec, period: str) -> dict[str, int]:
    """Append the filled-in rows of ``incoming/<period>/`` to the main CSVs."""
    folder = config.RAW_DIR / spec.name / "incoming" / period
    if not folder.is_dir():
        raise EsepError(f"{_rel(folder)}/: no incoming data for {period} "
                        f"(create it with: esep new-period {spec.name} --from <P> --to {period})")
    loaded = validate.load_report(spec, incoming=period)
    if loaded.problems:
        raise DataError(loaded.error_text())
    staged: dict[Path, bytes] = {}
    counts: dict[str, int] = {}
    for rel in spec.inputs:
        stem = Path(rel).stem
        srcs = loaded.sources.get(stem, [])
        new = [s for s in srcs if folder in s.path.parents]
        if not new:
            continue
        main = [s for s in srcs if folder not in s.path.parents]
        if not main or main[0].sheet is not None or main[0].note:
            where = main[0].label if main else rel
            raise EsepError(f"{where}: esep merge appends to a UTF-8 CSV only; copy the rows of "
                            f"{new[0].label} into it by hand (or re-save it as 'CSV UTF-8') and run again")
        target = main[0]
        frame = loaded.frames[stem]
        table = loaded.schema.tables.get(stem)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        n = 0
        for s in new:
            rows = frame[frame["__source"] == s.label]
            for _, r in rows.iterrows():
                out = []
                for c in target.header:
                    col = table.columns.get(c) if table else None
                    v = r.get(c) if c in rows.columns else None
                    out.append(validate._plain(v) if col is not None and col.numeric else
                               ("" if v is None else str(v)))
                w.writerow(out)
                n += 1
        data = target.path.read_bytes()
        if data and not data.endswith(b"\n"):
            data += b"\r\n" if b"\r\n" in data else b"\n"
        add = buf.getvalue()
        if b"\r\n" in data:
            add = add.replace("\n", "\r\n")
        staged[target.path] = data + add.encode("utf-8")
        counts[stem] = n
    if not staged:
        raise EsepError(f"{_rel(folder)}/: the templates are still empty; fill them in first")
    commit_files(staged)
    done = folder.with_name(f"{period}.merged")
    k = 2
    while done.exists():
        done = folder.with_name(f"{period}.merged-{k}")
        k += 1
    folder.rename(done)
    return counts


from esep.core.fsutil import atomic_write as _atomic_write, commit_files  # noqa: E402


from esep.core.fsutil import rel as _rel  # noqa: E402
