"""Issue 17 fault tests: a unit's outputs change together; the unit lock is shared by
every command that writes a unit; kills, a full disk, a read-only output folder and
concurrent commands never leave a mixed or half-written set.

The first tests inject faults into the commit itself (fast, no kernel). Those marked
``faults`` run real builds on the toy project (``make faults``)."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from esep.core import fsutil

PERIOD = "2023-2024-S2"


def _set(root: Path, tag: str) -> dict[Path, str]:
    base = root / "output" / PERIOD / "toy"
    return {base.with_suffix(s): f"{tag} {s}" for s in (".ipynb", ".html", ".pdf", ".manifest.json")}


def _contents(staged: dict[Path, str]) -> set[str]:
    return {p.read_text().split()[0] for p in staged}


def _leftovers(root: Path) -> list[Path]:
    return [p for p in (root / "output").rglob("*") if p.name.endswith(".tmp")]


# --- item 8: the commit of a set ------------------------------------------------------

KILLER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from esep.core import fsutil
    root = Path(os.environ["ESEP_ROOT"])
    real = os.replace
    n = [0]
    def replace(src, dst):
        real(src, dst)
        if str(dst).startswith(str(root / "output" / "{period}")):
            n[0] += 1
            if n[0] == int(sys.argv[1]):
                os.kill(os.getpid(), signal.SIGKILL)   # kill -9 between two renames
    os.replace = replace
    base = root / "output" / "{period}" / "toy"
    fsutil.commit_files({{base.with_suffix(s): "new " + s for s in (".ipynb", ".html", ".pdf", ".manifest.json")}})
""").format(period=PERIOD)


@pytest.mark.parametrize("after", [1, 2, 3])
def test_kill_between_two_renames_is_finished_by_the_next_command(mini_project, after):
    old = _set(mini_project, "old")
    fsutil.commit_files(old)
    env = dict(os.environ, ESEP_ROOT=str(mini_project))
    r = subprocess.run([sys.executable, "-c", KILLER, str(after)], env=env, capture_output=True, text=True)
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert _contents(old) == {"old", "new"}  # the fault was injected: a mixed set on disk
    # the next command (the build cache's check calls recover() first) finishes the set
    from typer.testing import CliRunner

    from esep.cli import app

    res = CliRunner().invoke(app, ["status"])
    assert "Traceback" not in res.output
    assert _contents(old) == {"new"}
    assert not list((mini_project / "output/.esep/journal").glob("*.json"))
    assert _leftovers(mini_project) == []


def test_ctrl_c_between_two_renames_completes_the_set(mini_project, monkeypatch):
    old = _set(mini_project, "old")
    fsutil.commit_files(old)
    real = os.replace
    calls = [0]

    def replace(src, dst):
        real(src, dst)
        calls[0] += 1
        if calls[0] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        fsutil.commit_files(_set(mini_project, "new"))
    monkeypatch.setattr(os, "replace", real)
    assert _contents(old) == {"new"}
    assert _leftovers(mini_project) == []


def test_a_failed_write_before_the_renames_leaves_the_old_set(mini_project, monkeypatch):
    old = _set(mini_project, "old")
    fsutil.commit_files(old)
    new = _set(mini_project, "new")
    bad = list(new)[2]
    new[bad] = object()  # writing it fails (not str/bytes)
    with pytest.raises(TypeError):
        fsutil.commit_files(new)
    assert _contents(old) == {"old"}
    assert _leftovers(mini_project) == []


def test_a_stale_journal_never_lands_on_a_newer_commit(mini_project):
    """recover() runs before every journaled commit: an old half-done commit is finished
    first, then the new one wins."""
    env = dict(os.environ, ESEP_ROOT=str(mini_project))
    fsutil.commit_files(_set(mini_project, "old"))
    subprocess.run([sys.executable, "-c", KILLER, "1"], env=env, capture_output=True)
    fsutil.commit_files(_set(mini_project, "newest"))
    assert _contents(_set(mini_project, "x")) == {"newest"}
    assert fsutil.recover() == []


# --- item 9: one lock per unit for run, build, render and publish --------------------------

HOLDER = textwrap.dedent("""
    import sys, time
    from esep.pipeline import cache
    lk = cache.lock("unit-" + sys.argv[1])
    lk.acquire()
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
    lk.release()
""")


