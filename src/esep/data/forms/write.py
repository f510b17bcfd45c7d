"""Writing the forms: one pre-filled workbook per member (Нұсқаулық, Паспорт with locked
identity cells, one sheet per table with drop-downs), into ``output/forms/<period>/``."""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from esep.core import config
from esep.core.errors import EsepError
from esep.data import schemas
from esep.data.forms.layout import (NOTE_SHEET, PASSPORT, PASSPORT_FIELDS, REPORT, ROWS, SHEETS, members,
                                    school_schema)


def generate(period: str, out_dir: Path | None = None, project: str | None = None,
             only: list[str] | None = None) -> list[Path]:
    """Write one form per member of ``period`` (of ``project``; or the ``only`` member ids)
    to ``output/forms/<period>/`` (never into data/raw); returns the paths."""
    roster = members(period)
    if project:
        if project not in set(roster["project_key"]):
            raise EsepError(f"--project: unknown project {project!r} (projects of the member list: "
                            f"{', '.join(dict.fromkeys(roster['project_key']))})")
        roster = roster[roster["project_key"] == project]
    if only is not None:
        roster = roster[roster["member_id"].isin(set(only))]
    schema = school_schema()
    out_dir = Path(out_dir) if out_dir else config.OUTPUT_DIR / "forms" / period
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for m in roster.to_dict("records"):
        path = out_dir / f"{m['member_id']}.xlsx"
        write_form(path, m, period, schema)
        paths.append(path)
    return paths


def ensure_params(period: str, report: str = REPORT) -> Path | None:
    """``params/<report>/<period>.yaml`` asking for every returned form's report and the
    period's summary (``member: ["all", "*"]``), unless it exists; the path written or None."""
    path = config.PARAMS_DIR / report / f"{period}.yaml"
    if path.exists():
        return None
    from esep.core.fsutil import atomic_write

    atomic_write(path, f"# One report per school form returned for {period} (data/raw/{report}/forms/{period}/)\n"
                       f"# plus the summary of the period (written by `esep forms`).\n"
                       f'period: "{period}"\nmember: ["all", "*"]\n')
    return path


