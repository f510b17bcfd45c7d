"""The fork-shell engine (esep.notebook.shellexec): a notebook run in an IPython shell forked
from the zygote gives the notebook a Jupyter kernel gives it (outputs, their order, counts,
errors, tags), and a process that dies is a KernelDied, not a report error."""
from __future__ import annotations

import re

import nbformat
import pytest

CELLS = [
    ("print('a')\nprint('b')\nimport sys; print('err', file=sys.stderr)\n", []),
    ("from IPython.display import display, HTML\n"
     "display(HTML('<b>x</b>'))\nprint('after')\n6 * 7\n", []),
    ("import scrapbook as sb\nsb.glue('answer', 42)\n", []),
    ("import warnings\nwarnings.warn('careful')\n", []),
    ("class Shown:\n    def _repr_html_(self):\n        return '<i>html</i>'\n"
     "    def __repr__(self):\n        return 'Shown()'\nShown()\n", []),
    ("print('skipped')\n", ["skip-execution"]),
    ("x = 1\nx\n", []),
]


def _nb(path, cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for src, tags in cells:
        c = nbformat.v4.new_code_cell(src)
        c.metadata["tags"] = tags
        nb.cells.append(c)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell("## text"))
    nbformat.write(nb, str(path))
    return path


def _outputs(nb):
    """What a reader sees of each cell: its count and its outputs without volatile parts."""
    rows = []
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        outs = []
        for o in c.get("outputs", []):
            d = {"type": o.output_type}
            if o.output_type == "stream":
                d.update(name=o.name, text=re.sub(r"ipykernel_\d+/\d+", "ipykernel_PID/ID", o.text))
            elif o.output_type in ("display_data", "execute_result"):
                d.update(data={k: v for k, v in o.data.items()})
                d["count"] = o.get("execution_count")
            elif o.output_type == "error":
                d.update(ename=o.ename, evalue=o.evalue)
            outs.append(d)
        rows.append((c.execution_count, c.metadata.get("papermill", {}).get("status"), outs))
    return rows


def _execute(src, out, engine, monkeypatch):
    import papermill as pm

    from esep.core import config
    from esep.notebook import kernels
    from esep.notebook.execute import kernel_env

    monkeypatch.setenv("ESEP_ENGINE", engine)
    with kernel_env():
        pm.execute_notebook(str(src), str(out), kernel_name="python3", progress_bar=False,
                            cwd=str(config.ROOT), extra_arguments=["--IPKernelApp.log_level=ERROR"])
    return nbformat.read(str(out), as_version=4), kernels.last["via"]


@pytest.fixture
def zygote(mini_project):
    from esep.core import config
    from esep.notebook import kernels
    from esep.notebook.execute import kernel_env

    kernels.activate(spares=False)
    with kernel_env():
        path = kernels.start_zygote(str(config.ROOT))
    assert path and kernels._state["zygote"].ready(60)
    yield
    kernels.stop_zygote()


@pytest.mark.integration
def test_fork_shell_gives_the_kernels_notebook(zygote, tmp_path, monkeypatch):
    src = _nb(tmp_path / "nb.ipynb", CELLS)
    shell, via = _execute(src, tmp_path / "s.ipynb", "shell", monkeypatch)
    assert via == "shell"
    kernel, via = _execute(src, tmp_path / "k.ipynb", "kernel", monkeypatch)
    assert via == "zygote"
    assert _outputs(shell) == _outputs(kernel)
    rows = _outputs(shell)
    # spot checks of what the comparison covers
    assert rows[0][2][0] == {"type": "stream", "name": "stdout", "text": "a\nb\n"}
    assert [o["type"] for o in rows[1][2]] == ["display_data", "stream", "execute_result"]
    assert rows[1][2][2]["data"]["text/plain"] == "42" and rows[1][2][2]["count"] == 2
    assert rows[4][2][0]["data"]["text/html"] == "<i>html</i>"     # rich repr of the last value
    assert rows[5] == (None, "completed", [])                   # skip-execution
    assert rows[6][0] == 6 and rows[6][2][0]["data"]["text/plain"] == "1"
    assert shell.metadata["language_info"] == kernel.metadata["language_info"]
    from esep.notebook.scraps import read_scraps

    assert read_scraps(shell)["answer"] == read_scraps(kernel)["answer"] == 42


@pytest.mark.integration
def test_fork_shell_stops_at_a_failing_cell_like_papermill(zygote, tmp_path, monkeypatch):
    from papermill.exceptions import PapermillExecutionError

    src = _nb(tmp_path / "nb.ipynb", [("y = 1\n", []), ("1 / 0\n", []), ("print('never')\n", [])])
    seen = {}
    for engine in ("shell", "kernel"):
        with pytest.raises(PapermillExecutionError) as err:
            _execute(src, tmp_path / f"{engine}.ipynb", engine, monkeypatch)
        assert err.value.ename == "ZeroDivisionError" and err.value.cell_index == 2
        nb = nbformat.read(str(tmp_path / f"{engine}.ipynb"), as_version=4)
        seen[engine] = _outputs(nb)
        assert nb.metadata["papermill"]["exception"] is True
    assert seen["shell"] == seen["kernel"]
    assert seen["shell"][2] == (None, "pending", []) or seen["shell"][2][2] == []  # never ran


@pytest.mark.integration
def test_fork_shell_that_dies_is_a_dead_kernel(zygote, tmp_path, monkeypatch):
    from esep.notebook.execute import KernelDied

    src = _nb(tmp_path / "nb.ipynb", [("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", []),
                                      ("print('never')\n", [])])
    with pytest.raises(KernelDied):
        _execute(src, tmp_path / "d.ipynb", "shell", monkeypatch)
