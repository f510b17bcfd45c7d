"""Kazakh number formatting for notebooks (``from helpers import fmt``).

The one home of number parsing, rounding and formatting is :mod:`esep.core.numbers`
(the engine fills narrative placeholders and writes the data-quality appendix with the
same functions); this module only re-exports it under the name notebooks use.
"""
from esep.core.numbers import *  # noqa: F401,F403
