"""Proof sheets: every page of every built report as PNG contact sheets (``esep proof``).

For each report in ``output/`` (found from its manifest):

- ``output/proof/<period>/<report>[/<variant>].pdf.png``: every PDF page (pdftoppm);
- ``...html-1280.png`` and ``...html-390.png``: the HTML page as headless Chromium shows
  it at 1280 px and at 390 px (a phone), cut into screen-high tiles side by side. The
  390 px sheet is marked in red when the page scrolls sideways.

Plus ``output/proof/index.html`` listing every sheet and ``overflow.json`` with each
page's document width at 390 px. Looking through the sheets takes a minute; that is the
point: a reviewer sees a near-empty PDF page or an overflowing phone page at once.
Needs ``pdftoppm`` (poppler-utils), Pillow and, for the HTML sheets, the ``playwright``
package with a Chromium (``ESEP_CHROMIUM``, default ``/usr/bin/chromium``).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM = os.environ.get("ESEP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDTHS = (1280, 390)
THUMB_W = 300            # width of one PDF page / screen tile on a sheet (px)
SCREEN_H = {1280: 800, 390: 844}


def chromium_missing() -> str | None:
    """Why headless Chromium cannot be used here (None when it can)."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found (Debian: apt-get install chromium; or set ESEP_CHROMIUM)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install playwright)"
    return None


class Browser:
    """One headless Chromium for many pages (``with Browser() as b: b.shot(...)``)."""

    def __enter__(self):
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self._browser = self._pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        return self

    def __exit__(self, *exc):
        self._browser.close()
        self._pw.stop()

    def measure(self, html_path: Path, width: int, screenshot: Path | None = None) -> dict:
        """Open a page at ``width`` CSS px: its document width (sideways overflow when
        > width), the tables cut by their frame, and optionally a full-page screenshot."""
        ctx = self._browser.new_context(viewport={"width": width, "height": SCREEN_H.get(width, 800)},
                                        device_scale_factor=1, offline=True)
        page = ctx.new_page()
        page.goto(html_path.resolve().as_uri())
        info = page.evaluate("""() => {
            const d = document.documentElement;
            const hidden = [...document.querySelectorAll('main table')].filter(t => {
                const f = t.parentElement; return f && f.scrollWidth > f.clientWidth + 1; }).length;
            const small = [...document.querySelectorAll('main svg text, main figure img')].length;
            return {scroll_width: d.scrollWidth, client_width: d.clientWidth,
                    height: d.scrollHeight, tables_scrolling: hidden};
        }""")
        info["overflow"] = info["scroll_width"] > info["client_width"] + 1
        if screenshot is not None:
            page.screenshot(path=str(screenshot), full_page=True)
        ctx.close()
        return info


def _reports(out: Path) -> list[tuple[Path, dict]]:
    from esep.publish.index import manifests

    return [(base, doc) for _, base, doc in manifests(out)]


def _sheet(images: list, cols: int, label: str, bad: bool = False):
    """Tiles side by side (``cols`` per row) under a one-line label."""
    from PIL import Image, ImageDraw

    if not images:
        return None
    w = max(im.width for im in images)
    h = max(im.height for im in images)
    rows = (len(images) + cols - 1) // cols
    pad, top = 8, 26
    sheet = Image.new("RGB", (cols * (w + pad) + pad, rows * (h + pad) + pad + top),
                      "#c0392b" if bad else "#9aa3b2")
    draw = ImageDraw.Draw(sheet)
    draw.text((pad, 6), label, fill="white")
    for i, im in enumerate(images):
        r, c = divmod(i, cols)
        sheet.paste(im, (pad + c * (w + pad), top + pad + r * (h + pad)))
    return sheet


