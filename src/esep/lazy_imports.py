"""Make ``import jsonschema`` cheap again: load ``rfc3987_syntax``'s grammar on first use.

Why: ``jupyterlab`` depends on ``jsonschema[format-nongpl]``, which installs
``rfc3987-syntax``. ``jsonschema._format`` imports it at import time, and importing it
builds an Earley parser from a Lark grammar: ~1.5 s of CPU in *every* process that
imports jsonschema, i.e. every process importing nbformat (papermill, nbconvert, esep)
and every kernel importing scrapbook.

What: a tiny import hook. When something imports ``rfc3987_syntax`` (only
``jsonschema._format`` does), it gets a stand-in package whose ``is_valid_syntax`` /
``parse`` (and any other attribute) load the real ``rfc3987_syntax.syntax_helpers`` on
first call. Validation of the ``iri`` / ``iri-reference`` formats still works exactly as
before (JupyterLab keeps working); it just pays the 1.5 s when it is first needed,
which for esep's work is never.

How it is switched on:

- ``make install`` runs ``esep.lazy_imports.main(["--install"])``, which writes
  ``esep_lazy_imports.pth`` into the virtualenv's site-packages, so the hook is active in
  every Python process of the venv (esep, kernels, papermill/nbconvert CLIs, JupyterLab);
  ``python -W ignore -m esep.lazy_imports --uninstall`` removes it, ``--status`` reports it;
- ``esep`` also calls :func:`install` itself at start-up (harmless if already active);
- ``ESEP_EAGER_IMPORTS=1`` in the environment disables the hook (used by the benchmark to
  time the plain loop as it would run without esep).

Safety: the stand-in is used only when the installed ``rfc3987_syntax/__init__.py`` is the
known one-liner ``from .syntax_helpers import *``; for any other version the normal
import happens.
"""
from __future__ import annotations

import os
import sys

NAME = "rfc3987_syntax"
KNOWN_INIT = "from .syntax_helpers import *"
PTH_NAME = "esep_lazy_imports.pth"
PTH_LINE = ("import os, sys; exec(\"try:\\n import esep.lazy_imports as m; m.install()\\n"
            "except Exception:\\n pass\") if not os.environ.get('ESEP_EAGER_IMPORTS') else None\n")


class _LazyLoader:  # importlib.abc is not imported: it costs ~30 ms at every start-up
    def __init__(self, real_spec):
        self.real_spec = real_spec

    def create_module(self, spec):
        return None  # default module object

    def exec_module(self, module):
        real = self.real_spec
        module.__path__ = list(real.submodule_search_locations or [])
        module.__file__ = real.origin
        module.__esep_lazy__ = True

        def _helpers():
            import importlib

            helpers = importlib.import_module(NAME + ".syntax_helpers")
            for key in dir(helpers):  # now behave like the real package
                if not key.startswith("_") and key not in ("is_valid_syntax", "parse"):
                    module.__dict__.setdefault(key, getattr(helpers, key))
            return helpers

        def is_valid_syntax(term: str, value: str):
            return _helpers().is_valid_syntax(term, value)

        def parse(term: str, value: str):
            return _helpers().parse(term, value)

        def __getattr__(name: str):  # noqa: N807 - module-level __getattr__
            if name.startswith("__"):
                raise AttributeError(name)
            try:
                return getattr(_helpers(), name)
            except AttributeError:
                raise AttributeError(f"module {NAME!r} has no attribute {name!r}") from None

        module.is_valid_syntax = is_valid_syntax
        module.parse = parse
        module.__getattr__ = __getattr__


class _Finder:
    def find_spec(self, fullname, path=None, target=None):
        if fullname != NAME:
            return None
        from importlib.machinery import PathFinder
        from importlib.util import spec_from_loader

        real = PathFinder.find_spec(fullname, path)
        if real is None or not real.origin or not real.submodule_search_locations:
            return None
        try:
            with open(real.origin, encoding="utf-8") as fh:
                if fh.read().strip() != KNOWN_INIT:
                    return None  # unknown version: import it normally
        except OSError:
            return None
        spec = spec_from_loader(fullname, _LazyLoader(real), origin=real.origin, is_package=True)
        spec.submodule_search_locations = list(real.submodule_search_locations)
        return spec


def install() -> bool:
    """Put the finder first on ``sys.meta_path`` (idempotent). False when disabled."""
    if os.environ.get("ESEP_EAGER_IMPORTS"):
        return False
    if not any(_is_ours(f) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
    return True


def _is_ours(finder) -> bool:
    # by name: ``python -m esep.lazy_imports`` runs a second copy of this module
    return type(finder).__name__ == "_Finder" and type(finder).__module__ in (__name__, "esep.lazy_imports")


def is_lazy() -> bool:
    """True when ``rfc3987_syntax`` is (or would be) the lazy stand-in in this process."""
    mod = sys.modules.get(NAME)
    if mod is not None:
        return bool(getattr(mod, "__esep_lazy__", False))
    return any(_is_ours(f) for f in sys.meta_path)


def _pth_path():
    import sysconfig

    return os.path.join(sysconfig.get_paths()["purelib"], PTH_NAME)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = _pth_path()
    if args == ["--install"]:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("# esep: load rfc3987_syntax lazily (see esep/lazy_imports.py)\n" + PTH_LINE)
        print(f"installed {path}")
    elif args == ["--uninstall"]:
        if os.path.exists(path):
            os.unlink(path)
        print(f"removed {path}")
    elif args in ([], ["--status"]):
        print(f"{path}: {'present' if os.path.exists(path) else 'absent'}; "
              f"active in this process: {is_lazy()}")
    else:
        print("usage: python -m esep.lazy_imports [--install | --uninstall | --status]")
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
