"""Reference rates and the statutory penalty rate: R-PEN-1 (reference + 7 pp per half-year),
R-PEN-3 (Actual/365 exact accrual), R-PEN-4 (rates are data with a source; missing rate raises)."""
import datetime as dt
import json
from decimal import Decimal
from importlib import resources

import pytest

from domain.errors import DomainError
from domain.money import round_half_up
from domain.rates import DENOMINATOR, RATE_UNIT, MissingRate, ReferenceRates, shipped_rates


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def pct(text: str) -> int:
    """A percentage as rate units (1 % = 10_000 units)."""
    return int(Decimal(text) * RATE_UNIT)


def table(*rows: tuple[str, str]) -> ReferenceRates:
    return ReferenceRates.from_json([{"from": start, "rate": rate} for start, rate in rows], source="test")


# Reference rates per half-year as the Bank of Finland published them (Interest Act §12), from the
# half-year the Act 1133/2002 came into force (issue 13: older loans can be brought in).
EXPECTED_SHIPPED = {
    "2003-01-01": "3.00", "2003-07-01": "2.50",
    "2004-01-01": "2.50", "2004-07-01": "2.50",
    "2005-01-01": "2.50", "2005-07-01": "2.50",
    "2006-01-01": "2.50", "2006-07-01": "3.00",
    "2007-01-01": "4.00", "2007-07-01": "4.50",
    "2008-01-01": "4.50", "2008-07-01": "4.50",
    "2009-01-01": "2.50", "2009-07-01": "1.00",
    "2010-01-01": "1.00", "2010-07-01": "1.00",
    "2011-01-01": "1.00", "2011-07-01": "1.50",
    "2012-01-01": "1.00", "2012-07-01": "1.00",
    "2013-01-01": "1.00", "2013-07-01": "0.50",
    "2014-01-01": "0.50", "2014-07-01": "0.50",
    "2015-01-01": "0.50", "2015-07-01": "0.50",
    "2016-01-01": "0.50", "2016-07-01": "0.00",
    "2017-01-01": "0.00", "2017-07-01": "0.00",
    "2018-01-01": "0.00", "2018-07-01": "0.00",
    "2019-01-01": "0.00", "2019-07-01": "0.00",
    "2020-01-01": "0.00", "2020-07-01": "0.00",
    "2021-01-01": "0.00", "2021-07-01": "0.00",
    "2022-01-01": "0.00", "2022-07-01": "0.00",
    "2023-01-01": "2.50", "2023-07-01": "4.00",
    "2024-01-01": "4.50", "2024-07-01": "4.50",
    "2025-01-01": "3.50", "2025-07-01": "2.50",  # 2025 H2 is derived (ECB 2.15 % rounded up to 2.50)
    "2026-01-01": "2.50",
}


def raw_shipped() -> dict:
    return json.loads(resources.files("domain").joinpath("data/reference_rates.json").read_text())


# --- R-PEN-4: the shipped table -----------------------------------------------------------------


def test_r_pen_4_shipped_table_has_exactly_the_listed_half_years():
    rates = shipped_rates()
    assert {e.starts.isoformat(): e.rate for e in rates.entries} == {
        start: Decimal(rate) for start, rate in EXPECTED_SHIPPED.items()}
    assert len(rates.entries) == len(EXPECTED_SHIPPED)  # no duplicates


def test_r_pen_4_shipped_entries_start_on_half_year_boundaries():
    for entry in shipped_rates().entries:
        assert (entry.starts.month, entry.starts.day) in {(1, 1), (7, 1)}, entry


def test_r_pen_4_every_shipped_rate_has_a_source():
    for entry in shipped_rates().entries:
        assert entry.source.strip(), entry
    assert "Bank of Finland" in raw_shipped()["source"]


def test_r_pen_4_the_shipped_table_starts_when_the_act_came_into_force_and_cites_each_notice():
    """Issue 13: a loan granted on 1 Jan 2003 or later always finds its rates; every published row
    names the Bank of Finland notice it comes from (only 2025 H2 is derived, see below)."""
    from domain.values import ACT_IN_FORCE

    assert shipped_rates().entries[0].starts == ACT_IN_FORCE == d("2003-01-01")
    assert shipped_rates().penalty_units(ACT_IN_FORCE) == pct("10.00")  # SDK 1335/2002: 3 % + 7
    assert shipped_rates().rate_days(d("2003-01-01"), d("2019-12-31")) > 0  # no MissingRate
    for row in raw_shipped()["rates"]:
        if "derived" not in row:
            assert row["source"].startswith("Suomen Pankin ilmoitus viitekorosta"), row


