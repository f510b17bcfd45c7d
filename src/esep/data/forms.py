"""School forms: one pre-filled Excel workbook per member school and project, filled in by
the school, returned to the analyst, checked and rolled into the report's data.

Flow (README, "School forms each semester")::

    esep forms school_project --period 2024-2025
        -> output/forms/2024-2025/<member_id>.xlsx      one per school x project of the
                                                          city's member list (5-кесте)
    schools fill them in and send them back
    analyst copies them to data/raw/school_project/forms/2024-2025/
    esep build   -> one school_project report per valid form; a bad form fails only its
                    own school's report; `esep status` and output/index.html show who
                    sent a valid form, an invalid one (its first error) or nothing

Identity: a form's member is ``<school_id>-<project_key>`` (``astana-67-share``), printed
locked in its «Паспорт» sheet and at the start of its file name (``esep.core.reports
.form_member``: ``astana-67-share (1).xlsx`` is fine). The member list is
``city_innovation/project_members.csv`` for the period (or the latest list before it).

Reading and wording reuse :mod:`esep.data.validate` (cell parsing, allowed values,
required cells, unique keys): every problem names the file, the sheet, the cell and the
column as the school sees them, the value found and what was expected. A form is checked
on its own; one form's rows never reach the data unless the whole form is valid, and a
form that repeats a report already in the data (``members.csv`` or another form) is
refused rather than silently doubled.

Tables the form fills are exactly the raw tables of ``school_project`` (its
``schema.yaml``), plus ``pupils_by_language`` (pupils by language of instruction, for the
city roll-up), defined here. Keys the school would otherwise have to type (``kind_key``
from ``kind``, ``item`` from the row order, ``grade_from``/``grade_to``/``row_type`` from
``grade_band``) are derived.
"""
from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from esep.core import config, periods
from esep.core.errors import DataError, EsepError
from esep.core.reports import FORMS_DIR, form_member
from esep.data import schemas, validate

REPORT = "school_project"
MEMBERS_FROM = "city_innovation/project_members.csv"
PROJECTS_FROM = "city_innovation/projects.csv"
EVENTS_FROM = "city_innovation/events.csv"
NOTE_SHEET = "Нұсқаулық"
PASSPORT = "Паспорт"
STATUS_FILE = "_forms.json"          # data/processed/<report>/: what prepare used
ROWS = 60                            # rows prepared with drop-downs on each table sheet
FIX = ("Түзетіп, файлды сол қалтаға қайта сақтаңыз / fix the cell, save the form in the same "
       "folder and run the command again.")

# --- the form's layout -----------------------------------------------------------------------


@dataclass(frozen=True)
class Sheet:
    """A table sheet of the form: Kazakh header labels for some raw columns of ``table``."""
    title: str
    table: str
    fields: tuple[tuple[str, str], ...]          # (column, Kazakh header label)
    hint: str
    numbered: str | None = ""                     # item = row order ("" overall, a column: within it)


SHEETS = (
    Sheet("Мақсаттар", "goals", (("goal", "Жобаның мақсаты"),), "Жобаның мақсаттары, әр мақсат бір жолда."),
    Sheet("Педагогтер", "leaders", (("teacher_name", "Педагогтің аты-жөні"),),
          "ИЖ аясында жұмыс істейтін педагогтер (Тегі А.Ә.), әрқайсысы бір жолда."),
    Sheet("Сыныптар", "grade_bands", (("grade_band", "Сыныптар"), ("teachers", "Педагогтер саны"),
                                       ("pupils", "Білім алушылар саны")),
          "ИЖ аясындағы сыныптар: 1-4, 5-8, 9-11 …; қаласаңыз, соңғы жолға «Барлығы» деп жалпы санын жазыңыз.",
          None),
    Sheet("Оқыту тілі", "pupils_by_language", (("language", "Оқыту тілі"), ("pupils", "Білім алушылар саны")),
          "ИЖ-ға қатысатын білім алушылар, оқыту тілі бойынша.", None),
    Sheet("Санаттар", "qualification", (("category", "Біліктілік санаты"), ("teachers", "Педагогтер саны")),
          "ИЖ педагогтерінің біліктілік санаттары.", None),
    Sheet("Іс-шаралар", "events", (("kind", "Түрі"), ("level", "Деңгейі"), ("title", "Атауы")),
          "ИЖ аясында ұйымдастырылған әр іс-шара бір жолда."),
    Sheet("Білім сапасы", "knowledge_quality", (("classes", "Сыныптар"), ("quality_pct", "Білім сапасы, %")),
          "ИЖ қатысатын сыныптардың білім сапасы (мысалы: «ИЖ қатысатын сыныптар» – 84).", None),
    Sheet("Ғылыми қызмет", "outputs", (("kind", "Түрі"), ("level", "Деңгейі"), ("title", "Атауы")),
          "Ғылыми-әдістемелік қызмет: мақалалар, баяндамалар, ОӘК."),
    Sheet("Курстар", "courses", (("course", "Курстың атауы"), ("role", "Рөлі (мысалы, тренер)"),
                                  ("teachers", "Педагогтер саны")),
          "ИЖ қатысатын педагогтердің курстық дайындығы."),
    Sheet("SWOT", "swot", (("quadrant", "Бөлім"), ("text", "Мазмұны")),
          "Жоба бойынша SWOT-талдау: әр тармақ бір жолда, бөлімін тізімнен таңдаңыз.", "quadrant_key"),
    Sheet("Ұсыныстар", "recommendations", (("text", "Ұсыныс"),), "Жоба бойынша ұсыныстар."),
)

