#!/usr/bin/env python
"""Benchmark: esep against the plain papermill + nbconvert + weasyprint loop.

Run ``make bench`` (or ``.venv/bin/python benchmarks/bench_build.py --help``). Everything
happens in a scratch copy of the project (notebooks, params, data/raw, narrative and a
snapshot of src/, put first on PYTHONPATH so edits made meanwhile in the working tree do
not count): the real ``output/`` is never touched.

Phases, each timed as a separate process tree (wall seconds, CPU seconds of all
processes, peak RSS of the largest process):

(a) plain loop, sequential, for every unit (report, period, region/district): the
    papermill CLI, ``jupyter nbconvert --to html --no-input``, and the ``weasyprint`` CLI
    (only if esep builds PDF too). Processed data is prepared beforehand, untimed.
    By default the loop runs with ``ESEP_EAGER_IMPORTS=1``, i.e. without esep's import
    fix (esep/lazy_imports.py), as a plain environment would (``--plain-lazy`` to add a
    run with the fix);
(b) ``esep build --force`` on an empty ``output/`` (cold: prepares, runs, renders all);
(c) ``esep build`` with nothing changed (must skip everything);
(d) ``esep build`` after rewriting one params file with an extra comment (must rebuild
    exactly the units of that params file: checked from ``output/.esep/last_build.json``).

Prints medians, the ratios b/a, c/b, d/b and the targets; writes a JSON record to
``benchmarks/results/``. Exit status 1 if a correctness check (c skips all, d rebuilds
exactly the affected units) fails.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
COPY = ("notebooks", "params", "data/raw", "narrative", "src")


def log(msg: str) -> None:
    print(msg, flush=True)


# --- a phase runs in its own process so that RUSAGE_CHILDREN is per phase -----------------

def run_phase(argv: list[str], env: dict) -> dict:
    """Run ``bench_build.py --_phase ...`` and return its measurements."""
    out = subprocess.run([sys.executable, __file__, *argv], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(out.stdout[-3000:] + out.stderr[-3000:])
        raise SystemExit(f"phase {argv} failed (exit {out.returncode})")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _measure(fn) -> None:
    t0 = time.perf_counter()
    extra = fn() or {}
    wall = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"seconds": wall, "cpu": ru.ru_utime + ru.ru_stime,
                      "peak_rss_mb": ru.ru_maxrss / 1024, **extra}))


def _plain_loop(root: Path, units: list[dict], pdf: bool) -> dict:
    out = root / "plain"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    for u in units:
        nb = out / (u["slug"] + ".ipynb")
        html = nb.with_suffix(".html")
        cmds = [[str(BIN / "papermill"), u["notebook"], str(nb), "-y", json.dumps(u["params"]),
                 "-k", "python3", "--cwd", str(root), "--no-progress-bar"],
                [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(nb),
                 "--output", html.name, "--output-dir", str(out)]]
        if pdf:
            cmds.append([str(BIN / "weasyprint"), str(html), str(html.with_suffix(".pdf"))])
        for cmd in cmds:
            r = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
            if r.returncode != 0:
                sys.stderr.write(r.stderr[-2000:])
                raise SystemExit(f"plain loop: {' '.join(cmd[:2])} failed for {u['slug']}")
    return {"units": len(units)}


def _esep(args: list[str]) -> dict:
    r = subprocess.run([str(BIN / "esep"), *args], capture_output=True, text=True)
    root = Path(os.environ["ESEP_ROOT"])
    last = json.loads((root / "output/.esep/last_build.json").read_text(encoding="utf-8"))
    if r.returncode != 0:
        sys.stderr.write(r.stdout[-3000:] + r.stderr[-3000:])
    return {"exit": r.returncode, "counts": last["counts"],
            "ran": sorted(u["unit"] for u in last["units"] if u["status"] != "skipped"),
            "units": [{k: u.get(k) for k in ("unit", "report", "status", "seconds", "phases")}
                      for u in last["units"] if u["status"] != "skipped"]}


def phase_main(args) -> None:
    root = Path(os.environ["ESEP_ROOT"])
    if args._phase == "plain":
        units = json.loads((root / "bench_units.json").read_text(encoding="utf-8"))
        _measure(lambda: _plain_loop(root, units, args.pdf))
    else:
        _measure(lambda: _esep(args.esep_args))


# --- the driver ----------------------------------------------------------------------------

def make_scratch(base: Path) -> Path:
    root = base / "proj"
    for sub in COPY:
        src = REPO / sub
        if src.exists():
            shutil.copytree(src, root / sub, ignore=shutil.ignore_patterns(
                ".ipynb_checkpoints", "__pycache__", "*.egg-info", "incoming"))
    (root / "output").mkdir()
    (root / "data/processed").mkdir(parents=True, exist_ok=True)
    return root


def sample_params(root: Path, n: int) -> None:
    """Limit every expanded params file of the scratch copy to its first ``n`` units
    (e.g. ``region: ["all", "*"]`` -> ``["all", "<first>", "<second>"]`` for n=3)."""
    import yaml

    sys.path.insert(0, str(root / "src"))
    os.environ["ESEP_ROOT"] = str(root)
    from esep.core import params
    from esep.core import reports

    for spec in reports.all_reports().values():
        if not spec.expand:
            continue
        for period in spec.periods():
            path = spec.params_dir / f"{period}.yaml"
            units = params.units_for(spec, period)
            if len(units) <= n:
                continue
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            data[spec.expand.param] = [u.params[spec.expand.param] for u in units[:n]]
            path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def list_units(env: dict, report: str | None) -> list[dict]:
    code = r"""
