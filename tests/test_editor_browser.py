"""The editor's desk in a real browser (issue 16): JupyterLab driven by Playwright on
Debian's Chromium (``/usr/bin/chromium``; never ``playwright install``).

Skipped, with the reason, where Chromium or the ``playwright`` package is missing
(`make install` installs the test extra, which has playwright; on Debian/Ubuntu
`sudo apt-get install chromium` provides the browser). ``ESEP_CHROMIUM`` points at
another Chromium. ``ESEP_SCREENSHOT=docs/img/editor.png`` saves the README's picture.
"""
from __future__ import annotations

import csv
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from esep.cli import app

CHROMIUM = os.environ.get("ESEP_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
PERIOD = "2023-2024-S2"
runner = CliRunner()


def _why_not() -> str | None:
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
        return f"no Chromium at {CHROMIUM} (Debian/Ubuntu: sudo apt-get install chromium; or set ESEP_CHROMIUM)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


pytestmark = [pytest.mark.browser, pytest.mark.integration,
              pytest.mark.skipif(_why_not() is not None, reason=str(_why_not()))]


@contextmanager
def desk(report: str, log: Path):
    """`esep edit` without the terminal: the view, JupyterLab on a free port with a token."""
    from esep.core import params, reports
    from esep.pipeline import editdesk

    unit = params.units_for(reports.get(report), PERIOD)[0]
    d = editdesk.prepare(unit)
    port, token = editdesk.free_port(), secrets.token_hex(12)
    argv, env = editdesk.lab_command(d, port, token, open_browser=False)
    with open(log, "w") as out:
        proc = subprocess.Popen(argv, env=env, cwd=str(d.view.parent), stdout=out, stderr=subprocess.STDOUT)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"JupyterLab exited: {log.read_text()[-2000:]}")
                time.sleep(0.3)
        yield d, editdesk.view_url(d, port, token)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b.new_page(viewport={"width": 1280, "height": 900})
        finally:
            b.close()


def open_view(page, url: str):
    page.goto(url)
    page.wait_for_selector(".jp-Notebook .esep-preview", state="attached", timeout=90_000)
    page.wait_for_timeout(1500)  # let JupyterLab settle (a dirty mark or a prompt would show now)


def text_cells(page):
    """The cells marked as text to edit: each is followed by its preview."""
    return page.locator(".jp-Notebook .jp-MarkdownCell:has(+ .jp-Cell .esep-preview)")


def previews(page):
    return page.locator(".jp-Notebook .jp-Cell:has(.esep-preview)")


def retype(page, cell, text: str) -> None:
    page.keyboard.press("Escape")
    cell.dblclick()
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.type(text)


def save(page) -> str | None:
    """Ctrl+S; the text of JupyterLab's error dialog if the save was refused."""
    page.keyboard.press("Control+s")
    try:
        page.wait_for_selector(".jp-Dialog", timeout=4000)
    except Exception:  # noqa: BLE001 - no dialog: saved
        return None
    msg = page.locator(".jp-Dialog").inner_text()
    page.locator(".jp-Dialog button").last.click()
    page.wait_for_selector(".jp-Dialog", state="detached", timeout=5000)
    return msg


def wait_for(cond, what: str, timeout: float = 20.0):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if cond():
            return
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}")


def html(root: Path, report: str) -> str:
    return (root / f"output/{PERIOD}/{report}.html").read_text(encoding="utf-8").replace("\xa0", " ")


