"""This project's notebook helpers (report-specific: city_innovation, leading, oblast, …).

esep's generic helpers (fmt, tables, charts, captions, data, report, periods, present)
are found here too, through esep's kit, without a copy: see docs/ARCHITECTURE.md.
"""
from esep.kit import extend

__path__ = extend(__path__)  # noqa: F821 - package __path__
