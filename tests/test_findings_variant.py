"""A district's report lists the findings about its own rows and the shared/total rows,
not the findings about other districts' rows."""
from __future__ import annotations

from esep.data import findings
from esep.core import reports


def test_district_report_keeps_own_and_shared_findings_only():
    spec = reports.get("oblast_experiment")
    every = findings.for_unit(spec, "2023-2024")
    about = lambda fs, word: [f for f in fs if word in f.message]  # noqa: E731
    assert about(every, "Сырым") and about(every, "Тасқала"), "shipped data has district findings"
    syrym = findings.for_variant(every, spec, "syrym")
    terekti = findings.for_variant(every, spec, "terekti")
    assert about(syrym, "Сырым") and not about(syrym, "Тасқала")
    assert not about(terekti, "Сырым") and not about(terekti, "Тасқала")
    shared = [f for f in every if f.check == "share"]          # printed % of the total rows
    assert shared and all(f in terekti for f in shared)
    assert findings.for_variant(every, spec, None) == every    # the oblast report: all