# (key, Kazakh label, table, column, the school fills it in)
PASSPORT_FIELDS = (
    ("member_id", "Форманың коды", "members", "member_id", False),
    ("period", "Оқу жылы", "members", "period", False),
    ("city", "Қала", "members", "city", False),
    ("project_name", "Инновациялық жоба", None, None, False),
    ("school_no", "Мектептің нөмірі", "schools", "school_no", False),
    ("school_name", "Білім беру ұйымының ресми атауы", "schools", "school_name", True),
    ("school_kind", "Ұйымның түрі", "schools", "school_kind", True),
    ("experience_years_from", "Педагогтердің еңбек өтілі: бастап (жыл)", "members", "experience_years_from", True),
    ("experience_years_to", "Педагогтердің еңбек өтілі: дейін (жыл)", "members", "experience_years_to", True),
    ("events_month_from", "Іс-шаралардың мерзімі: басталған айы", "members", "events_month_from", True),
    ("events_month_to", "Іс-шаралардың мерзімі: аяқталған айы", "members", "events_month_to", True),
)

# tables only the forms fill (not in school_project/schema.yaml): read by the city roll-up
FORM_TABLES = {
    "pupils_by_language": schemas.Table("pupils_by_language", {
        "member_id": schemas.Column("member_id", "slug", True, ref="members.member_id"),
        "period": schemas.Column("period", "period", True),
        "language": schemas.Column("language", "text", True, allowed=("қазақ", "орыс", "ағылшын")),
        "language_key": schemas.Column("language_key", "slug", True, allowed=("kaz", "rus", "eng")),
        "pupils": schemas.Column("pupils", "count", description="pupils taught in this language"),
        "source": schemas.Column("source", "text"),
    }, ("member_id", "period", "language_key")),
}
# a key column derived from its label column: the n-th allowed label gives the n-th key
DERIVED_KEYS = {"kind": "kind_key", "level": "level_key", "category": "category_slug",
                "quadrant": "quadrant_key", "language": "language_key"}
KIND_OF_PROJECT = {"international": "халықаралық", "republican": "республикалық", "city": "қалалық"}
CITY_SLUG = {"Астана": "astana", "Алматы": "almaty", "Шымкент": "shymkent"}
TRANSLIT = dict(zip("аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя",
                    ["a", "a", "b", "v", "g", "g", "d", "e", "yo", "zh", "z", "i", "i", "k", "q", "l", "m",
                     "n", "n", "o", "o", "p", "r", "s", "t", "u", "u", "u", "f", "kh", "h", "ts", "ch", "sh",
                     "shch", "", "y", "i", "", "e", "yu", "ya"]))


def slug(text: str) -> str:
    """ASCII slug of Kazakh/Russian text: ``политехникалық колледж`` -> ``politekhnikalyq-kolledzh``."""
    s = "".join(TRANSLIT.get(ch, ch) for ch in str(text).lower())
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-")


