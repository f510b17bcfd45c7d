"""What a school form holds: its sheets and their Kazakh headers, the passport's fields,
the tables only the forms fill, the keys derived from labels; who is a member (the city's
member list, 5-кесте) and how a member is named (``astana-67-share``)."""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from esep.core import config, periods
from esep.core.errors import EsepError
from esep.data import schemas, validate

REPORT = "school_project"
MEMBERS_FROM = "city_innovation/project_members.csv"
PROJECTS_FROM = "city_innovation/projects.csv"
EVENTS_FROM = "city_innovation/events.csv"
NOTE_SHEET = "Нұсқаулық"
PASSPORT = "Паспорт"
STATUS_FILE = "_forms.json"          # data/processed/<report>/: what prepare used
UNITS_FILE = "_units.json"           # data/processed/<report>/: a digest of what each school's report reads
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


def school_schema() -> schemas.Schema:
    s = schemas.load(REPORT)
    return dataclasses.replace(s, tables={**s.tables, **FORM_TABLES})


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