def bump_toy(root: Path, delta: int) -> None:
    """A data correction in the toy report's raw file: Astana's pupils and the total."""
    path = root / "data/raw/toy/pupils.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        if r["city_slug"] == "astana" or r["row_type"] == "total":
            r["pupils"] = str(int(r["pupils"]) + delta)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def test_editor_edits_saves_publishes_and_the_text_survives_a_data_correction(mini_project, tmp_path):
    res = runner.invoke(app, ["run", "toy", "--period", PERIOD])
    assert res.exit_code == 0, res.output
    record = mini_project / f"narrative/toy/{PERIOD}.md"
    with desk("toy", tmp_path / "lab.log") as (d, url), browser_page() as page:
        open_view(page, url)
        # the report as the reader reads it: no code, no prompt, not modified, text marked
        assert page.locator(".jp-Dialog").count() == 0, page.locator(".jp-Dialog").all_inner_texts()
        assert page.locator(".jp-mod-dirty").count() == 0
        assert page.locator(".Toastify__toast").count() == 0, page.locator(".Toastify__toast").all_inner_texts()
        assert "/doc/tree/" in page.url and d.view.name in page.locator("body").inner_text()
        body = page.locator(".jp-Notebook").inner_text()
        assert "sb.glue" not in body and "import pandas" not in body
        assert page.locator(".jp-CodeCell .jp-InputArea:visible").count() == 0
        assert text_cells(page).count() == 1
        assert "Барлығы 23 845 оқушы." in previews(page).first.inner_text()
        assert "{{ pupils_total }}" in page.locator(".jp-Cell", has_text="Figures you can use").inner_text()

        # 1. edit, save: recorded at once; publish
        retype(page, text_cells(page).first, "Қалада {{ pupils_total }} оқушы оқиды (редактор).")
        assert save(page) is None
        wait_for(lambda: record.exists() and "(редактор)" in record.read_text(encoding="utf-8"), "the record")
        res = runner.invoke(app, ["publish", "toy", "--period", PERIOD])
        assert res.exit_code == 0, res.output
        assert "Қалада 23 845 оқушы оқиды (редактор)." in html(mini_project, "toy")

        # 2. a data correction is rebuilt while the editor keeps typing and saving
        bump_toy(mini_project, 100)
        run = subprocess.Popen([sys.executable, "-m", "esep.cli", "run", "toy", "--period", PERIOD],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        retype(page, text_cells(page).first, "Қалада {{ pupils_total }} оқушы оқиды (түзетілген мәтін).")
        during = save(page)                       # accepted, or refused after the build replaced it
        out, _ = run.communicate(timeout=300)
        assert run.returncode == 0, out
        wait_for(lambda: "(түзетілген мәтін)" in record.read_text(encoding="utf-8"), "the save made during the run")
        assert during is None or "Your text is safe" in during

        # 3. saving the tab (opened on the older build) again: refused with a message, text kept
        page.keyboard.press("Escape")
        page.keyboard.press("Control+s")
        page.wait_for_selector(".jp-Dialog", timeout=10_000)
        dialog = page.locator(".jp-Dialog").inner_text()
        if "File Changed" in dialog:              # JupyterLab saw the new file: "Overwrite" = the old copy
            page.locator(".jp-Dialog button", has_text="Overwrite").click()
            page.wait_for_selector(".jp-Dialog:has-text('Your text is safe')", timeout=10_000)
            dialog = page.locator(".jp-Dialog").inner_text()
        assert "Your text is safe" in dialog and "Reload Notebook from Disk" in dialog
        page.locator(".jp-Dialog button").last.click()

        # 4. reload from disk: the editor's text with the new number
        page.locator(".lm-MenuBar-itemLabel").filter(has_text=re.compile(r"^File$")).click()
        page.locator(".lm-Menu-itemLabel", has_text="Reload Notebook from Disk").click()
        try:                                      # JupyterLab asks first when the tab is modified
            page.locator(".jp-Dialog button", has_text="Reload").click(timeout=3000)
        except Exception:  # noqa: BLE001 - reloaded at once
            pass
        page.wait_for_function("() => document.body.innerText.includes('23 945')", timeout=20_000)
        assert "(түзетілген мәтін)" in text_cells(page).first.inner_text()
        assert page.locator(".jp-mod-dirty").count() == 0

    # 5. publish: the text stays, the number is the corrected one, nothing old is published
    res = runner.invoke(app, ["publish", "toy", "--period", PERIOD])
    assert res.exit_code == 0, res.output
    page_html = html(mini_project, "toy")
    assert "Қалада 23 945 оқушы оқиды (түзетілген мәтін)." in page_html and "23 845" not in page_html


def test_real_report_view_shows_text_and_numbers_without_code(project_copy, tmp_path):
    """city_innovation in the browser: only the report and its text; every narrative cell is
    marked and previewed; opened at the first text cell. Saves the README's screenshot
    when ESEP_SCREENSHOT names a file."""
    import nbformat

    if not (project_copy / "notebooks/city_innovation.ipynb").exists():
        pytest.skip("notebooks/city_innovation.ipynb not there yet")
    res = runner.invoke(app, ["run", "city_innovation", "--period", PERIOD])
    assert res.exit_code == 0, res.output
    with desk("city_innovation", tmp_path / "lab.log") as (d, url), browser_page() as page:
        view = nbformat.read(str(d.view), as_version=4)
        n_text = sum(1 for c in view.cells if c.metadata.get("esep_edit", {}).get("role") == "text")
        open_view(page, url)
        assert page.locator(".jp-Dialog").count() == 0 and page.locator(".jp-mod-dirty").count() == 0
        body = page.locator(".jp-Notebook").inner_text()
        assert not re.search(r"\bci\.\w+\(|glue\(|import ", body), "code is visible"
        assert text_cells(page).count() == n_text >= 6
        assert "{{" not in " ".join(previews(page).all_inner_texts()
                                    ).split("Numbers in it")[0]
        first = text_cells(page).first
        box = first.bounding_box()
        assert box is not None and 0 <= box["y"] < 900, "the view does not open at the first text cell"
        shot = os.environ.get("ESEP_SCREENSHOT")
        page.screenshot(path=shot or str(tmp_path / "editor.png"))
