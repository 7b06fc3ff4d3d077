import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.reference_numbers import (
    format_national,
    format_rf,
    is_valid_national_reference,
    is_valid_rf_reference,
    national_reference,
    normalise_reference,
    reference_for_loan,
    rf_reference,
    virtual_barcode,
)

# --- national reference -----------------------------------------------------


def test_published_national_example():
    # Finance Finland: base 123456 -> weights 1,3,7,1,3,7 sum 89 -> check 1.
    assert national_reference("123456") == "1234561"
    assert is_valid_national_reference("1234561")


@pytest.mark.parametrize(
    "ref",
    # References of the test invoices in Pankkiviivakoodi-opas 5.3.
    ["86851 62596 19897", "55958 22432 94671", "69 87567 20834 35364", "8 68624", "13 57914"],
)
def test_spec_references_validate_and_regenerate(ref):
    digits = ref.replace(" ", "")
    assert is_valid_national_reference(ref)
    assert national_reference(digits[:-1]) == digits
    assert format_national(digits) == ref


def test_check_digit_zero():
    # 7*7 + 0*3 + 1*1 = 50: the check digit is 0, not 10.
    assert national_reference("107") == "1070"
    assert national_reference("100") == "1009"


@pytest.mark.parametrize(
    "base", ["", "12", "12345678901234567890", "0123", "000", "12a4", "12 34", "١٢٣", "-123"]
)
def test_national_reference_rejects_bad_base(base):
    with pytest.raises(ValueError, match="3-19 ASCII digits"):
        national_reference(base)


@pytest.mark.parametrize(
    "ref",
    ["1234560", "1234562", "123", "0001234561", "12345678901234567890 1", "abc1", "",
     "RF331234561"],
)
def test_invalid_national_references(ref):
    assert not is_valid_national_reference(ref)


def test_twenty_digit_reference_is_accepted():
    ref = national_reference("1" * 19)
    assert len(ref) == 20 and is_valid_national_reference(ref)


# --- RF reference -------------------------------------------------------------


def test_iso11649_example():
    assert is_valid_rf_reference("RF18 5390 0754 7034")
    assert is_valid_rf_reference("rf18539007547034")
    assert not is_valid_rf_reference("RF17 5390 0754 7034")
    assert not is_valid_rf_reference("1234561")


def test_published_rf_examples():
    # "Kansainvälisen viitteen rakenneohje": 2348236 -> RF33 2348 236.
    assert rf_reference("2348236") == "RF332348236"
    # Pankkiviivakoodi-opas invoice 1, same loan in both forms.
    assert rf_reference("86851 62596 19897") == "RF09868516259619897"
    assert format_rf("RF09868516259619897") == "RF09 8685 1625 9619 897"


def test_rf_reference_rejects_invalid_national():
    with pytest.raises(ValueError, match="national reference"):
        rf_reference("1234560")


def test_format_national_groups_from_right():
    assert format_national("1234561") == "12 34561"
    assert format_national("12345 61") == "12 34561"
    assert format_national("12344") == "12344"
    assert format_national("1234567897") == "12345 67897"
    with pytest.raises(ValueError):
        format_national("1234560")


def test_format_rf_rejects_invalid():
    with pytest.raises(ValueError):
        format_rf("RF17 5390 0754 7034")


# --- normalisation ------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["1234561", "12 34561", " 1234561\n", "RF341234561", "rf34 1234 561", "RF34 0001 2345 61",
     "0001234561"],
)
def test_normalise_both_forms_to_national(raw):
    assert rf_reference("1234561") == "RF341234561"
    assert normalise_reference(raw) == "1234561"


@pytest.mark.parametrize(
    "raw",
    [
        "1234560",  # bad check digit
        "RF351234561",  # bad RF check digits
        "RF18 5390 0754 7034",  # valid RF, but the body is not a national reference
        "",
        "RF",
        "0000",
        "hello",
    ],
)
def test_normalise_rejects(raw):
    assert normalise_reference(raw) is None


# --- loan references ------------------------------------------------------------


def test_reference_for_loan():
    assert reference_for_loan(1) == national_reference("1001")
    refs = {reference_for_loan(n) for n in range(1, 2000)}
    assert len(refs) == 1999
    assert all(is_valid_national_reference(r) for r in refs)


@pytest.mark.parametrize("bad", [0, -1])
def test_reference_for_loan_rejects_non_positive(bad):
    with pytest.raises(ValueError):
        reference_for_loan(bad)


@pytest.mark.parametrize("bad", [1.0, "1", True])
def test_reference_for_loan_rejects_non_int(bad):
    with pytest.raises(TypeError):
        reference_for_loan(bad)


# --- virtual barcode ------------------------------------------------------------

