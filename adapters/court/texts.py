"""A loan's events told for a judge, in Finnish or Swedish (issue 20): one sentence per event, with its
date, amounts in euros and the legal basis written out. No JSON, no escapes, no English.

`sentence(event, lang, show)` takes a stored loan event (domain.events) and returns the sentence;
`legal_basis(text, lang)` writes out a basis such as "Act 1133/2002 §8(1)(1), §8(3)";
`euros(amount, lang)` and `date(value)` format figures the Finnish way ("1 234,56 euroa", "12.5.2025").
`show` opens sealed free text (reasons) for a reader who may see it (application.personal_text).
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

NBSP = "\u00a0"
LANGUAGES = ("fi", "sv")
# Acts a legal basis may cite ("Act 1133/2002 §8(1)(1)"), in the genitive a section reference takes.
ACTS = {
    "1133/2002": ("sosiaalisesta luototuksesta annetun lain (1133/2002)", "lagen om social kreditgivning (1133/2002)"),
    "633/1982": ("korkolain (633/1982)", "räntelagen (633/1982)"),
    "808/2019": ("oikeudenkäynnistä hallintoasioissa annetun lain (808/2019)",
                 "lagen om rättegång i förvaltningsärenden (808/2019)"),
    "705/2007": ("ulosottokaaren (705/2007)", "utsökningsbalken (705/2007)"),
    "1301/2014": ("sosiaalihuoltolain (1301/2014)", "socialvårdslagen (1301/2014)"),
}
# English tails the code writes after a section reference, in the judge's language.
_TAILS = {
    "repayment terms": ("takaisinmaksuehdot", "återbetalningsvillkoren"),
    "no credit costs": ("ei muita luottokustannuksia", "inga andra kreditkostnader"),
    "earlier notice of the delay": ("aiempi huomautus viivästyksestä", "tidigare anmärkning om dröjsmålet"),
    "decision on rectification": ("oikaisuvaatimuksen ratkaisu", "beslut om begäran om omprövning"),
    "rule correction": ("sääntötulkinnan korjaus", "rättelse av regeltillämpningen"),
}
_ACT = re.compile(r"Act (\d+/\d{4})")
_SECTION = re.compile(r"(?:ch\.\s*(\d+)\s*)?§\s*(\d+\s?[a-z]?)((?:\(\d+\))*)")


def date(value) -> str:
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return f"{value.day}.{value.month}.{value.year}"


def euros(amount, lang: str) -> str:
    """'1234.56' (or int cents) -> '1 234,56 euroa' / '1 234,56 euro'."""
    value = Decimal(amount) / 100 if isinstance(amount, int) else Decimal(str(amount))
    sign = "-" if value < 0 else ""
    whole, cents = f"{abs(value):.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{sign}{NBSP.join(groups)},{cents}{NBSP}{'euroa' if lang == 'fi' else 'euro'}"


def percent(value, lang: str) -> str:
    return f"{Decimal(str(value)):.2f}".replace(".", ",") + NBSP + "%"


def _section(match: re.Match, lang: str, last: bool) -> str:
    chapter, number = match.group(1), match.group(2).replace(" ", "")
    parts = re.findall(r"\((\d+)\)", match.group(3))
    number = f"{number[:-1]} {number[-1]}" if number[-1].isalpha() else number
    if lang == "fi":
        text = (f"{chapter} luvun " if chapter else "") + f"{number} §"
        if parts:
            moment = "momentin" if len(parts) > 1 or not last else "momentti"
            text += f":n {parts[0]} {moment}" + (f" {parts[1]} kohta" if len(parts) > 1 else "")
        return text
    text = (f"{chapter} kap. " if chapter else "") + f"{number} §"
    if parts:
        text += f" {parts[0]} mom." + (f" {parts[1]} punkten" if len(parts) > 1 else "")
    return text


def _part(text: str, lang: str) -> str:
    act = _ACT.search(text)
    if act is None or act.group(1) not in ACTS:
        return text.strip()
    name = ACTS[act.group(1)][0 if lang == "fi" else 1]
    found = list(_SECTION.finditer(text[act.end():]))
    sections = [_section(m, lang, True) for m in found]
    if lang == "fi":
        if not sections:
            return name.replace(" lain (", " laki (").replace("korkolain", "korkolaki").replace(
                "ulosottokaaren", "ulosottokaari").replace("sosiaalihuoltolain", "sosiaalihuoltolaki")
        return f"{name} {' ja '.join(sections)}"
    return f"{' och '.join(sections)} i {name}" if sections else name


def legal_basis(text: str | None, lang: str) -> str:
    """'Act 1133/2002 §8(1)(1), §8(3)' -> 'sosiaalisesta luototuksesta annetun lain (1133/2002) 8 §:n 1 momentin
    1 kohta ja 8 §:n 3 momentti'; several acts separated by ';'. A basis written by staff in their own words
    (not starting with "Act") is kept as they wrote it."""
    if not text:
        return ""
    if not text.lstrip().startswith(("Act", "Interest Act")):
        return text
    tails = [pair[0 if lang == "fi" else 1] for english, pair in _TAILS.items() if english in text]
    parts = [_part(re.sub(r"\((?:[a-z ]+|R-[A-Z]+-\d+)\)", "", p), lang) for p in text.split(";")]
    parts = [p for p in parts if p and not any(english in p for english in _TAILS)]
    return "; ".join(parts) + (f" ({', '.join(tails)})" if tails else "")


def _numbers(items, lang: str) -> str:
    items = [str(i) for i in items]
    word = " ja " if lang == "fi" else " och "
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + word + items[-1]


def _reasons(event, show, lang: str) -> str:
    reasons = getattr(event, "reasons", None)
    if not reasons:
        return ""
    text = show(reasons) if show else reasons
    if not isinstance(text, str) or not text.strip():
        return ""
    return (f" Perustelut: {text.strip()}" if lang == "fi" else f" Motivering: {text.strip()}").rstrip(".") + "."


def _by(event, lang: str) -> str:
    who = getattr(event, "decided_by", None)
    if not who:
        return ""
    if who == "scheduler":
        return " (kirjattu automaattisesti päivittäisessä ajossa)" if lang == "fi" else \
            " (registrerat automatiskt i den dagliga körningen)"
    return f" Päätöksen teki {who}." if lang == "fi" else f" Beslutet fattades av {who}."


def _basis(event, lang: str) -> str:
    basis = legal_basis(getattr(event, "legal_basis", None), lang)
    if not basis:
        return ""
    return f" Oikeusperuste: {basis}." if lang == "fi" else f" Rättslig grund: {basis}."


CHANNELS = {"letter": ("kirjeenä", "som brev"), "suomifi": ("Suomi.fi-viestinä", "som Suomi.fi-meddelande"),
            "print": ("kirjeenä", "som brev"), "paper": ("paperikirjeenä", "som pappersbrev")}
OUTCOMES = {"handed_over": ("annettiin Suomi.fi-viestit-palvelulle toimitettavaksi sähköisesti tai paperikirjeenä",
                            "lämnades till Suomi.fi-meddelanden för leverans elektroniskt eller som pappersbrev"),
            "sent_for_printing": ("annettiin tulostettavaksi ja postitettavaksi", "lämnades för utskrift och postning"),
            "delivered": ("toimitettiin vastaanottajalle", "levererades till mottagaren"),
            "read": ("vastaanottaja avasi (luki)", "öppnades (lästes) av mottagaren"),
            "returned": ("palautui", "returnerades"), "failed": ("ei mennyt perille", "kunde inte levereras"),
            "paper_fallback": ("lähetettiin paperikirjeenä, koska vastaanottaja ei ole ottanut Suomi.fi-viestejä "
                               "käyttöön", "sändes som pappersbrev eftersom mottagaren inte tagit Suomi.fi-meddelanden i "
                               "bruk")}
BRANCH = {"a": ("yksi maksuerä, joka on vähintään 10 % luoton alkuperäisestä määrästä",
                "en rat som är minst 10 % av kreditens ursprungliga belopp"),
          "b": ("useampi maksuerä, yhteensä vähintään 5 % luoton alkuperäisestä määrästä",
                "flera rater, sammanlagt minst 5 % av kreditens ursprungliga belopp"),
          "c": ("luotonantajan koko jäännössaatava", "kreditgivarens hela återstående fordran")}
CAUSES = {"illness": ("sairaus", "sjukdom"), "unemployment": ("työttömyys", "arbetslöshet"),
          "other": ("muu luotonsaajasta riippumaton syy", "annan omständighet som inte beror på kredittagaren")}
APPEAL = {"upheld": ("hyväksyttiin", "godkändes"), "partly_upheld": ("hyväksyttiin osittain", "godkändes delvis"),
          "rejected": ("hylättiin", "avslogs")}


def sentence(event, lang: str, show=None) -> str:
    """The event as one or more sentences, in `lang` (fi or sv)."""
    fi = lang == "fi"
    i = 0 if fi else 1
    kind = type(event).__name__
    on = date(event.effective_date)
    e = event
    if kind == "LoanGranted":
        text = (f"{on} luotonsaajalle myönnettiin sosiaalinen luotto {e.loan_id}, määrältään {euros(e.principal, lang)}, "
                f"maksettavaksi {len(e.instalments)} kuukausierässä, ensimmäinen eräpäivä {date(e.first_due_date)}."
                if fi else
                f"Den {on} beviljades kredittagaren social kredit {e.loan_id} på {euros(e.principal, lang)}, att "
                f"betalas i {len(e.instalments)} månadsrater, första förfallodag {date(e.first_due_date)}.")
        if e.decision_reference:
            text += f" Päätöksen diaarinumero on {e.decision_reference}." if fi else \
                f" Beslutets diarienummer är {e.decision_reference}."
        return text + _by(e, lang) + _basis(e, lang) + _reasons(e, show, lang)
    if kind == "InstalmentFellDue":
        interest = f", josta korkoa {euros(e.interest_part, lang)}" if fi and e.interest_part not in (None, "0.00") \
            else (f", varav ränta {euros(e.interest_part, lang)}" if e.interest_part not in (None, "0.00") else "")
        return (f"{on} erääntyi maksuerä {e.instalment}, {euros(e.amount, lang)}{interest}." if fi else
                f"Den {on} förföll rat {e.instalment}, {euros(e.amount, lang)}{interest}.")
    if kind == "InstalmentLate":
        return (f"{on} maksuerä {e.instalment} oli myöhässä: sitä ei ollut maksettu eräpäivään mennessä, ja maksamatta "
                f"oli {euros(e.amount, lang)}." if fi else
                f"Den {on} var rat {e.instalment} försenad: den hade inte betalats senast på förfallodagen och "
                f"{euros(e.amount, lang)} var obetalt.")
    if kind == "PaymentReceived":
        source = getattr(e, "source", "") or ""
        agency = source.startswith("collection")
        via = (" perintätoimiston tilittämänä" if fi else " redovisad av inkassobyrån") if agency else ""
        return (f"{date(e.value_date)} luotonsaaja maksoi {euros(e.amount, lang)}{via} (maksun tunniste "
                f"{e.payment_id}, kirjattu {on})." if fi else
                f"Den {date(e.value_date)} betalade kredittagaren {euros(e.amount, lang)}{via} (betalningens id "
                f"{e.payment_id}, bokförd {on}).")
    if kind == "PaymentReversed":
        return (f"{on} maksu {e.payment_id} peruttiin (palautettu tai väärin kohdistettu)." if fi else
                f"Den {on} återfördes betalningen {e.payment_id} (returnerad eller felaktigt allokerad).")
    if kind == "NoticeSent" and e.kind == "reminder":
        channel = CHANNELS.get(e.channel, (e.channel, e.channel))[i]
        return (f"{on} luotonsaajalle lähetettiin {channel} maksumuistutus maksuerästä {_numbers(e.instalments, lang)}. "
                f"Kirjeen tiiviste (SHA-256) on {e.content_hash}." if fi else
                f"Den {on} sändes {channel} en betalningspåminnelse till kredittagaren om rat "
                f"{_numbers(e.instalments, lang)}. Brevets hashvärde (SHA-256) är {e.content_hash}.")
    if kind == "NoticeSent":
        channel = CHANNELS.get(e.channel, (e.channel, e.channel))[i]
        text = (f"{on} luotonsaajalle lähetettiin {channel} ilmoitus luoton eräännyttämisestä. Viivästyneitä olivat "
                f"maksuerät {_numbers(e.instalments, lang)}, yhteensä {euros(e.delayed_amount, lang)}. Ilmoitusaika oli "
                f"{e.period_days} päivää: jos viivästynyt määrä maksettaisiin viimeistään {date(e.cure_deadline)}, "
                f"eräännyttäminen raukeaisi; muuten se tulisi voimaan {date(e.takes_effect_on)}. Kirjeen tiiviste "
                f"(SHA-256) on {e.content_hash}." if fi else
                f"Den {on} sändes {channel} ett meddelande till kredittagaren om att krediten förfaller i förtid. "
                f"Försenade var raterna {_numbers(e.instalments, lang)}, sammanlagt {euros(e.delayed_amount, lang)}. "
                f"Meddelandetiden var {e.period_days} dagar: om det försenade beloppet betalades senast "
                f"{date(e.cure_deadline)} skulle förfallet bortfalla; annars skulle det träda i kraft "
                f"{date(e.takes_effect_on)}. Brevets hashvärde (SHA-256) är {e.content_hash}.")
        if e.override_reason:
            text += (" Ilmoitus lähetettiin viivästyksen hyväksyttävästä syystä huolimatta, koska eräännyttämättä "
                     "jättäminen olisi ollut luotonantajalle ilmeisen kohtuutonta (8 §:n 2 momentti)." if fi else
                     " Meddelandet sändes trots en godtagbar orsak till dröjsmålet, eftersom det annars hade varit "
                     "uppenbart oskäligt för kreditgivaren (8 § 2 mom.).")
        return text + _by(e, lang) + _basis(e, lang) + _reasons(e, show, lang)
    if kind == "NoticeDeliveryRecorded":
        outcome = OUTCOMES.get(e.outcome, (e.outcome, e.outcome))[i]
        channel = CHANNELS.get(e.channel, (e.channel, e.channel))[i]
        text = (f"{on} kirjattiin, että ilmoitus (tapahtuma {e.notice}) {outcome} ({channel})." if fi else
                f"Den {on} registrerades att meddelandet (händelse {e.notice}) {outcome} ({channel}).")
        reference, reported = getattr(e, "reference", None), getattr(e, "reported_at", None)
        if reference and e.channel == "letter":
            text += (f" Kirje luovutettiin tulostuspalveluun erässä {reference}, jonka allekirjoitettu "
                     f"luovutusluettelo on liitteenä." if fi else
                     f" Brevet överlämnades till utskriftstjänsten i omgång {reference}, vars signerade "
                     f"överlämningsförteckning bifogas.")
        elif reference:
            text += f" Viestin tunniste palvelussa: {reference}." if fi else f" Meddelandets id i tjänsten: {reference}."
        if reported:
            text += (f" Palvelun ilmoittama aika: {reported}." if fi else f" Tidpunkt enligt tjänsten: {reported}.")
        return text
    if kind == "AccelerationConditionsMet":
        return (f"{on} todettiin, että eräännyttämisen edellytykset täyttyivät (8 §:n 1 momentin 1 kohta): "
                f"vähintään kuukauden viivästyneenä olivat maksuerät {_numbers(e.instalments, lang)}, yhteensä "
                f"{euros(e.delayed_amount, lang)}; peruste: {BRANCH.get(e.branch, (e.branch, e.branch))[0]}." if fi else
                f"Den {on} konstaterades att förutsättningarna för förtida förfallo var uppfyllda (8 § 1 mom. "
                f"1 punkten): minst en månad försenade var raterna {_numbers(e.instalments, lang)}, sammanlagt "
                f"{euros(e.delayed_amount, lang)}; grund: {BRANCH.get(e.branch, (e.branch, e.branch))[1]}.")
    if kind == "HardshipRecorded":
        cause = CAUSES.get(e.cause, (e.cause, e.cause))[i]
        return (f"{on} kirjattiin viivästyksen hyväksyttävä syy ({cause}), jonka aikana eräännyttämistä ei saa "
                f"saattaa voimaan (8 §:n 2 momentti)." if fi else
                f"Den {on} registrerades en godtagbar orsak till dröjsmålet ({cause}), under vilken förfallet inte får "
                f"göras gällande (8 § 2 mom.).") + _by(e, lang) + _basis(e, lang) + _reasons(e, show, lang)
    if kind == "HardshipEnded":
        return (f"{on} viivästyksen hyväksyttävä syy päättyi." if fi else
                f"Den {on} upphörde den godtagbara orsaken till dröjsmålet.") + _by(e, lang) + _reasons(e, show, lang)
    if kind == "LoanAccelerated":
        return (f"{on} luoton eräännyttäminen tuli voimaan (ilmoitus, tapahtuma {e.notice}): viivästynyttä määrää ei "
                f"ollut maksettu ilmoitusajassa, ja koko jäljellä oleva luotto, {euros(e.accelerated_amount, lang)}, "
                f"erääntyi maksettavaksi (8 §:n 1 ja 3 momentti)." if fi else
                f"Den {on} trädde det förtida förfallet i kraft (meddelandet, händelse {e.notice}): det försenade "
                f"beloppet hade inte betalats inom meddelandetiden, och hela den återstående krediten, "
                f"{euros(e.accelerated_amount, lang)}, förföll till betalning (8 § 1 och 3 mom.).")
    if kind == "AccelerationLapsed":
        why = ("koska viivästyksen hyväksyttävä syy oli voimassa" if e.reason.startswith("hardship") else
               "koska viivästynyt määrä maksettiin ajoissa") if fi else \
            ("eftersom en godtagbar orsak till dröjsmålet förelåg" if e.reason.startswith("hardship") else
             "eftersom det försenade beloppet betalades i tid")
        return (f"{on} eräännyttäminen (ilmoitus, tapahtuma {e.notice}) raukesi, {why}." if fi else
                f"Den {on} bortföll förfallet (meddelandet, händelse {e.notice}), {why}.")
    if kind == "AccelerationLapseRevoked":
        return (f"{on} eräännyttämisen raukeaminen (ilmoitus, tapahtuma {e.notice}) peruttiin, koska maksu, johon se "
                f"perustui, palautui." if fi else
                f"Den {on} återkallades bortfallet av förfallet (meddelandet, händelse {e.notice}), eftersom "
                f"betalningen det grundade sig på returnerades.")
    if kind == "AccelerationRevoked":
        return (f"{on} eräännyttäminen (ilmoitus, tapahtuma {e.notice}) peruttiin päätöksellä." if fi else
                f"Den {on} återkallades förfallet (meddelandet, händelse {e.notice}) genom beslut.") + \
            _by(e, lang) + _basis(e, lang) + _reasons(e, show, lang)
    if kind == "RepaymentDeferred":
        moved = ", ".join(f"{r['instalment']}: {date(r['due_date'])}" for r in e.moved)
        what = (f"myönnettiin {e.months} vapaakuukautta (7 a §)" if e.kind == "free_months" else "siirrettiin eräpäivää") \
            if fi else (f"beviljades {e.months} betalningsfria månader (7 a §)" if e.kind == "free_months"
                        else "flyttades förfallodagen")
        return (f"{on} {what}; uudet eräpäivät: {moved}." if fi else f"Den {on} {what}; nya förfallodagar: {moved}.") + \
            _by(e, lang) + _basis(e, lang) + _reasons(e, show, lang)
    if kind == "RepaymentTermsChanged":
        return (f"{on} takaisinmaksuehtoja muutettiin: maksuerästä {e.from_instalment} alkaen kuukausierä on "
                f"{euros(e.instalment_amount, lang)}." if fi else
                f"Den {on} ändrades återbetalningsvillkoren: från rat {e.from_instalment} är månadsraten "
                f"{euros(e.instalment_amount, lang)}.") + _by(e, lang) + _basis(e, lang) + _reasons(e, show, lang)
    if kind == "PaymentWaived":
        what = ("myönnettiin täysi maksuvapautus (7 b §:n 3 momentti)" if e.kind == "full" else
                f"myönnettiin osittainen maksuvapautus {euros(e.amount, lang)} (7 b §:n 2 momentti)") if fi else \
            ("beviljades full befrielse från betalning (7 b § 3 mom.)" if e.kind == "full" else
             f"beviljades delvis befrielse från betalning, {euros(e.amount, lang)} (7 b § 2 mom.)")
        return (f"{on} {what}." if fi else f"Den {on} {what}.") + _by(e, lang) + _basis(e, lang) + _reasons(e, show, lang)
    if kind == "OverpaymentRefunded":
        return (f"{on} liikaa maksettu {euros(e.amount, lang)} palautettiin luotonsaajalle." if fi else
                f"Den {on} återbetalades {euros(e.amount, lang)} som betalats för mycket till kredittagaren.") + \
            _by(e, lang)
    if kind == "LoanTransferredToCollection":
        what = (f"maksuerät {_numbers(e.instalments, lang)}" if fi else f"raterna {_numbers(e.instalments, lang)}") \
            if getattr(e, "instalments", None) else ("eräännytetty luotto" if fi else "den förfallna krediten")
        amount = f", {euros(e.amount, lang)}" if getattr(e, "amount", None) else ""
        ref = f" (toimeksianto {e.transfer_id})" if fi and getattr(e, "transfer_id", None) else (
            f" (uppdrag {e.transfer_id})" if getattr(e, "transfer_id", None) else "")
        return (f"{on} päätettiin siirtää {what}{amount} perintätoimistolle{ref}; perintäkuluja ei peritä "
                f"luotonsaajalta (6 §)." if fi else
                f"Den {on} beslöts att {what}{amount} överförs till inkassobyrån{ref}; inga indrivningskostnader tas "
                f"ut av kredittagaren (6 §).") + _by(e, lang) + _basis(e, lang) + _reasons(e, show, lang)
    if kind == "LoanRepaid":
        return f"{on} luotto oli maksettu kokonaan." if fi else f"Den {on} var krediten helt betald."
    if kind == "LoanWrittenOff":
        return (f"{on} luotto kirjattiin luottotappioksi, {euros(e.amount, lang)}." if fi else
                f"Den {on} avskrevs krediten som kreditförlust, {euros(e.amount, lang)}.") + _by(e, lang) + \
            _reasons(e, show, lang)
    if kind == "LoanDisbursed":
        return (f"{on} luottoa {'palautui' if e.returned else 'maksettiin'} {euros(e.amount, lang)} (siirto "
                f"{e.transfer_id})." if fi else
                f"Den {on} {'returnerades' if e.returned else 'betalades ut'} {euros(e.amount, lang)} av krediten "
                f"(överföring {e.transfer_id}).")
    if kind == "AppealFiled":
        return (f"{on} luotonsaaja teki oikaisuvaatimuksen päätöksestä (tapahtuma {e.decision})." if fi else
                f"Den {on} begärde kredittagaren omprövning av beslutet (händelse {e.decision}).")
    if kind == "AppealDecided":
        outcome = APPEAL.get(e.outcome, (e.outcome, e.outcome))[i]
        return (f"{on} oikaisuvaatimus (tapahtuma {e.appeal}) {outcome}." if fi else
                f"Den {on} {outcome} begäran om omprövning (händelse {e.appeal}).") + _by(e, lang) + \
            _basis(e, lang) + _reasons(e, show, lang)
    narrate = LEGAL_STATUS_SENTENCES.get(kind)
    if narrate is not None:
        return narrate(e, lang, show)
    return (f"{on} kirjattiin tapahtuma {kind}." if fi else f"Den {on} registrerades händelsen {kind}.")


# Filled in by the legal-status events' own module (adapters.court.status_texts), kept apart so that
# this file stays readable.
LEGAL_STATUS_SENTENCES: dict = {}


def _legal(kind: str):
    def tell(e, lang: str, show=None) -> str:
        fi, on = lang == "fi", date(e.effective_date)
        amount = f", {euros(e.amount, lang)}" if e.amount else ""
        court = f" ({e.court})" if e.court else ""
        if kind == "ClaimFiled":
            text = (f"{on} hakija haki saatavaa hallinto-oikeudelta{court} hallintoriita-asiana{amount}; "
                    f"asian diaarinumero on {e.case_number}." if fi else
                    f"Den {on} ansökte sökanden om fordran hos förvaltningsdomstolen{court} som förvaltningstvistemål"
                    f"{amount}; ärendets diarienummer är {e.case_number}.")
        elif kind == "JudgmentGiven":
            outcome = {"granted": ("hyväksyi vaatimuksen", "godkände yrkandet"),
                       "partly_granted": ("hyväksyi vaatimuksen osittain", "godkände yrkandet delvis"),
                       "rejected": ("hylkäsi vaatimuksen", "avslog yrkandet")}[e.outcome][0 if fi else 1]
            text = (f"{on} tuomioistuin{court} {outcome} asiassa {e.case_number}{amount}." if fi else
                    f"Den {on} {outcome} domstolen{court} i ärende {e.case_number}{amount}.")
        else:
            text = (f"{on} ratkaisu asiassa {e.case_number} annettiin ulosottoon{court}{amount}." if fi else
                    f"Den {on} överlämnades avgörandet i ärende {e.case_number} för utsökning{court}{amount}.")
        return text + _by(e, lang) + _basis(e, lang) + _reasons(e, show, lang)
    return tell


def _recalled(e, lang: str, show=None) -> str:
    on = date(e.effective_date)
    return (f"{on} perintätoimeksianto {e.transfer_id} peruttiin perintätoimistolta." if lang == "fi" else
            f"Den {on} återkallades indrivningsuppdraget {e.transfer_id} från inkassobyrån.") + \
        _by(e, lang) + _reasons(e, show, lang)


LEGAL_STATUS_SENTENCES.update({k: _legal(k) for k in ("ClaimFiled", "JudgmentGiven", "EnforcementStarted")})
LEGAL_STATUS_SENTENCES["CollectionRecalled"] = _recalled
