#!/usr/bin/env python
"""Benchmark: the PDF engines side by side on the built reports (``make bench``).

For every report page in ``output/`` (``esep build`` first), each engine converts the
same HTML page in one warm process (fonts and compiler loaded once, as in a build
worker): Typst (esep's own translation, the default), WeasyPrint (the comparison leg)
and, with ``--pandoc``, pandoc's Typst writer compiled by the same Typst. Per engine:
seconds per report (mean, median, max), pages, and whether two runs give the same
bytes. ``--pages DIR`` also writes page 1..N of the three main reports as PNG per
engine, to compare the looks of the same pages.

Wall and CPU seconds are both reported: on a shared machine the wall time follows the
load, the CPU time much less. Writes ``benchmarks/results/pdf-<date>.json``; exit 1 if
the chosen engine misses the target (``--target`` seconds per report on average, default
0.3) in CPU time.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def pages_of(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def pandoc_typst(page: str) -> bytes:
    """pandoc's Typst writer on the page's <main>, compiled by the bundled Typst."""
    import tempfile

    import pypandoc

    from esep.publish import formats, pdf_typst

    html = formats.docx_html(page)
    with tempfile.TemporaryDirectory() as tmp:
        src = pypandoc.convert_text(html, "typst", format="html", extra_args=["--standalone", "--quiet",
                                                                               f"--extract-media={tmp}"])
        (Path(tmp) / "main.typ").write_text(src, encoding="utf-8")
        return pdf_typst._compiler().compile(input=str(Path(tmp) / "main.typ"), root="/")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--output", type=Path, default=ROOT / "output")
    ap.add_argument("--engines", default="typst,weasyprint")
    ap.add_argument("--pandoc", action="store_true", help="also pandoc's Typst writer")
    ap.add_argument("--limit", type=int, default=0, help="only the first N pages (0 = all)")
    ap.add_argument("--pages", type=Path, default=None, help="write page PNGs of the main reports here")
    ap.add_argument("--target", type=float, default=0.3)
    args = ap.parse_args(argv)

    from esep.publish import formats, pdf_typst

    htmls = sorted(p for p in args.output.glob("*/**/*.html")
                   if "proof" not in p.parts and ".esep" not in p.parts)
    if args.limit:
        htmls = htmls[: args.limit]
    if not htmls:
        print("no report pages in output/: run `esep build` first")
        return 2
    engines = {"typst": pdf_typst.to_pdf, "weasyprint": formats.to_pdf_weasyprint}
    if args.pandoc:
        engines["pandoc-typst"] = pandoc_typst
    chosen = [e for e in args.engines.split(",") if e in engines] + (["pandoc-typst"] if args.pandoc else [])
    formats.warm(["pdf"])
    pdf_typst.warm()
    results = {}
    for name in chosen:
        fn = engines[name]
        fn(htmls[0].read_text(encoding="utf-8"))          # warm-up
        times, cpus, pages, same = [], [], [], True
        for h in htmls:
            page = h.read_text(encoding="utf-8")
            t, c = time.perf_counter(), time.process_time()
            pdf = fn(page)
            times.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)      # this process (pandoc's own: not counted)
            pages.append(pages_of(pdf))
            if h == htmls[0] or h.name in ("city_innovation.html", "oblast_experiment.html"):
                same = same and fn(page) == pdf
            if args.pages and h.parent.name != h.stem and h.stem in (
                    "city_innovation", "oblast_experiment", "leading_schools"):
                d = args.pages / name
                d.mkdir(parents=True, exist_ok=True)
                f = d / f"{h.parent.name}_{h.stem}.pdf"
                f.write_bytes(pdf)
                subprocess.run(["pdftoppm", "-r", "50", "-png", str(f), str(f.with_suffix(""))], check=False)
        results[name] = {
            "reports": len(times), "mean_s": round(statistics.mean(times), 3),
            "median_s": round(statistics.median(times), 3), "max_s": round(max(times), 3),
            "cpu_mean_s": round(statistics.mean(cpus), 3),
            "total_s": round(sum(times), 2), "pages_total": sum(pages),
            "pages": {h.relative_to(args.output).as_posix(): n for h, n in zip(htmls, pages)},
            "byte_identical_rerun": same,
        }
        r = results[name]
        print(f"{name:13s} {r['reports']} reports: mean {r['mean_s']:.3f} s (CPU {r['cpu_mean_s']:.3f} s), "
              f"median {r['median_s']:.3f} s, "
              f"max {r['max_s']:.3f} s, total {r['total_s']:.1f} s, {r['pages_total']} pages, "
              f"same bytes on re-run: {same}")
    main_reports = [k for k in results[chosen[0]]["pages"] if k.count("/") == 1]
    print("pages of the main reports: " + "; ".join(
        f"{k}: " + ", ".join(f"{e} {results[e]['pages'][k]}" for e in results) for k in main_reports))
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    record = out / f"pdf-{datetime.now():%Y%m%d-%H%M%S}.json"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    print(f"load average at the end: {load:.1f} on {os.cpu_count()} CPUs" if load is not None else "")
    record.write_text(json.dumps({"engines": results, "default": formats.pdf_engine(),
                                  "target_s": args.target, "load_average": load,
                                  "cpus": os.cpu_count()}, indent=1), encoding="utf-8")
    print(f"record: {record.relative_to(ROOT)}")
    default = formats.pdf_engine()
    if default in results and results[default]["cpu_mean_s"] > args.target:
        print(f"target missed: {default} {results[default]['cpu_mean_s']:.3f} s > {args.target} s per report")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
