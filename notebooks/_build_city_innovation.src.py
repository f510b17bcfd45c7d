# Generates notebooks/city_innovation.ipynb (no outputs): .venv/bin/python notebooks/_build_city_innovation.src.py notebooks/city_innovation.ipynb
import sys
import nbformat
from nbformat.v4 import new_notebook, new_code_cell, new_markdown_cell

cells = []
def code(cid, src, tags=None):
    c = new_code_cell(src.strip("\n"))
    c.id = cid
    if tags:
        c.metadata["tags"] = tags
    cells.append(c)
import re
def unwrap(text):
    """One line per paragraph / list item, so a placeholder never starts a line."""
    out = []
    for block in text.strip("\n").split("\n\n"):
        items = re.split(r"\n(?=\d+\. |#)", block)
        out.append("\n".join(" ".join(l.strip() for l in it.split("\n")) for it in items))
    return "\n\n".join(out)
def md(cid, src, narrative=True, section=None):
    c = new_markdown_cell(unwrap(src))
    c.id = cid
    if narrative:
        c.metadata["tags"] = ["narrative"]
    if section:
        c.metadata["esep"] = {"section": section}
    for line in c.source.splitlines():
        assert not line.startswith("{{") or section is None or line.startswith(("{{ school_year", "{{ order_label", "{{ period_label", "{{ city", "{{ author")), line
    cells.append(c)

code("ci-co-parameters-1", '''
period = "2023-2024-S2"
city = "Астана"
''', ["parameters"])

code("ci-co-remove-1", '''
from IPython.display import display

from helpers import charts, corrections, data, periods, present, quality, tables
from helpers import city_innovation as ci
from helpers import fmt
from helpers import kazakh as kz
from helpers.captions import Captions
from helpers.report import glue, glue_forms, glue_shown, note

REPORT = "city_innovation"
charts.setup()
cap = Captions()
skipped = []
ledger = corrections.Ledger.load(REPORT)   # data/raw/city_innovation/decisions.yaml (the analyst's)

year = periods.school_year(period)                  # e.g. 2023-2024
prev_year = periods.shift(year, -1)                 # 2022-2023
prev2_year = periods.shift(year, -2)                # 2021-2022
prev_period = periods.shift(period, -1)             # same semester a year earlier

d = data.load_all(REPORT, [
    "projects_by_kind", "projects", "project_orgs", "project_members", "levels_opened",
    "levels_semester", "orgs_by_project_count", "levels_yearly", "international_orgs",
    "state_orgs", "events", "pupils_by_language", "quoted", "texts"], city=city)

kinds = data.for_period(d["projects_by_kind"], period)
projects = data.for_period(d["projects"], period)
members = data.for_period(d["project_members"], period)
orgs_now = data.for_period(d["project_orgs"], period)
events = data.for_period(d["events"], period)
languages = data.for_period(d["pupils_by_language"], period)
load = data.for_period(d["orgs_by_project_count"], year)
state = data.for_period(d["state_orgs"], year)
q = {**ci.quoted(data.for_period(d["quoted"], year)), **ci.quoted(data.for_period(d["quoted"], period))}
q_prev = ci.quoted(data.for_period(d["quoted"], prev_year))   # previous-year figures quoted in the text
q_rows = tables.only(d["quoted"], period=[prev_year, year, period])
q_labels = dict(zip(q_rows["key"], q_rows["label"]))

sem_totals = ci.level_totals(d["levels_semester"], period)
orgs_in_projects = sem_totals["orgs"]   # base of the coverage shares (orgs running projects)

glue("city", city)
glue("period_label", periods.label(period))
glue("period_label_loc", periods.label(period, "loc"))
glue("period_label_attr", periods.label(period, "attr"))
glue("period_label_abl", periods.label(period, "abl"))
glue("prev_period_label_abl", periods.label(prev_period, "abl"))
glue("prev_semester_label_abl", periods.label(periods.previous_semester(period), "abl")
     if periods.is_semester(period) else None)
glue("school_year", year)
glue("prev_school_year", prev_year)
glue("semester", periods.semester(period))
glue_forms("orgs_in_projects", orgs_in_projects, "gen")
texts = dict(zip(data.for_period(d["texts"], period)["key"], data.for_period(d["texts"], period)["text"]))
glue("author", texts.get("author"))
if not texts.get("author"):
    skipped.append("author")     # no signature line (a "-" would show as an empty list item)
''', ["remove"])


# ---------------------------------------------------------------- headline
code("ci-co-code-1", '''
head = ci.headline(kinds, projects)
city_filled = any(len(data.for_period(d[s], p)) for s in d if s not in ("quoted", "texts") for p in {period, year})
if not city_filled:   # a new period whose school forms come in before the city's tables
    skipped.append("city_tables")   # the text that introduces the city's tables goes with them
    note(f"{periods.label(period, 'attr')} қалалық кестелер әлі толтырылмаған: төмендегі бөлімдерде "
         "олардың орнына «дерек жоқ» деп жазылған.")
if head.empty:
    skipped.append("headline")
    if city_filled:
        note(f"{periods.label(period, 'attr')} жобалар мен білім алушылар туралы дерек жоқ.")
international_names = ", ".join(
    orgs_now[(orgs_now["source"] == "7-кесте")
             & orgs_now["project_key"].isin(projects.loc[projects["kind_key"] == "international", "project_key"])
             ]["project_name"])
glue("order_no", None if q.get("order_no") is None else str(q["order_no"]))
glue("order_label", q_labels.get("order_no"))
glue("projects_total", ci.value(head, "projects", row_type="total"))
glue("projects_international", ci.value(head, "projects", kind_key="international"))
glue("projects_city", ci.value(head, "projects", kind_key="city"))
glue("projects_opened", ci.level_totals(d["levels_opened"], year)["projects"])
glue("projects_extended", q.get("projects_extended"))
glue("international_project_names", international_names or None)
glue("pupils_total", ci.value(head, "pupils", row_type="total"))
glue("pupils_international", ci.value(head, "pupils", kind_key="international"))
headline_printed = kinds[kinds["source"] == ci.HEADLINE_SOURCE] if len(kinds) else kinds
for key in ("international", "city"):   # the intro's shares as printed vs computed from 5-кесте
    ledger.glue_choice(f"pupils_{key}_pct", ci.value(head, "pupils_pct", kind_key=key),
                       ci.value(headline_printed, "declared_pupils_share_pct", kind_key=key) if len(headline_printed) else None,
                       label="{}: білім алушылар үлесі".format(
                           ", ".join(tables.only(headline_printed, kind_key=key)["kind"]) if len(headline_printed) else key),
                       where="кіріспе мәтіні")
glue("pupils_city", ci.value(head, "pupils", kind_key="city"))
glue_forms("pupils_of_all_city_pupils_pct",   # printed only: the city's pupil count is not in the data
           ci.value(kinds[kinds["source"] == ci.HEADLINE_SOURCE], "declared_city_pupils_share_pct",
                    row_type="total"), "poss", pct=True)
''')

md("ci-ma-headline-1", '''
{{ order_label }} (№{{ order_no }}) негізінде білім беру ұйымдарында
{{ projects_total }} инновациялық жоба іске асырылуда, оның ішінде:

1. Халықаралық жобалар – {{ projects_international }} ({{ international_project_names }}),
   білім алушылар саны {{ pupils_international }} немесе {{ pupils_international_pct }};
2. Қалалық жобалар – {{ projects_city }} (білім алушылар саны {{ pupils_city }} немесе
   {{ pupils_city_pct }}).

Білім беру деңгейлері бойынша саналған жобалар саны ({{ levels_yearly_table_no }}) – {{ year_projects }}{{ projects_by_level_note }}:
{{ school_year }} оқу жылына {{ projects_opened }} инновациялық жоба ашылды ({{ levels_opened_table_no }})
және өткен оқу жылынан {{ projects_extended }} инновациялық жобаның іске асыру мерзімі ұзартылды.

Сонымен, {{ projects_total }} инновациялық жобаға {{ pupils_total }} оқушы қатысады, бұл
елорданың барлық білім алушыларының {{ pupils_of_all_city_pupils_pct_poss }}.
''', section="headline")

