"""Every notebook runs in a fresh interpreter state, also when its kernel is forked from
the warm zygote (esep/notebook/zygote.py): a report that changes globals, matplotlib
rcParams, pandas options, a helper module's state, the working directory, environment
variables or sys.path leaves nothing for the next report, and what the next report sees
is exactly what a kernel started the plain way sees."""
from __future__ import annotations

import json

import nbformat
import pytest

LEAKER = [
    "import os, sys, matplotlib, pandas as pd\n"
    "import helpers.toy as toy\n"
    "LEAK = 1\n"
    "matplotlib.rcParams['lines.linewidth'] = 7\n"
    "pd.set_option('display.max_rows', 3)\n"
    "toy._leak = 'yes'\n"
    "toy.label = lambda n: 'leaked'\n"
    "os.environ['ESEP_LEAK'] = '1'\n"
    "sys.path.append('/leak')\n"
    "os.chdir('/')\n",
]

PROBE = [
    "import os, sys, hashlib, json, matplotlib, pandas as pd\n"
    "import matplotlib.pyplot as plt\n"
    "import helpers.toy as toy\n"
    "import scrapbook as sb\n",
    "snap = {\n"
    "  'user_globals': sorted(k for k in globals() if not k.startswith('_') and k not in\n"
    "                          ('In', 'Out', 'get_ipython', 'exit', 'quit', 'open')),\n"
    "  'leak_global': 'LEAK' in globals(),\n"
    "  'rc': hashlib.sha256(repr(sorted((k, repr(v)) for k, v in matplotlib.rcParams.items()"
    " if k != 'backend')).encode()).hexdigest(),\n"
    "  'backend': matplotlib.get_backend(),\n"
    "  'pd_max_rows': pd.get_option('display.max_rows'),\n"
    "  'pd_options': {k: repr(pd.get_option(k)) for k in\n"
    "                 __import__('pandas._config.config', fromlist=['x'])._registered_options\n"
    "                 if not k.startswith('compute.') or True},\n"
    "  'helper_leak': hasattr(toy, '_leak'),\n"
    "  'helper_label': toy.label(1200),\n"
    "  'cwd': os.getcwd(),\n"
    "  'env_leak': os.environ.get('ESEP_LEAK'),\n"
    "  'path_leak': '/leak' in sys.path,\n"
    "  'main_is_fresh': not hasattr(sys.modules['__main__'], 'LEAK'),\n"
    "}\n"
    "sb.glue('snap', json.dumps(snap))\n",
    "plt.plot([1, 2, 3])\n",  # the inline backend must still display figures
]


def _nb(path, sources):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, str(path))
    return path


def _run(src, out):
    import papermill as pm

    from esep.core import config
    from esep.notebook import kernels
    from esep.notebook.execute import kernel_env

    with kernel_env():
        pm.execute_notebook(str(src), str(out), kernel_name="python3", progress_bar=False,
                            cwd=str(config.ROOT), extra_arguments=["--IPKernelApp.log_level=ERROR"])
    nb = nbformat.read(str(out), as_version=4)
    from esep.notebook.scraps import read_scraps

    scraps = read_scraps(nb)
    value = json.loads(scraps["snap"]) if "snap" in scraps else None
    images = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    return value, images, kernels.last["via"]


@pytest.mark.integration
@pytest.mark.parametrize("engine,forked", [("shell", "shell"), ("kernel", "zygote")])
def test_nothing_leaks_between_reports_and_zygote_state_equals_a_plain_kernel(mini_project, tmp_path,
                                                                              monkeypatch, engine, forked):
    """Both ways a notebook runs off the zygote (a forked IPython shell: the default; a
    forked Jupyter kernel: ``ESEP_ENGINE=kernel``) against a kernel started the plain way."""
    monkeypatch.setenv("ESEP_ENGINE", engine)
    from esep.core import config
    from esep.notebook import kernels
    from esep.notebook.execute import kernel_env

    leaker = _nb(tmp_path / "leaker.ipynb", LEAKER)
    probe = _nb(tmp_path / "probe.ipynb", PROBE)
    kernels.activate(spares=False)
    env = kernel_env()      # kernels start in the environment execute() gives them
    env.__enter__()
    try:
        path = kernels.start_zygote(str(config.ROOT))
        assert path and kernels._state["zygote"].ready(60)
        _, _, via = _run(leaker, tmp_path / "l.ipynb")
        assert via == forked
        warm, warm_images, via = _run(probe, tmp_path / "p1.ipynb")
        assert via == forked
        _run(leaker, tmp_path / "l2.ipynb")  # a second leaker in the same zygote
        warm2, _, _ = _run(probe, tmp_path / "p2.ipynb")
    finally:
        kernels.stop_zygote()
        env.__exit__(None, None, None)
    plain, plain_images, via = _run(probe, tmp_path / "p3.ipynb")
    assert via == "process"

    diff = {k: (warm[k], plain[k]) for k in plain if warm.get(k) != plain[k]}
    if "pd_options" in diff:
        diff["pd_options"] = {k: (warm["pd_options"].get(k), v) for k, v in plain["pd_options"].items()
                              if warm["pd_options"].get(k) != v}
    assert not diff
    assert warm == warm2
    assert warm["leak_global"] is False and warm["helper_leak"] is False
    assert warm["helper_label"] != "leaked" and warm["pd_max_rows"] == 60
    assert warm["env_leak"] is None and warm["path_leak"] is False
    assert warm["cwd"] == str(config.ROOT)
    assert "inline" in warm["backend"]
    assert warm_images == plain_images == 1
