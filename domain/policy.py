"""An organiser's lending policy (rule book section 3): presets from the seeds, validated overrides."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from domain.errors import invalid
from domain.living_costs import LivingCostNorm
from domain.money import Cents, format_cents, parse_amount

# Amount parameters are held in cents; None means "no limit".
_AMOUNTS = {"min_loan_amount", "max_loan_amount", "annual_grant_limit", "capital_limit",
            "max_total_debt_of_applicant"}


@dataclass(frozen=True)
class Policy:
    preset: str = "default"
    min_loan_amount: Cents | None = 1
    max_loan_amount: Cents | None = None
    max_loan_deviation: Decimal = Decimal(0)  # percent of max_loan_amount tolerated with a warning
    max_term_months: int = 60
    due_day: int | None = None
    annual_grant_limit: Cents | None = None
    capital_limit: Cents | None = None
    one_open_loan_per_borrower: bool = True
    max_total_debt_of_applicant: Cents | None = None
    regular_interest: dict | None = None  # the organiser's default interest terms (R-INT-1); None: interest-free
    penalty_interest: str | None = "statutory"
    reminder_offsets_days: tuple[int, ...] = ()
    auto_acceleration_notice: bool = False
    acceleration_settlement_lag_banking_days: int = 2
    max_due_date_extension_months: int = 1
    delayed_amount_basis: str = "month_late_instalments"
    # Assessment (R-APP-2/4). Added later: a stored snapshot without them loads with these defaults.
    living_cost_norm: LivingCostNorm | None = None  # organiser data; no preset has figures to cite
    saving_months: int | None = None  # can_save: capacity × saving_months ≥ requested
    municipalities: tuple[str, ...] | None = None  # the organiser's area (not_resident, Act §4(2))
    # Applications and decisions (R-APP-5, 9, 10). Added later, with defaults, like the above.
    four_eyes: bool = True  # the person who prepared an application may not decide it
    discussion_within_days: int = 14  # a requested personal discussion is held within (Act §9)
    rectification_body: str | None = None  # who decides a request for rectification (R-APP-5)
    administrative_court: str | None = None  # where a decision on rectification is appealed (R-APP-9)
    offer_valid_days: int = 30  # R-APP-6: an offer reserves its capital this long for the contract to be signed
    # Parameters a preset took from the system default because its guideline is silent.
    defaulted: tuple[str, ...] = field(default=(), compare=False)

    def to_json(self) -> dict:
        out: dict = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in _AMOUNTS and value is not None:
                value = format_cents(value)
            elif isinstance(value, Decimal):
                value = str(value)
            elif isinstance(value, LivingCostNorm):
                value = value.to_json()
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_json(cls, data: dict) -> "Policy":
        """Rebuild a policy snapshot stored in an event (trusted, already validated)."""
        values = dict(data)
        for name in _AMOUNTS:
            if values.get(name) is not None:
                values[name] = parse_amount(values[name], name)
        values["max_loan_deviation"] = Decimal(values["max_loan_deviation"])
        values["reminder_offsets_days"] = tuple(values["reminder_offsets_days"])
        values["defaulted"] = tuple(values.get("defaulted", ()))
        if values.get("living_cost_norm") is not None:
            values["living_cost_norm"] = LivingCostNorm.from_json(values["living_cost_norm"])
        if values.get("municipalities") is not None:
            values["municipalities"] = tuple(values["municipalities"])
        return cls(**values)


_ALL = {f.name for f in dataclasses.fields(Policy)} - {"preset", "defaulted"}

PRESETS: dict[str, dict] = {
    "default": {},
    "kittila": {
        "max_loan_amount": 500000, "max_term_months": 60, "due_day": 10,
        "annual_grant_limit": 3000000, "capital_limit": 12000000, "max_total_debt_of_applicant": 1500000,
        "reminder_offsets_days": (14, 28),
        # "haetaan muutosta Kittilän kunnan sosiaali-ja terveyslautakunnan yksilöasioiden jaostolta"
        "rectification_body": "Kittilän kunnan sosiaali- ja terveyslautakunnan yksilöasioiden jaosto",
    },
    "etela-karjala": {
        "min_loan_amount": 50000, "max_loan_amount": 300000, "max_loan_deviation": Decimal(10),
        "max_term_months": 60, "capital_limit": 10000000,
        # "kokonaisvelkamäärä ylittää sosiaalisen luoton enimmäislainamäärän" (a ground for refusal)
        "max_total_debt_of_applicant": 300000,
        # "Oikaisuvaatimus käsitellään Etelä-Karjalan hyvinvointialueen yksilöasioiden jaostossa"
        "rectification_body": "Etelä-Karjalan hyvinvointialueen yksilöasioiden jaosto",
    },
}


# Values a preset sets although its guideline leaves them to the organiser ("a small deviation").
_SYSTEM_CHOSEN = {"etela-karjala": {"max_loan_deviation"}}


def make_policy(preset: str = "default", overrides: dict | None = None) -> Policy:
    if preset not in PRESETS:
        raise invalid(f"unknown policy preset {preset!r}; known: {', '.join(PRESETS)}", field="policy.preset")
    values = dict(PRESETS[preset])
    defaulted = tuple(sorted((_ALL - set(values)) | _SYSTEM_CHOSEN.get(preset, set()))) if preset != "default" else ()
    for key, raw in (overrides or {}).items():
        values[key] = _parse_override(key, raw)
    return Policy(preset=preset, defaulted=defaulted, **values)


def _parse_override(key: str, raw: object):
    where = f"policy.overrides.{key}"
    if key not in _ALL:
        raise invalid(f"unknown policy parameter {key!r}", field=where)
    if key in _AMOUNTS:
        return None if raw is None else parse_amount(raw, where)
    if key == "max_loan_deviation":
        try:
            value = Decimal(raw) if isinstance(raw, str) else None
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or value < 0:
            raise invalid(f"{where} must be a percentage as a decimal string, got {raw!r}", field=where)
        return value
    if key in ("max_term_months", "acceleration_settlement_lag_banking_days", "max_due_date_extension_months"):
        return _int(raw, where, low=0 if "lag" in key else 1)
    if key == "due_day":
        return None if raw is None else _int(raw, where, low=1, high=28)
    if key in ("discussion_within_days", "offer_valid_days"):
        return _int(raw, where, low=1, high=365)
    if key in ("rectification_body", "administrative_court"):
        if raw is not None and (not isinstance(raw, str) or not raw.strip() or len(raw) > 200):
            raise invalid(f"{where} must name a body in at most 200 characters, got {raw!r}", rule="R-APP-5",
                          field=where)
        return raw.strip() if raw is not None else None
    if key in ("one_open_loan_per_borrower", "auto_acceleration_notice", "four_eyes"):
        if not isinstance(raw, bool):
            raise invalid(f"{where} must be true or false, got {raw!r}", field=where)
        return raw
    if key == "reminder_offsets_days":
        if not isinstance(raw, list):
            raise invalid(f"{where} must be a list of whole days, got {raw!r}", field=where)
        return tuple(sorted({_int(x, where, low=1) for x in raw}))
    if key == "penalty_interest":
        if raw not in (None, "none", "statutory"):
            raise invalid(f"{where} must be \"statutory\" or \"none\" (Act 1133/2002 §6 allows no more)",
                          rule="R-PEN-6", field=where)
        return "statutory" if raw == "statutory" else None
    if key == "regular_interest":
        from domain.interest import InterestTerms

        return InterestTerms.from_json(raw, where).to_json()
    if key == "living_cost_norm":
        return None if raw is None else LivingCostNorm.from_json(raw, where)
    if key == "saving_months":
        return None if raw is None else _int(raw, where, low=1, high=600)
    if key == "municipalities":
        if raw is None:
            return None
        if not isinstance(raw, list) or not all(isinstance(m, str) and m.strip() for m in raw):
            raise invalid(f"{where} must be a list of municipality names, got {raw!r}", rule="R-APP-4", field=where)
        return tuple(m.strip() for m in raw)
    if key == "delayed_amount_basis":
        if raw != "month_late_instalments":
            raise invalid(f"{where} must be \"month_late_instalments\" (R-ACC-2)", field=where)
        return raw
    raise AssertionError(key)  # pragma: no cover - every key is handled above


def _int(raw: object, where: str, *, low: int, high: int | None = None) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < low or (high is not None and raw > high):
        bound = f"{low}..{high}" if high is not None else f">= {low}"
        raise invalid(f"{where} must be a whole number {bound}, got {raw!r}", field=where)
    return raw