code("ci-co-code-2", '''
fig1 = ci.figure1(kinds)          # the intro's counts: one value per kind in text and figure
fig1_printed = ci.figure1_printed(kinds)
if fig1.empty:
    skipped.append("figure_kinds")
    note("Жобалардың түрлері бойынша сурет үшін дерек жоқ.")
else:
    display(charts.bar(fig1, x="kind", y="projects", wrap=18,
                       title=cap.figure("Инновациялық жобалардың түрлері бойынша саны"),
                       ylabel="Жобалар саны"))
    if fig1_printed:
        note(f"Суретте кіріспедегі сандар көрсетілген; құжаттың 1-суретінде {fig1_printed} басылған "
             "(барлығы / халықаралық / республикалық / қалалық).")
glue("figure_projects_all", ci.value(fig1, "projects", row_type="total") if len(fig1) else None)
glue("figure_projects_city", ci.value(fig1, "projects", kind_key="city") if len(fig1) else None)
''')

md("ci-ma-narrative-1", '''
Ағымдағы оқу жылында білім беру саласындағы талдау және зерттеу бөлімінің әдіскерлері жұмыс
жоспарына сәйкес инновациялық жобаның педагог-кураторларына іске асырылып жатқан жобалар
бойынша құжаттаманы қалыптастыру және жүргізу бойынша әдістемелік көмек көрсете отырып,
инновациялық жобалардың жұмысына мониторинг жүргізу тұрғысынан семинарлар, вебинарлар,
дөңгелек үстелдер өткізді және білім беру ұйымдарына баруды ұйымдастырды.

{{ period_label_attr }} инновациялық жобалардың қызметіне жүргізілген мониторинг негізінде
педагогтер инновациялық жоба шеңберінде өз жұмыстары бойынша есеп жазу кезінде жобаны іске
асыру барысының динамикалық көрсеткіштерін толығымен ұсына алмайтыны анықталды. Анықталған
проблемаға байланысты бөлім әдіскерлері білім беру ұйымдарында іске асырылатын инновациялық
жобаны іске асырудың сапалық және сандық барысын бағалау индикаторларын әзірледі.
''')

md("ci-ma-narrative-1-results", '''
Өткен оқу жылының сәйкес кезеңіндегі және ағымдағы {{ period_label_attr }} инновациялық
жобалар жұмысының нәтижелерін салыстыру негізінде мынадай нәтижелер алынды.
''', section="city_tables")

md("ci-ma-narrative-1-heading", '''
## 1. Инновациялық жобаларды іске асыратын білім беру ұйымдары
''', narrative=False)

md("ci-ma-narrative-1-tables", '''
{{ school_year }} оқу жылында инновациялық жобаларды іске асыратын білім беру ұйымдары
(бұдан әрі - ББҰ) деңгейлерінің статистикалық деректері төмендегі кестелерде ұсынылған.
''', section="city_tables")

# ---------------------------------------------------------------- table 1
code("ci-co-code-3", '''
t1 = ci.by_level(d["levels_opened"], [prev_year, year],
                 labels={"projects": "Инновациялық жобалар саны", "orgs": "ББҰ саны"}, top="columns")
if t1.empty or data.for_period(d["levels_opened"], year).empty:   # earlier years alone: no table for this one
    skipped.append("levels_opened")
    note(f"{periods.label(year, 'loc')} ашылған жобалар туралы дерек жоқ.")
    glue("levels_opened_table_no", None)
else:
    t1_caption = cap.table(source=["levels_opened"], text=f"{periods.label(period, 'loc')} жүзеге асырылатын білім беру ұйымдарымен "
                           "инновациялық жобалардың саны (ашылған оқу жылы бойынша)")
    glue("levels_opened_table_no", t1_caption.split(".")[0])        # "1-кесте", for the intro
    display(present.table(
        t1, t1_caption,
        figures={(i, (year, "Инновациялық жобалар саны")): "projects_opened"
                 for i in t1.index[t1[("level", "")] == ci.TOTAL]},
        labels={"level": "Білім беру ұйымының деңгейі",
                prev_year: f"{prev_year} оқу жылында ашылған",
                year: f"{year} оқу жылында ашылған"}))
opened_prev = ci.level_totals(d["levels_opened"], prev_year)
opened_now = ci.level_totals(d["levels_opened"], year)
glue("opened_projects_prev_year", opened_prev["projects"])
glue("opened_orgs_prev_year", opened_prev["orgs"])
glue("opened_projects", opened_now["projects"])
glue("opened_orgs", opened_now["orgs"])
''')

# ---------------------------------------------------------------- table 2
code("ci-co-code-4", '''
t2 = ci.by_level(d["levels_semester"], [prev_period, period],
                 labels={"projects": "Жартыжылдықтағы жобалар саны", "orgs": "Жартыжылдықтағы ББҰ саны"})
if t2.empty or data.for_period(d["levels_semester"], period).empty:
    skipped.append("levels_semester")
    note(f"{periods.label(period, 'attr')} деңгейлер бойынша жобалар туралы дерек жоқ.")
else:
    t2_caption = cap.table(source=["levels_semester"], text=f"{prev_year} және {year} оқу жылдарының {kz.numeral(periods.semester(period), 'ord')} "
                           "жартыжылдығындағы білім беру ұйымдарындағы инновациялық жобалар санының динамикасы")
    # a «Барлығы» cell computed from the levels that differs from the printed one carries its
    # mark (the analyst's decisions.yaml may keep the printed value instead)
    t2_marks = {}
    for i in t2.index[t2[("level", "")] == ci.TOTAL]:
        for per in [prev_period, period]:
            printed = tables.only(d["levels_semester"], period=per, row_type="total")
            for measure, head_label in [("projects", "Жартыжылдықтағы жобалар саны"),
                                        ("orgs", "Жартыжылдықтағы ББҰ саны")]:
                col = (head_label, per)
                if printed.empty or col not in t2.columns:
                    continue
                fig = f"semester_{measure}_total_{per.replace('-', '_').lower()}"
                t2.loc[i, col] = ledger.choose(
                    fig, computed=t2.loc[i, col], declared=ci.value(printed, measure),
                    label=f"{t2_caption.split('.')[0]}, «{ci.TOTAL}» жолы, {periods.label(per)}: "
                          f"{head_label[0].lower()}{head_label[1:]}", where="деңгейлер бойынша сандардың қосындысы")
                t2_marks[(i, col)] = fig
    display(present.table(
        ci.numbered(t2, ("level", ""), ("№", "")), t2_caption, marks=t2_marks, ledger=ledger,
        labels={"level": "Білім беру ұйымының деңгейі", prev_period: prev_year, period: year},
        note=("Белгі қойылған «Барлығы» мәні құжатта басқаша басылған: деңгейлер бойынша сандардың "
              "қосындысы алынды; екі мән де «Түзетулер» кестесінде."
              if any(getattr(ledger.get(f), "kept", "declared") != "declared"
                      for f in t2_marks.values()) else None)))
sem_prev = ci.level_totals(d["levels_semester"], prev_period)
glue("semester_projects_prev_year", sem_prev["projects"])
glue("semester_orgs_prev_year", sem_prev["orgs"])
glue("semester_projects", sem_totals["projects"])
glue("semester_orgs", sem_totals["orgs"])
''')

# ---------------------------------------------------------------- table 3
code("ci-co-code-5", '''
load_one = ci.reconcile_load(load, tables.only(d["levels_semester"], period=period)) if len(load) else load
load_fixed = load_one[load_one["declared_orgs"].notna()] if len(load_one) else load_one
t3 = ci.project_load(load_one) if len(load_one) else load
glue("load_orgs_reconciled", len(load_fixed))
secondary = "Негізгі орта"
sec_total = ci.orgs_with(t3, secondary) if len(t3) else None
glue_forms("secondary_orgs", sec_total, "poss")
for n, word in [(1, "1_project"), (2, "2_projects"), (3, "3_projects"), (4, "4_projects")]:
    n_orgs = ci.orgs_with(t3, secondary, n) if len(t3) else None
    glue(f"secondary_orgs_{word}", n_orgs)
    glue(f"secondary_orgs_{word}_pct", None if n_orgs is None else tables.share(n_orgs, sec_total))
glue("preschool_orgs_1_project", ci.orgs_with(t3, "Мектепке дейінгі", 1) if len(t3) else None)
glue("tvet_orgs_1_project", ci.orgs_with(t3, "Техникалық", 1) if len(t3) else None)
glue("special_orgs_1_project", ci.orgs_with(t3, "Арнайы", 1) if len(t3) else None)
glue("load_orgs_total", ci.value(t3, "orgs", row_type="total") if len(t3) else None)
ledger.glue_choice("secondary_orgs_of_all_pct", None if sec_total is None or orgs_in_projects is None
                   else tables.share(sec_total, orgs_in_projects), q.get("secondary_orgs_of_all_pct"),
                   label=q_labels.get("secondary_orgs_of_all_pct") or "secondary_orgs_of_all_pct", where="мәтін")
''')

