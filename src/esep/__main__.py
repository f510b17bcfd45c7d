"""``python -m esep`` = the ``esep`` command (a Makefile or a test can name the interpreter)."""
from esep.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
