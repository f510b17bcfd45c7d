"""Period arithmetic and Kazakh labels for notebooks (``from helpers import periods``); home: :mod:`esep.core.periods`."""
from esep.core.periods import *  # noqa: F401,F403