md("ci-ma-project-load-1", '''
Статистикаға сәйкес жекелеген орта білім беру ұйымдары бірнеше жобаларды іске асырады:

1. орта білім беру ұйымдарының жалпы санынан ({{ secondary_orgs }}):
   {{ secondary_orgs_2_projects }} мектеп ({{ secondary_orgs_2_projects_pct }}) бір мезгілде
   2 жобаны, {{ secondary_orgs_3_projects }} мектеп ({{ secondary_orgs_3_projects_pct }}) –
   3 жобаны, {{ secondary_orgs_4_projects }} мектеп ({{ secondary_orgs_4_projects_pct }}) –
   4 жобаны, {{ secondary_orgs_1_project }} мектеп ({{ secondary_orgs_1_project_pct }}) –
   1 жобаны іске асырады;
2. {{ preschool_orgs_1_project }} мектепке дейінгі білім беру ұйымында 1 жоба іске асырылады;
3. {{ tvet_orgs_1_project }} техникалық және кәсіптік білім беру ұйымында 1 жоба іске асырылады;
4. {{ special_orgs_1_project }} арнайы білім беру ұйымында 1 жоба іске асырылады.
''', section="project_load")

code("ci-co-code-6", '''
if t3.empty:
    skipped.append("project_load")
    note(f"{periods.label(year, 'loc')} бір мезгілде іске асырылатын жобалар туралы дерек жоқ.")
else:
    t3_caption = cap.table(source=["orgs_by_project_count"], text=f"{periods.label(year, 'loc')} білім беру ұйымдарында іске асырылатын "
                           "инновациялық жобалардың саны туралы мәліметтер")
    t3_no = t3_caption.split(".")[0]                        # "3-кесте"
    t3_marks = {}
    for n, r in enumerate(load_fixed.itertuples(), 1):
        fig = f"project_load_orgs_fix_{n}"
        ledger.choose(fig, computed=r.orgs, declared=r.declared_orgs,
                      label=f"{t3_no}, «{r.level}» жолы, ББҰ саны", where="2-кестедегі деңгей бойынша саны")
        idx = t3.index[t3["level"] == r.level]
        if len(idx):
            t3_marks[(idx[0], "orgs")] = fig
    fixes = bool(t3_marks)
    t3_rows = list(zip(t3.index[t3["row_type"] != "total"], tables.parts(load_one).itertuples()))
    t3_marks.update(ledger.choose_column(
        t3, "share_pct", {i: r.declared_share_pct for i, r in t3_rows}, "project_load_share_{n}_pct",
        {i: f"{t3_no}, «{r.level} ({kz.numeral(r.simultaneous_projects)} жоба)» жолы, үлесі" for i, r in t3_rows},
        where="ББҰ саны бойынша есептелген үлес"))
    display(present.table(
        t3[["level", "orgs", "share_pct", "simultaneous_projects", "row_type"]], t3_caption,
        marks=t3_marks, ledger=ledger,
        figures={(i, "orgs"): "orgs_in_projects" for i in t3.index[t3["row_type"] == "total"]},
        formats={"share_pct": "pct", "simultaneous_projects": "num"},
        labels={"level": "Білім беру ұйымының деңгейі", "orgs": "ББҰ саны",
                "share_pct": "Білім деңгейі бойынша барлық ұйымдардың үлесі",
                "simultaneous_projects": "Білім беру ұйымдарында бір мезгілде іске асырылатын "
                                         "инновациялық жобалардың саны"},
        note=("Белгі қойылған сан құжатта басқаша басылған: ББҰ саны деңгейлер бойынша бір "
              "дереккөзден (2-кесте) алынды, үлестер ББҰ санынан есептелді; екі мән де «Түзетулер» "
              "кестесінде." if t3_marks else None)))
''')

md("ci-ma-project-load-2", '''
Осылайша, инновациялық жобаларды енгізу бойынша негізгі үлес орта білім беру ұйымдарына
тиесілі: жобаларды іске асыратын {{ orgs_in_projects }} білім беру ұйымының
{{ secondary_orgs_poss }} ({{ secondary_orgs_of_all_pct }}) – орта білім беру ұйымдары.
''', section="project_load")

# ---------------------------------------------------------------- international orgs, figure 2
code("ci-co-code-7", '''
intl = ci.international_orgs(d["international_orgs"], [prev_year, year])
intl_now = intl[intl["period"] == year]
intl_prev = intl[intl["period"] == prev_year]
state_total = None if state.empty else ledger.choose(
    "state_orgs_total", computed=tables.total(tables.parts(state)["orgs"]),
    declared=ci.value(state, "orgs", row_type="total"), label="Мемлекеттік білім беру ұйымдарының саны",
    where="2-суреттен кейінгі мәтін: түрлері бойынша сандардың қосындысы")
intl_all = ci.value(intl_now, "orgs", category_key="all") if len(intl_now) else None
glue("state_orgs_total", state_total)
for key in ["preschool", "departmental", "secondary", "binom", "tvet", "special", "additional"]:
    glue(f"state_orgs_{key}", ci.value(state, "orgs", level_key=key) if len(state) else None)
binom = tables.only(state, level_key="binom")["level"] if len(state) else state
glue("state_orgs_binom_label", binom.iloc[0] if len(binom) else None)
glue_forms("international_orgs", intl_all, "poss")
glue_forms("international_orgs_of_state_pct", None if intl_all is None or not state_total
           else ledger.choose("international_orgs_of_state_pct", computed=tables.share(intl_all, state_total),
                              declared=q.get("international_orgs_of_state_pct"),
                              label="Халықаралық жобалардағы ББҰ-ның мемлекеттік ББҰ ішіндегі үлесі",
                              where="3-кестеден кейінгі мәтін"), "poss", pct=True)
ledger.also("international_orgs_of_state_pct", "international_orgs_of_state_pct_poss")
for key in ["secondary", "tvet", "special"]:
    n_orgs = ledger.glue_choice(f"international_{key}_orgs",
                                ci.value(intl_now, "orgs", category_key=key) if len(intl_now) else None,
                                q.get(f"international_{key}_orgs"), where="мәтін",
                                label=q_labels.get(f"international_{key}_orgs") or key)
    ledger.glue_choice(f"international_{key}_orgs_pct", None if n_orgs is None or not intl_all
                       else tables.share(n_orgs, intl_all), q.get(f"international_{key}_orgs_pct"),
                       label=q_labels.get(f"international_{key}_orgs_pct") or key, where="мәтін")
sec_prev = ci.value(intl_prev, "orgs", category_key="secondary") if len(intl_prev) else None
sec_now = ci.value(intl_now, "orgs", category_key="secondary") if len(intl_now) else None
glue("international_orgs_prev_year", ci.value(intl_prev, "orgs", category_key="all") if len(intl_prev) else None)
glue("international_secondary_orgs_prev_year", sec_prev)
glue("international_secondary_orgs_change", None if None in (sec_prev, sec_now) else tables.change(sec_prev, sec_now))
gs = ci.org_growth(d["project_orgs"], "global_scholars", prev_year, year)
ib = ci.org_growth(d["project_orgs"], "ib", prev_year, year)
for name, g in [("global_scholars", gs), ("ib", ib)]:
    glue(f"{name}_orgs_prev_year", g["before"])
    glue(f"{name}_orgs", g["after"])
    glue(f"{name}_orgs_change", g["change"])
    pct = ledger.glue_choice(f"{name}_orgs_change_pct", g["change_pct"], q.get(f"{name}_orgs_change_pct"),
                             label=q_labels.get(f"{name}_orgs_change_pct") or name, where="мәтін",
                             also=(f"{name}_orgs_change_text",))
    glue(f"{name}_orgs_change_text", None if g["change"] is None else kz.change(g["change"], "ББҰ", pct=pct))
    named = tables.only(d["project_orgs"], project_key=name, period=year)["project_name"]
    glue(f"{name}_name", named.iloc[0] if len(named) else None)   # as the text prints it («IB»)
# (after the projects above: the text names them first, so their marks come first)
sec_pct = ledger.glue_choice(
    "international_secondary_orgs_change_pct",
    None if None in (sec_prev, sec_now) else tables.growth_pct(sec_prev, sec_now),
    q.get("international_secondary_orgs_change_pct"), where="мәтін",
    label=q_labels.get("international_secondary_orgs_change_pct") or "өсім",
    also=("international_secondary_orgs_change_text",))
glue("international_secondary_orgs_change_text", None if None in (sec_prev, sec_now)
     else kz.change(tables.change(sec_prev, sec_now), "ұйым", pct=sec_pct))
''')

