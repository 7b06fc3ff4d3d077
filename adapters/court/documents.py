"""The court package's documents for a judge (issue 20), Finnish or Swedish, as PDF (fpdf2).

`account_pdf(...)`: the account of the loan (selvitys / utredning): the claim on the chosen date with
every figure traced, the Act §8 trail, the payment history, the letters, and every event told as a
sentence. `application_pdf(...)`: a draft application to the administrative court (hakemus /
ansökan) in an administrative dispute: parties, claim, grounds with the Act's sections, and an evidence
list that points at the package's files. Both are deterministic for the same input (the creation
date is the claim's date), so their hashes in the signed manifest mean something.

Core fonts in cp1252 (as adapters.notices.render): å ä ö print; other letters are reduced to
their base letter rather than failing.
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal

from fpdf import FPDF

from adapters.court.texts import date, euros, percent, sentence

TRAIL = ("AccelerationConditionsMet", "NoticeSent", "NoticeDeliveryRecorded", "HardshipRecorded", "HardshipEnded",
         "LoanAccelerated", "AccelerationLapsed", "AccelerationLapseRevoked", "AccelerationRevoked", "AppealFiled",
         "AppealDecided", "LoanTransferredToCollection", "CollectionRecalled", "ClaimFiled", "JudgmentGiven",
         "EnforcementStarted")

T = {
    "fi": {
        "account": "Selvitys sosiaalisesta luotosta {loan}",
        "application": "Hakemus hallinto-oikeudelle (luonnos)",
        "claim": "1. Saatava {on}", "trail": "2. Eräännyttäminen (laki 1133/2002, 8 §)",
        "payments": "3. Maksuhistoria", "letters": "4. Päätökset ja kirjeet", "events": "5. Kaikki tapahtumat",
        "principal": "Pääomaa on maksamatta {amount}: myönnetty {granted} (tapahtuma 1), josta on maksettu "
                     "{paid} ja annettu maksuvapautuksena {waived}.",
        "interest": "Korkoa on maksamatta {amount} (erääntyneet korko-osuudet {due} ja kertynyt korko {accrued}).",
        "interest_none": "Luotto on koroton; korkoa ei vaadita.",
        "penalty": "Viivästyskorkoa on kertynyt {accrued}, josta on maksettu {paid} ja annettu vapautuksena {waived}; "
                   "maksamatta on {outstanding}. Se lasketaan korkolain 4 §:n 1 momentin mukaan (viitekorko + 7 "
                   "prosenttiyksikköä) todellisten päivien mukaan (365 päivää vuodessa) ja pyöristetään kerran "
                   "sentteihin.",
        "penalty_none": "Viivästyskorkoa ei vaadita (sopimuksessa ei ole lain 6 §:n 4 momentin mukaista ehtoa "
                        "tai luotonantaja ei peri sitä).",
        "penalty_row": "Maksuerän {n} maksamattomalle pääomalle {base} {why} {start} alkaen {through} asti "
                       "{days} päivältä: {parts} = {exact} euroa (tapahtuma {events}).",
        "why_overdue": "eräpäivän jälkeen", "why_accelerated": "eräännyttämisen voimaantulon jälkeen",
        "period": "{days} pv × {rate}", "settled": "Jo maksetuille määrille ennen niiden maksua kertyi {exact} euroa.",
        "total": "Saatava yhteensä {on}: {total}. Muita luottokustannuksia ei peritä (laki 1133/2002, 6 §).",
        "after": "{from_} alkaen pääomalle {base} kertyy viivästyskorkoa korkolain 4 §:n 1 momentin mukaan; "
                 "korko on tällä hetkellä {rate} (viitekorko {reference} + 7 prosenttiyksikköä) eli {daily} "
                 "päivässä, ja se muuttuu viitekoron mukana puolivuosittain.",
        "allocation": "Maksuja on kirjattu yhteensä {received}; niistä on käytetty pääomaan {principal}, korkoon "
                      "{interest} ja viivästyskorkoon {penalty}, liikaa maksettua {over}, palautettu {refunded}.",
        "no_payments": "Luotonsaaja ei ole maksanut luottoa.",
        "no_trail": "Luottoa ei ole eräännytetty.",
        "letter": "{what}: tiedosto {file}, SHA-256 {hash}.",
        "notice_letter": "Ilmoitus tai muistutus (tapahtuma {v}, {on})",
        "decision_letter": "Päätöskirje ({on})", "contract_letter": "Luottosopimus ({on})",
        "no_letters": "Kirjeitä ei ole liitetty (ne on annettu vain henkilötietoja käsittelemään oikeutetulle).",
        "event_line": "Tapahtuma {v}, kirjattu {recorded}: {text}",
        "chain": "Tapahtumat on ketjutettu SHA-256-tiivisteillä; ketjun viimeinen tiiviste on {head}. "
                 "Paketin eheyden voi tarkistaa ilman tietokantaa komennolla luotto verify-evidence.",
        # Application
        "court": "{court}", "matter": "Asia: hallintoriita-asia, sosiaalisen luoton takaisinperintä (laki "
                                      "oikeudenkäynnistä hallintoasioissa 808/2019, 20 §)",
        "applicant": "Hakija", "respondent": "Vastapuoli", "claims": "Vaatimukset", "grounds": "Perusteet",
        "evidence": "Todisteet", "signature": "Paikka ja aika", "signer": "Hakijan puolesta",
        "claim_text": "Hakija vaatii, että hallinto-oikeus velvoittaa vastapuolen maksamaan hakijalle "
                      "sosiaalisen luoton {loan} perusteella {total}, joka muodostuu pääomasta {principal}, korosta "
                      "{interest} ja {on} mennessä kertyneestä viivästyskorosta {penalty}, sekä pääomalle {principal} "
                      "korkolain 4 §:n 1 momentin mukaista viivästyskorkoa {from_} lukien maksupäivään asti.",
        "claim_costs": "Hakija ei vaadi muita kuluja (laki 1133/2002, 6 §).",
        "ground_granted": "Hakija myönsi vastapuolelle {granted_on} sosiaalisen luoton {principal} sosiaalisesta "
                          "luototuksesta annetun lain (1133/2002) nojalla. Luotto on julkisoikeudellinen sopimus; "
                          "sen takaisinperinnästä ei voi päättää hallintopäätöksellä, vaan asia ratkaistaan "
                          "hallintoriita-asiana (lain 11 § ja sosiaalihuoltolaki 1301/2014; KHO 15.8.2019/3654).",
        "ground_delay": "Vastapuoli ei maksanut maksueriä sopimuksen mukaan. {acm}",
        "ground_notice": "Hakija lähetti vastapuolelle {sent} ilmoituksen luoton eräännyttämisestä (lain 8 §:n 1 ja "
                         "3 momentti) ja antoi {days} päivän ilmoitusajan {cure} asti. Ilmoituksen lähettäminen on "
                         "näytetty toteen liitteillä (kirje, sen tiiviste ja toimitustiedot).",
        "ground_accelerated": "Viivästynyttä määrää ei maksettu ilmoitusajassa, ja eräännyttäminen tuli voimaan "
                              "{on}; koko jäljellä oleva luotto erääntyi maksettavaksi.",
        "ground_hardship_none": "Vastapuoli ei ole ilmoittanut viivästyksen johtuvan sairaudesta, työttömyydestä tai "
                                "muusta vastaavasta syystä (lain 8 §:n 2 momentti).",
        "ground_hardship": "Viivästyksen hyväksyttävä syy on kirjattu ajalle {periods}; eräännyttämistä ei saatettu "
                           "voimaan sen aikana (lain 8 §:n 2 momentti).",
        "ground_penalty": "Viivästyskorko perustuu lain 6 §:n 4 momenttiin ja korkolain 4 §:n 1 momenttiin.",
        "ground_appeals": "Luottoa koskevista päätöksistä on tehty oikaisuvaatimus: {appeals}.",
        "files": {"court/selvitys-fi.pdf": "selvitys saatavasta, eräännyttämisestä ja maksuista",
                  "court/claim.json": "saatavan laskelma koneluettavana", "court/trail.json":
                  "eräännyttämisen tapahtumat koneluettavana", "court/payments.json": "maksuhistoria koneluettavana",
                  "events.json": "luoton kaikki tapahtumat ja niiden tiivisteketju", "digest.json":
                  "allekirjoitettu päiväkohtainen tiiviste", "manifest.json": "paketin allekirjoitettu sisällysluettelo"},
    },
    "sv": {
        "account": "Utredning om social kredit {loan}",
        "application": "Ansökan till förvaltningsdomstolen (utkast)",
        "claim": "1. Fordran {on}", "trail": "2. Förtida förfallo (lag 1133/2002, 8 §)",
        "payments": "3. Betalningshistorik", "letters": "4. Beslut och brev", "events": "5. Alla händelser",
        "principal": "Obetalt kapital är {amount}: beviljat {granted} (händelse 1), varav betalt {paid} och "
                     "efterskänkt {waived}.",
        "interest": "Obetald ränta är {amount} (förfallna ränteandelar {due} och upplupen ränta {accrued}).",
        "interest_none": "Krediten är räntefri; ingen ränta yrkas.",
        "penalty": "Dröjsmålsränta har upplupit med {accrued}, varav betalt {paid} och efterskänkt {waived}; obetalt "
                   "är {outstanding}. Den beräknas enligt 4 § 1 mom. i räntelagen (referensräntan + 7 "
                   "procentenheter) efter faktiska dagar (365 dagar per år) och avrundas en gång till cent.",
        "penalty_none": "Ingen dröjsmålsränta yrkas (avtalet saknar villkor enligt 6 § 4 mom. i lagen eller "
                        "kreditgivaren tar inte ut den).",
        "penalty_row": "På det obetalda kapitalet {base} i rat {n} {why} från {start} till {through}, {days} dagar: "
                       "{parts} = {exact} euro (händelse {events}).",
        "why_overdue": "efter förfallodagen", "why_accelerated": "efter att förfallet trädde i kraft",
        "period": "{days} d × {rate}", "settled": "På belopp som redan betalats upplupna före betalningen {exact} euro.",
        "total": "Fordran sammanlagt {on}: {total}. Inga andra kreditkostnader tas ut (lag 1133/2002, 6 §).",
        "after": "Från {from_} löper dröjsmålsränta enligt 4 § 1 mom. i räntelagen på kapitalet {base}; räntan är "
                 "för närvarande {rate} (referensräntan {reference} + 7 procentenheter), dvs. {daily} per dag, och "
                 "den ändras halvårsvis med referensräntan.",
        "allocation": "Betalningar har bokförts med sammanlagt {received}; av dem har {principal} gått till kapital, "
                      "{interest} till ränta och {penalty} till dröjsmålsränta, {over} betalats för mycket, "
                      "{refunded} återbetalats.",
        "no_payments": "Kredittagaren har inte betalat på krediten.",
        "no_trail": "Krediten har inte förfallit i förtid.",
        "letter": "{what}: fil {file}, SHA-256 {hash}.",
        "notice_letter": "Meddelande eller påminnelse (händelse {v}, {on})",
        "decision_letter": "Beslutsbrev ({on})", "contract_letter": "Kreditavtal ({on})",
        "no_letters": "Breven har inte bifogats (de lämnas endast till den som har rätt att behandla personuppgifter).",
        "event_line": "Händelse {v}, registrerad {recorded}: {text}",
        "chain": "Händelserna är kedjade med SHA-256-hashvärden; kedjans sista hashvärde är {head}. Paketets "
                 "integritet kan kontrolleras utan databas med kommandot luotto verify-evidence.",
        "court": "{court}", "matter": "Ärende: förvaltningstvistemål, återkrav av social kredit (lagen om rättegång "
                                      "i förvaltningsärenden 808/2019, 20 §)",
        "applicant": "Sökande", "respondent": "Motpart", "claims": "Yrkanden", "grounds": "Grunder",
        "evidence": "Bevis", "signature": "Ort och datum", "signer": "För sökanden",
        "claim_text": "Sökanden yrkar att förvaltningsdomstolen förpliktar motparten att till sökanden betala "
                      "{total} på grund av social kredit {loan}, bestående av kapital {principal}, ränta {interest} "
                      "och dröjsmålsränta {penalty} upplupen till {on}, samt dröjsmålsränta enligt 4 § 1 mom. i "
                      "räntelagen på kapitalet {principal} från {from_} till betalningsdagen.",
        "claim_costs": "Sökanden yrkar inga andra kostnader (lag 1133/2002, 6 §).",
        "ground_granted": "Sökanden beviljade {granted_on} motparten social kredit på {principal} med stöd av lagen "
                          "om social kreditgivning (1133/2002). Krediten är ett offentligrättsligt avtal; om "
                          "återkrav kan inte beslutas genom förvaltningsbeslut, utan saken avgörs som "
                          "förvaltningstvistemål (11 § i lagen och socialvårdslagen 1301/2014; HFD 15.8.2019/3654).",
        "ground_delay": "Motparten betalade inte raterna enligt avtalet. {acm}",
        "ground_notice": "Sökanden sände {sent} motparten ett meddelande om förtida förfallo (8 § 1 och 3 mom. i "
                         "lagen) och gav {days} dagars meddelandetid till {cure}. Att meddelandet sänts visas med "
                         "bilagorna (brevet, dess hashvärde och leveransuppgifterna).",
        "ground_accelerated": "Det försenade beloppet betalades inte inom meddelandetiden, och förfallet trädde i "
                              "kraft {on}; hela den återstående krediten förföll till betalning.",
        "ground_hardship_none": "Motparten har inte anmält att dröjsmålet beror på sjukdom, arbetslöshet eller annan "
                                "motsvarande orsak (8 § 2 mom. i lagen).",
        "ground_hardship": "En godtagbar orsak till dröjsmålet har registrerats för tiden {periods}; förfallet gjordes "
                           "inte gällande under den (8 § 2 mom. i lagen).",
        "ground_penalty": "Dröjsmålsräntan grundar sig på 6 § 4 mom. i lagen och 4 § 1 mom. i räntelagen.",
        "ground_appeals": "Begäran om omprövning har gjorts av beslut om krediten: {appeals}.",
        "files": {"court/utredning-sv.pdf": "utredning om fordran, förfallet och betalningarna",
                  "court/claim.json": "beräkningen av fordran i maskinläsbar form", "court/trail.json":
                  "händelserna kring förfallet i maskinläsbar form", "court/payments.json":
                  "betalningshistoriken i maskinläsbar form", "events.json": "alla händelser och deras hashkedja",
                  "digest.json": "den signerade dagliga sammanfattningen", "manifest.json":
                  "paketets signerade innehållsförteckning"},
    },
}
ACCOUNT_FILE = {"fi": "court/selvitys-fi.pdf", "sv": "court/utredning-sv.pdf"}
APPLICATION_FILE = {"fi": "court/hakemus-fi.pdf", "sv": "court/ansokan-sv.pdf"}


def _clean(text: str) -> str:
    out = []
    for ch in str(text).replace("\u2212", "-").replace("\u2014", "-").replace("\u2013", "-"):
        try:
            ch.encode("cp1252")
            out.append(ch)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", ch)[0]
            out.append(base if base.isascii() and base.isprintable() else "?")
    return "".join(out)


class _Doc:
    def __init__(self, on: dt.date):
        self.pdf = FPDF()
        self.pdf.set_creation_date(dt.datetime(on.year, on.month, on.day, tzinfo=dt.timezone.utc))
        self.pdf.set_margins(20, 18, 20)
        self.pdf.add_page()

    def title(self, text: str) -> None:
        self.pdf.set_font("Helvetica", "B", 14)
        self.pdf.multi_cell(0, 7, _clean(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(2)

    def heading(self, text: str) -> None:
        self.pdf.ln(3)
        self.pdf.set_font("Helvetica", "B", 11)
        self.pdf.multi_cell(0, 6, _clean(text), new_x="LMARGIN", new_y="NEXT")

    def para(self, text: str, size: float = 9.5) -> None:
        self.pdf.set_font("Helvetica", size=size)
        self.pdf.multi_cell(0, 4.8, _clean(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1.2)

    def bytes(self) -> bytes:
        return bytes(self.pdf.output())


def _groups(rows: list[dict]) -> list[list[dict]]:
    """Consecutive instalments that accrue alike (after an acceleration, usually all the rest) as one line."""
    out: list[list[dict]] = []
    for row in rows:
        key = (row["from"], row["because"], row["events"], [(p["days"], p["penalty_rate"]) for p in row["periods"]])
        if out and row["because"] == "accelerated" and out[-1][0]["instalment"] + len(out[-1]) == row["instalment"] \
                and out[-1][-1]["_key"] == key:
            out[-1].append({**row, "_key": key})
        else:
            out.append([{**row, "_key": key}])
    return out


def claim_paragraphs(claim: dict, lang: str) -> list[str]:
    t = T[lang]
    p, i, pen = claim["principal"], claim["interest"], claim["penalty_interest"]
    out = [t["principal"].format(amount=euros(p["outstanding"], lang), granted=euros(p["granted"], lang),
                                 paid=euros(p["paid"], lang), waived=euros(p["waived"], lang))]
    out.append(t["interest"].format(amount=euros(i["outstanding"], lang), due=euros(i["due"], lang),
                                    accrued=euros(i["accrued"], lang)) if i["terms"] else t["interest_none"])
    if not pen["charged"]:
        out.append(t["penalty_none"])
    else:
        out.append(t["penalty"].format(accrued=euros(pen["accrued"], lang), paid=euros(pen["paid"], lang),
                                       waived=euros(pen["waived"], lang), outstanding=euros(pen["outstanding"], lang)))
        for rows in _groups(pen["running"]):
            row = rows[0]
            parts = " + ".join(t["period"].format(days=x["days"], rate=percent(x["penalty_rate"], lang))
                               for x in row["periods"])
            numbers = str(row["instalment"]) if len(rows) == 1 else f"{row['instalment']}-{rows[-1]['instalment']}"
            out.append(t["penalty_row"].format(
                n=numbers, base=euros(sum(Decimal(r["principal_unpaid"]) for r in rows), lang),
                why=t["why_accelerated"] if row["because"] == "accelerated" else t["why_overdue"],
                start=date(row["from"]), through=date(row["through"]), days=row["days"], parts=parts,
                exact=str(sum(Decimal(r["amount_exact"]) for r in rows)).replace(".", ","),
                events=", ".join(map(str, row["events"])) or "-"))
        if pen["on_amounts_since_paid_exact"] != "0.000000":
            out.append(t["settled"].format(exact=pen["on_amounts_since_paid_exact"].replace(".", ",")))
    out.append(t["total"].format(on=date(claim["on"]), total=euros(claim["total"], lang)))
    after = claim["after"]
    if after["penalty_rate"]:
        out.append(t["after"].format(from_=date(after["from"]), base=euros(after["penalty_base"], lang),
                                     rate=percent(after["penalty_rate"], lang),
                                     reference=percent(after["reference_rate"], lang),
                                     daily=euros(after["penalty_daily"], lang)))
    return out


def account_pdf(*, lang: str, loan_id: str, claim: dict, events: list, letters: list[dict], head: str,
                show=None) -> bytes:
    """`letters`: [{"kind": "notice"|"decision", "version", "on", "file", "hash"}]."""
    t = T[lang]
    doc = _Doc(dt.date.fromisoformat(claim["on"]))
    doc.title(t["account"].format(loan=loan_id))
    doc.heading(t["claim"].format(on=date(claim["on"])))
    for text in claim_paragraphs(claim, lang):
        doc.para(text)
    doc.heading(t["trail"])
    trail = [e for e in events if type(e).__name__ in TRAIL]  # reminders too: they set the period (§8(3))
    for e in trail or []:
        doc.para(f"({e.originator_version}) " + sentence(e, lang, show))
    if not trail:
        doc.para(t["no_trail"])
    doc.heading(t["payments"])
    paid = [e for e in events if type(e).__name__ in ("PaymentReceived", "PaymentReversed", "OverpaymentRefunded")]
    for e in paid:
        doc.para(f"({e.originator_version}) " + sentence(e, lang, show))
    pay = claim["payments"]
    doc.para(t["allocation"].format(received=euros(pay["received"], lang), principal=euros(pay["to_principal"], lang),
                                    interest=euros(pay["to_interest"], lang),
                                    penalty=euros(pay["to_penalty_interest"], lang),
                                    over=euros(pay["overpayment"], lang), refunded=euros(pay["refunded"], lang))
             if paid else t["no_payments"])
    doc.heading(t["letters"])
    for letter in letters:
        what = t.get(f"{letter['kind']}_letter", t["decision_letter"]).format(
            v=letter.get("version"), on=date(letter["on"]))
        doc.para(t["letter"].format(what=what, file=letter["file"], hash=letter["hash"]), size=8.5)
    if not letters:
        doc.para(t["no_letters"])
    doc.heading(t["events"])
    for e in events:
        doc.para(t["event_line"].format(v=e.originator_version, recorded=date(e.timestamp.date()),
                                        text=sentence(e, lang, show)), size=8.5)
    doc.para(t["chain"].format(head=head), size=8.5)
    return doc.bytes()


def _hardship_spans(events: list, lang: str) -> list[str]:
    """Each recorded cause of delay as 'from–to (cause)', or 'from– (cause)' while it lasts (Act §8(2))."""
    from adapters.court.texts import CAUSES

    spans, start = [], None
    for e in events:
        kind = type(e).__name__
        if kind == "HardshipRecorded":
            start = e
        elif kind == "HardshipEnded" and start is not None:
            cause = CAUSES.get(start.cause, (start.cause, start.cause))[0 if lang == "fi" else 1]
            spans.append(f"{date(start.effective_date)}\u2013{date(e.effective_date)} ({cause})")
            start = None
    if start is not None:
        cause = CAUSES.get(start.cause, (start.cause, start.cause))[0 if lang == "fi" else 1]
        spans.append(f"{date(start.effective_date)}\u2013 ({cause})")
    return spans


def application_pdf(*, lang: str, loan_id: str, claim: dict, events: list, court: str, organiser: dict,
                    borrower: dict, evidence: list[tuple[str, str]], today: dt.date) -> bytes:
    """`evidence`: [(file, what it shows)] in the order the list is printed."""
    t = T[lang]
    doc = _Doc(dt.date.fromisoformat(claim["on"]))
    doc.title(t["application"])
    doc.para(court, size=11)
    doc.para(t["matter"])
    doc.heading(t["applicant"])
    doc.para(", ".join(x for x in (organiser.get("name"), organiser.get("address"), organiser.get("phone")) if x))
    doc.heading(t["respondent"])
    doc.para(", ".join(x for x in (borrower.get("name"), borrower.get("identity_code"),
                                   ", ".join(borrower.get("address") or [])) if x) or "-")
    doc.heading(t["claims"])
    doc.para(t["claim_text"].format(
        loan=loan_id, total=euros(claim["total"], lang), principal=euros(claim["principal"]["outstanding"], lang),
        interest=euros(claim["interest"]["outstanding"], lang), on=date(claim["on"]),
        penalty=euros(claim["penalty_interest"]["outstanding"], lang), from_=date(claim["after"]["from"])))
    doc.para(t["claim_costs"])
    doc.heading(t["grounds"])
    granted = events[0]
    doc.para(t["ground_granted"].format(granted_on=date(granted.effective_date), principal=euros(granted.principal,
                                                                                                   lang)))
    acm = [e for e in events if type(e).__name__ == "AccelerationConditionsMet"]
    doc.para(t["ground_delay"].format(acm=sentence(acm[-1], lang) if acm else ""))
    notice = next((e for e in reversed(events) if type(e).__name__ == "NoticeSent" and e.kind == "acceleration"), None)
    if notice is not None:
        doc.para(t["ground_notice"].format(sent=date(notice.effective_date), days=notice.period_days,
                                           cure=date(notice.cure_deadline)))
    if claim["accelerated"]:
        doc.para(t["ground_accelerated"].format(on=date(claim["accelerated"]["effective_date"])))
    spans = _hardship_spans(events, lang)
    if spans:
        doc.para(t["ground_hardship"].format(periods=", ".join(spans)))
    else:
        doc.para(t["ground_hardship_none"])
    if claim["penalty_interest"]["charged"]:
        doc.para(t["ground_penalty"])
    appeals = [e for e in events if type(e).__name__ in ("AppealFiled", "AppealDecided")]
    if appeals:
        doc.para(t["ground_appeals"].format(appeals=" ".join(sentence(e, lang) for e in appeals)))
    doc.heading(t["evidence"])
    for n, (file, what) in enumerate(evidence, 1):
        doc.para(f"{n}. {what} ({file})")
    doc.heading(t["signature"])
    doc.para(f"{organiser.get('city') or '_______________'}, {date(today)}")
    doc.para(f"{t['signer']}: ______________________________  {organiser.get('name', '')}")
    return doc.bytes()
