"""School forms: one pre-filled Excel workbook per member school and project, filled in by
the school, returned to the analyst, checked and rolled into the report's data.

Flow (README, "School forms each semester")::

    esep forms school_project --period 2024-2025
        -> output/forms/2024-2025/<member_id>.xlsx      one per school x project of the
                                                          city's member list (5-кесте)
    schools fill them in and send them back
    analyst copies them to data/raw/school_project/forms/2024-2025/
    esep build   -> one school_project report per valid form; a bad form fails only its
                    own school's report; `esep status` and output/index.html show who
                    sent a valid form, an invalid one (its first error) or nothing

Identity: a form's member is ``<school_id>-<project_key>`` (``astana-67-share``), printed
locked in its «Паспорт» sheet and at the start of its file name (``esep.core.reports
.form_member``: ``astana-67-share (1).xlsx`` is fine). The member list is
``city_innovation/project_members.csv`` for the period (or the latest list before it).

Reading and wording reuse :mod:`esep.data.validate` (cell parsing, allowed values,
required cells, unique keys): every problem names the file, the sheet, the cell and the
column as the school sees them, the value found and what was expected. A form is checked
on its own; one form's rows never reach the data unless the whole form is valid, and a
form that repeats a report already in the data (``members.csv`` or another form) is
refused rather than silently doubled.

Tables the form fills are exactly the raw tables of ``school_project`` (its
``schema.yaml``), plus ``pupils_by_language`` (pupils by language of instruction, for the
city roll-up), defined in ``layout.py``. Keys the school would otherwise have to type (``kind_key``
from ``kind``, ``item`` from the row order, ``grade_from``/``grade_to``/``row_type`` from
``grade_band``) are derived.

The package, one job per module: ``layout`` (what a form holds, who is a member),
``write`` (making the workbooks), ``read`` (reading and checking a returned form),
``intake`` (valid rows into the processed tables; failing one school's unit), ``track``
(who sent what).
"""
from __future__ import annotations

from esep.data.forms.layout import (FORM_TABLES, MEMBERS_FROM, NOTE_SHEET, PASSPORT, PASSPORT_FIELDS,
                                    REPORT, SHEETS, list_period, members, school_identity, school_schema,
                                    short_name, slug)
from esep.data.forms.write import ensure_params, generate, instructions, write_form
from esep.data.forms.read import Form, FormProblem, form_periods, forms_dir, read_form, read_forms
from esep.data.forms.intake import (check_unit, status_path, tables_with_forms, unit_digests, units_path,
                                    write_status, write_units)
from esep.data.forms.track import STATE_KK, TRACK_COLUMNS, tracking, tracking_summary

__all__ = ["FORM_TABLES", "MEMBERS_FROM", "NOTE_SHEET", "PASSPORT", "PASSPORT_FIELDS", "REPORT", "SHEETS",
           "list_period", "members", "school_identity", "school_schema", "short_name", "slug",
           "ensure_params", "generate", "instructions", "write_form",
           "Form", "FormProblem", "form_periods", "forms_dir", "read_form", "read_forms",
           "check_unit", "status_path", "tables_with_forms", "unit_digests", "units_path", "write_status",
           "write_units",
           "STATE_KK", "TRACK_COLUMNS", "tracking", "tracking_summary"]