md("ci-ma-state-orgs-1", '''
{{ school_year }} оқу жылында {{ state_orgs_total }} мемлекеттік білім беру ұйымының ішінен
халықаралық жобаларға білім беру ұйымдарының {{ international_orgs_poss }} немесе
{{ international_orgs_of_state_pct_poss }} қатысады, оның ішінде {{ international_tvet_orgs }} ТжКБ
ұйымы ({{ international_tvet_orgs_pct }}), {{ international_special_orgs }} арнайы білім беру
ұйымы ({{ international_special_orgs_pct }}), {{ international_secondary_orgs }} орта білім
беру ұйымы немесе {{ international_secondary_orgs_pct }}.
''', section="state_orgs")

md("ci-ma-project-growth-1", '''
Өткен {{ prev_school_year }} оқу жылымен салыстырғанда білім беру ұйымдарында келесі
халықаралық жобалардың іске асырылу деңгейінің өскені байқалады:

1. {{ global_scholars_name }} {{ prev_school_year }} оқу жылындағы {{ global_scholars_orgs_prev_year }}
   білім беру ұйымынан {{ school_year }} оқу жылындағы {{ global_scholars_orgs }} білім беру
   ұйымына дейін {{ global_scholars_orgs_change_text }};
2. {{ ib_name }} {{ prev_school_year }} оқу жылындағы {{ ib_orgs_prev_year }} білім беру ұйымынан
   {{ school_year }} оқу жылындағы {{ ib_orgs }} білім беру ұйымына дейін {{ ib_orgs_change_text }}.
''', section="project_growth")

code("ci-co-code-8", '''
if intl_now.empty:
    skipped.append("international_orgs")
    note(f"{periods.label(year, 'loc')} халықаралық жобаларды іске асыратын ББҰ туралы дерек жоқ.")
else:
    display(charts.bar(
        intl.assign(period=intl["period"] + " оқу жылы"), x="category", y="orgs", hue="period",
        wrap=16, title=cap.figure("Халықаралық жобаларды жүзеге асыратын білім беру ұйымдарының "
                                  "өсу динамикасы", source="international_orgs"), ylabel="ББҰ саны"))
''')

md("ci-ma-state-orgs-2", '''
Деректерге сүйене отырып, мемлекеттік білім беру ұйымдарының
{{ international_orgs_of_state_pct_poss }} халықаралық жобаларды іске асырады, өйткені
{{ city }} қаласы бойынша {{ state_orgs_total }} мемлекеттік білім беру ұйымының ішінде
{{ state_orgs_preschool }} мектепке дейінгі білім беру, {{ state_orgs_departmental }}
ведомстволық білім беру, {{ state_orgs_secondary }} орта білім беру ұйымдары (оның ішінде
{{ state_orgs_binom }} {{ state_orgs_binom_label }}), {{ state_orgs_tvet }} ТжКБ, {{ state_orgs_special }}
арнайы білім беру, {{ state_orgs_additional }} қосымша білім беру ұйымдары бар.
''', section="state_orgs")

md("ci-ma-international-growth-1", '''
{{ school_year }} оқу жылында халықаралық жобаларды іске асыратын орта білім беру ұйымдарының
саны {{ prev_school_year }} оқу жылымен салыстырғанда {{ international_secondary_orgs_change_text }}:
{{ prev_school_year }} оқу жылында олар {{ international_secondary_orgs_prev_year }} болған.
''', section="international_growth")

md("ci-ma-council-1", '''
Инновациялық жобалар мен эксперименттік алаңдардың аралық нәтижелерін және сапалы іске
асырылуын қадағалау мақсатында жылына {{ expert_council_meetings_per_year }} рет қалалық
Сараптамалық кеңестің отырысы өткізіледі. {{ project_city_level_years }} жыл бойы іске
асырылатын инновациялық жобалар қалалық деңгейден білім беру ұйымдарының деңгейінде іске
асырылады.
''', section="council")

# ---------------------------------------------------------------- table 4
code("ci-co-code-9", '''
if state.empty:
    skipped.append("state_orgs")
if None in (sec_prev, sec_now):
    skipped.append("international_growth")
if gs["change"] is None and ib["change"] is None:
    skipped.append("project_growth")
if q.get("expert_council_meetings_per_year") is None:
    skipped.append("council")
glue("expert_council_meetings_per_year", q.get("expert_council_meetings_per_year"))
glue("project_city_level_years", q.get("project_city_level_years"))
y_prev = ci.level_totals(d["levels_yearly"], prev_year)
y_now = ci.level_totals(d["levels_yearly"], year)
ledger.glue_choice("year_projects_prev_year", y_prev["projects"], q_prev.get("projects_prev_year"),
                   label=q_labels.get("projects_prev_year") or "projects_prev_year", where="мәтін")
glue("year_projects", y_now["projects"])
# two quantities: projects by kind (the intro, 1-сурет) and projects summed over the levels
# (1- and 4-кесте; a project run at several levels counts at each): said when they differ
projects_by_kind = ci.value(head, "projects", row_type="total") if len(head) else None
glue("projects_by_level_note",
     "" if None in (y_now["projects"], projects_by_kind) or y_now["projects"] == projects_by_kind
     else " (бір жоба бірнеше деңгейде іске асырылуы мүмкін, сондықтан бұл сан жоғарыдағы "
          f"{kz.numeral(projects_by_kind, 'abl')} өзгеше)")
glue("year_projects_change", None if None in (y_prev["projects"], y_now["projects"])
     else tables.change(y_prev["projects"], y_now["projects"]))
glue("year_orgs_prev_year", y_prev["orgs"])
glue("year_orgs", y_now["orgs"])
glue("year_orgs_change_pct", None if None in (y_prev["orgs"], y_now["orgs"])
     else tables.growth_pct(y_prev["orgs"], y_now["orgs"]))
glue("year_projects_reason",
     f", өйткені {kz.numeral(q['project_city_level_years'])} {kz.inflect('жыл', 'abl')} асқан жобалар мектепішілік деңгейге өткізілді"
     if q.get("project_city_level_years") is not None and None not in (y_prev["projects"], y_now["projects"])
     and y_now["projects"] < y_prev["projects"] else "")
decrease = None if None in (y_prev["projects"], y_now["projects"]) else y_prev["projects"] - y_now["projects"]
decrease = ledger.glue_choice("year_projects_decrease", decrease, q.get("projects_decrease"),
                              label=q_labels.get("projects_decrease") or "projects_decrease", where="мәтін",
                              also=("year_projects_change_text",))
glue("year_projects_change_text", None if decrease is None else kz.change(-decrease, "жоба"))
orgs_change_text = (None if None in (y_prev["orgs"], y_now["orgs"])
                    else kz.change(tables.change(y_prev["orgs"], y_now["orgs"]), "ұйым",
                                   pct=tables.growth_pct(y_prev["orgs"], y_now["orgs"])))
# a change against a base the data-quality check flags carries the caveat mark (or is
# withheld) as data/raw/city_innovation/decisions.yaml says, and a note next to it
flags = quality.flagged(tables.only(d["levels_yearly"], period=[prev_year, year]),
                        data.finding_rules(REPORT, "jump", "levels_yearly"))
flags = flags[(flags["value"] == "orgs")] if len(flags) else flags
if not flags.empty and orgs_change_text is not None:
    orgs_change_text = ledger.flagged(
        "year_orgs_change_text", orgs_change_text,
        why="{} оқу жылындағы ББҰ саны ({}) деректер сапасын тексеруде күрт өзгеріс деп белгіленген".format(
            prev_year, ", ".join(f"{str(r.level).lower()}: {kz.numeral(r.before)}" for r in flags.itertuples())),
        label=f"ББҰ санының {prev_year} оқу жылымен салыстырғандағы өзгерісі") \
        or "өзгеріс көрсетілмеді"
    ledger.also("year_orgs_change_text", "year_orgs_change_pct")
glue("year_orgs_change_text", orgs_change_text)
glue("year_orgs_caveat", "" if flags.empty or y_prev["orgs"] is None else
     " (ескерту: {} оқу жылындағы {} ББҰ-ның {} — {}; деректер сапасын тексеру бұл мәнді күрт "
     "өзгеріс деп белгіледі, сондықтан өзгеріс сенімсіз{})".format(
         prev_year, kz.numeral(y_prev["orgs"]),
         ", ".join(kz.numeral(r.before, "poss") for r in flags.itertuples()),
         ", ".join(str(r.level).lower() + " ұйымдары" for r in flags.itertuples()),
         "" if q.get("orgs_change_pct") is None
         else f"; құжатта {fmt.signed_pct(q['orgs_change_pct'])} деп көрсетілген"))
if None in (y_prev["projects"], y_now["projects"]):
    skipped.append("levels_yearly_growth")
''')

