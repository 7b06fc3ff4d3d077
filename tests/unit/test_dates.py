"""Calendar rules: R-DATE-2 add_months, R-DATE-3 banking days, R-DATE-4 effective deadlines,
and the R-ACC-8 settlement lag counted with banking_days_after."""
import datetime as dt

import pytest

from domain.dates import add_months, banking_days_after, effective_deadline, is_banking_day, parse_date
from domain.errors import DomainError


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# --- R-DATE-2 add_months -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2025-01-31", 1, "2025-02-28"),  # rule-book example: clamped to the month's last day
        ("2024-01-31", 1, "2024-02-29"),  # leap year: February has 29 days
        ("2025-02-28", 1, "2025-03-28"),  # rule-book example: same day, NOT month-end
        ("2024-02-29", 12, "2025-02-28"),  # leap day + 1 year clamps
        ("2024-02-29", 48, "2028-02-29"),  # ... but lands on the leap day again 4 years on
        ("2025-01-31", 2, "2025-03-31"),  # counted from the 31st, not from the clamped 28 Feb
        ("2025-01-31", 3, "2025-04-30"),
        ("2025-01-15", 0, "2025-01-15"),  # n = 0 is the date itself
        ("2025-12-31", 1, "2026-01-31"),  # year rollover
        ("2025-11-30", 3, "2026-02-28"),
        ("2025-08-31", 1, "2025-09-30"),
        ("2025-01-10", 25, "2027-02-10"),
    ],
)
def test_r_date_2_add_months_forward(start, n, expected):
    assert add_months(d(start), n) == d(expected)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2025-03-31", -1, "2025-02-28"),  # clamped going back too
        ("2024-03-31", -1, "2024-02-29"),  # leap year
        ("2025-01-15", -1, "2024-12-15"),  # back across a year boundary
        ("2025-02-28", -1, "2025-01-28"),  # not month-end
        ("2024-02-29", -12, "2023-02-28"),
        ("2025-05-31", -3, "2025-02-28"),
        ("2025-01-31", -13, "2023-12-31"),
    ],
)
def test_r_date_2_add_months_negative_n(start, n, expected):
    assert add_months(d(start), n) == d(expected)


# --- R-DATE-3 banking days ---------------------------------------------------------------------

# Finnish bank holidays named in R-DATE-3, worked out by hand (Easter 2025 = 20 Apr, Easter 2026 = 5 Apr;
# Good Friday = Easter - 2, Easter Monday = Easter + 1, Ascension = Easter + 39;
# Midsummer Eve = Friday between 19 and 25 June, Midsummer Day the Saturday after).
HOLIDAYS = {
    2025: {
        "New Year's Day": "2025-01-01",  # Wed
        "Epiphany": "2025-01-06",  # Mon
        "Good Friday": "2025-04-18",
        "Easter Monday": "2025-04-21",
        "May Day": "2025-05-01",  # Thu
        "Ascension Day": "2025-05-29",  # Thu
        "Midsummer Eve": "2025-06-20",  # Fri
        "Midsummer Day": "2025-06-21",  # Sat
        "Independence Day": "2025-12-06",  # Sat
        "Christmas Eve": "2025-12-24",  # Wed
        "Christmas Day": "2025-12-25",  # Thu
        "Boxing Day": "2025-12-26",  # Fri
    },
    2026: {
        "New Year's Day": "2026-01-01",  # Thu
        "Epiphany": "2026-01-06",  # Tue
        "Good Friday": "2026-04-03",
        "Easter Monday": "2026-04-06",
        "May Day": "2026-05-01",  # Fri
        "Ascension Day": "2026-05-14",  # Thu
        "Midsummer Eve": "2026-06-19",  # Fri
        "Midsummer Day": "2026-06-20",  # Sat
        "Independence Day": "2026-12-06",  # Sun
        "Christmas Eve": "2026-12-24",  # Thu
        "Christmas Day": "2026-12-25",  # Fri
        "Boxing Day": "2026-12-26",  # Sat
    },
}
ALL_HOLIDAYS = [(f"{year} {name}", day) for year, named in HOLIDAYS.items() for name, day in named.items()]


@pytest.mark.parametrize(("name", "day"), ALL_HOLIDAYS, ids=[name for name, _ in ALL_HOLIDAYS])
def test_r_date_3_bank_holiday_is_not_a_banking_day(name, day):
    assert not is_banking_day(d(day)), name


def test_r_date_3_weekday_holidays_in_the_table_really_fall_on_weekdays():
    # Guards the table above: the key holidays fall Mon-Fri, so the check is about holidays, not weekends.
    for name in ("Good Friday", "Easter Monday", "Ascension Day", "Midsummer Eve", "Christmas Eve"):
        for year in (2025, 2026):
            assert d(HOLIDAYS[year][name]).weekday() < 5, (year, name)


@pytest.mark.parametrize(
    "day",
    ["2025-05-31", "2025-06-01", "2025-06-28", "2025-06-29", "2026-01-03", "2026-01-04", "2025-12-27",
     "2025-12-28"],
)
def test_r_date_3_weekend_is_not_a_banking_day(day):
    assert d(day).weekday() >= 5
    assert not is_banking_day(d(day))