def school_identity(city: str, member_name: str) -> tuple[str, int | None]:
    """(school_id, school number) of a name in the city's member list: ``№67 мектеп`` ->
    ``astana-67``; ``№2 арнайы мектеп`` -> ``astana-2-arnaiy``; a college -> its slug."""
    c = CITY_SLUG.get(city) or slug(city)
    m = re.match(r"^№\s*(\d+)\s*(.*)$", member_name.strip())
    if m:
        rest = re.sub(r"\s*мектеп(і)?$", "", m.group(2)).strip()
        return (f"{c}-{m.group(1)}" + (f"-{slug(rest)}" if rest else "")), int(m.group(1))
    return f"{c}-{slug(member_name)}", None


# --- the member list --------------------------------------------------------------------------

def _read_text(rel: str) -> pd.DataFrame:
    path = config.RAW_DIR / rel
    if not path.is_file():
        raise EsepError(f"{validate._rel(path)}: file not found (the member lists of the projects, 5-кесте)")
    return validate.read_csv_source(path, Path(rel).stem).frame


def list_period(available: list[str], period: str) -> str | None:
    """The member list a form period uses: the latest list of the same school year, else
    the latest list that ends before the period (members carry over until a new list)."""
    def year(p):
        try:
            return periods.school_year(p)
        except ValueError:
            return None
    ok = [p for p in available if not periods.check(p)]
    same = [p for p in ok if year(p) == year(period)]
    earlier = [p for p in ok if (periods.end_month(p) or 0) <= (periods.end_month(period) or 0)]
    pool = same or earlier
    return max(pool, key=lambda p: (periods.end_month(p), p)) if pool else None


def members(period: str) -> pd.DataFrame:
    """Who should send a form for ``period``: one row per school x project (member_id,
    school_id, school_no, member_name, city, project_key, project_name, project_kind,
    list_period), from the city's member list (see :func:`list_period`)."""
    msg = periods.check(period)
    if msg:
        raise EsepError(f"--period: {msg}")
    rows = _read_text(MEMBERS_FROM)
    used = list_period(sorted(set(rows["period"])), period)
    if used is None:
        raise EsepError(f"{MEMBERS_FROM}: no member list for {period} or before it "
                        f"(lists: {', '.join(sorted(set(rows['period']))) or 'none'})")
    rows = rows[rows["period"] == used]
    projects = _read_text(PROJECTS_FROM)
    projects = projects[projects["period"] == used].set_index("project_key")
    names = {}   # short names as 6-кесте prints them («SHARE»), else 5-кесте's long ones
    if (config.RAW_DIR / EVENTS_FROM).is_file():
        ev = _read_text(EVENTS_FROM)
        ev = ev[(ev["period"] == used) & (ev["project_key"] != "")]
        names = dict(zip(ev["project_key"], ev["project_name"]))
    out = []
    for _, r in rows.iterrows():
        school_id, no = school_identity(r["city"], r["member_name"])
        key = r["project_key"]
        name = names.get(key) or (projects["project_name"].get(key, key) if len(projects) else key)
        out.append({"member_id": f"{school_id}-{key}", "school_id": school_id, "school_no": no,
                    "member_name": r["member_name"], "city": r["city"], "project_key": key,
                    "project_name": short_name(name),
                    "project_kind": projects["kind_key"].get(key, "") if len(projects) else "",
                    "list_period": used})
    return pd.DataFrame(out, columns=["member_id", "school_id", "school_no", "member_name", "city",
                                      "project_key", "project_name", "project_kind", "list_period"]
                        ).astype({"school_no": "Int64"})


def short_name(name: str) -> str:
    """The project's short name: the first «quoted» part (``2 сыныптарға арналған «Салауатты
    тамақтану мектебі»`` -> ``Салауатты тамақтану мектебі``), else the part before a dash
    (``SHARE – іс-әрекеттегі зерттеу Ұлыбритания)`` -> ``SHARE``)."""
    m = re.search(r"«([^»]+)»", str(name))
    if m:
        return m.group(1).strip()
    return str(name).split(" – ")[0].strip().strip("«»\"").strip() or str(name)


# --- writing the forms -------------------------------------------------------------------------

def school_schema() -> schemas.Schema:
    s = schemas.load(REPORT)
    return dataclasses.replace(s, tables={**s.tables, **FORM_TABLES})


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


# --- reading a returned form ---------------------------------------------------------------------

