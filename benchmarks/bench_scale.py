#!/usr/bin/env python
"""Scale benchmark: N school reports (``school_project``) from N synthetic school forms,
on the local process pool and on a Dask LocalCluster (issue 14 item 6).

For each N a scratch project is made under a temp folder (never this project's
``data/raw/``): a copy of what building ``school_project`` needs (``esep.toml``,
``notebooks/``, ``src/``, ``params/school_project`` and ``data/raw/``), in which

1. the city's member list (``data/raw/city_innovation/project_members.csv``) gets a list
   for the benchmark's school year with N synthetic member schools, spread over the
   city's projects (``projects.csv`` rows copied to that list's period);
2. ``esep forms school_project --period P`` writes one pre-filled form per member (esep's
   own forms code, into the scratch ``output/forms/P/``);
3. every form is filled the way a school does it (``tests/test_forms.py``'s ``fill``:
   openpyxl, the white passport cells and the table sheets) with plausible synthetic
   values from a seeded generator (teachers and pupils by grade band with a total row
   that agrees, events by kind and level, quality, SWOT...), and saved into the scratch
   ``data/raw/school_project/forms/P/`` ("the analyst drops the returned files in");
   ``--broken K`` breaks K of them (a level no list has), which must fail only their own
   reports. The forms are generated and filled once, for the largest N; a smaller N's
   project gets the first N members of the same list and copies their (identical) forms.

Then, per executor (``local``: the process pool; ``dask``: a LocalCluster of one worker
per core), a cold ``esep build school_project --force`` (the report's default formats:
HTML + PDF; ``--to html`` to leave PDF out) runs as its own process tree: N school
reports + the period's summary. Printed per run: wall time, time per report, CPU per
report (user + system of the whole process tree: build, workers, zygote, kernels, Dask
scheduler and nannies), peak memory (largest sum of RSS over the tree, sampled every
0.5 s; copy-on-write pages of forked kernels count once per process, so this overstates
the real footprint) and the growth of the cost per report from the smallest N; the
build's own per-phase figures (``output/.esep/last_build.json``) are summed per phase.
A JSON record goes to ``benchmarks/results/scale-*.json``.

    .venv/bin/python benchmarks/bench_scale.py                      # 100, 300, 1000 x local, dask
    .venv/bin/python benchmarks/bench_scale.py --sizes 100 --executors local
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
REPORT = "school_project"
PERIOD = "2030-2031"               # the benchmark's school year (no real data for it)
LIST_PERIOD = f"{PERIOD}-S2"       # its member list in city_innovation/project_members.csv
COPY = ("esep.toml", "notebooks", "src", "data/raw")


# --- the scratch project ---------------------------------------------------------------------

def snapshot(base: Path) -> Path:
    """This project's tree as it is now (what every scratch project copies: edits made
    while the benchmark runs do not reach its later runs)."""
    snap = base / "snapshot"
    for rel in COPY:
        src = REPO / rel
        if src.is_dir():
            shutil.copytree(src, snap / rel, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            (snap / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, snap / rel)
    return snap


def make_project(base: Path, n: int, origin: Path = REPO) -> Path:
    """A scratch copy of what ``school_project`` needs, with a member list of ``n`` schools."""
    root = base / f"scale-{n}"
    root.mkdir(parents=True)
    for rel in COPY:
        src = origin / rel
        if src.is_dir():   # returned forms of the real project stay out: only the synthetic ones
            skip = ("__pycache__", "*.pyc", ".ipynb_checkpoints") + (("forms",) if rel == "data/raw" else ())
            shutil.copytree(src, root / rel, ignore=shutil.ignore_patterns(*skip))
        else:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, root / rel)
    (root / "params" / REPORT).mkdir(parents=True)   # only the benchmark's period: N + 1 units
    city = root / "data/raw/city_innovation"
    with open(city / "projects.csv", encoding="utf-8", newline="") as fh:
        projects = list(csv.DictReader(fh))
    latest = max(r["period"] for r in projects)
    mine = [dict(r, period=LIST_PERIOD) for r in projects if r["period"] == latest and r["row_type"] == "part"]
    _append_csv(city / "projects.csv", mine)
    keys = [r["project_key"] for r in mine]
    with open(city / "project_members.csv", encoding="utf-8", newline="") as fh:
        fields = csv.DictReader(fh).fieldnames
    members = []
    for i in range(n):
        key = keys[i % len(keys)]
        members.append({"period": LIST_PERIOD, "city": "Астана", "project_key": key,
                        "member_no": str(sum(m["project_key"] == key for m in members) + 1),
                        "member_name": f"№{1000 + i} мектеп", "member_level": "Орта білім беру",
                        "source": "синтетикалық тізім (bench_scale)"})
    _append_csv(city / "project_members.csv", [{k: m.get(k, "") for k in fields} for m in members])
    return root


def _append_csv(path: Path, rows: list[dict]) -> None:
    with open(path, encoding="utf-8", newline="") as fh:
        fields = csv.DictReader(fh).fieldnames
    with open(path, "a", encoding="utf-8", newline="") as fh:
        csv.DictWriter(fh, fieldnames=fields).writerows(rows)


def env_for(root: Path) -> dict:
    return dict(os.environ, ESEP_ROOT=str(root), PYTHONPATH=str(root / "src"), PYTHONDONTWRITEBYTECODE="1")


# --- filling the forms (what a school does) --------------------------------------------------

KINDS = ["семинар", "конференция", "вебинар", "шебер-сынып", "тренинг", "ашық сабақ", "дөңгелек үстел"]
LEVELS = ["мектепішілік", "қалалық", "республикалық", "халықаралық"]
OUT_KINDS = ["мақала", "баяндама", "БАҚ мақаласы", "ОӘК"]
CATEGORIES = ["педагог", "педагог-модератор", "педагог-сарапшы", "педагог-зерттеуші", "педагог-шебер"]
QUADRANTS = ["Күшті жақтары", "Әлсіз жақтары", "Қауіптер", "Мүмкіндіктер"]
MONTHS = ["қыркүйек", "қазан", "қараша", "желтоқсан", "қаңтар", "ақпан", "наурыз", "сәуір", "мамыр"]
SURNAMES = ["Абенова", "Жұмабаев", "Сейітова", "Омаров", "Ким", "Нұрланова", "Бекова", "Тоқтаров",
            "Әлиева", "Серікбаев", "Исаева", "Ахметов"]
GOALS = ["Зерттеу мәдениетін дамыту", "Сабақты зерттеу әдісін енгізу", "Оқушылардың функционалдық "
         "сауаттылығын арттыру", "Педагогтердің кәсіби қоғамдастығын қалыптастыру"]


def synthetic_form(i: int, broken: bool = False) -> dict:
    """Plausible values for school ``i`` (seeded: the same N gives the same forms)."""
    r = random.Random(1000 + i)
    bands = []
    for band, (lo, hi) in (("1-4", (8, 30)), ("5-8", (6, 25)), ("9-11", (4, 18)))[: r.randint(1, 3)]:
        bands.append([band, r.randint(lo // 2 + 1, hi // 2 + 2), r.randint(lo, hi) * 25])
    bands.append(["Барлығы", sum(b[1] for b in bands), sum(b[2] for b in bands)])
    pupils = bands[-1][2]
    kaz = r.randint(pupils // 2, pupils)
    langs = [["қазақ", kaz]] + ([["орыс", pupils - kaz]] if pupils > kaz else [])
    teachers = bands[-1][1]
    cats = r.sample(CATEGORIES, r.randint(2, 4))
    split = sorted(r.sample(range(1, teachers), len(cats) - 1)) if teachers > len(cats) else []
    quals = [[c, b - a] for c, a, b in zip(cats, [0] + split, split + [teachers])] if split else \
        [[cats[0], teachers]]
    events = [[r.choice(KINDS), r.choice(LEVELS + [None]), f"«Іс-шара {i}-{k + 1}»"]
              for k in range(r.randint(3, 10))]
    if broken:
        events[-1][1] = "облыстық"      # not in the list: the form is invalid, its report fails
    outputs = [[r.choice(OUT_KINDS), r.choice(LEVELS), f"«Жарияланым {i}-{k + 1}»"] for k in range(r.randint(0, 3))]
    swot = [[q, f"{q}: тармақ {k + 1}"] for q in QUADRANTS for k in range(r.randint(1, 3))]
    m0 = r.randint(0, 3)
    return dict(
        passport={"school_name": f"№{1000 + i} жалпы білім беретін мектеп", "school_kind": "мектеп",
                  "experience_years_from": r.randint(1, 8), "experience_years_to": r.randint(15, 35),
                  "events_month_from": MONTHS[m0], "events_month_to": MONTHS[r.randint(m0 + 4, 8)]},
        sheets={"Мақсаттар": [[g] for g in r.sample(GOALS, r.randint(1, 3))],
                "Педагогтер": [[f"{s} {chr(0x410 + r.randint(0, 31))}.{chr(0x410 + r.randint(0, 31))}."]
                               for s in r.sample(SURNAMES, r.randint(2, 6))],
                "Сыныптар": bands, "Оқыту тілі": langs, "Санаттар": quals, "Іс-шаралар": events,
                "Білім сапасы": [["ИЖ қатысатын сыныптар", f"{r.randint(450, 950) / 10:.1f}".replace(".", ",")]],
                "Ғылыми қызмет": outputs,
                "Курстар": [["«Іс-әрекеттегі зерттеу»", r.choice(["тренер", None]), r.randint(1, 6)]],
                "SWOT": swot,
                "Ұсыныстар": [[f"Ұсыныс {k + 1}"] for k in range(r.randint(1, 3))]})


def fill(path: Path, out: Path, passport: dict | None = None, sheets: dict | None = None) -> Path:
    """What a school does (as ``tests/test_forms.py``): type into the white cells, save."""
    from openpyxl import load_workbook

    wb = load_workbook(path)
    pp = wb["Паспорт"]
    keys = {pp.cell(row=r, column=3).value: r for r in range(2, pp.max_row + 1)}
    for k, v in (passport or {}).items():
        pp.cell(row=keys[k], column=2, value=v)
    for title, rows in (sheets or {}).items():
        ws = wb[title]
        for i, row in enumerate(rows, 2):
            for j, v in enumerate(row, 1):
                ws.cell(row=i, column=j, value=v)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


def _fill_one(job):
    i, src, dst, broken = job
    fill(Path(src), Path(dst), **synthetic_form(i, broken))


def _number(name: str) -> int:
    """The synthetic school's index from its form's name (``astana-1037-ib.xlsx`` -> 37)."""
    return int(name.split("-")[1]) - 1000


def write_forms(root: Path, n: int, broken: int, filled: Path | None = None, big: int | None = None) -> dict:
    """``esep forms`` for the period, then every form filled and dropped into data/raw.
    ``filled``: the returned-forms folder of a larger scratch project made the same way
    (its first members are these members, with the same forms): copy this list's forms
    from there instead of generating and filling them again."""
    inbox = root / "data/raw" / REPORT / "forms" / PERIOD
    if filled is not None:
        t0 = time.perf_counter()
        inbox.mkdir(parents=True)
        for p in sorted(filled.glob("*.xlsx")):
            if _number(p.name) < n:
                shutil.copy2(p, inbox / p.name)
        got = len(list(inbox.glob("*.xlsx")))
        assert got == n, f"{got} forms copied for {n} members"
        params = root / "params" / REPORT / f"{PERIOD}.yaml"
        shutil.copy2(filled.parents[4] / "params" / REPORT / f"{PERIOD}.yaml", params)
        return {"copied_from": str(filled.parents[4].name), "copy_s": round(time.perf_counter() - t0, 1),
                "broken": sum(1 for p in inbox.glob("*.xlsx") if _is_broken(_number(p.name), big or n, broken))}
    t0 = time.perf_counter()
    subprocess.run([str(BIN / "esep"), "forms", REPORT, "--period", PERIOD], env=env_for(root), cwd=root,
                   check=True, capture_output=True)
    t1 = time.perf_counter()
    gen = sorted((root / "output/forms" / PERIOD).glob("*.xlsx"))
    assert len(gen) == n, f"esep forms wrote {len(gen)} forms for {n} members"
    jobs = [(_number(p.name), str(p), str(inbox / p.name), _is_broken(_number(p.name), n, broken)) for p in gen]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max(1, len(os.sched_getaffinity(0)))) as pool:
        list(pool.map(_fill_one, jobs, chunksize=16))
    shutil.rmtree(root / "output")           # a cold build: nothing but the returned forms
    return {"generate_s": round(t1 - t0, 1), "fill_s": round(time.perf_counter() - t1, 1),
            "broken": sum(j[3] for j in jobs)}


def _is_broken(i: int, n: int, broken: int) -> bool:
    """Every (n // broken)-th school sends a broken form (none when ``broken`` is 0)."""
    step = max(1, n // broken) if broken else 0
    return bool(step) and i % step == step - 1 and i // step < broken


# --- one build as its own process tree -------------------------------------------------------

def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (from /proc)."""
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat", "rb") as fh:
                    parent[int(d)] = int(fh.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    out, todo = [], [pid]
    kids: dict[int, list[int]] = {}
    for c, p in parent.items():
        kids.setdefault(p, []).append(c)
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def _tree_rss(pid: int) -> int:
    page, total = os.sysconf("SC_PAGE_SIZE"), 0
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/statm", "rb") as fh:
                total += int(fh.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total


def run_build(root: Path, executor: str, jobs: int | None, to: str | None) -> dict:
    import resource

    argv = [str(BIN / "esep"), "build", REPORT, "--force", "--executor", executor]
    if to:
        argv += ["--to", to]
    if jobs:
        argv += ["--jobs", str(jobs)]
    # CPU of the whole tree: RUSAGE_CHILDREN counts every descendant that was waited for;
    # the build's own children are waited for by it (workers, kernels, zygote, Dask), and
    # the build by us, so after it exits this is the tree's user + system time.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    log = root.parent / f"build-{root.name}-{executor}.log"     # progress lines, readable while it runs
    fh = open(log, "w", encoding="utf-8")
    proc = subprocess.Popen(argv, env=env_for(root), cwd=root, stdout=fh, stderr=subprocess.STDOUT, text=True)
    peak = [0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            time.sleep(0.5)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    proc.wait()
    wall = time.perf_counter() - t0
    fh.close()
    out = log.read_text(encoding="utf-8", errors="replace")
    th.join(1)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    try:
        last = json.loads((root / "output/.esep/last_build.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        last = {}
    phases: dict[str, list[float]] = {}
    for u in last.get("units", []):
        for ph, (w, c) in (u.get("phases") or {}).items():
            acc = phases.setdefault(ph, [0.0, 0.0])
            acc[0] += w
            acc[1] += c
    return {"exit": proc.returncode, "seconds": round(wall, 2), "cpu": round(cpu, 2),
            "peak_mb": round(peak[0] / 2**20), "counts": last.get("counts"), "load_start": load0,
            "load_end": os.getloadavg(), "phases": {k: [round(w, 1), round(c, 1)] for k, (w, c) in phases.items()},
            "tail": out[-3000:]}


def _save(rows, cpus, args, up, up_end, stamp) -> None:
    out = REPO / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"scale-{stamp}.json").write_text(json.dumps(
        {"cpus": cpus, "formats": args.to or "default (html, pdf)", "uptime_start": up, "uptime_end": up_end,
         "report": REPORT, "rows": [{k: v for k, v in r.items() if k != "tail"} for r in rows]},
        indent=1, ensure_ascii=False), encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100,300,1000", help="numbers of school forms (default 100,300,1000)")
    ap.add_argument("--executors", default="local,dask", help="local,dask (default both)")
    ap.add_argument("--jobs", type=int, default=None, help="workers (default: CPU cores)")
    ap.add_argument("--to", default=None, help="formats (default: the report's own, HTML + PDF)")
    ap.add_argument("--broken", type=int, default=0, help="forms to break (each must fail only its report)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch projects")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    executors = [e.strip() for e in args.executors.split(",") if e.strip()]
    base = Path(tempfile.mkdtemp(prefix="esep-scale-"))
    cpus = len(os.sched_getaffinity(0))
    up = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"scratch: {base}; {cpus} CPU(s); formats: {args.to or 'default (html, pdf)'}\nstart: {up}", flush=True)
    rows = []
    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        snap = snapshot(base)
        big = max(sizes)
        src = make_project(base, big, snap)       # forms generated and filled once, for the largest N
        made_big = write_forms(src, big, args.broken)
        print(f"{big} forms: generated by `esep forms` in {made_big['generate_s']} s, filled in "
              f"{made_big['fill_s']} s" + (f", {made_big['broken']} broken" if made_big["broken"] else ""), flush=True)
        filled = src / "data/raw" / REPORT / "forms" / PERIOD
        for n in sizes:                            # in the order given (--sizes 100,1000,300: the ends first)
            if n == big:
                root, made = src, made_big
            else:   # the first n members of the same list: the same forms, copied
                root = make_project(base, n, snap)
                made = write_forms(root, n, args.broken, filled, big)
                print(f"{n} forms: the first {n} of the {big} filled forms, copied"
                      + (f" ({made['broken']} broken)" if made["broken"] else ""), flush=True)
            for ex in executors:
                shutil.rmtree(root / "output", ignore_errors=True)
                shutil.rmtree(root / "data/processed", ignore_errors=True)
                print(f"{n} reports, {ex} ...", flush=True)
                r = run_build(root, ex, args.jobs, args.to)
                r.update(n=n, executor=ex, per_report=round(r["seconds"] / n, 3),
                         cpu_per_report=round(r["cpu"] / n, 3), forms=made)
                rows.append(r)
                print(f"    {r['seconds']:.1f} s, {r['per_report']:.3f} s/report, "
                      f"cpu {r['cpu_per_report']:.3f} s/report, peak {r['peak_mb']} MB, {r['counts']}, "
                      f"load {r['load_start'][0]:.1f} -> {r['load_end'][0]:.1f}", flush=True)
                print("    phases (wall s, CPU s summed over units): "
                      + ", ".join(f"{k} {w:.0f}/{c:.0f}" for k, (w, c) in r["phases"].items()), flush=True)
                if r["exit"] != 0 and not args.broken:
                    print(r["tail"], flush=True)
                _save(rows, cpus, args, up, None, stamp)      # after every run: a cut-short matrix keeps its figures
            if not args.keep and root != src:
                shutil.rmtree(root, ignore_errors=True)
        up_end = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        print(f"\nend: {up_end}")
        print(f"{'executor':<8}{'reports':>8}{'wall s':>9}{'s/report':>10}{'cpu/report':>11}"
              f"{'peak MB':>9}{'growth':>8}{'cpu gr.':>8}{'load':>11}")
        for ex in executors:
            mine = sorted((r for r in rows if r["executor"] == ex), key=lambda r: r["n"])
            if not mine:
                continue
            first, first_cpu = mine[0]["per_report"], mine[0]["cpu_per_report"]
            for r in mine:
                r["growth"] = round(r["per_report"] / first, 3)
                r["cpu_growth"] = round(r["cpu_per_report"] / first_cpu, 3)
                print(f"{ex:<8}{r['n']:>8}{r['seconds']:>9.1f}{r['per_report']:>10.3f}"
                      f"{r['cpu_per_report']:>11.3f}{r['peak_mb']:>9}{r['growth']:>8.2f}{r['cpu_growth']:>8.2f}"
                      f"{r['load_start'][0]:>5.1f}-{r['load_end'][0]:<5.1f}")
        for r in rows:
            if r["n"] >= 1000:
                print(f"{r['executor']}: {r['n']} reports in {r['seconds'] / 60:.1f} min (target <= 12 min)")
        _save(rows, cpus, args, up, up_end, stamp)
        print(f"results: benchmarks/results/scale-{stamp}.json")
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0 if all(r["exit"] == 0 for r in rows) or args.broken else 1


if __name__ == "__main__":
    sys.exit(main())