md("ci-ma-levels-yearly-growth-1", '''
Осылайша, егер {{ prev_school_year }} оқу жылында білім беру ұйымдарында (білім беру
деңгейлері бойынша саналғанда) {{ year_projects_prev_year }} инновациялық жоба іске асырылса,
{{ school_year }} оқу жылында олардың саны {{ year_projects_change_text }}{{ year_projects_reason }}: деңгейлер бойынша инновациялық жобалар саны {{ year_projects }} болды, ал
инновациялық жобаларды іске асыратын ұйымдар саны {{ year_orgs }} болды, яғни
{{ prev_school_year }} оқу жылымен салыстырғанда {{ year_orgs_change_text }}{{ year_orgs_caveat }}.
''', section="levels_yearly_growth")

code("ci-co-code-10", '''
t4 = ci.by_level(d["levels_yearly"], [prev2_year, prev_year, year],
                 labels={"projects": "Жобалар саны", "orgs": "Білім беру ұйымдарының саны"})
if t4.empty or data.for_period(d["levels_yearly"], year).empty:
    skipped.append("levels_yearly")
    note(f"{periods.label(year, 'loc')} жылдар бойынша динамика туралы дерек жоқ.")
    glue("levels_yearly_table_no", None)
else:
    shown_years = [c for c in t4.columns.get_level_values(1).unique() if c]
    t4_caption = cap.table(source=["levels_yearly"], text=f"{'–'.join([shown_years[0], shown_years[-1]]) if len(shown_years) > 1 else year} "
                           "оқу жылдарында білім беру ұйымдары енгізетін инновациялық жобалар санының динамикасы")
    glue("levels_yearly_table_no", t4_caption.split(".")[0])     # "4-кесте", for the intro
    t4_total = t4.index[t4[("level", "")] == ci.TOTAL]
    display(present.table(
        ci.numbered(t4, ("level", ""), ("№", "")), t4_caption,
        figures={**{(i, ("Жобалар саны", y)): name for i in t4_total for y, name in
                    [(year, "year_projects"), (prev_year, "year_projects_prev_year")]},
                 **{(i, ("Білім беру ұйымдарының саны", y)): name for i in t4_total for y, name in
                    [(year, "year_orgs"), (prev_year, "year_orgs_prev_year")]}},
        labels={"level": "Білім беру ұйымының деңгейі"}))
''')

# ---------------------------------------------------------------- table 5
code("ci-co-code-11", '''
t5 = ci.projects_table(projects, orgs_now, members, orgs_in_projects) if len(projects) else projects
member_orgs = ci.member_orgs(members) if len(members) else members
mem_total = ci.value(member_orgs, "orgs", row_type="total") if len(member_orgs) else None
glue("listed_projects", len(tables.parts(t5)) if len(t5) else None)
mem_total = ledger.glue_choice("member_orgs", mem_total, q.get("orgs_in_table5_projects"), where="мәтін",
                               label=q_labels.get("orgs_in_table5_projects") or "member_orgs",
                               also=("member_orgs_poss",))
glue("member_orgs_poss", kz.numeral(mem_total, "poss"))
mem_pct = ledger.glue_choice("member_orgs_pct", None if mem_total is None or not orgs_in_projects
                             else tables.share(mem_total, orgs_in_projects),
                             q.get("orgs_in_table5_projects_pct"), where="мәтін",
                             label=q_labels.get("orgs_in_table5_projects_pct") or "member_orgs_pct",
                             also=("member_orgs_pct_poss",))
glue("member_orgs_pct_poss", kz.numeral(mem_pct, "poss", pct=True))
for key, level in [("secondary", "Орта білім беру"), ("special", "Арнайы білім беру"),
                   ("tvet", "Техникалық және кәсіптік білім беру")]:
    ledger.glue_choice(f"member_{key}_orgs", ci.value(member_orgs, "orgs", member_level=level)
                       if len(member_orgs) else None, q.get(f"{key}_orgs_in_table5_projects"), where="мәтін",
                       label=q_labels.get(f"{key}_orgs_in_table5_projects") or f"member_{key}_orgs")
pupils_now = ci.value(head, "pupils", row_type="total") if len(head) else None
pupils_dyn = {}
for key, earlier in [("pupils_change_vs_prev_year", prev_period),
                     ("pupils_change_vs_prev_semester",
                      periods.previous_semester(period) if periods.is_semester(period) else None)]:
    before = tables.parts(data.for_period(d["projects"], earlier)) if earlier else projects.iloc[0:0]
    computed = (None if before.empty or pupils_now is None
                else tables.change(tables.total(before["pupils"]), pupils_now))
    pupils_dyn[key] = (computed, False) if computed is not None else (q.get(key), q.get(key) is not None)
    glue(key, pupils_dyn[key][0])
    glue(f"{key}_text", kz.change(pupils_dyn[key][0], "оқушы"))
pupils_quoted = [k for k, (v, quoted_only) in pupils_dyn.items() if quoted_only]
glue("pupils_change_quoted_note", " (алдыңғы кезеңдердің деректері жоқ: өзгерістер құжаттан "
     "келтірілді)" if pupils_quoted else "")
if pupils_dyn["pupils_change_vs_prev_year"][0] is None:
    skipped.append("pupils_change")
''')

md("ci-ma-narrative-2-heading", '''
## 2. Жобалар бойынша ББҰ-ның қамтылуы, іс-шаралар және контингент
''', narrative=False)

md("ci-ma-narrative-2", '''
{{ period_label_loc }} инновациялық жобаларды іске асыратын
ұйымдардың үлесін талдай отырып, төмендегі кестеде көрсетілген келесідей деректер бар.
''', section="city_tables")

code("ci-co-code-12", '''
if t5.empty:
    skipped.append("projects")
    note(f"{periods.label(period, 'attr')} жобалар бойынша дерек жоқ.")
else:
    t5_caption = cap.table(source=["project_members", "projects", "project_orgs"], text=f"{periods.label(period, 'attr')} білім беру ұйымдарындағы инновациялық "
                           "жобалардың үлесі туралы мәліметтер")
    printed_cover = dict(zip(tables.parts(projects)["project_key"], tables.parts(projects)["declared_coverage_pct"]))
    t5_rows = tables.parts(t5)
    t5_marks = ledger.choose_column(
        t5, "coverage_pct", {i: printed_cover.get(k) for i, k in t5_rows["project_key"].items()},
        "project_coverage_{n}_pct",
        {i: f"{t5_caption.split('.')[0]}, {kz.quoted(name)} жолы, қамту үлесі" for i, name in t5_rows["project_name"].items()},
        where="ұйымдар санынан есептелген үлес")
    display(present.table(
        ci.numbered(t5, "project_name")[["№", "project_name", "area", "orgs", "members",
                                          "coverage_pct", "pupils", "row_type"]],
        t5_caption, marks=t5_marks, ledger=ledger,
        formats={"coverage_pct": "pct", "orgs": "num", "members": "text", "area": "text"},
        labels={"project_name": "Жоба атауы", "area": "Жобаның бағыты",
                "orgs": "Жобаны іске асыратын ұйымдардың саны", "members": "Ұйымдар",
                "coverage_pct": "Білім беру ұйымдарын жобамен қамту үлесі",
                "pupils": "Оқушылардың қатысуы"}))
''')

md("ci-ma-projects-1", '''
Деректерге сүйене отырып, инновациялық жобаларды іске асыратын {{ orgs_in_projects }} білім
беру ұйымының ішінде жоғарыда көрсетілген {{ listed_projects }} инновациялық жобаға білім беру
ұйымдарының {{ member_orgs_poss }} немесе {{ member_orgs_pct_poss }} қатысады, оның ішінде
{{ member_secondary_orgs }} орта білім беру ұйымы, {{ member_special_orgs }} арнайы мектеп,
{{ member_tvet_orgs }} ТжКБ ұйымы.
''', section="projects")

md("ci-ma-pupils-change-1", '''
Осылайша, білім беру ұйымдарындағы инновациялық жобалар бойынша контингент
{{ period_label_loc }} өткен оқу жылымен салыстырғанда {{ pupils_change_vs_prev_year_text }},
ал {{ prev_semester_label_abl }} салыстырғанда
{{ pupils_change_vs_prev_semester_text }}{{ pupils_change_quoted_note }}.
''', section="pupils_change")

