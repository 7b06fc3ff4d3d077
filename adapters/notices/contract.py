"""The credit contract as PDF (R-APP-7, Act §6), in the borrower's language (fi/sv).

Every term §6 asks for: the parties (joint borrowers listed, jointly liable), purpose, amount,
interest, each instalment's amount and due date, and the other terms in words: early repayment
without cost (§7), free months (§7a), exemption (§7b), acceleration (§8), penalty interest (§6(4)),
no other costs (§6); the payees the money goes to (R-APP-8), the right to a personal discussion and
counselling (§9), and lines for the signatures. Deterministic like every letter, so its salted hash
can go into the event that records it.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from adapters.notices.decision_letter import _day, _money, render_blocks
from adapters.notices.render import format_date

TEXTS = {
    "fi": {
        "title": "Sosiaalisen luoton luottosopimus", "label": "Hakemus",
        "intro": "{organiser} (luotonantaja) myöntää tällä sopimuksella alla mainitulle luotonsaajalle sosiaalisesta "
                 "luototuksesta annetun lain (1133/2002) mukaisen sosiaalisen luoton {date} tehdyn päätöksen "
                 "({reference}) perusteella seuraavin ehdoin.",
        "joint": "Luotonsaajat vastaavat luoton takaisinmaksusta yhteisvastuullisesti.",
        "terms": "Sopimuksen ehdot (laki 1133/2002, 6 §)", "borrower": "Luotonsaaja", "borrowers": "Luotonsaajat",
        "loan": "Luoton tunnus", "purpose": "Käyttötarkoitus", "principal": "Luoton määrä", "interest": "Korko",
        "term": "Laina-aika", "months": "{n} kuukautta", "instalments": "Maksuerät",
        "row": "{n}. erä, eräpäivä {date}",
        "interest_none": "Luotosta ei peritä korkoa.",
        "interest_fixed": "Kiinteä vuotuinen korko {rate} %, kuitenkin enintään korkolain 12 §:n mukainen viitekorko. "
                          "Korkoa kertyy luoton maksupäivästä alkaen; erät sisältävät lisäksi kunkin jakson koron.",
        "interest_reference": "Korkolain 12 §:n mukainen viitekorko {margin} prosenttiyksikköä, kuitenkin vähintään "
                              "0 %. Korkoa kertyy luoton maksupäivästä alkaen; erät sisältävät lisäksi kunkin "
                              "jakson koron.",
        "early": "Ennenaikainen takaisinmaksu (7 §): luotonsaaja saa maksaa luoton kokonaan tai osittain takaisin "
                 "milloin tahansa ilman kuluja.",
        "free_months": "Vapaakuukaudet (7 a §): jos luotonsaajan maksukyky heikkenee tilapäisesti sairauden, "
                       "työttömyyden tai muun erityisen syyn vuoksi, luotonantaja voi päättää, ettei lyhennyksiä "
                       "makseta joltakin ajalta; laina-aika pitenee vastaavasti.",
        "exemption": "Maksuvapautus (7 b §): luotonantaja voi vapauttaa luotonsaajan luoton ja sille kertyneen koron "
                     "maksamisesta osittain tai kokonaan, jos luotonsaajan maksukyky on heikentynyt pysyvästi tai "
                     "pitkäaikaisesti.",
        "acceleration": "Eräännyttäminen (8 §): luotonantaja voi eräännyttää luoton maksettavaksi heti, jos "
                        "luotonsaaja on viivästynyt maksussa vähintään kuukauden ja viivästynyt määrä on vähintään "
                        "10 % luoton määrästä (vähintään 5 %, jos viivästys koskee kahta tai useampaa erää) tai koko "
                        "jäljellä oleva luotto, taikka jos luotonsaaja on olennaisesti rikkonut sopimusta. "
                        "Eräännyttäminen tulee voimaan neljän viikon kuluttua ilmoituksesta (kahden viikon, jos "
                        "viivästyksestä on jo aiemmin huomautettu), ellei viivästynyttä määrää makseta tässä ajassa. "
                        "Eräännyttämiseen ei ryhdytä, jos viivästys johtuu luotonsaajan sairaudesta, työttömyydestä "
                        "tai muusta hänestä riippumattomasta erityisestä syystä, paitsi jos se olisi ilmeisen "
                        "kohtuutonta.",
        "penalty_statutory": "Viivästyskorko (6 §:n 4 mom.): viivästyneelle määrälle peritään eräpäivästä "
                             "maksupäivään korkolain 4 §:n 1 momentin mukaista viivästyskorkoa (viitekorko + 7 "
                             "prosenttiyksikköä).",
        "penalty_none": "Viivästyskorko (6 §:n 4 mom.): viivästyneestä määrästä ei peritä viivästyskorkoa.",
        "no_other_costs": "Muut kustannukset (6 §): luotosta ei peritä muita luottokustannuksia, kuten palkkioita "
                          "tai kuluja.",
        "payees": "Luoton maksaminen", "payees_intro": "Luotto maksetaan päätöksessä nimetyille maksunsaajille "
                                                        "(velkojat, joiden saatavat luotolla maksetaan, myyjä tai "
                                                        "luotonsaaja):",
        "payee_creditor": "velkoja", "payee_vendor": "myyjä", "payee_borrower": "luotonsaaja",
        "counselling": "Luotonsaajalla on oikeus henkilökohtaiseen keskusteluun viranhaltijan kanssa sekä talous- ja "
                       "velkaneuvontaan (9 §).",
        "validity": "Sopimus tulee voimaan, kun luotonsaaja ja luotonantaja ovat allekirjoittaneet sen. Tarjous on "
                    "voimassa {date} asti; sen jälkeen varattu määräraha vapautuu.",
        "signatures": "Allekirjoitukset", "sign_borrower": "Luotonsaaja {name}",
        "sign_official": "Luotonantajan puolesta", "sign_line": "____________________  pvm ________",
    },
    "sv": {
        "title": "Kreditavtal om social kredit", "label": "Ansökan",
        "intro": "Genom detta avtal beviljar {organiser} (kreditgivaren) nedan nämnda låntagare social kredit enligt "
                 "lagen om social kreditgivning (1133/2002) på grundval av beslutet av den {date} ({reference}) på "
                 "följande villkor.",
        "joint": "Låntagarna svarar solidariskt för återbetalningen av krediten.",
        "terms": "Avtalsvillkor (6 § i lagen 1133/2002)", "borrower": "Låntagare", "borrowers": "Låntagare",
        "loan": "Kreditens beteckning", "purpose": "Ändamål", "principal": "Kreditbelopp", "interest": "Ränta",
        "term": "Kredittid", "months": "{n} månader", "instalments": "Rater",
        "row": "Rat {n}, förfallodag {date}",
        "interest_none": "Ingen ränta tas ut på krediten.",
        "interest_fixed": "Fast årlig ränta {rate} %, dock högst referensräntan enligt 12 § i räntelagen. Räntan "
                          "löper från den dag krediten betalas ut; raterna omfattar dessutom räntan för varje period.",
        "interest_reference": "Referensräntan enligt 12 § i räntelagen {margin} procentenheter, dock minst 0 %. "
                              "Räntan löper från den dag krediten betalas ut; raterna omfattar dessutom räntan för "
                              "varje period.",
        "early": "Förtida återbetalning (7 §): låntagaren har rätt att när som helst betala tillbaka krediten helt "
                 "eller delvis utan kostnader.",
        "free_months": "Betalningsfria månader (7 a §): om låntagarens betalningsförmåga tillfälligt försämras på "
                       "grund av sjukdom, arbetslöshet eller något annat särskilt skäl kan kreditgivaren besluta att "
                       "amorteringar inte ska betalas under en viss tid; kredittiden förlängs i motsvarande mån.",
        "exemption": "Befrielse från betalning (7 b §): kreditgivaren kan helt eller delvis befria låntagaren från att "
                     "betala krediten och den ränta som har upplupit på den, om låntagarens betalningsförmåga har "
                     "försämrats varaktigt eller för lång tid.",
        "acceleration": "Uppsägning (8 §): kreditgivaren kan säga upp krediten till omedelbar betalning om låntagaren "
                        "har dröjt med betalningen minst en månad och det försenade beloppet är minst 10 % av "
                        "kreditbeloppet (minst 5 % om dröjsmålet gäller två eller flera rater) eller hela den "
                        "återstående krediten, eller om låntagaren väsentligt har brutit mot avtalet. Uppsägningen "
                        "träder i kraft fyra veckor efter meddelandet (två veckor om låntagaren redan tidigare har "
                        "påmints om dröjsmålet), om inte det försenade beloppet betalas inom denna tid. Krediten sägs "
                        "inte upp om dröjsmålet beror på låntagarens sjukdom, arbetslöshet eller något annat särskilt "
                        "skäl som låntagaren inte kan påverka, om inte detta vore uppenbart oskäligt.",
        "penalty_statutory": "Dröjsmålsränta (6 § 4 mom.): på ett försenat belopp tas dröjsmålsränta enligt 4 § 1 mom. "
                             "i räntelagen ut (referensräntan + 7 procentenheter) från förfallodagen till "
                             "betalningsdagen.",
        "penalty_none": "Dröjsmålsränta (6 § 4 mom.): ingen dröjsmålsränta tas ut på försenade belopp.",
        "no_other_costs": "Andra kostnader (6 §): inga andra kreditkostnader, såsom avgifter eller kostnader, tas ut "
                          "för krediten.",
        "payees": "Utbetalning av krediten", "payees_intro": "Krediten betalas ut till de betalningsmottagare som "
                                                              "nämns i beslutet (borgenärer vars fordringar betalas "
                                                              "med krediten, en säljare eller låntagaren):",
        "payee_creditor": "borgenär", "payee_vendor": "säljare", "payee_borrower": "låntagare",
        "counselling": "Låntagaren har rätt till ett personligt samtal med en tjänsteinnehavare och till ekonomisk "
                       "rådgivning och skuldrådgivning (9 §).",
        "validity": "Avtalet träder i kraft när låntagaren och kreditgivaren har undertecknat det. Erbjudandet gäller "
                    "till och med {date}; därefter frigörs det reserverade anslaget.",
        "signatures": "Underskrifter", "sign_borrower": "Låntagare {name}",
        "sign_official": "För kreditgivaren", "sign_line": "____________________  datum ________",
    },
}


def _interest(t: Mapping, terms: Mapping | None) -> str:
    kind = (terms or {}).get("kind", "none")
    if kind == "fixed":  # a decimal comma in both languages
        return t["interest_fixed"].format(rate=str(terms["rate"]).replace(".", ","))
    if kind == "reference":
        margin = str(terms.get("margin", "0.00"))
        return t["interest_reference"].format(margin=("+ " + margin if not margin.startswith("-") else
                                                      "- " + margin[1:]).replace(".", ","))
    return t["interest_none"]


def blocks(content: Mapping, language: str, organiser: Mapping) -> list[tuple[str, Any]]:
    t = TEXTS[language]
    people = content["borrowers"]  # [{"borrower_id", "name"}], the applicant first
    names = [f"{p['name']} ({p['borrower_id']})" if p.get("name") else p["borrower_id"] for p in people]
    out: list[tuple[str, Any]] = [("p", t["intro"].format(
        organiser=organiser.get("name") or "", date=format_date(content["decided_on"]),
        reference=content["reference"]))]
    if len(people) > 1:
        out.append(("p", t["joint"]))
    rows = [(t["borrowers"] if len(people) > 1 else t["borrower"], ", ".join(names)),
            (t["loan"], content["loan_id"]), (t["purpose"], content["purpose"]),
            (t["principal"], _money(content["principal"])), (t["interest"], _interest(t, content.get("interest"))),
            (t["term"], t["months"].format(n=len(content["instalments"])))]
    out += [("h2", t["terms"]), ("table", rows), ("h2", t["instalments"]),
            ("table", [(t["row"].format(n=i["n"], date=format_date(i["due_date"])), _money(i["amount"]))
                       for i in content["instalments"]])]
    out += [("p", t[k]) for k in ("early", "free_months", "exemption", "acceleration")]
    out.append(("p", t["penalty_statutory"] if content.get("penalty_interest") == "statutory" else t["penalty_none"]))
    out.append(("p", t["no_other_costs"]))
    if content.get("payees"):
        out += [("h2", t["payees"]), ("p", t["payees_intro"]),
                ("table", [(f"{t['payee_' + p['kind']]}: {p.get('name') or p['payee_id']}", _money(p["amount"]))
                           for p in content["payees"]])]
    out += [("p", t["counselling"]), ("p", t["validity"].format(date=format_date(content["valid_until"])))]
    out += [("h2", t["signatures"]),
            ("table", [(t["sign_borrower"].format(name=n), t["sign_line"]) for n in names]
             + [(t["sign_official"], t["sign_line"])])]
    return out


def render_contract(content: Mapping, borrower: Mapping, organiser: Mapping) -> bytes:
    """The contract addressed to one borrower, in their language (deterministic)."""
    language = borrower.get("language") or "fi"
    if language not in TEXTS:
        raise ValueError(f"language must be one of {sorted(TEXTS)}, got {language!r}")
    t = TEXTS[language]
    on: dt.date = _day(content["drawn_on"])
    return render_blocks(t["title"], blocks(content, language, organiser), label=t["label"],
                         reference=str(content["reference"]), on=on, language=language, borrower=borrower,
                         organiser=organiser)