@dataclass
class FormProblem:
    """One thing wrong with a returned form, worded for the school that fills it in."""
    file: str
    message: str
    sheet: str | None = None
    cell: str | None = None
    label: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.sheet:
            where.append(f'sheet "{self.sheet}"')
        if self.cell:
            where.append(f"cell {self.cell}" + (f' "{self.label}"' if self.label else ""))
        elif self.label:
            where.append(f'column "{self.label}"')
        found = f"found {self.value!r}, " if self.value not in (None, "") else ""
        return ", ".join(where) + f": {found}{self.message}"


@dataclass
class Form:
    """A returned form as read: its member, its problems and, when valid, its rows."""
    path: Path
    period: str
    member_id: str | None
    problems: list[FormProblem] = field(default_factory=list)
    parsed: dict[str, pd.DataFrame] = field(default_factory=dict)    # table -> parsed (+__source/__row)
    sources: dict[str, validate.Source] = field(default_factory=dict)  # table -> text rows (raw columns)

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def first_error(self) -> str:
        return str(self.problems[0]) if self.problems else ""

    def error_text(self) -> str:
        shown = [str(p) for p in self.problems[:validate.MAX_PER_FILE]]
        more = len(self.problems) - len(shown)
        return "\n".join(shown + ([f"… and {more} more problem(s) in this form"] if more > 0 else [])
                         + [f"{len(self.problems)} problem(s) in the form {validate._rel(self.path)}. {FIX}"])


def read_form(path: Path, period: str, roster: pd.DataFrame | None, schema: schemas.Schema) -> Form:
    """Read and check one returned form on its own (no other form or file is looked at)."""
    path = Path(path)
    rel = validate._rel(path)
    form = Form(path, period, form_member(path.name))
    if not path.name.lower().endswith(".xlsx"):
        form.problems.append(FormProblem(rel, "not an .xlsx workbook: open it in Excel and save it as "
                                              "'Excel Workbook (*.xlsx)' under the name <form code>.xlsx"))
        return form
    try:
        sheets = validate.workbook_sheets(path)
    except DataError as exc:
        form.problems.append(FormProblem(rel, str(exc).partition(": ")[2] or str(exc)))
        return form
    _read_passport(form, sheets, roster, schema)
    for sh in SHEETS:
        _read_sheet(form, sh, sheets, schema)
    known = {PASSPORT, NOTE_SHEET, *(s.title for s in SHEETS)}
    for name in sheets:
        if name not in known and not validate.is_note_sheet(name):
            form.problems.append(FormProblem(rel, "a sheet the form does not have; move its rows to the form's "
                                                  f"sheets ({', '.join(s.title for s in SHEETS)}) and delete it",
                                             name))
    return form


def _read_passport(form: Form, sheets, roster, schema) -> None:
    rel = validate._rel(form.path)
    if PASSPORT not in sheets:
        form.problems.append(FormProblem(rel, f'no sheet "{PASSPORT}": use the form as it was sent (do not '
                                              "rename or delete its sheets)"))
        return
    _, rows = sheets[PASSPORT]
    cells = {}
    for i, r in enumerate(rows, 2):
        if len(r) >= 3 and r[2]:
            cells[r[2]] = (r[1], f"B{i}")
    labels = {k: lab for k, lab, *_ in PASSPORT_FIELDS}

    def problem(key, msg, value=None):
        cell = cells.get(key, (None, None))[1]
        form.problems.append(FormProblem(rel, msg, PASSPORT, cell, labels.get(key), value))

    for key, *_ in PASSPORT_FIELDS:
        if key not in cells:
            problem(key, f'the row "{labels[key]}" is missing: use the form as it was sent')
    if form.problems:
        return
    member_id = cells["member_id"][0]
    if form.member_id != member_id:
        problem("member_id", f"the file name says {form.member_id!r}, the form says {member_id!r}: "
                             f"rename the file to {member_id}.xlsx", form.path.name)
        return
    if cells["period"][0] != form.period:
        problem("period", f"this form is for {cells['period'][0]}, but it is in the folder of {form.period}: "
                          f"move it to {FORMS_DIR}/{cells['period'][0]}/", cells["period"][0])
        return
    m = None
    if roster is not None:
        hit = roster[roster["member_id"] == member_id]
        if hit.empty:
            problem("member_id", f"not a member school of any project in the member list of {form.period} "
                                 f"({MEMBERS_FROM}); use the form generated for this school", member_id)
            return
        m = hit.iloc[0].to_dict()
    m = m or {"city": cells["city"][0], "school_id": member_id.rpartition("-")[0],
              "project_key": member_id.rpartition("-")[2], "school_no": cells["school_no"][0],
              "project_name": cells["project_name"][0], "project_kind": ""}
    source = f"форма {form.path.name}"
    one = {
        "members": {"member_id": member_id, "period": form.period, "city": m["city"],
                    "school_id": m["school_id"], "project_key": m["project_key"]},
        "schools": {"city": m["city"], "school_id": m["school_id"],
                    "school_no": "" if m["school_no"] in (None, "") or pd.isna(m["school_no"]) else str(int(m["school_no"]))},
        "projects": {"project_key": m["project_key"], "project_name": m["project_name"],
                     "kind": KIND_OF_PROJECT.get(m["project_kind"], ""), "kind_key": m["project_kind"] or ""},
    }
    where = {}
    for key, _, table, column, editable in PASSPORT_FIELDS:
        if editable:
            one[table][column] = cells[key][0]
            where[(table, column)] = key
    for table, row in one.items():
        row["source"] = source
        t = schema.tables[table]
        header = list(row)
        src = validate.Source(table, form.path, PASSPORT, header, pd.DataFrame([row], dtype=str))
        parsed, probs, _ = validate.parse_source(src, t)
        probs += validate.check_values(parsed, t, {src.label: src})
        for p in probs:
            key = where.get((table, p.column))
            problem(key or p.column, p.message, p.value)
        form.parsed[table], form.sources[table] = parsed, src