# ---------------------------------------------------------------- table 6
code("ci-co-code-13", '''
t6 = ci.events_table(events, orgs_now) if len(events) else events
if t6.empty:
    skipped.append("events")
    note(f"{periods.label(period, 'attr')} іс-шаралар туралы дерек жоқ.")
else:
    types = ci.event_types(events)
    t6_caption = cap.table(source=["events"], text=f"{periods.label(period, 'attr')} {city} қаласының білім беру ұйымдарындағы "
                           "инновациялық жобалар бойынша көрсеткіштер мен контингент")
    printed_share = tables.only(tables.declared(events), event_type_key="total")
    printed_share = dict(zip(printed_share["project_key"], printed_share["declared_share_pct"]))
    t6_rows = tables.parts(t6)
    t6_marks = ledger.choose_column(
        t6, "events_pct", {i: printed_share.get(k) for i, k in t6_rows["project_key"].items()},
        "events_share_{n}_pct",
        {i: f"{t6_caption.split('.')[0]}, {kz.quoted(name)} жолы, іс-шаралар үлесі" for i, name in t6_rows["project_name"].items()},
        where="іс-шаралар санынан есептелген үлес")
    display(present.table(
        ci.numbered(t6, "project_name")[["№", "project_name", "orgs", *types, "events_total",
                                          "events_pct", "row_type"]],
        t6_caption, marks=t6_marks, ledger=ledger,
        formats={"events_pct": ("num", 1), "orgs": "num"},
        spanners={"Іс-шаралар": list(types), "Барлығы": ["events_total", "events_pct"]},
        labels={"project_name": "Жоба", "orgs": "ББҰ саны", **types,
                "events_total": "Іс-шара саны", "events_pct": "%"}))
top = tables.parts(t6).sort_values("events_total", ascending=False, kind="stable").head(1) if len(t6) else t6
glue("events_total", ci.value(t6, "events_total", row_type="total") if len(t6) else None)
for key in ["open_lessons", "seminars", "meetings", "master_classes"]:
    glue(f"events_{key}", ci.value(t6, key, row_type="total") if len(t6) else None)
glue("events_top_project", str(top["project_name"].iloc[0]) if len(top) else None)
glue("events_top_project_pct", float(top["events_pct"].iloc[0]) if len(top) else None)
''')

# ---------------------------------------------------------------- table 7
code("ci-co-code-14", '''
t7 = ci.language_table(languages, orgs_now) if len(languages) else languages
kaz = ci.value(t7, "kaz", row_type="total") if len(t7) else None
rus = ci.value(t7, "rus", row_type="total") if len(t7) else None
both = None if kaz is None else tables.total([kaz, rus])
langs_prev = data.for_period(d["pupils_by_language"], prev_period)
t7_prev = ci.language_table(langs_prev, orgs_now) if len(langs_prev) else langs_prev
kaz_prev = ci.value(t7_prev, "kaz", row_type="total") if len(t7_prev) else None
rus_prev = ci.value(t7_prev, "rus", row_type="total") if len(t7_prev) else None
languages_quoted = kaz_prev is None
kaz_change = (q.get("pupils_kaz_change_vs_prev_year") if languages_quoted or kaz is None
              else tables.change(kaz_prev, kaz))
rus_change = (q.get("pupils_rus_change_vs_prev_year") if languages_quoted or rus is None
              else tables.change(rus_prev, rus))
glue("pupils_kaz", kaz)
ledger.glue_choice("pupils_kaz_pct", None if kaz is None else tables.share(kaz, both), q.get("pupils_kaz_pct"),
                   label=q_labels.get("pupils_kaz_pct") or "pupils_kaz_pct", where="мәтін")
glue("pupils_rus", rus)
ledger.glue_choice("pupils_rus_pct", None if rus is None else tables.share(rus, both), q.get("pupils_rus_pct"),
                   label=q_labels.get("pupils_rus_pct") or "pupils_rus_pct", where="мәтін")
if kaz_change is None:
    skipped.append("languages_change")
rus_change_pct = None if None in (rus, rus_change) else tables.growth_pct(rus - rus_change, rus)
glue("pupils_kaz_change_vs_prev_year", kaz_change)
glue("pupils_rus_change_vs_prev_year", rus_change)
rus_change_pct = ledger.glue_choice("pupils_rus_change_vs_prev_year_pct", rus_change_pct,
                                    q.get("pupils_rus_change_vs_prev_year_pct"), where="мәтін",
                                    label=q_labels.get("pupils_rus_change_vs_prev_year_pct") or "pupils_rus_change_pct",
                                    also=("pupils_rus_change_text",))
glue("pupils_kaz_change_text", kz.change(kaz_change, "оқушы"))
glue("pupils_rus_change_text", kz.change(rus_change, "оқушы", pct=rus_change_pct))
glue("languages_change_quoted_note", " (алдыңғы кезеңнің деректері жоқ: өзгерістер құжаттан "
     "келтірілді)" if languages_quoted and kaz_change is not None else "")
''')

md("ci-ma-languages-1", '''
Төмендегі кестенің деректеріне сәйкес, оқыту тілдері бойынша білім алушылардың ішкі
құрылымын байқауға болады: {{ period_label_loc }} қазақ тілінде білім алушылар саны
{{ pupils_kaz }} немесе {{ pupils_kaz_pct }}, орыс тілінде {{ pupils_rus }} немесе
{{ pupils_rus_pct }} құрайды.
''', section="languages")

md("ci-ma-languages-change-1", '''
Деректерге сәйкес, оқыту тілдері бөлінісінде инновациялық жобалар бойынша білім алушылар саны
{{ period_label_loc }} {{ prev_period_label_abl }} салыстырғанда қазақ тілінде оқитындар
{{ pupils_kaz_change_text }}, орыс тілінде оқитындар {{ pupils_rus_change_text }}{{ languages_change_quoted_note }}.
''', section="languages_change")

code("ci-co-code-15", '''
if t7.empty:
    skipped.append("languages")
    note(f"{periods.label(period, 'attr')} оқыту тілдері бойынша дерек жоқ.")
else:
    langs = dict(zip(languages["language_key"], languages["language"]))
    display(present.table(
        ci.numbered(t7, "project_name")[["№", "project_name", "orgs", *langs, "row_type"]],
        cap.table(source=["pupils_by_language"], text=f"{periods.label(period, 'loc')} оқыту тілдері бөлінісінде инновациялық "
                  "жобалар бойынша білім алушылардың үлес салмағы"),
        formats={"orgs": "num"},
        spanners={"Білім алушылар саны": list(langs)},
        labels={"project_name": "Жобалар", "orgs": "ББҰ саны", **langs}))
''')

# ---------------------------------------------------------------- school reports roll-up (issue 14)
# Self-contained section (owner: the school forms work): the schools' own reports
# (school_project: returned forms and transcribed reports) of the period's school year,
# against the member list the forms were made from and beside the city's tables of the
# period (5-7-кесте) when those are filled in. Placed after the city's tables (it names
# their numbers) and before the closing text. Its cells have explicit ids (ci-rollup-*).
# Skipped when no school report exists for the year.
def rollup_md(cell_id, src, narrative=True):
    c = new_markdown_cell(unwrap(src))
    c.id = cell_id
    if narrative:
        c.metadata["tags"] = ["narrative"]
    c.metadata["esep"] = {"section": "school_forms"}
    assert not any(l.startswith("{{") for l in c.source.splitlines()), src
    cells.append(c)
def rollup_code(cell_id, src, tags=None):
    c = new_code_cell(src.strip("\n"))
    c.id = cell_id
    if tags:
        c.metadata["tags"] = tags
    cells.append(c)

