"""The living-cost norm (R-APP-2): organiser data with its source, never a figure of our own.

An organiser uses the debt-adjustment living-cost norm or the social-assistance basic amount as
its guideline says (Kittilä: either; Etelä-Karjala: the Ministry of Justice's debt-adjustment
norm as a rule). Neither guideline gives the figures, so no preset ships a norm.
"""
from __future__ import annotations

from dataclasses import dataclass

from domain.dates import Date
from domain.errors import invalid
from domain.money import Cents, format_cents, parse_amount

FIELDS = {"source", "first_adult", "other_adult", "children"}
BAND_FIELDS = {"from_age", "to_age", "amount"}


@dataclass(frozen=True)
class ChildBand:
    from_age: int
    to_age: int  # inclusive
    amount: Cents


@dataclass(frozen=True)
class LivingCostNorm:
    source: str
    first_adult: Cents
    other_adult: Cents
    children: tuple[ChildBand, ...] = ()

    def for_month(self, adults: int, children_born: list[Date], first_day: Date) -> Cents:
        """The household's norm for the month starting on `first_day`: each child by its age on
        that day; a child older than the last band counts as an other adult, one not yet born
        not at all."""
        total = self.first_adult + self.other_adult * (adults - 1)
        for born in children_born:
            age = age_on(born, first_day)
            if age < 0:
                continue
            band = next((b for b in self.children if b.from_age <= age <= b.to_age), None)
            total += band.amount if band else self.other_adult
        return total

    def to_json(self) -> dict:
        return {"source": self.source, "first_adult": format_cents(self.first_adult),
                "other_adult": format_cents(self.other_adult),
                "children": [{"from_age": b.from_age, "to_age": b.to_age, "amount": format_cents(b.amount)}
                             for b in self.children]}

    @classmethod
    def from_json(cls, raw: object, where: str = "living_cost_norm") -> "LivingCostNorm":
        """A validated norm; every error names the field (e.g. `…children[1].from_age`)."""
        _object(raw, FIELDS, {"source", "first_adult", "other_adult"}, where)
        source = raw["source"]
        if not isinstance(source, str) or not source.strip():
            raise invalid(f"{where}.source must name where the figures come from (e.g. the organiser's "
                          f"decision), got {source!r}", rule="R-APP-2", field=f"{where}.source")
        bands_in = raw.get("children", [])
        if not isinstance(bands_in, list):
            raise invalid(f"{where}.children must be a list of age bands", rule="R-APP-2", field=f"{where}.children")
        bands, next_age = [], 0
        for i, band in enumerate(bands_in):
            at = f"{where}.children[{i}]"
            _object(band, BAND_FIELDS, BAND_FIELDS, at)
            low, high = _age(band["from_age"], f"{at}.from_age"), _age(band["to_age"], f"{at}.to_age")
            # Contiguous from age 0, so that every child's age falls in exactly one band or above the last.
            if low != next_age:
                raise invalid(f"{at}.from_age must be {next_age} (bands run from age 0 without gaps or "
                              f"overlaps), got {low}", rule="R-APP-2", field=f"{at}.from_age")
            if high < low:
                raise invalid(f"{at}.to_age {high} is below from_age {low}", rule="R-APP-2", field=f"{at}.to_age")
            bands.append(ChildBand(low, high, parse_amount(band["amount"], f"{at}.amount", positive=False)))
            next_age = high + 1
        return cls(source.strip(), parse_amount(raw["first_adult"], f"{where}.first_adult", positive=False),
                   parse_amount(raw["other_adult"], f"{where}.other_adult", positive=False), tuple(bands))


def age_on(born: Date, day: Date) -> int:
    """Whole years of age on `day`; negative before birth."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _object(raw: object, allowed: set, required: set, where: str) -> None:
    if not isinstance(raw, dict):
        raise invalid(f"{where} must be an object", rule="R-APP-2", field=where)
    for key in raw:
        if key not in allowed:
            raise invalid(f"{where}.{key}: unknown field", rule="R-APP-2", field=f"{where}.{key}")
    for key in sorted(required - set(raw)):
        raise invalid(f"{where}.{key}: missing", rule="R-APP-2", field=f"{where}.{key}")


def _age(raw: object, where: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 150:
        raise invalid(f"{where} must be a whole number of years 0..150, got {raw!r}", rule="R-APP-2", field=where)
    return raw
