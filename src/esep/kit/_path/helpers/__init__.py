"""Fallback ``helpers`` for a project without its own ``src/helpers``: esep's generic kit.

esep puts this folder on a kernel's import path after the project's ``src/``, so a
project's own ``helpers`` package always wins."""
from esep.kit import extend

__path__ = extend(__path__)  # noqa: F821 - package __path__