rollup_code("ci-rollup-data", """
# the schools' own reports (school_project: returned forms, transcribed reports) of this
# school year, against the member list the forms were made from (the latest list of the
# year or before it) and beside this period's 5-7-кесте when filled in (helpers/rollup.py)
import json

from esep.data.forms import status_path
from helpers import rollup

roll_year = periods.school_year(period)
try:
    school = {s: data.load("school_project", s) for s in ("members", "grade_bands", "events")}
except data.MissingDataError:
    school = None
roll_reports = rollup.reports_for(school["members"], roll_year, city) if school else None
roll_list_period, roll_list = rollup.member_list(d["project_members"], roll_year)
if roll_reports is None or roll_reports.empty:
    skipped.append("school_forms")
    glue("rollup_reports", 0)
else:
    try:
        school_langs = data.load("school_project", "pupils_by_language")
    except data.MissingDataError:
        school_langs = None     # no returned form yet: transcribed reports give no languages
    status = json.loads(status_path().read_text(encoding="utf-8")) if status_path().is_file() else {}
    roll_invalid = rollup.invalid_forms(status, roll_year)
    # projects named as the forms name them: 6-кесте's short names of the list's period, else 5-кесте's
    roll_names = {**dict(zip(*[tables.parts(data.for_period(d["projects"], roll_list_period))[c]
                               for c in ("project_key", "project_name")])),
                  **{k: v for k, v in zip(*[tables.parts(data.for_period(d["events"], roll_list_period))[c]
                                            for c in ("project_key", "project_name")]) if k}} \\
        if roll_list_period else {}
    # this report's numbers of the city tables the roll-up compares with (absent: not filled in)
    roll_tables = {k: cap.sources[s] for k, s in (("projects", "projects"), ("events", "events"),
                                                  ("languages", "pupils_by_language")) if s in cap.sources}
    roll = rollup.coverage(roll_list, projects, orgs_now, languages, roll_reports, school["grade_bands"],
                           school_langs, names=roll_names, invalid=roll_invalid)
    roll_events = rollup.events_by_group(events, roll_reports, school["events"], names=roll_names,
                                         labels=dict(zip(d["events"]["event_type_key"], d["events"]["event_type"])))
    roll_findings = rollup.findings(roll, roll_events, roll_tables)
    listed = rollup.city_members(roll_list)
    bad = listed[listed["member_id"].isin(roll_invalid)]
    bad_names = [f"{m} ({roll.set_index('project_key')['project_name'].get(k, k)})"
                 for m, k in zip(bad["member_name"], bad["project_key"])]
    glue("rollup_year", roll_year)
    glue("rollup_reports", len(roll_reports))
    glue("rollup_projects", int((roll["orgs_forms"] > 0).sum()))
    glue("rollup_list_period", roll_list_period)
    glue("rollup_list_label_attr", periods.label(roll_list_period, "attr") if roll_list_period else None)
    glue("rollup_list_source", "" if roll_list_period is None else " (5-кесте)" if roll_list_period == period
         else " (сол кезеңдегі қалалық есептің 5-кестесі)")
    glue("rollup_member_orgs", tables.total(roll["orgs_listed"]))
    glue("rollup_pupils_forms", tables.total(roll["pupils_forms"]))
    glue("rollup_invalid", len(bad_names))
    glue("rollup_compare_text",
         f"есептердің қосындысы қалалық кестелердегі ({rollup.table_list(list(roll_tables.values()))}) мәндермен "
         "қатар берілген, айырмашылықтар кестелерден кейін көрсетілген." if roll_tables else
         "мектептердің есептерінің қосындысы ғана берілген: осы кезеңнің қалалық кестелері (жобалар, "
         "іс-шаралар және оқыту тілі бойынша) әлі толтырылмаған, сондықтан есептер тек мүшелер тізімімен "
         "салыстырылды.")
    glue("rollup_invalid_text", "" if not bad_names else
         " Қатесі бар формалар есепке алынбады: " + ", ".join(bad_names[:10])
         + ("" if len(bad_names) <= 10 else f" және тағы {kz.numeral(len(bad_names) - 10)} мектеп")
         + ". Қатенің парағы мен ұяшығы басты беттегі «Мектептердің есеп формалары» кестесінде "
           "көрсетілген; мектеп түзетілген форманы жібергенде, ол есепке қосылады.")
    glue("rollup_findings_count", len(roll_findings))
    for r in roll.itertuples():
        glue(f"rollup_{r.project_key}_orgs_listed", r.orgs_listed)
        glue(f"rollup_{r.project_key}_orgs_forms", r.orgs_forms)
        glue(f"rollup_{r.project_key}_pupils_forms", r.pupils_forms)
    for (key, grp), v in roll_events.set_index(["project_key", "group"])["events_forms"].items():
        if v is not None:
            glue(f"rollup_{key}_{grp}_forms", v)
""", ["remove"])

rollup_md("ci-rollup-heading", """
## 3. Мектептердің есептері
""", narrative=False)

rollup_md("ci-rollup-text", """
Мектептер инновациялық жоба бойынша атқарған жұмысы туралы оқу жылына бір рет есеп береді
(мектеп формасы немесе жылдық есеп). Деректерде {{ rollup_year }} оқу жылына
{{ rollup_projects }} жоба бойынша {{ rollup_reports }} мектептің есебі бар. Есеп берген
мектептер {{ rollup_list_label_attr }} мүшелер тізімімен{{ rollup_list_source }}
салыстырылды: мектеп формалары осы тізім бойынша жасалады.
""")

rollup_md("ci-rollup-text-compare", """
Төмендегі кестелерде {{ rollup_compare_text }}{{ rollup_invalid_text }}
""")

rollup_code("ci-rollup-tables", """
if "school_forms" not in skipped:
    city_cols = bool(roll_tables)
    lang_kk = {"kaz": "қазақ тілінде", "rus": "орыс тілінде", "eng": "ағылшын тілінде"}
    shown_langs = rollup.languages_shown(roll, city=city_cols)
    cov_tbl = rollup.coverage_table(roll, city=city_cols)
    t5_no, t6_no, t7_no = (roll_tables.get(k, k) for k in ("projects", "events", "languages"))
    differ = rollup.list_differences(roll)
    cov_note = ("Тізімде – мектеп формалары жасалған мүшелер тізіміндегі мектептер; есеп бергені – есебі "
                "деректерде бар мектептер" + ("; есептер – мектептердің формалары мен есептерінің қосындысы"
                                              if city_cols else "") + "; «-» – дерек жоқ.")
    if len(differ):
        cov_note += (f" {kz.inflect(t5_no, 'loc')} басылған ББҰ саны тізімнен өзгеше: "
                     + "; ".join(f"{r.project_name} – {kz.numeral(r.orgs_city)} (тізімде {kz.numeral(r.orgs_listed)})"
                                 for r in differ.itertuples()) + ".")
    if city_cols:
        spanners = {"ББҰ саны": ["orgs_listed", "orgs_forms"], "Білім алушылар саны": ["pupils_city", "pupils_forms"],
                    **{lang_kk[k]: [f"{k}_city", f"{k}_forms"] for k in shown_langs}}
        labels = {"pupils_city": t5_no, **{f"{k}_city": t7_no for k in shown_langs},
                  **{f"{k}_forms": "есептер" for k in ["pupils", *shown_langs]}}
        caption = f"Мүше ұйымдар мен білім алушылар: мектептердің есептері, мүшелер тізімі және {t5_no}, {t7_no}"
    else:
        spanners = {"ББҰ саны": ["orgs_listed", "orgs_forms"],
                    "Мектептердің есептеріндегі білім алушылар саны": ["pupils_forms", *[f"{k}_forms" for k in shown_langs]]}
        labels = {"pupils_forms": "барлығы", **{f"{k}_forms": lang_kk[k] for k in shown_langs}}
        caption = "Мүше ұйымдар мен білім алушылар: мектептердің есептері және мүшелер тізімі"
    display(present.table(
        cov_tbl, cap.table(caption),
        formats={c: "num" for c in cov_tbl.columns if c != "project_name"},
        spanners=spanners,
        labels={"project_name": "Жоба", "orgs_listed": "тізімде", "orgs_forms": "есеп бергені", **labels},
        total_label=None, note=cov_note))
    ev_tbl = rollup.events_table(roll_events, city=city_cols and "events" in roll_tables)
    if len(ev_tbl):
        groups = dict(zip(roll_events["group"], roll_events["event_type"]))
        if city_cols and "events" in roll_tables:
            ev_spanners = {groups.get(g, g): [f"{g}_city", f"{g}_forms"] for g in rollup.GROUP_ORDER}
            ev_labels = {**{f"{g}_city": t6_no for g in rollup.GROUP_ORDER},
                         **{f"{g}_forms": "есептер" for g in rollup.GROUP_ORDER}}
            ev_caption = f"Іс-шаралар түрі бойынша: мектептердің есептері және {t6_no}"
        else:
            ev_spanners = None
            ev_labels = {**{f"{g}_forms": groups.get(g, g)[:1].upper() + groups.get(g, g)[1:]
                            for g in rollup.GROUP_ORDER}, "events_forms": "Барлығы"}
            ev_caption = "Мектептердің есептеріндегі іс-шаралар, түрі бойынша"
        display(present.table(
            ev_tbl, cap.table(ev_caption),
            formats={c: "num" for c in ev_tbl.columns if c != "project_name"},
            spanners=ev_spanners, labels={"project_name": "Жоба", **ev_labels}, total_label=None,
            note=("Есептер – мектептердің есептеріндегі іс-шаралар саны. " if city_cols and "events" in roll_tables
                  else "") + "Мектептердің іс-шара түрлері қалалық кестенің топтарына біріктірілді: семинар, дөңгелек үстел, "
                 "вебинар – семинар; конференция – жиналыс / конференция; шебер-сынып, тренинг – шебер "
                 "сыныптар; ашық сабақ – ашық сабақтар."))
    if roll_findings.empty:
        note("Мектептердің есептері мүшелер тізімімен және қалалық кестелермен сәйкес келеді.")
    else:
        display(present.table(
            roll_findings[["finding"]],
            cap.table("Деректер сапасы: мектептердің есептерінің мүшелер тізімінен және қалалық кестелерден айырмашылығы"
                      if city_cols else "Деректер сапасы: мектептердің есептері және мүшелер тізімі"),
            labels={"finding": "Айырмашылық"}, total_label=None))
""")