def _read_sheet(form: Form, sh: Sheet, sheets, schema) -> None:
    rel = validate._rel(form.path)
    if sh.title not in sheets:
        form.problems.append(FormProblem(rel, "the sheet is missing: use the form as it was sent (do not "
                                              "rename or delete its sheets)", sh.title))
        return
    header, rows = sheets[sh.title]
    table = schema.tables[sh.table]
    by_label = {lab.casefold(): col for col, lab in sh.fields}
    label_of = dict(sh.fields)
    names = []
    for j, h in enumerate(header):
        col = by_label.get(validate._clean(h).casefold())
        if h and col is None:
            form.problems.append(FormProblem(rel, "a column the form does not have: delete it (the form's columns: "
                                                  + ", ".join(label_of.values()) + ")", sh.title,
                                             f"{validate.col_letter(j)}1", None, h))
        names.append(col or f"__extra{j}")
    for col, lab in sh.fields:
        if col not in names:
            form.problems.append(FormProblem(rel, f'the column "{lab}" is missing: restore the header row as sent',
                                             sh.title, "1"))
    if not rows or any(p.sheet == sh.title for p in form.problems):
        return
    text = pd.DataFrame(rows, columns=names, dtype=object).astype(str)
    text = text[[c for c in names if not c.startswith("__extra")]]
    text = _derive(text, sh, table, form)
    src = validate.Source(sh.table, form.path, sh.title, names + [c for c in text.columns if c not in names], text)
    parsed, probs, _ = validate.parse_source(src, table)
    probs += validate.check_values(parsed, table, {src.label: src})
    user = {c for c, _ in sh.fields}
    for p in probs:
        if p.column is not None and p.column not in user:
            if p.message.startswith("duplicate key"):
                p.column = sh.fields[0][0]
                p.letter = src.letter(p.column)
            else:
                continue   # a derived column: its label cell is reported instead
        cell = f"{p.letter}{p.row}" if p.letter and p.row else (str(p.row) if p.row else None)
        form.problems.append(FormProblem(rel, p.message, sh.title, cell, label_of.get(p.column), p.value))
    form.parsed[sh.table], form.sources[sh.table] = parsed, src


def _derive(text: pd.DataFrame, sh: Sheet, table: schemas.Table, form: Form) -> pd.DataFrame:
    """Add member_id, period, item and the keys the school does not type."""
    out = text.copy()
    for label, key in DERIVED_KEYS.items():
        if label in out.columns and key in table.columns:
            lc, kc = table.columns[label], table.columns[key]
            mapping = dict(zip(lc.allowed or (), kc.allowed or ()))
            out[key] = [mapping.get(validate._clean(v), "") for v in out[label]]
    if sh.table == "grade_bands":
        band = out["grade_band"].map(validate._clean)
        total = band.str.casefold() == "барлығы"
        out["grade_band"] = band.where(~total, "Барлығы")
        parts = band.str.extract(r"^(\d{1,2})(?:-(\d{1,2}))?$")
        out["grade_from"] = parts[0].fillna("")
        out["grade_to"] = parts[1].fillna(parts[0]).fillna("")
        out["row_type"] = ["total" if t else "part" for t in total]
    if sh.numbered is not None and "item" in table.columns:
        if sh.numbered:
            out["item"] = (out.groupby(out[sh.numbered]).cumcount() + 1).astype(str)
        else:
            out["item"] = [str(i) for i in range(1, len(out) + 1)]
    out.insert(0, "period", form.period)
    out.insert(0, "member_id", form.member_id or "")
    out["source"] = f"форма {form.path.name}, парақ «{sh.title}»"
    return out