def test_render_and_publish_wait_for_the_lock_a_build_holds(mini_project, capsys):
    from esep.core.errors import EsepError
    from esep.core.params import RunUnit
    from esep.pipeline.rerender import unit_lock

    unit = RunUnit("toy", PERIOD, {})
    env = dict(os.environ, ESEP_ROOT=str(mini_project))
    p = subprocess.Popen([sys.executable, "-c", HOLDER, unit.key, "3"], env=env, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "held"
    with pytest.raises(EsepError, match="still locked by another esep process"):
        with unit_lock(unit, wait=0.3):
            pass
    t0 = time.perf_counter()
    with unit_lock(unit, wait=30):  # waits for the holder, then runs
        waited = time.perf_counter() - t0
        with unit_lock(unit, wait=0):  # re-entrant: publish renders under its own lock
            pass
    p.wait()
    assert waited > 1.0
    assert "waiting for another esep process" in capsys.readouterr().err


def test_a_build_does_not_touch_a_unit_publish_holds(mini_project):
    """The build scheduler's lock (cache.lock, in another process) is the very lock
    render/publish take."""
    from esep.core.params import RunUnit
    from esep.pipeline.rerender import unit_lock

    unit = RunUnit("toy", PERIOD, {})
    env = dict(os.environ, ESEP_ROOT=str(mini_project))
    probe = textwrap.dedent("""
        import sys
        from filelock import Timeout
        from esep.pipeline import cache
        try:
            cache.lock("unit-" + sys.argv[1]).acquire(timeout=0.2)
            print("acquired")
        except Timeout:
            print("locked")
    """)
    with unit_lock(unit):
        r = subprocess.run([sys.executable, "-c", probe, unit.key], env=env, capture_output=True, text=True)
    assert r.stdout.strip() == "locked", r.stderr
    r = subprocess.run([sys.executable, "-c", probe, unit.key], env=env, capture_output=True, text=True)
    assert r.stdout.strip() == "acquired"


# --- real builds on the toy project (make faults) ---------------------------------------

def esep(root: Path, *args: str, timeout: float = 600, **kw):
    env = dict(os.environ, ESEP_ROOT=str(root))
    return subprocess.run([sys.executable, "-m", "esep.cli", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=timeout, **kw)


def fingerprints(root: Path) -> dict[str, str]:
    """The data fingerprint each file of the toy unit's set carries."""
    base = root / "output" / PERIOD / "toy"
    html = base.with_suffix(".html").read_text(encoding="utf-8")
    man = json.loads(base.with_suffix(".manifest.json").read_text(encoding="utf-8"))
    nb = json.loads(base.with_suffix(".ipynb").read_text(encoding="utf-8"))
    return {"html": re.search(r"Деректер ізі: <code>([0-9a-f]*)</code>", html).group(1),
            "manifest": man["data_fingerprint"][:12],
            "ipynb": nb["metadata"]["esep"]["data_fingerprint"][:12]}


def consistent(root: Path) -> str:
    fp = fingerprints(root)
    assert len(set(fp.values())) == 1, f"mixed set: {fp}"
    return fp["html"]


def bump_data(root: Path, n: int) -> None:
    """A raw correction: the first school's pupils become 100 + n (the file stays valid)."""
    p = root / "data/raw/toy/pupils.csv"
    head, *rows = p.read_text(encoding="utf-8").splitlines()
    i = head.split(",").index("pupils")
    r = rows[0].split(",")
    r[i] = str(100 + n)
    rows[0] = ",".join(r)
    p.write_text("\n".join([head, *rows]) + "\n", encoding="utf-8")


@pytest.mark.faults
@pytest.mark.integration
@pytest.mark.parametrize("delay", [1.0, 4.0, 8.0])
def test_kill_9_during_a_build_then_the_next_build_recovers(mini_project, delay):
    assert esep(mini_project, "build", "--to", "html").returncode == 0
    good = consistent(mini_project)
    bump_data(mini_project, int(delay))
    env = dict(os.environ, ESEP_ROOT=str(mini_project))
    p = subprocess.Popen([sys.executable, "-m", "esep.cli", "build", "--to", "html"], cwd=mini_project,
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(delay)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    consistent(mini_project)  # old or new, never mixed
    r = esep(mini_project, "build", "--to", "html")
    assert r.returncode == 0, r.stdout + r.stderr
    now = consistent(mini_project)
    assert now != good  # the correction is in
    st = esep(mini_project, "status", "--to", "html")
    assert "0 stale" in st.stdout, st.stdout


@pytest.mark.faults
@pytest.mark.integration
def test_kill_between_renames_of_a_real_build(mini_project):
    """The kill injected between the HTML's and the manifest's rename of a real run."""
    assert esep(mini_project, "build", "--to", "html").returncode == 0
    before = consistent(mini_project)
    bump_data(mini_project, 7)
    hook = textwrap.dedent("""
        import os, signal, sys
        real = os.replace
        def replace(src, dst):
            real(src, dst)
            if str(dst).endswith("toy.html"):
                os.kill(os.getpid(), signal.SIGKILL)
        os.replace = replace
        from esep.cli import main
        sys.argv = ["esep", "run", "toy", "--period", "%s", "--to", "html", "--jobs", "1"]
        main()
    """ % PERIOD)
    env = dict(os.environ, ESEP_ROOT=str(mini_project), ESEP_JOBS="1")
    r = subprocess.run([sys.executable, "-c", hook], cwd=mini_project, env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode != 0
    fp = fingerprints(mini_project)
    assert fp["html"] != fp["manifest"] or fp["html"] == before  # the fault hit mid-set (or in a worker)
    st = esep(mini_project, "status", "--to", "html")  # recovers, then judges
    assert "Traceback" not in st.stdout + st.stderr
    consistent(mini_project)
    r = esep(mini_project, "build", "--to", "html")
    assert r.returncode == 0, r.stdout + r.stderr
    assert consistent(mini_project) != before


@pytest.mark.faults
@pytest.mark.integration
def test_build_and_publish_at_once_never_publish_old_numbers(mini_project):
    assert esep(mini_project, "build", "--to", "html").returncode == 0
    for trial in range(3):
        bump_data(mini_project, 20 + trial)
        env = dict(os.environ, ESEP_ROOT=str(mini_project))
        b = subprocess.Popen([sys.executable, "-m", "esep.cli", "build", "--to", "html"], cwd=mini_project,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(0.5 * trial)
        pub = esep(mini_project, "publish", "toy", "--period", PERIOD, "--to", "html")
        out = b.communicate(timeout=600)[0]
        assert b.returncode == 0, out
        assert pub.returncode == 0, pub.stdout + pub.stderr
        fp = consistent(mini_project)
        st = esep(mini_project, "status", "--to", "html")
        if "0 stale" in st.stdout:  # fresh means: built from the current data
            from esep.publish import manifest as mf

            os.environ["ESEP_ROOT"] = str(mini_project)
            from esep.core import reports
            from esep.data.validate import input_files

            spec = reports.get("toy")
            assert mf.fingerprint(mf.input_hashes(input_files(spec)))[:12] == fp


@pytest.mark.faults
@pytest.mark.integration
def test_full_disk_leaves_the_last_good_outputs(mini_project):
    assert esep(mini_project, "build", "--to", "html").returncode == 0
    good = consistent(mini_project)
    out = mini_project / "output"
    keep = mini_project / "output.keep"
    out.rename(keep)
    out.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(out)], capture_output=True)
    if r.returncode != 0:
        out.rmdir()
        keep.rename(out)
        pytest.skip("cannot mount a tmpfs here")
    try:
        subprocess.run(["cp", "-a", f"{keep}/.", str(out)], check=True)
        bump_data(mini_project, 99)
        r = esep(mini_project, "build", "--to", "html")
        text = r.stdout + r.stderr
        assert "Traceback" not in text
        if r.returncode != 0:
            assert "full" in " ".join(text.split()) or "No space left" in text, text
        assert consistent(mini_project) in (good, fingerprints(mini_project)["html"])
        assert [p for p in out.rglob("*.tmp") if ".esep" not in p.parts] == []
    finally:
        subprocess.run(["umount", "-l", str(out)], capture_output=True)
        out.rmdir()
        keep.rename(out)


@pytest.mark.faults
@pytest.mark.integration
def test_concurrent_builds_share_the_work_and_agree(mini_project):
    bump_data(mini_project, 5)
    env = dict(os.environ, ESEP_ROOT=str(mini_project))
    procs = [subprocess.Popen([sys.executable, "-m", "esep.cli", "build", "--to", "html"], cwd=mini_project,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    consistent(mini_project)
    assert "0 stale" in esep(mini_project, "status", "--to", "html").stdout


def test_cache_verifies_the_outputs_it_calls_fresh_are_the_recorded_set(mini_project):
    from esep.pipeline.cache import set_mismatch

    base = mini_project / "output" / PERIOD / "toy"
    base.parent.mkdir(parents=True)
    raw = {"data/raw/toy/pupils.csv": "aaa"}
    base.with_suffix(".manifest.json").write_text(json.dumps({"inputs": raw, "data_fingerprint": "f00d" * 4}))
    base.with_suffix(".html").write_text("<code>f00df00df00d</code>")
    base.with_suffix(".ipynb").write_text('{"data_fingerprint": "f00df00df00d"}')
    rec = {"inputs": {"raw": dict(raw)}, "outputs": [f"output/{PERIOD}/toy{s}" for s in
                                                      (".html", ".ipynb", ".manifest.json")]}
    assert set_mismatch(rec) is None
    base.with_suffix(".html").write_text("<code>beefbeefbeef</code>")  # an HTML from another build
    assert "does not carry the manifest's data fingerprint" in set_mismatch(rec)
    base.with_suffix(".html").write_text("<code>f00df00df00d</code>")
    rec["inputs"]["raw"]["data/raw/toy/pupils.csv"] = "bbb"  # the manifest of another build
    assert "written from other data" in set_mismatch(rec)