@pytest.mark.parametrize(
    "day",
    [
        "2025-05-27",  # ordinary Tuesday
        "2025-04-17",  # Maundy Thursday: not a bank holiday
        "2025-04-22",  # Tuesday after Easter Monday
        "2025-05-28",  # between a weekend and Ascension Day
        "2025-05-30",  # Friday after Ascension Day
        "2025-06-09",  # Whit Monday: a holiday elsewhere, not in Finland
        "2025-06-19",  # Thursday before Midsummer Eve
        "2025-06-23",  # Monday after Midsummer
        "2025-12-23",  # day before Christmas Eve
        "2025-12-29",  # Monday after Christmas
        "2026-01-02",  # Friday after New Year's Day
        "2026-01-05",  # Monday before Epiphany
        "2026-12-28",  # Monday after Christmas 2026
    ],
)
def test_r_date_3_ordinary_weekday_is_a_banking_day(day):
    assert d(day).weekday() < 5
    assert is_banking_day(d(day))


def test_r_date_3_whole_year_2025_has_the_expected_number_of_banking_days():
    # 2025 has 261 weekdays; holidays on weekdays: 1 Jan, 6 Jan, 18 Apr, 21 Apr, 1 May, 29 May, 20 Jun,
    # 24 Dec, 25 Dec, 26 Dec = 10 (Midsummer Day and Independence Day fall on Saturday) -> 251.
    days = [d("2025-01-01") + dt.timedelta(days=i) for i in range(365)]
    assert sum(1 for day in days if day.weekday() < 5) == 261
    assert sum(1 for day in days if is_banking_day(day)) == 251


# --- R-DATE-4 effective deadline ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "deadline"),
    [
        ("2025-05-27", "2025-05-27"),  # banking day: the due date itself
        ("2025-05-30", "2025-05-30"),  # Friday banking day: itself, not pushed
        ("2025-05-31", "2025-06-02"),  # Saturday -> Monday
        ("2025-06-01", "2025-06-02"),  # Sunday -> Monday
        ("2025-06-20", "2025-06-23"),  # Midsummer Eve (Fri) + weekend -> Monday
        ("2025-06-21", "2025-06-23"),  # Midsummer Day (Sat) -> Monday
        ("2025-12-24", "2025-12-29"),  # 24, 25, 26 Dec holidays, 27-28 weekend -> Mon 29 Dec
        ("2025-12-25", "2025-12-29"),
        ("2025-12-26", "2025-12-29"),
        ("2025-04-18", "2025-04-22"),  # Good Friday, weekend, Easter Monday -> Tuesday
        ("2025-04-21", "2025-04-22"),  # Easter Monday -> Tuesday
        ("2025-05-29", "2025-05-30"),  # Ascension Day (Thu) -> Friday
        ("2025-05-01", "2025-05-02"),  # May Day (Thu) -> Friday
        ("2025-12-06", "2025-12-08"),  # Independence Day on a Saturday -> Monday
        ("2025-01-06", "2025-01-07"),  # Epiphany (Mon) -> Tuesday
        ("2026-01-01", "2026-01-02"),  # New Year's Day 2026 (Thu) -> Friday
        ("2026-12-24", "2026-12-28"),  # 24 Thu, 25 Fri, 26 Sat, 27 Sun -> Mon 28 Dec 2026
        ("2026-06-19", "2026-06-22"),  # Midsummer Eve 2026 -> Monday
    ],
)
def test_r_date_4_effective_deadline(due, deadline):
    assert effective_deadline(d(due)) == d(deadline)


def test_r_date_4_effective_deadline_is_always_a_banking_day_on_or_after_due():
    start = d("2025-01-01")
    for i in range(2 * 365):
        due = start + dt.timedelta(days=i)
        deadline = effective_deadline(due)
        assert deadline >= due
        assert is_banking_day(deadline)
        # nothing in between is a banking day (it is the *next* banking day)
        between = [due + dt.timedelta(days=k) for k in range((deadline - due).days)]
        assert not any(is_banking_day(day) for day in between), due


# --- R-ACC-8 settlement lag: banking_days_after -------------------------------------------------


@pytest.mark.parametrize(
    ("effective", "lag", "expected"),
    [
        # Rule-book example: E = Tue 27 May 2025; Wed 28 May is banking day 1, Thu 29 May is Ascension Day,
        # so banking day 2 is Fri 30 May.
        ("2025-05-27", 2, "2025-05-30"),
        ("2025-05-27", 1, "2025-05-28"),
        ("2025-05-27", 0, "2025-05-27"),  # lag 0: E itself
        ("2025-05-31", 0, "2025-05-31"),  # lag 0 on a Saturday is still E itself
        ("2025-05-31", 1, "2025-06-02"),  # Saturday + 1 banking day = Monday
        ("2025-05-30", 2, "2025-06-03"),  # Fri -> Mon (1), Tue (2)
        ("2025-06-19", 2, "2025-06-24"),  # Thu; Midsummer Eve + weekend skipped: Mon 23 (1), Tue 24 (2)
        ("2025-12-23", 2, "2025-12-30"),  # 24-26 holidays, 27-28 weekend: Mon 29 (1), Tue 30 (2)
        ("2025-04-17", 1, "2025-04-22"),  # Maundy Thursday: Good Friday .. Easter Monday skipped
    ],
)
def test_r_acc_8_banking_days_after(effective, lag, expected):
    assert banking_days_after(d(effective), lag) == d(expected)


# --- R-DATE-1 date input -----------------------------------------------------------------------


def test_r_date_1_parse_date_accepts_iso_date():
    assert parse_date("2024-02-29", "value_date") == d("2024-02-29")


@pytest.mark.parametrize("value", ["2025-02-29", "2025-13-01", "2025-2-1", "01.02.2025", "", 20250201, None])
def test_r_date_1_parse_date_refuses_invalid_naming_field(value):
    with pytest.raises(DomainError) as caught:
        parse_date(value, "value_date")
    assert caught.value.code == "invalid_request"
    assert caught.value.field == "value_date"