def test_r_pen_4_only_2025_h2_is_marked_derived_and_keeps_its_derivation_as_source():
    rows = raw_shipped()["rates"]
    derived = [row["from"] for row in rows if "derived" in row]
    assert derived == ["2025-07-01"]
    entry = next(e for e in shipped_rates().entries if e.starts == d("2025-07-01"))
    assert entry.source == next(row["derived"] for row in rows if row["from"] == "2025-07-01")
    assert "2.15" in entry.source  # the ECB rate it was derived from is recorded


# --- R-PEN-1: penalty rate = reference rate in force for the half-year + 7 pp ------------------


@pytest.mark.parametrize(
    ("day", "penalty"),
    [
        ("2020-01-01", "7.00"),  # 0.00 + 7
        ("2022-12-31", "7.00"),
        ("2023-01-01", "9.50"),  # 2.50 + 7
        ("2023-06-30", "9.50"),
        ("2023-07-01", "11.00"),  # 4.00 + 7
        ("2023-12-31", "11.00"),
        ("2024-01-01", "11.50"),  # 4.50 + 7
        ("2024-07-01", "11.50"),
        ("2024-12-31", "11.50"),
        ("2025-01-01", "10.50"),  # 3.50 + 7
        ("2025-06-30", "10.50"),  # last day of H1
        ("2025-07-01", "9.50"),  # first day of H2: 2.50 + 7
        ("2025-12-31", "9.50"),
        ("2026-01-01", "9.50"),  # 2.50 + 7
        ("2026-06-30", "9.50"),
    ],
)
def test_r_pen_1_penalty_rate_is_reference_plus_7_pp(day, penalty):
    assert shipped_rates().penalty_units(d(day)) == pct(penalty)


def test_r_pen_1_custom_table_rate_plus_7():
    rates = table(("2025-01-01", "3.15"), ("2025-07-01", "2.15"))
    assert rates.penalty_units(d("2025-03-01")) == pct("10.15")
    assert rates.penalty_units(d("2025-07-01")) == pct("9.15")


def test_r_pen_4_table_order_does_not_matter():
    rates = table(("2025-07-01", "2.50"), ("2025-01-01", "3.50"))
    assert rates.penalty_units(d("2025-06-30")) == pct("10.50")
    assert rates.penalty_units(d("2025-07-01")) == pct("9.50")


# --- R-PEN-2/3: rate-days (Σ daily penalty rate) and exact Actual/365 accrual ------------------


def test_r_pen_3_rate_days_across_half_year_boundary():
    # Days after 20 Jun up to and including 10 Jul 2025:
    # 21..30 Jun = 10 days at 10.5 %, 1..10 Jul = 10 days at 9.5 %.
    expected = 10 * pct("10.50") + 10 * pct("9.50")  # 1_050_000 + 950_000
    assert shipped_rates().rate_days(d("2025-06-20"), d("2025-07-10")) == expected == 2_000_000


@pytest.mark.parametrize(
    ("after", "through", "expected"),
    [
        ("2025-06-29", "2025-06-30", pct("10.50")),  # one day, last of H1
        ("2025-06-30", "2025-07-01", pct("9.50")),  # one day, first of H2
        ("2025-06-30", "2025-06-30", 0),  # no days
        ("2025-07-10", "2025-06-20", 0),  # through before after: nothing accrues
        # whole year 2025: 181 days (Jan-Jun) at 10.5 % + 184 days (Jul-Dec) at 9.5 %
        ("2024-12-31", "2025-12-31", 181 * pct("10.50") + 184 * pct("9.50")),
        # leap year 2024 H1 has 182 days, all at 11.5 %; the year has 366 days
        ("2023-12-31", "2024-12-31", 366 * pct("11.50")),
        # across several half-years: 1 day in 2023 H2 (11 %), 182 + 184 days in 2024 (11.5 %), 1 day 2025 (10.5 %)
        ("2023-12-30", "2025-01-01", pct("11.00") + 366 * pct("11.50") + pct("10.50")),
    ],
)
def test_r_pen_2_rate_days_counts_days_after_up_to_and_including(after, through, expected):
    assert shipped_rates().rate_days(d(after), d(through)) == expected


def test_r_pen_2_rate_days_is_additive():
    rates = shipped_rates()
    a, b, c = d("2023-03-15"), d("2024-08-02"), d("2026-02-11")
    assert rates.rate_days(a, c) == rates.rate_days(a, b) + rates.rate_days(b, c)