import json, sys
from esep.pipeline import build
units, bad = build.plan()
if bad:
    sys.exit("invalid params: " + "; ".join(r.message for r in bad))
print(json.dumps([{"report": s.name, "key": u.key, "notebook": str(s.notebook),
                   "params": u.params, "params_file": str(u.params_file),
                   "slug": u.key.replace("/", "__")} for s, u in units]))
"""
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    units = json.loads(out.stdout)
    if report:
        units = [u for u in units if u["report"] == report]
    return units


def pdf_available(env: dict) -> bool:
    code = ("from esep.publish import formats\n"
            "formats.convert('<html><body><p>x</p></body></html>', 'pdf', title='t', period='2024')")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True).returncode == 0


def med(rows: list[dict], key: str = "seconds") -> float:
    return statistics.median(r[key] for r in rows)


PHASES = ("kernel", "execute", "findings", "html", "pdf", "docx", "write")


def phase_table(run: dict) -> tuple[list[str], dict]:
    """Where a build's time went: per report type and phase, wall and CPU seconds summed
    over its units (from output/.esep/last_build.json), plus what the build spent outside
    the units (planning, prepare, zygote, pool start, index) = total CPU - units' CPU."""
    agg: dict[str, dict[str, list[float]]] = {}
    counts: dict[str, int] = {}
    for u in run.get("units", []):
        rep = u.get("report") or u["unit"].split("/")[1]
        counts[rep] = counts.get(rep, 0) + 1
        for ph, (w, c) in (u.get("phases") or {}).items():
            a = agg.setdefault(rep, {}).setdefault(ph, [0.0, 0.0])
            a[0] += w
            a[1] += c
    used = [p for p in PHASES if any(p in v for v in agg.values())]
    head = f"{'report (units)':<28}" + "".join(f"{p + ' w/cpu':>17}" for p in used) + f"{'cpu/unit':>10}"
    lines = [head]
    total_cpu = 0.0
    for rep, phs in sorted(agg.items()):
        cpu = sum(v[1] for v in phs.values())
        total_cpu += cpu
        lines.append(f"{rep + f' ({counts[rep]})':<28}" + "".join(
            f"{phs.get(p, [0, 0])[0]:>9.1f}/{phs.get(p, [0, 0])[1]:<7.1f}" for p in used)
            + f"{cpu / counts[rep]:>10.2f}")
    outside = run["cpu"] - total_cpu
    lines.append(f"outside the units (plan, prepare, zygote, workers' start, index): {outside:.1f} CPU s")
    return lines, {"per_report": {r: {p: [round(v[0], 2), round(v[1], 2)] for p, v in phs.items()}
                                  for r, phs in agg.items()},
                   "units": counts, "outside_cpu": round(outside, 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="runs of (c) and (d) (default 3)")
    ap.add_argument("--full-runs", type=int, default=1,
                    help="runs of (a) and (b), the slow ones (default 1)")
    ap.add_argument("--report", help="only this report type (default: every shipped report)")
    ap.add_argument("--jobs", type=int, default=None, help="esep build --jobs (default: CPU cores)")
    ap.add_argument("--to", default=None, help="formats (default: html,pdf if PDF works, else html)")
    ap.add_argument("--sample", type=int, default=None, metavar="N",
                    help="at most N units per params file (regions/districts), for a quicker run")
    ap.add_argument("--plain-lazy", action="store_true",
                    help="also time the plain loop with esep's import fix active")
    ap.add_argument("--keep", action="store_true", help="keep the scratch project")
    ap.add_argument("--_phase", help=argparse.SUPPRESS)
    ap.add_argument("--pdf", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("esep_args", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._phase:
        phase_main(args)
        return 0

    base = Path(tempfile.mkdtemp(prefix="esep-bench-"))
    root = make_scratch(base)
    env = dict(os.environ, ESEP_ROOT=str(root), PYTHONPATH=str(root / "src"),
               PYTHONDONTWRITEBYTECODE="1")
    env.pop("ESEP_EAGER_IMPORTS", None)
    ok = True
    try:
        if args.sample:
            sample_params(root, args.sample)
        units = list_units(env, args.report)
        if not units:
            raise SystemExit("no units to build (no params files?)")
        to = args.to or ("html,pdf" if pdf_available(env) else "html")
        pdf = "pdf" in to.split(",")
        (root / "bench_units.json").write_text(json.dumps(units), encoding="utf-8")
        cpus = len(os.sched_getaffinity(0))
        load0 = os.getloadavg()
        log(f"scratch project: {root}")
        log(f"{len(units)} units ({', '.join(sorted({u['report'] for u in units}))}), formats {to}, "
            f"{cpus} CPU(s), load average {os.getloadavg()[0]:.1f}")
        subprocess.run([str(BIN / "esep"), "prepare"], env=env, check=True, capture_output=True)

        def esep_phase(extra: list[str]) -> dict:
            argv = ["build", "--to", to] + (["--jobs", str(args.jobs)] if args.jobs else []) + extra
            if args.report:
                argv.insert(1, args.report)
            return run_phase(["--_phase", "esep", "--", *argv], env)

        res: dict[str, list[dict]] = {"a": [], "a_lazy": [], "b": [], "c": [], "d": []}
        eager = dict(env, ESEP_EAGER_IMPORTS="1")
        for i in range(args.full_runs):
            log(f"(a) plain loop, run {i + 1}/{args.full_runs} ...")
            res["a"].append(run_phase(["--_phase", "plain"] + (["--pdf"] if pdf else []), eager))
            log(f"    {res['a'][-1]['seconds']:.1f} s")
            if args.plain_lazy:
                log(f"(a') plain loop with the import fix, run {i + 1}/{args.full_runs} ...")
                res["a_lazy"].append(run_phase(["--_phase", "plain"] + (["--pdf"] if pdf else []), env))
                log(f"    {res['a_lazy'][-1]['seconds']:.1f} s")
        for i in range(args.full_runs):
            log(f"(b) esep build --force (cold), run {i + 1}/{args.full_runs} ...")
            shutil.rmtree(root / "output", ignore_errors=True)
            (root / "output").mkdir()
            r = esep_phase(["--force"])
            res["b"].append(r)
            log(f"    {r['seconds']:.1f} s, {r['counts']}")
            if r["counts"]["ok"] != len(units):
                log(f"!! (b) built {r['counts']['ok']} of {len(units)} units")
                ok = False
        for i in range(args.runs):
            r = esep_phase([])
            res["c"].append(r)
            log(f"(c) esep build, nothing changed, run {i + 1}: {r['seconds']:.3f} s "
                f"(cpu {r['cpu']:.2f} s), {r['counts']}")
            if r["counts"]["ok"] or r["counts"]["failed"]:
                log(f"!! (c) rebuilt {r['ran']}")
                ok = False
        # (d): the params file with the fewest units (ideally one output)
        by_file: dict[str, list[str]] = {}
        for u in units:
            by_file.setdefault(u["params_file"], []).append(u["key"])
        pfile, expected = min(by_file.items(), key=lambda kv: (len(kv[1]), kv[0]))
        log(f"(d) changing {Path(pfile).relative_to(root)} (expected to rebuild: {', '.join(expected)})")
        for i in range(args.runs):
            p = Path(pfile)
            p.write_text(p.read_text(encoding="utf-8") + f"# benchmark edit {i + 1}\n", encoding="utf-8")
            r = esep_phase([])
            res["d"].append(r)
            log(f"(d) run {i + 1}: {r['seconds']:.1f} s, rebuilt {r['ran']}")
            if sorted(r["ran"]) != sorted(expected) or r["counts"]["failed"]:
                log("!! (d) did not rebuild exactly the affected output(s)")
                ok = False

        a, b, c, d = (med(res[k]) for k in "abcd")
        ptable, pdoc = phase_table(res["b"][-1])
        cpu_per_report = med(res["b"], "cpu") / len(units)
        lines = [
            "", f"{'phase':<44}{'median s':>10}{'cpu s':>9}{'peak MB':>9}",
            f"{'(a) plain loop (papermill+nbconvert' + ('+weasyprint' if pdf else '') + ')':<44}"
            f"{a:>10.1f}{med(res['a'], 'cpu'):>9.1f}{max(x['peak_rss_mb'] for x in res['a']):>9.0f}",
        ]
        if res["a_lazy"]:
            lines.append(f"{'(a) same, with the import fix':<44}{med(res['a_lazy']):>10.1f}"
                         f"{med(res['a_lazy'], 'cpu'):>9.1f}"
                         f"{max(x['peak_rss_mb'] for x in res['a_lazy']):>9.0f}")
        for k, name in (("b", "(b) esep build --force (cold)"), ("c", "(c) esep build, nothing changed"),
                        ("d", "(d) esep build, one params file changed")):
            lines.append(f"{name:<44}{med(res[k]):>10.3f}{med(res[k], 'cpu'):>9.2f}"
                         f"{max(x['peak_rss_mb'] for x in res[k]):>9.0f}")
        lines += ["", "(b) where the time went (wall s / CPU s, summed over units):"] + ["  " + x for x in ptable]
        lines += [
            "", f"b/a = {b / a:.3f}   (target <= 0.08)  {'met' if b / a <= 0.08 else 'MISSED'}",
            f"CPU per report (b) = {cpu_per_report:.2f} s (target <= 1.2 s)  "
            f"{'met' if cpu_per_report <= 1.2 else 'MISSED'}",
            f"c/b = {c / b:.4f}  (target <= 0.03)  {'met' if c / b <= 0.03 else 'MISSED'};"
            f"  c = {c:.3f} s (target <= 0.25 s)  {'met' if c <= 0.25 else 'MISSED'}",
            f"d = {d:.2f} s (target <= 3 s)  {'met' if d <= 3 else 'MISSED'}",
            f"d/b = {d / b:.3f}   (d rebuilt exactly {len(expected)} affected output(s): "
            f"{'yes' if all(sorted(x['ran']) == sorted(expected) for x in res['d']) else 'NO'})",
        ]
        if res["a_lazy"]:
            lines.append(f"b/a' = {b / med(res['a_lazy']):.3f}  (vs the plain loop with the import fix)")
        lines.append(f"load average at start {load0[0]:.1f}, at end {os.getloadavg()[0]:.1f} "
                     f"(1 min; {cpus} CPU(s))")
        for ln in lines:
            log(ln)
        out_dir = REPO / "benchmarks" / "results"
        out_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        (out_dir / f"bench-{stamp}.json").write_text(json.dumps({
            "units": len(units), "formats": to, "cpus": cpus, "jobs": args.jobs, "results": res,
            "load_average": {"start": load0, "end": os.getloadavg()},
            "phases_b": pdoc, "cpu_per_report_b": cpu_per_report,
            "medians": {"a": a, "b": b, "c": c, "d": d}, "ratios": {"b/a": b / a, "c/b": c / b, "d/b": d / b},
            "ok": ok}, indent=1), encoding="utf-8")
        log(f"\nresults: benchmarks/results/bench-{stamp}.json")
    finally:
        if args.keep:
            log(f"scratch project kept: {root}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