# Test invoices from Pankkiviivakoodi-opas 5.3 (iban, cents, reference, due, code).
SPEC_BARCODES = [
    ("FI79 4405 2020 0360 82", 488315, "86851 62596 19897", datetime.date(2010, 6, 12),
     "479440520200360820048831500000000868516259619897100612"),
    ("FI02 5000 4640 0013 02", 69380, "69 87567 20834 35364", datetime.date(2011, 7, 24),
     "402500046400013020006938000000069875672083435364110724"),
    ("FI16 8000 1400 0502 67", 93585, "78 77767 96566 28687", None,
     "416800014000502670009358500000078777679656628687000000"),
    ("FI73 3131 3001 0000 58", 0, "8 68624", datetime.date(2013, 8, 9),
     "473313130010000580000000000000000000000000868624130809"),
    ("FI83 3301 0001 1007 75", 15000020, "92125 37425 25398 97737", datetime.date(2016, 5, 25),
     "483330100011007751500002000092125374252539897737160525"),
    ("FI92 3939 0001 0033 91", 2, "13 57914", datetime.date(2099, 12, 24),
     "492393900010033910000000200000000000000001357914991224"),
    ("FI79 4405 2020 0360 82", 488315, "RF09 8685 1625 9619 897", datetime.date(2010, 6, 12),
     "579440520200360820048831509000000868516259619897100612"),
    # RF body need not be a national reference in the spec's own examples.
    ("FI02 5000 4640 0013 02", 69380, "RF02 6987 5672 0834", datetime.date(2011, 7, 24),
     "502500046400013020006938002000000000698756720834110724"),
    ("FI83 3301 0001 1007 75", 15000020, "RF71 9212 5374 2525 3989 7737",
     datetime.date(2016, 5, 25),
     "583330100011007751500002071092125374252539897737160525"),
    ("FI73 3131 3001 0000 58", 0, "RF10 8686 24", datetime.date(2013, 8, 9),
     "573313130010000580000000010000000000000000868624130809"),
]


@pytest.mark.parametrize(("iban", "cents", "ref", "due", "expected"), SPEC_BARCODES)
def test_spec_barcodes(iban, cents, ref, due, expected):
    code = virtual_barcode(iban, cents, ref, due)
    assert code == expected
    assert len(code) == 54 and code.isdigit()


def test_barcode_amount_too_large_is_zeroed():
    code = virtual_barcode("FI79 4405 2020 0360 82", 100_000_000, "1234561", None)
    assert code[17:25] == "00000000"
    code = virtual_barcode("FI79 4405 2020 0360 82", 99_999_999, "1234561", None)
    assert code[17:25] == "99999999"


@pytest.mark.parametrize(
    "iban",
    ["DE89 3704 0044 0532 0130 00", "FI79 4405 2020 0360 83", "FI79 4405 2020 0360", "",
     "not an iban"],
)
def test_barcode_rejects_non_finnish_or_invalid_iban(iban):
    with pytest.raises(ValueError, match="iban"):
        virtual_barcode(iban, 100, "1234561", None)


@pytest.mark.parametrize("cents", [12.25, True, "1225"])
def test_barcode_rejects_non_integer_amount(cents):
    with pytest.raises(TypeError, match="amount_cents"):
        virtual_barcode("FI79 4405 2020 0360 82", cents, "1234561", None)


def test_barcode_rejects_negative_amount():
    with pytest.raises(ValueError, match="amount_cents"):
        virtual_barcode("FI79 4405 2020 0360 82", -1, "1234561", None)


@pytest.mark.parametrize("ref", ["1234560", "RF17 5390 0754 7034", "RF47 ABCD", ""])
def test_barcode_rejects_bad_reference(ref):
    with pytest.raises(ValueError, match="reference"):
        virtual_barcode("FI79 4405 2020 0360 82", 100, ref, None)


def test_barcode_rejects_unencodable_due_date():
    with pytest.raises(ValueError, match="due_date"):
        virtual_barcode("FI79 4405 2020 0360 82", 100, "1234561", datetime.date(2100, 1, 1))


# --- properties ---------------------------------------------------------------

bases = st.from_regex(r"[1-9][0-9]{2,18}", fullmatch=True)


@given(bases)
def test_generated_references_validate_and_round_trip(base):
    ref = national_reference(base)
    assert is_valid_national_reference(ref)
    assert is_valid_national_reference(format_national(ref))
    rf = rf_reference(ref)
    assert is_valid_rf_reference(rf)
    assert normalise_reference(rf) == ref
    assert normalise_reference(format_rf(rf)) == ref
    assert normalise_reference(format_national(ref)) == ref


@given(bases, st.integers(0, 9))
def test_wrong_check_digit_is_rejected(base, digit):
    ref = national_reference(base)
    if str(digit) != ref[-1]:
        assert not is_valid_national_reference(base + str(digit))


barcode_dates = st.dates(datetime.date(2000, 1, 1), datetime.date(2099, 12, 31))


@given(bases, st.integers(0, 200_000_000), barcode_dates)
def test_barcode_versions_carry_same_reference(base, cents, due):
    ref = national_reference(base)
    v4 = virtual_barcode("FI79 4405 2020 0360 82", cents, ref, due)
    v5 = virtual_barcode("FI79 4405 2020 0360 82", cents, rf_reference(ref), due)
    assert (v4[0], v5[0]) == ("4", "5")
    assert len(v4) == len(v5) == 54
    assert v4[1:25] == v5[1:25] and v4[-6:] == v5[-6:]  # account, amount, due date
    assert v4[28:48].lstrip("0") == v5[27:48].lstrip("0") == ref
