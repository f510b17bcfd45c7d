"""Ctrl-C (SIGINT to the whole process group, as a terminal sends it) stops a real
`esep build` within 5 s: exit 130, one line saying what finished and what did not, no
traceback, no process left (workers, kernels, zygote), no temp file, every lock free,
and the next build completes the rest. Also: a build removes temp files a killed build
left behind."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ESEP = [sys.executable, "-c", "from esep.cli import main; main()"]


def _slow_project(root: Path) -> None:
    """Three units (all + two cities), each sleeping 3 s in a cell."""
    nb_path = root / "notebooks/toy.ipynb"
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    nb["cells"].append({"cell_type": "code", "id": "slow-cell", "metadata": {}, "execution_count": None, "outputs": [],
                        "source": ["import time\n", "time.sleep(3)\n"]})
    nb_path.write_text(json.dumps(nb), encoding="utf-8")
    p = root / "params/toy/2023-2024-S2.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("city: all", 'city: ["all", "*"]'), encoding="utf-8")


def _group_alive(pgid: int) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,pgid,sid,args"], capture_output=True, text=True).stdout
    return [ln for ln in out.splitlines()[1:] if ln.split()[1] == str(pgid) or ln.split()[2] == str(pgid)]


def _leftovers(root: Path) -> list[str]:
    found = [str(p) for p in (root / "output").rglob("*.tmp")]
    found += [str(p) for p in (root / "output/.esep").glob("run-*")]
    return found


def _locks_free(root: Path) -> bool:
    from filelock import FileLock, Timeout

    for lk in (root / "output/.esep/locks").glob("*.lock"):
        try:
            FileLock(str(lk), timeout=0).acquire().lock.release()
        except Timeout:
            return False
    return True


def _kernels_of(root: Path, build_pid: int) -> list[str]:
    """The build's zygote and its forked kernels (they keep the zygote's command line,
    whose socket folder is named after the build's pid), and kernels started the plain way."""
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [ln for ln in out.splitlines() if f"esep-zygote-{build_pid}-" in ln or (
        "ipykernel" in ln and str(root) in ln)]


@pytest.mark.integration
@pytest.mark.parametrize("when", ["start-up", "mid-build", "twice"])
def test_ctrl_c_stops_a_build_within_5s_and_the_next_build_goes_on(mini_project, when):
    _slow_project(mini_project)
    env = dict(os.environ, ESEP_ROOT=str(mini_project))
    proc = subprocess.Popen(ESEP + ["build", "--to", "html", "--jobs", "2"], cwd=mini_project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    pgid = proc.pid
    if when == "start-up":
        time.sleep(1.0)
    else:  # wait until the workers are executing notebooks (a unit started)
        end = time.monotonic() + 120
        while time.monotonic() < end and not list((mini_project / "output/.esep").glob("run-*")):
            time.sleep(0.1)
        time.sleep(1.5)
    t0 = time.monotonic()
    os.killpg(pgid, signal.SIGINT)
    if when == "twice":
        time.sleep(0.3)
        try:
            os.killpg(pgid, signal.SIGINT)
        except ProcessLookupError:
            pass
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(pgid, signal.SIGKILL)
        pytest.fail("esep build still running 30 s after Ctrl-C")
    took = time.monotonic() - t0
    assert took <= 5.0, f"stopped after {took:.1f} s"
    assert proc.returncode in (130, 0), (proc.returncode, out, err)
    assert "Traceback" not in err and "Traceback" not in out, err
    if proc.returncode == 130:
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("interrupted"), err
    time.sleep(1.0)  # the zygote polls its parent every 0.5 s
    assert not _group_alive(pgid), _group_alive(pgid)
    assert not _kernels_of(mini_project, pgid), _kernels_of(mini_project, pgid)
    assert not _leftovers(mini_project), _leftovers(mini_project)
    assert _locks_free(mini_project)

    again = subprocess.run(ESEP + ["build", "--to", "html", "--jobs", "2"], cwd=mini_project, env=env,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    doc = json.loads((mini_project / "output/.esep/last_build.json").read_text(encoding="utf-8"))
    assert doc["counts"]["failed"] == 0 and doc["counts"]["ok"] + doc["counts"]["skipped"] == 3


def test_a_build_removes_temp_files_a_killed_build_left(mini_project):
    from esep.pipeline import build

    out = mini_project / "output/2023-2024-S2"
    out.mkdir(parents=True)
    stale = out / ".toy.html.abc123.tmp"
    stale.write_text("half")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    fresh = out / ".toy.ipynb.def456.tmp"  # a live commit's temp file (another build): kept
    fresh.write_text("x")
    dead = mini_project / "output/.esep/run-999999999-zz"
    dead.mkdir(parents=True)
    (dead / "executed.ipynb").write_text("{}")
    mine = mini_project / f"output/.esep/run-{os.getpid()}-yy"
    mine.mkdir()
    import tempfile

    for d in Path(tempfile.gettempdir()).glob("esep-zygote-999999999-*"):
        d.rmdir()
    zdir = Path(tempfile.mkdtemp(prefix="esep-zygote-999999999-"))  # a killed build's socket folder
    assert build.sweep_temp() >= 3
    assert not stale.exists() and not dead.exists() and not zdir.exists()
    assert fresh.exists() and mine.exists()
