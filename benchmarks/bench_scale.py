#!/usr/bin/env python
"""Scale benchmark: N synthetic reports of one small report type, local pool vs Dask.

A generator writes a scratch project (under a temp folder, never into this project's
``data/raw/``) from the toy report of ``tests/fixtures/mini_project``, expanded into N
variants: ``pupils.csv`` gets N synthetic cities (two schools each, with a checked
total), and the params file asks for every city (``city: ["*"]``), so one
``esep build`` has N units. Any report type works the same way (one unit = one task);
the toy keeps the figure about the scheduler, not about one notebook.

For each N (default 100, 300, 1000) and each executor (``local``, ``dask``: a
LocalCluster of one worker per core), a cold ``esep build --force --to html`` runs as its
own process tree and the benchmark prints wall time, time per report, CPU per report
(all processes: workers, kernels, zygote) and peak memory (the largest total resident
memory of the process tree, sampled every 0.5 s), plus how the cost per report grows
from the smallest N. A JSON record goes to ``benchmarks/results/scale-*.json``.

    .venv/bin/python benchmarks/bench_scale.py --sizes 100,300,1000 --executors local,dask
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
FIXTURE = REPO / "tests" / "fixtures" / "mini_project"


def make_project(base: Path, n: int) -> Path:
    """A scratch copy of the toy project with ``n`` synthetic cities (= n reports)."""
    root = base / f"scale-{n}"
    shutil.copytree(FIXTURE, root)
    rows = []
    total = 0
    for i in range(n):
        slug = f"city{i:04d}"
        for j in range(2):
            pupils = 100 + (i * 37 + j * 11) % 900
            total += pupils
            rows.append({"period": "2023-2024-S2", "city": f"Қала {i}", "city_slug": slug,
                         "school_name": f"№{j + 1} мектеп", "pupils": pupils, "row_type": "part"})
    rows.append({"period": "2023-2024-S2", "city": "Барлығы", "city_slug": "", "school_name": "",
                 "pupils": total, "row_type": "total"})
    with open(root / "data/raw/toy/pupils.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    p = root / "params/toy/2023-2024-S2.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("city: all", 'city: ["*"]'), encoding="utf-8")
    return root


def _tree_rss(pid: int) -> int:
    """Total resident memory (bytes) of ``pid`` and all its descendants."""
    parent, rss = {}, {}
    page = os.sysconf("SC_PAGE_SIZE")
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as fh:
                f = fh.read().rsplit(b")", 1)[1].split()
            parent[int(d)] = int(f[1])
            rss[int(d)] = int(f[21]) * page
        except (OSError, IndexError, ValueError):
            continue
    total = 0
    for p in rss:
        q, seen = p, 0
        while q and seen < 50:
            if q == pid:
                total += rss[p]
                break
            q = parent.get(q, 0)
            seen += 1
    return total


def run_build(root: Path, executor: str, jobs: int | None) -> dict:
    env = dict(os.environ, ESEP_ROOT=str(root), PYTHONDONTWRITEBYTECODE="1")
    argv = [str(BIN / "esep"), "build", "--force", "--to", "html", "--executor", executor]
    if jobs:
        argv += ["--jobs", str(jobs)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    peak = [0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            time.sleep(0.5)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - t0
    th.join(1)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    last = json.loads((root / "output/.esep/last_build.json").read_text(encoding="utf-8"))
    if proc.returncode != 0:
        sys.stderr.write(err[-2000:])
    return {"exit": proc.returncode, "seconds": wall, "cpu": cpu, "peak_mb": peak[0] / 2**20,
            "counts": last["counts"], "load": os.getloadavg()[0]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100,300,1000", help="numbers of reports (default 100,300,1000)")
    ap.add_argument("--executors", default="local,dask", help="local,dask (default both)")
    ap.add_argument("--jobs", type=int, default=None, help="workers (default: CPU cores)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch projects")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    executors = [e.strip() for e in args.executors.split(",") if e.strip()]
    base = Path(tempfile.mkdtemp(prefix="esep-scale-"))
    cpus = len(os.sched_getaffinity(0))
    print(f"scratch: {base}; {cpus} CPU(s); load average {os.getloadavg()[0]:.1f}", flush=True)
    rows = []
    try:
        for n in sizes:
            root = make_project(base, n)
            subprocess.run([str(BIN / "esep"), "prepare"], env=dict(os.environ, ESEP_ROOT=str(root)),
                           cwd=root, check=True, capture_output=True)
            for ex in executors:
                print(f"{n} reports, {ex} ...", flush=True)
                r = run_build(root, ex, args.jobs)
                r.update(n=n, executor=ex, per_report=r["seconds"] / n, cpu_per_report=r["cpu"] / n)
                rows.append(r)
                print(f"    {r['seconds']:.1f} s, {r['per_report']:.3f} s/report, "
                      f"cpu {r['cpu_per_report']:.3f} s/report, peak {r['peak_mb']:.0f} MB, "
                      f"{r['counts']}, load {r['load']:.1f}", flush=True)
            if not args.keep:
                shutil.rmtree(root, ignore_errors=True)
        print(f"\n{'executor':<8}{'reports':>8}{'wall s':>9}{'s/report':>10}{'cpu/report':>11}"
              f"{'peak MB':>9}{'growth':>8}{'load':>6}")
        for ex in executors:
            mine = [r for r in rows if r["executor"] == ex]
            first = mine[0]["per_report"] if mine else 1
            for r in mine:
                print(f"{ex:<8}{r['n']:>8}{r['seconds']:>9.1f}{r['per_report']:>10.3f}"
                      f"{r['cpu_per_report']:>11.3f}{r['peak_mb']:>9.0f}{r['per_report'] / first:>8.2f}"
                      f"{r['load']:>6.1f}")
        big = [r for r in rows if r["n"] >= 1000]
        for r in big:
            print(f"{r['executor']}: 1000 reports in {r['seconds'] / 60:.1f} min (target <= 12 min)")
        out = REPO / "benchmarks" / "results"
        out.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        (out / f"scale-{stamp}.json").write_text(json.dumps({"cpus": cpus, "rows": rows}, indent=1),
                                                encoding="utf-8")
        print(f"results: benchmarks/results/scale-{stamp}.json")
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0 if all(r["exit"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