def pdf_sheet(pdf: Path, dest: Path, label: str) -> int:
    """Every page of ``pdf`` on one sheet; returns the page count."""
    from PIL import Image

    with tempfile.TemporaryDirectory(prefix="esep-proof-") as tmp:
        subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), f"{tmp}/p"], check=True,
                       capture_output=True)
        pages = [Image.open(p).convert("RGB") for p in sorted(Path(tmp).glob("p-*.png"),
                                                              key=lambda p: int(p.stem.split("-")[-1]))]
    thumbs = []
    for im in pages:
        im.thumbnail((THUMB_W, THUMB_W * 2))
        thumbs.append(im)
    sheet = _sheet(thumbs, min(len(thumbs), 6), f"{label} - PDF, {len(pages)} pages")
    if sheet is not None:
        sheet.save(dest)
    return len(pages)


def html_sheet(shot: Path, width: int, dest: Path, label: str, bad: bool) -> int:
    """A full-page screenshot cut into screen-high tiles side by side."""
    from PIL import Image

    im = Image.open(shot).convert("RGB")
    h = SCREEN_H.get(width, 800)
    tiles = [im.crop((0, y, im.width, min(y + h, im.height))) for y in range(0, im.height, h)]
    scale = (THUMB_W if width > 600 else THUMB_W * 0.75) / im.width
    tiles = [t.resize((max(1, int(t.width * scale)), max(1, int(t.height * scale)))) for t in tiles]
    cols = min(len(tiles), 8 if width > 600 else 10)
    sheet = _sheet(tiles, cols, f"{label} - HTML {width} px" + (" - PAGE SCROLLS SIDEWAYS" if bad else ""), bad)
    sheet.save(dest)
    return len(tiles)


def build(out: Path, *, html: bool = True, pdf: bool = True, only: str | None = None) -> dict:
    """Render the proof sheets for every built report under ``out``; returns a summary."""
    dest_root = out / "proof"
    if dest_root.exists():
        shutil.rmtree(dest_root)
    dest_root.mkdir(parents=True)
    summary: dict = {"reports": [], "overflow": [], "missing_chromium": None}
    reports = [(b, d) for b, d in _reports(out) if not only or only in b.as_posix()]
    browser = None
    if html:
        summary["missing_chromium"] = chromium_missing()
        if summary["missing_chromium"] is None:
            browser = Browser().__enter__()
    pages = [(out / "index.html", {"report": "index"})] if (out / "index.html").exists() else []
    try:
        for base, doc in reports + [(p.with_suffix(""), d) for p, d in pages]:
            rel = base.relative_to(out).as_posix()
            label = rel
            item = {"report": rel, "sheets": []}
            target = dest_root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if pdf and base.with_suffix(".pdf").exists():
                png = target.with_name(target.name + ".pdf.png")
                item["pdf_pages"] = pdf_sheet(base.with_suffix(".pdf"), png, label)
                item["sheets"].append(png.relative_to(dest_root).as_posix())
            if browser is not None and base.with_suffix(".html").exists():
                for width in WIDTHS:
                    with tempfile.TemporaryDirectory(prefix="esep-proof-") as tmp:
                        shot = Path(tmp) / "shot.png"
                        info = browser.measure(base.with_suffix(".html"), width, shot)
                        png = target.with_name(f"{target.name}.html-{width}.png")
                        html_sheet(shot, width, png, label, info["overflow"])
                    item[f"html_{width}"] = info
                    item["sheets"].append(png.relative_to(dest_root).as_posix())
                    if info["overflow"]:
                        summary["overflow"].append(f"{rel} at {width} px: document {info['scroll_width']} px")
            summary["reports"].append(item)
    finally:
        if browser is not None:
            browser.__exit__(None, None, None)
    (dest_root / "overflow.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1),
                                             encoding="utf-8")
    links = "\n".join(f'<h3>{r["report"]}</h3>' + "".join(
        f'<p><a href="{s}"><img src="{s}" style="max-width:100%"></a></p>' for s in r["sheets"])
        for r in summary["reports"])
    (dest_root / "index.html").write_text(
        f'<!DOCTYPE html><html lang="kk"><meta charset="utf-8"><title>esep proof</title>'
        f'<body style="font-family:sans-serif;background:#eee">{links}</body></html>', encoding="utf-8")
    return summary