# --- every returned form of a report -------------------------------------------------------------

def forms_dir(report: str = REPORT) -> Path:
    return config.RAW_DIR / report / FORMS_DIR


def form_periods(report: str = REPORT) -> list[str]:
    """Periods with returned forms (data/raw) or generated ones (output/forms)."""
    out = set()
    for base in (forms_dir(report), config.OUTPUT_DIR / "forms"):
        if base.is_dir():
            out |= {p.name for p in base.iterdir() if p.is_dir() and not periods.check(p.name)}
    return sorted(out)


def read_forms(period: str, report: str = REPORT, existing: pd.DataFrame | None = None) -> list[Form]:
    """Every file in ``forms/<period>/``, each checked on its own; then the forms that would
    repeat a report already in the data (``existing``: members.csv rows) or another form."""
    folder = forms_dir(report) / period
    if not folder.is_dir():
        return []
    try:
        roster = members(period)
    except EsepError:
        roster = None
    schema = school_schema()
    out = [read_form(p, period, roster, schema) for p in sorted(folder.iterdir())
           if p.is_file() and not p.name.startswith((".", "~$"))]
    have = set()
    if existing is not None and len(existing):
        have = {(str(r["member_id"]), str(r["period"])) for _, r in existing.iterrows()}
    by_member: dict[str, list[Form]] = {}
    for f in out:
        if f.member_id:
            by_member.setdefault(f.member_id, []).append(f)
    for mid, fs in by_member.items():
        for f in fs:
            cell = "B2"
            if (mid, period) in have:
                f.problems.insert(0, FormProblem(validate._rel(f.path),
                                  f"the report of {mid} for {period} is already in {REPORT}/members.csv; "
                                  "remove those rows or this form (keep one)", PASSPORT, cell, "Форманың коды", mid))
            elif len(fs) > 1:
                others = ", ".join(g.path.name for g in fs if g is not f)
                f.problems.insert(0, FormProblem(validate._rel(f.path), f"the same school and project is also "
                                  f"sent as {others}; keep one file", PASSPORT, cell, "Форманың коды", mid))
    return out


def tables_with_forms(spec, loaded: validate.Loaded) -> tuple[dict[str, pd.DataFrame], dict]:
    """For prepare: the typed tables of ``loaded`` plus the rows of every valid form (a
    report with no form folder gets exactly ``validate.typed_tables``), and the forms'
    status (recorded in ``data/processed/<report>/_forms.json``)."""
    if spec.name != REPORT or not forms_dir(spec.name).is_dir():
        return validate.typed_tables(spec, loaded), {}
    loaded.schema = dataclasses.replace(loaded.schema, tables={**loaded.schema.tables, **FORM_TABLES})
    status = {}
    known = {t: set() for t in ("schools", "projects")}
    for t, col in (("schools", "school_id"), ("projects", "project_key")):
        if t in loaded.frames:
            known[t] = {v for v in loaded.frames[t][col] if v is not None}
    for period in form_periods(spec.name):
        for f in read_forms(period, spec.name, loaded.frames.get("members")):
            status[validate._rel(f.path)] = {"period": period, "member_id": f.member_id, "valid": f.valid,
                                             "problems": [str(p) for p in f.problems]}
            if not f.valid:
                continue
            for table, parsed in f.parsed.items():
                src = f.sources[table]
                if table in known:
                    col = "school_id" if table == "schools" else "project_key"
                    if parsed[col].iloc[0] in known[table]:
                        continue      # a reference list: the first entry wins
                    known[table].add(parsed[col].iloc[0])
                loaded.sources.setdefault(table, []).append(src)
                loaded.frames[table] = pd.concat([loaded.frames[table], parsed], ignore_index=True) \
                    if table in loaded.frames else parsed
    for srcs in loaded.sources.values():     # form rows lack the CSV's extra columns: give them ""
        cols = list(dict.fromkeys(c for s in srcs for c in s.header))
        for s in srcs:
            s.frame = s.frame.reindex(columns=cols, fill_value="")
    inputs = tuple(spec.inputs) + tuple(f"{spec.name}/{t}.csv" for t in FORM_TABLES)
    typed = validate.typed_tables(SimpleNamespace(inputs=inputs, text_columns=spec.text_columns), loaded)
    return typed, status