def test_r_pen_3_accrual_on_100_euros_across_boundary():
    # 100.00 overdue for the 20 days above: 100 × 10.5 % / 365 × 10 = 0.28767
    #                                     + 100 × 9.5 % / 365 × 10 = 0.26027  -> 0.54795 -> 0.55 (half-up once)
    rate_days = shipped_rates().rate_days(d("2025-06-20"), d("2025-07-10"))
    exact_cents = Decimal(10000 * rate_days) / DENOMINATOR
    assert abs(exact_cents - Decimal("54.795")) < Decimal("0.001")
    assert round_half_up(exact_cents) == 55


def test_r_pen_3_denominator_is_actual_365():
    # cents × units / DENOMINATOR must equal cents × (units / RATE_UNIT) / 100 / 365.
    assert DENOMINATOR == 100 * RATE_UNIT * 365


# --- R-PEN-4: missing rates ----------------------------------------------------------------------


def test_r_pen_4_penalty_units_before_table_start_raises():
    rates = table(("2025-01-01", "3.50"))
    assert rates.penalty_units(d("2025-01-01")) == pct("10.50")  # boundary: first day is known
    with pytest.raises(MissingRate):
        rates.penalty_units(d("2024-12-31"))


def test_r_pen_4_rate_days_needing_a_day_before_the_table_raises():
    rates = table(("2025-01-01", "3.50"))
    # after = 31 Dec 2024: the first day needed is 1 Jan 2025, which is known.
    assert rates.rate_days(d("2024-12-31"), d("2025-01-05")) == 5 * pct("10.50")
    with pytest.raises(MissingRate):
        rates.rate_days(d("2024-12-30"), d("2025-01-05"))  # needs 31 Dec 2024


def test_r_pen_4_shipped_table_has_no_rate_before_the_act_came_into_force():
    with pytest.raises(MissingRate):
        shipped_rates().penalty_units(d("2002-12-31"))
    with pytest.raises(MissingRate):
        shipped_rates().rate_days(d("2002-12-30"), d("2003-01-10"))


# --- R-PEN-4: rate table input -------------------------------------------------------------------


@pytest.mark.parametrize(
    "rows",
    [
        [],
        "3.50",
        [{"from": "2025-01-01", "rate": 3.5}],  # R-MONEY-1 spirit: JSON numbers refused
        [{"from": "2025-01-01", "rate": "-0.50"}],
        [{"from": "2025-01-01", "rate": "abc"}],
        [{"from": "2025-01-01", "rate": "3.123456"}],  # finer than the rate unit
        [{"from": "2025-02-30", "rate": "3.50"}],
        [{"rate": "3.50"}],
        ["2025-01-01"],
    ],
)
def test_r_pen_4_invalid_rate_table_refused(rows):
    with pytest.raises(DomainError) as caught:
        ReferenceRates.from_json(rows)
    assert caught.value.code == "invalid_request"
    assert (caught.value.field or "").startswith("reference_rates")


def test_r_pen_4_rate_table_round_trips_with_source():
    rates = shipped_rates()
    again = ReferenceRates.from_json(rates.to_json())
    assert again == rates
    assert [e.source for e in again.entries] == [e.source for e in rates.entries]


def test_a_rate_table_is_hashed_once_however_often_it_is_looked_up(monkeypatch):
    """Every interest figure looks its rate table up by (terms, rates) (domain.interest._RateTable.of);
    hashing every entry again on each look-up was half of a daily run with interest-bearing loans
    (bench part d). Equal tables still hash equal."""
    from decimal import Decimal

    from domain.rates import ReferenceRate, ReferenceRates

    hashed = []
    plain = ReferenceRate.__hash__
    monkeypatch.setattr(ReferenceRate, "__hash__", lambda self: hashed.append(self) or plain(self))
    entries = (ReferenceRate(dt.date(2025, 1, 1), Decimal("2.5")), ReferenceRate(dt.date(2025, 7, 1), Decimal("2.0")))
    table = ReferenceRates(entries)
    assert len({hash(table) for _ in range(100)}) == 1
    assert len(hashed) == 2  # each entry once
    assert hash(ReferenceRates(entries[::-1])) == hash(table) and ReferenceRates(entries[::-1]) == table
    import pickle

    assert "_hash" not in pickle.loads(pickle.dumps(table)).__dict__  # a string hashes otherwise elsewhere
