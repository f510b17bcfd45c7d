import pytest

from helpers import periods


def test_parse_and_school_year():
    assert periods.parse("2023-2024-S2") == (2023, 2024, 2)
    assert periods.school_year("2023-2024-S2") == "2023-2024"
    assert periods.school_year("2022-2023") == "2022-2023"
    assert periods.is_semester("2023-2024-S1") and not periods.is_semester("2023-2024")
    with pytest.raises(ValueError):
        periods.parse("23-24")


def test_shift_and_previous_semester():
    assert periods.shift("2023-2024-S2", -1) == "2022-2023-S2"
    assert periods.shift("2023-2024", -2) == "2021-2022"
    assert periods.shift("2019", 1) == "2020"
    assert periods.previous_semester("2023-2024-S2") == "2023-2024-S1"
    assert periods.previous_semester("2023-2024-S1") == "2022-2023-S2"


def test_labels_in_kazakh_forms():
    assert periods.label("2023-2024-S2") == "2023-2024 оқу жылының 2-жартыжылдығы"
    assert periods.label("2023-2024-S2", "attr") == "2023-2024 оқу жылының 2-жартыжылдығындағы"
    assert periods.label("2022-2023", "loc") == "2022-2023 оқу жылында"
    assert periods.label("2022-2023-S2", "abl") == "2022-2023 оқу жылының 2-жартыжылдығымен"
    assert periods.label("2019") == "2019 жыл"
