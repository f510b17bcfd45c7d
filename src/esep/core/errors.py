"""User-facing errors: the CLI prints these as one readable message, no traceback."""
from __future__ import annotations


class EsepError(Exception):
    """A mistake the user can fix (bad params, bad data, missing file...)."""


class ParamsError(EsepError):
    pass


class DataError(EsepError):
    pass


class RunError(EsepError):
    """A notebook failed while executing; the message names the cell and the error."""