md("ci-ma-narrative-3", '''
Осылайша, инновациялық жобалар шеңберінде инновациялық қызметті тиімді және сапалы
ұйымдастыру үшін елорданың білім беру ұйымдарының өкілдері мен педагогтеріне білім беруде
енгізілетін жобаның концепциясын, құрылымын, кезеңдерін, күтілетін нәтижелерін зерделеу
ұсынылады.

Жобаның мақсаты туралы нақты түсініктің қалыптасуы маңызды. Педагогикалық процеске қатысты
инновациялық оқыту мен тәрбиелеудің мақсаттарына, мазмұнына, формалары мен әдістеріне,
мұғалім мен оқушының, тәрбиеленушінің бірлескен қызметін ұйымдастыруда жаңалық енгізуді
білдіреді.

Инновация – бұл ғылыми ізденістердің, жеке педагогтер мен бүкіл ұжымдардың озық
педагогикалық тәжірибесінің нәтижесі. Инновациялық процестер мектеп пен педагогиканың
қарқынды даму механизмі болып табылады. Инновацияны енгізу және іске асыру, яғни білім беру
ұйымдарының практикасына озық педагогикалық тәжірибелерді енгізу педагогтер мен мектеп
басшыларынан шығармашылық ізденіске қабілетті, инновациялық қызметке дайындықты талап етеді.

Сонымен қатар, инновацияны жүйелі зерттеудің, зерделеудің, оқытудың перспективалық
тәсілдерінің бірі ретінде қарастыруға болады: ол әртүрлі білім беру модельдері мен зерттеу
жобалары ретінде қолдануға мүмкіндік береді, проблемалық көзқарасты, тұлғалық және топаралық
диалогты қалыптастырады, білімді жүйелеуге ықпал етеді, ал педагогтердің жаңа технологияларды
қолдануы осы процестегі маңызды қадам болып табылады.
''')

md("ci-ma-narrative-4", '''
{{ author }}
''', section="author")

# ---------------------------------------------------------------- corrections
code("ci-co-corrections-1", '''
ledger.glue()   # the engine marks every placeholder showing a corrected figure
glue_shown()    # table cells that print a named figure (one value per quantity, tested)
cap.glue()      # raw table -> this report's "N-кесте" (the «Деректер сапасы» appendix names them)
if not ledger.items:
    skipped.append("corrections")
''', ["remove"])

md("ci-ma-corrections-1", '''
## Түзетулер

Құжатта басылған мәннен өзгеше көрсетілген немесе ескертпемен берілген сандар: әр сандағы
белгі осы кестенің жолына апарады.
''', narrative=False, section="corrections")

code("ci-co-corrections-2", '''
if ledger.items:
    from IPython.display import HTML
    display(HTML(ledger.appendix_html(cap.table("Құжаттағы мәннен өзгеше көрсетілген сандар"))))
''')

# ---------------------------------------------------------------- checks appendix
md("ci-ma-markdown-1", '''
## Қосымша. Мәтіндегі сандар мен үлестерді тексеру
''', narrative=False)

code("ci-co-code-16", '''
years_shown = [prev2_year, prev_year, year]
quoted_vs_computed = {
    "projects_running": ci.value(head, "projects", row_type="total") if len(head) else None,
    "projects_opened": opened_now["projects"],
    "secondary_orgs": sec_total,
    "preschool_orgs_1_project": ci.orgs_with(t3, "Мектепке дейінгі", 1) if len(t3) else None,
    "tvet_orgs_1_project": ci.orgs_with(t3, "Техникалық", 1) if len(t3) else None,
    "secondary_orgs_of_all_pct": None if sec_total is None or not orgs_in_projects
    else tables.share(sec_total, orgs_in_projects),
    "state_orgs": state_total,
    "international_orgs": intl_all,
    "international_orgs_of_state_pct": None if intl_all is None or not state_total
    else tables.share(intl_all, state_total),
    "international_tvet_orgs": ci.value(intl_now, "orgs", category_key="tvet") if len(intl_now) else None,
    "international_secondary_orgs_pct": None if sec_now is None or not intl_all
    else tables.share(sec_now, intl_all),
    "global_scholars_orgs_change_pct": gs["change_pct"],
    "ib_orgs_change_pct": ib["change_pct"],
    "international_secondary_orgs_change_pct": None if None in (sec_prev, sec_now)
    else tables.growth_pct(sec_prev, sec_now),
    "projects_prev_year": y_prev["projects"],
    "projects_decrease": None if None in (y_prev["projects"], y_now["projects"])
    else y_prev["projects"] - y_now["projects"],
    "orgs_in_table5_projects": mem_total,
    "orgs_in_table5_projects_pct": None if mem_total is None or not orgs_in_projects
    else tables.share(mem_total, orgs_in_projects),
    "secondary_orgs_in_table5_projects": ci.value(member_orgs, "orgs", member_level="Орта білім беру")
    if len(member_orgs) else None,
    "pupils_kaz_pct": None if kaz is None else tables.share(kaz, both),
    "pupils_rus_pct": None if rus is None else tables.share(rus, both),
    "pupils_rus_change_vs_prev_year_pct": None if None in (rus, rus_change)
    else tables.growth_pct(rus - rus_change, rus),
}
slips = ci.checks([
    ci.check_headline(kinds, head),
    ci.check_totals("1-кесте", tables.only(d["levels_opened"], period=[prev_year, year]),
                    "level", ["projects", "orgs"], by="period"),
    ci.check_totals("2-кесте", tables.only(d["levels_semester"], period=[prev_period, period]),
                    "level", ["projects", "orgs"], by="period"),
    ci.check_project_load(load, t3),
    ci.check_totals("4-кесте", tables.only(d["levels_yearly"], period=years_shown),
                    "level", ["projects", "orgs"], by="period"),
    ci.check_projects(projects, t5),
    ci.check_events(events, t6),
    ci.check_languages(languages, t7, t5),
    ci.check_project_orgs(orgs_now),
    ci.check_international(d["international_orgs"], intl),
    ci.check_totals("Мемлекеттік ББҰ (мәтін)", state, "level", ["orgs"]) if len(state) else None,
    ci.check_quoted(q, q_labels, quoted_vs_computed),
    ci.check_quoted(q_prev, q_labels, {"projects_prev_year": y_prev["projects"],
                                       "international_secondary_orgs_prev": sec_prev}),
])
glue("slips_count", len(slips))
glue("sections_skipped", skipped)
# printed totals and counts repeated across tables are listed by the pipeline's
# «Деректер сапасы» appendix below; this one shows what only the notebook checks
own_slips = ci.notebook_only(slips)
note("Мәтінде келтірілген сандар мен басылған үлестер кестелердің бөліктерінен есептелген "
     "мәндермен салыстырылды. Кестелердегі «Барлығы» жолдары мен бір көрсеткіштің әр "
     "кестедегі мәндері келесі «Деректер сапасы» бөлімінде бастапқы файлдар бойынша тексерілген.")
if own_slips.empty:
    note("Мәтіндегі сандар мен үлестер есептелген мәндермен сәйкес келеді.")
else:
    display(present.table(
        own_slips, cap.table("Мәтіндегі сандар мен басылған үлестердің есептелген мәндерден айырмашылығы"),
        formats={"declared": "auto", "computed": "auto"}, total_label=None,
        labels={"where": "Қайда", "item": "Көрсеткіш", "declared": "Басылған",
                "computed": "Есептелген"}))
''')

# Stable cell ids: every cell names its own id (the first argument of md()/code()), never
# derived from its position, so inserting or removing a cell leaves every other id as it
# was (narrative edits in narrative/<report>/<period>.md are keyed by cell id).
# tests/test_templates.py keeps this generator's output equal to the committed notebook.
dupes = sorted({c.id for c in cells if [d.id for d in cells].count(c.id) > 1})
assert not dupes, f"cell ids used twice: {dupes}"
nb = new_notebook(cells=cells)
nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
               "language_info": {"name": "python"}}
nbformat.write(nb, sys.argv[1])
