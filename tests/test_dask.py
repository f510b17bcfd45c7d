"""`esep build --executor dask` on a LocalCluster(n_workers=2): the same outputs as the
local pool (glued figures, manifests' input hashes), a unit whose first attempt crashes
is retried and succeeds, a worker killed mid-build loses no output and leaves nothing
half-written, and a second build is a no-op."""
from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def frozen_code(tmp_path, monkeypatch):
    """Hash a private copy of the code: edits made to src/ meanwhile must not count."""
    import shutil

    from esep.core import code

    repo_src = Path(__file__).resolve().parents[1] / "src"
    shutil.copytree(repo_src / "esep", tmp_path / "code" / "esep", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(code, "ESEP_DIR", tmp_path / "code" / "esep")
    monkeypatch.setattr(code, "KIT_DIR", tmp_path / "code" / "esep" / "kit")


@pytest.fixture
def cluster():
    from distributed import LocalCluster

    c = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                     silence_logs=50)
    yield c
    c.close()


def _three_units(root: Path, extra_cell: str | None = None) -> None:
    p = root / "params/toy/2023-2024-S2.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("city: all", 'city: ["all", "*"]'), encoding="utf-8")
    if extra_cell:
        nb_path = root / "notebooks/toy.ipynb"
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        nb["cells"].insert(2, {"cell_type": "code", "id": "extra-cell", "metadata": {},
                               "execution_count": None, "outputs": [], "source": [extra_cell]})
        nb_path.write_text(json.dumps(nb), encoding="utf-8")


def _outputs(root: Path) -> dict:
    import nbformat

    from esep.notebook.scraps import read_scraps

    out = {}
    for nb_path in sorted((root / "output").rglob("*.ipynb")):
        if ".esep" in nb_path.parts:
            continue
        nb = nbformat.read(str(nb_path), as_version=4)
        man = json.loads(nb_path.with_suffix(".manifest.json").read_text(encoding="utf-8"))
        out[str(nb_path.relative_to(root))] = (read_scraps(nb), man["inputs"])
    return out


def _no_leftovers(root: Path) -> None:
    assert not list((root / "output").rglob("*.tmp"))
    assert not list((root / "output/.esep").glob("run-*"))


def test_dask_builds_the_same_outputs_as_the_local_pool_and_then_nothing(mini_project, cluster):
    from esep.pipeline import build

    _three_units(mini_project)
    local = build.build(formats=("html",), jobs=2, on_result=lambda *a: None)
    assert [r.status for r in local] == ["ok"] * 3
    before = _outputs(mini_project)
    seen = []
    res = build.build(formats=("html",), force=True, executor="dask", scheduler=cluster.scheduler_address,
                      on_result=lambda r, i, n: seen.append((r.unit.key, r.status, i, n)))
    assert sorted(s for _, s, _, _ in seen) == ["ok"] * 3 and [i for _, _, i, _ in seen] == [1, 2, 3]
    assert _outputs(mini_project) == before
    assert any(r.phases for r in res)
    again = build.build(formats=("html",), executor="dask", scheduler=cluster.scheduler_address,
                        on_result=lambda *a: None)
    assert [r.status for r in again] == ["skipped"] * 3
    _no_leftovers(mini_project)


def test_a_unit_whose_first_attempt_crashes_is_retried(mini_project, cluster):
    from esep.pipeline import build

    # the astana unit's kernel dies on its first attempt (a crash, not the report's error)
    _three_units(mini_project, "import os, pathlib\n"
                               "m = pathlib.Path(os.environ['ESEP_ROOT']) / 'attempted'\n"
                               "if city == 'astana' and not m.exists():\n"
                               "    m.write_text('1')\n"
                               "    os._exit(1)\n")
    res = build.build(formats=("html",), executor="dask", scheduler=cluster.scheduler_address,
                      on_result=lambda *a: None)
    assert {r.unit.key: r.status for r in res} == {
        "2023-2024-S2/toy": "ok", "2023-2024-S2/toy/astana": "ok", "2023-2024-S2/toy/almaty": "ok"}
    assert (mini_project / "attempted").exists()
    _no_leftovers(mini_project)


def test_killing_a_worker_mid_build_loses_no_output(mini_project, cluster):
    from distributed import Client

    from esep.pipeline import build

    _three_units(mini_project, "import time\ntime.sleep(2)\n")
    client = Client(cluster.scheduler_address)
    pids = list(client.run(os.getpid).values())
    killed = []

    def on_result(res, i, n):
        if not killed:  # the other worker is in the middle of a unit
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    break
                except OSError:
                    continue

    # also kill one as soon as both are busy: the first result may come late
    res = build.build(formats=("html",), executor="dask", scheduler=cluster.scheduler_address,
                      on_result=on_result)
    client.close()
    assert killed
    assert {r.status for r in res} == {"ok"}, [(r.unit.key, r.message) for r in res]
    outs = _outputs(mini_project)
    assert len(outs) == 3
    for name in outs:
        base = mini_project / name
        assert base.with_suffix(".html").stat().st_size > 0
    res2 = build.build(formats=("html",), executor="dask", scheduler=cluster.scheduler_address,
                       on_result=lambda *a: None)
    assert [r.status for r in res2] == ["skipped"] * 3
    _no_leftovers(mini_project)
