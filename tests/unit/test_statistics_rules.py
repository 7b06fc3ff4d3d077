"""The pure parts of the statistics (R-STAT-1 … 3), with figures worked out by hand."""
from __future__ import annotations

import datetime as dt

from domain.statistics import age_band, birth_date, household_type, median, percentile, share, suppressed


def test_r_stat_1_birth_date_and_age_band_from_the_identity_code():
    assert birth_date("131052-308T") == dt.date(1952, 10, 13)
    assert birth_date("010105A123X") == dt.date(2005, 1, 1)
    assert birth_date("010199Y123X") == dt.date(1999, 1, 1)  # a century sign of 2023
    assert birth_date(None) is None and birth_date("nonsense") is None
    born = dt.date(2000, 6, 15)
    assert age_band(born, dt.date(2025, 6, 14)) == "18-24"  # 24 the day before the 25th birthday
    assert age_band(born, dt.date(2025, 6, 15)) == "25-34"
    assert age_band(dt.date(1960, 1, 1), dt.date(2025, 1, 1)) == "65+"
    assert age_band(dt.date(2010, 1, 1), dt.date(2025, 1, 1)) == "unknown"  # 15: not a band of the survey
    assert age_band(None, dt.date(2025, 1, 1)) == "unknown"


def test_r_stat_1_household_types():
    assert household_type({"adults": 1, "children": []}) == "single"
    assert household_type({"adults": 1, "children": [{"born": "2015-05-01"}]}) == "single_parent"
    assert household_type({"adults": 2}) == "couple"
    assert household_type({"adults": 2, "children": [{}, {}]}) == "couple_with_children"
    assert household_type({"adults": 3, "children": []}) == "other"
    assert household_type(None) == "unknown"


def test_r_stat_3_median_and_nearest_rank_percentile():
    assert median([10, 1, 4, 10]) == 7.0
    assert median([3, 1, 2]) == 2.0
    assert median([]) is None
    assert percentile([1, 4, 10, 10], 90) == 10  # ceil(3.6) = 4th
    assert percentile(list(range(1, 11)), 90) == 9  # ceil(9.0) = 9th
    assert percentile([5], 90) == 5 and percentile([], 90) is None


def test_r_stat_2_cells_under_five_are_withheld():
    cells = suppressed({"a": {"count": 4, "euros": 400}, "b": {"count": 5, "euros": 500}, "c": {"count": 0, "euros": 0}})
    assert cells == {"a": {"count": None, "euros": None, "suppressed": True},
                     "b": {"count": 5, "euros": 500, "suppressed": False},
                     "c": {"count": 0, "euros": 0, "suppressed": False}}


def test_r_stat_1_share_rounds_half_up_to_hundredths():
    assert share(100000, 980000) == "10.20"  # 10.204…
    assert share(1, 8) == "12.50"
    assert share(1, 3) == "33.33" and share(2, 3) == "66.67"
    assert share(1, 0) is None