def status_path(report: str = REPORT) -> Path:
    return config.PROCESSED_DIR / report / STATUS_FILE


def check_unit(spec, unit) -> None:
    """Fail one school's report when its returned form is invalid (DataError with every
    problem); any other unit, and a report without forms, passes. Reads what prepare
    recorded (``_forms.json``)."""
    if spec.name != REPORT or not unit.variant or not status_path(spec.name).is_file():
        return
    import json

    doc = json.loads(status_path(spec.name).read_text(encoding="utf-8"))
    for rel, st in doc.items():
        if st["member_id"] == unit.variant and st["period"] == unit.period and not st["valid"]:
            probs = st["problems"]
            raise DataError("\n".join(probs[:validate.MAX_PER_FILE]) + f"\n{len(probs)} problem(s) in the "
                            f"school form {rel}: this school's report is not built until it is fixed. {FIX}")


def write_status(report: str, status: dict) -> None:
    import json

    from esep.core.fsutil import atomic_write

    path = status_path(report)
    if status or path.exists():
        atomic_write(path, json.dumps(status, ensure_ascii=False, indent=1))


# --- submission tracking -----------------------------------------------------------------------

TRACK_COLUMNS = ["period", "project_key", "project_name", "member_id", "member_name", "state", "file", "error"]
STATE_KK = {"valid": "дұрыс форма", "invalid": "қатесі бар", "missing": "жіберілмеген",
            "unknown": "тізімде жоқ"}


def tracking(period: str | None = None, report: str = REPORT) -> pd.DataFrame:
    """Per period, project and member school: ``valid`` (a form that passes every check),
    ``invalid`` (with its first error), ``missing`` (nothing sent), or ``unknown`` (a file
    that names no member of the list). Periods: ``period`` or every period with forms
    returned or generated."""
    rows = []
    existing = None
    members_csv = config.RAW_DIR / report / "members.csv"
    if members_csv.is_file():
        existing = validate.read_csv_source(members_csv, "members").frame
    for p in ([period] if period else form_periods(report)):
        try:
            roster = members(p)
        except EsepError:
            roster = pd.DataFrame(columns=["member_id", "member_name", "project_key", "project_name"])
        forms = read_forms(p, report, existing)
        by_member: dict[str, Form] = {}
        for f in forms:
            if f.member_id and (f.member_id not in by_member or f.valid):
                by_member[f.member_id] = f
        listed = set(roster["member_id"])
        for m in roster.to_dict("records"):
            f = by_member.get(m["member_id"])
            state = "missing" if f is None else ("valid" if f.valid else "invalid")
            rows.append({"period": p, "project_key": m["project_key"], "project_name": m["project_name"],
                         "member_id": m["member_id"], "member_name": m["member_name"], "state": state,
                         "file": validate._rel(f.path) if f else "", "error": f.first_error if f else ""})
        for f in forms:
            if f.member_id not in listed:
                rows.append({"period": p, "project_key": "", "project_name": "", "member_id": f.member_id or "",
                             "member_name": "", "state": "unknown", "file": validate._rel(f.path),
                             "error": f.first_error or "the file name starts with no form code of the list"})
    return pd.DataFrame(rows, columns=TRACK_COLUMNS)


def tracking_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per period and project: members, valid, invalid, missing."""
    if table.empty:
        return pd.DataFrame(columns=["period", "project_key", "project_name", "members", "valid", "invalid",
                                     "missing"])
    t = table[table["state"] != "unknown"]
    g = t.groupby(["period", "project_key", "project_name"], sort=False)["state"]
    out = g.agg(members="size", valid=lambda s: int((s == "valid").sum()),
                invalid=lambda s: int((s == "invalid").sum()), missing=lambda s: int((s == "missing").sum()))
    return out.reset_index()