def write_form(path: Path, member: dict, period: str, schema: schemas.Schema) -> None:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    head = PatternFill("solid", fgColor="DDE7F0")
    locked_fill = PatternFill("solid", fgColor="EEEEEE")
    wb = Workbook()
    note = wb.active
    note.title = NOTE_SHEET
    for i, line in enumerate(instructions(member, period), 1):
        note.cell(row=i, column=1, value=line).alignment = Alignment(wrap_text=True, vertical="top")
    note["A1"].font = Font(bold=True, size=13)
    note.column_dimensions["A"].width = 110
    lists = wb.create_sheet("_lists")
    lists.sheet_state = "hidden"
    list_cols: dict[tuple, str] = {}

    def dropdown(ws, values, ref):
        k = tuple(values)
        if k not in list_cols:
            j = len(list_cols) + 1
            for i, v in enumerate(values, 1):
                lists.cell(row=i, column=j, value=v)
            list_cols[k] = f"=_lists!${get_column_letter(j)}$1:${get_column_letter(j)}${len(values)}"
        dv = DataValidation(type="list", formula1=list_cols[k], allow_blank=True, showErrorMessage=True,
                            errorTitle="Тізімде жоқ мән", error="Тізімнен таңдаңыз: " + ", ".join(values)[:200])
        ws.add_data_validation(dv)
        dv.add(ref)

    pp = wb.create_sheet(PASSPORT)
    for j, h in enumerate(("Көрсеткіш", "Мәні", "Кілт (өзгертпеңіз)"), 1):
        c = pp.cell(row=1, column=j, value=h)
        c.font, c.fill = Font(bold=True), head
    values = {"member_id": member["member_id"], "period": period, "city": member["city"],
              "project_name": member["project_name"],
              "school_no": None if pd.isna(member["school_no"]) else int(member["school_no"]),
              "school_name": member["member_name"]}
    for i, (key, label, table, column, editable) in enumerate(PASSPORT_FIELDS, 2):
        pp.cell(row=i, column=1, value=label)
        cell = pp.cell(row=i, column=2, value=values.get(key))
        pp.cell(row=i, column=3, value=key).font = Font(color="888888", size=8)
        if editable:
            cell.protection = Protection(locked=False)
            col = schema.tables[table].columns[column] if table else None
            if col is not None and col.allowed:
                dropdown(pp, list(col.allowed), f"B{i}")
            if col is not None and col.description:
                cell.comment = Comment(col.description, "esep")
        else:
            cell.fill = locked_fill
    pp.column_dimensions["A"].width, pp.column_dimensions["B"].width = 44, 48
    pp.column_dimensions["C"].width = 22
    pp.protection.sheet = True          # the identity cells stay as sent (no password: not security)

    for sh in SHEETS:
        ws = wb.create_sheet(sh.title)
        table = schema.tables[sh.table]
        for j, (column, label) in enumerate(sh.fields, 1):
            c = ws.cell(row=1, column=j, value=label)
            c.font, c.fill = Font(bold=True), head
            col = table.columns[column]
            tip = [sh.hint, col.description, f"({column})"]
            c.comment = Comment(" ".join(t for t in tip if t), "esep")
            ws.column_dimensions[get_column_letter(j)].width = 60 if col.type == "text" and not col.allowed else 24
            if col.allowed:
                letter = get_column_letter(j)
                dropdown(ws, list(col.allowed), f"{letter}2:{letter}{ROWS + 1}")
        ws.freeze_panes = "A2"
    from esep.core.fsutil import temp_beside

    tmp = temp_beside(path)
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def instructions(member: dict, period: str) -> list[str]:
    lines = [
        f"Инновациялық жоба бойынша мектептің есеп формасы — {period} оқу жылы",
        "",
        f"Білім беру ұйымы: {member['member_name']} ({member['city']} қаласы). "
        f"Жоба: {member['project_name']}. Форманың коды: {member['member_id']}.",
        "Бұл форма қалалық талдауға (5-7-кестелер) және мектептің жеке есебіне дерек береді: "
        "сандарды есептен қолмен қайта теруге болмайды, сондықтан әр ұяшықты мұқият толтырыңыз.",
        "",
        "Қалай толтыру керек:",
        "1. «Паспорт» парағында сұр ұяшықтар толтырылған (өзгертпеңіз); ақ ұяшықтарға ұйымның ресми "
        "атауын, түрін, педагогтердің еңбек өтілін және іс-шаралардың мерзімін жазыңыз.",
        "2. Қалған әр парақ — бір кесте: 1-жол — баған атаулары (өзгертпеңіз), деректерді 2-жолдан бастап, "
        "бос жол қалдырмай енгізіңіз. Парақтардың атын өзгертпеңіз, жаңа парақ қоспаңыз.",
        "3. Ашылмалы тізімі бар ұяшықтарға тек тізімдегі мәндер жазылады (Түрі, Деңгейі, Бөлім, Оқыту тілі…).",
        "4. Сандар: 550 не 550,0; пайыз: 84 не 84%; «жоқ» — бос ұяшық не «-».",
        "5. Деректері жоқ парақты бос қалдырыңыз.",
        "",
        "Парақтар:",
    ]
    lines += [f"• {s.title} — {s.hint}" for s in SHEETS]
    lines += [
        "",
        f"Толтырылған файлды атын өзгертпей ({member['member_id']}.xlsx) әдіскерге қайтарыңыз.",
        "Әдіскер файлды тексереді: қате болса, хабарлама парақты, ұяшықты (мысалы, «Іс-шаралар», C3) және "
        "күтілген мәнді атайды — сол ұяшықты түзетіп, файлды қайта жіберіңіз.",
    ]
    return lines
