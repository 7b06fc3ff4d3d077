"""The console's words in Finnish, Swedish and English (the organisers' official languages, and
English). One catalogue: every key has all three, checked by tests/unit/test_console_i18n.py.

Later pages keep their words in modules of their own (`PARTS`, e.g. api/web/i18n_applications.py),
merged into `M` here.

`t(lang, key, **values)` formats a message; a key missing from the catalogue is a bug and raises.
Legal citations stored in events ("Act 1133/2002 §8(1)(1), §8(3)") are put into words by
`basis_in_words`.
"""
from __future__ import annotations

import re

LANGUAGES = ("fi", "sv", "en")
DEFAULT = "fi"
LANGUAGE_NAMES = {"fi": "Suomeksi", "sv": "På svenska", "en": "In English"}

# key: (fi, sv, en)
M: dict[str, tuple[str, str, str]] = {
    "app": ("Luotto – sosiaalinen luototus", "Luotto – social kreditgivning", "Luotto – social credit"),
    "skip": ("Siirry sisältöön", "Hoppa till innehållet", "Skip to content"),
    "nav": ("Päävalikko", "Huvudmeny", "Main menu"),
    "nav.work_queue": ("Työjono", "Arbetskö", "Work queue"),
    "nav.payments": ("Maksut", "Betalningar", "Payments"),
    "nav.portfolio": ("Salkku", "Portfölj", "Portfolio"),
    "nav.access_log": ("Lokitiedot", "Logguppgifter", "Access log"),
    "language": ("Kieli", "Språk", "Language"),
    "change": ("Vaihda", "Byt", "Change"),
    "signed_in_as": ("Kirjautunut: {subject} ({roles}), {tenant}", "Inloggad: {subject} ({roles}), {tenant}",
                     "Signed in: {subject} ({roles}), {tenant}"),
    "sign_out": ("Kirjaudu ulos", "Logga ut", "Sign out"),
    "sign_in": ("Kirjaudu sisään", "Logga in", "Sign in"),
    "sign_in.title": ("Kirjautuminen", "Inloggning", "Sign in"),
    "sign_in.oidc": ("Kirjaudu organisaatiosi tunnistuspalvelulla", "Logga in med din organisations "
                     "identifieringstjänst", "Sign in with your organisation's identity provider"),
    "sign_in.none": ("Kirjautumista ei ole määritetty (LUOTTO_OIDC_ISSUER, LUOTTO_CONSOLE_CLIENT_ID).",
                     "Inloggning är inte konfigurerad (LUOTTO_OIDC_ISSUER, LUOTTO_CONSOLE_CLIENT_ID).",
                     "Sign-in is not configured (LUOTTO_OIDC_ISSUER, LUOTTO_CONSOLE_CLIENT_ID)."),
    "dev.title": ("Paikallinen kehityskirjautuminen", "Lokal utvecklingsinloggning", "Local development sign-in"),
    "dev.warning": ("Vain kehityskäyttöön (make run). Ei käytössä, kun tunnistuspalvelu on asetettu.",
                    "Endast för utveckling (make run). Används inte när en identifieringstjänst är inställd.",
                    "For development only (make run). Refused when an identity provider is set."),
    "dev.subject": ("Käyttäjätunnus", "Användar-id", "User id"),
    "dev.tenant": ("Järjestäjä", "Anordnare", "Organiser"),
    "dev.roles": ("Roolit", "Roller", "Roles"),
    "role.caseworker": ("sosiaalityöntekijä", "socialarbetare", "caseworker"),
    "role.decision_maker": ("päätöksentekijä", "beslutsfattare", "decision maker"),
    "role.finance": ("talous", "ekonomi", "finance"),
    "role.payment_system": ("maksujärjestelmä", "betalningssystem", "payment system"),
    "role.auditor": ("tarkastaja", "granskare", "auditor"),
    "role.admin": ("ylläpitäjä", "administratör", "administrator"),
    "role.legal": ("lakimies", "jurist", "legal counsel"),
    "none": ("Ei yhtään.", "Inga.", "None."),
    "open": ("Avaa", "Öppna", "Open"),
    "loan_id": ("Laina", "Lån", "Loan"),
    "find_loan": ("Hae laina tunnuksella", "Sök lån med id", "Find a loan by id"),
    "find": ("Hae", "Sök", "Find"),
    # work queue
    "wq.title": ("Työjono {day}", "Arbetskö {day}", "Work queue for {day}"),
    "wq.intro": ("Mitä tänään on tehtävä roolillesi.", "Vad som ska göras i dag i din roll.",
                 "What needs doing today in your role."),
    "wq.acceleration_conditions_met": ("Eräännyttämisen edellytykset täyttyvät (laki 8 § 1 mom. 1 kohta)",
                                       "Förutsättningarna för uppsägning uppfylls (lagen 8 § 1 mom. 1 punkten)",
                                       "Acceleration conditions met (Act section 8(1)(1))"),
    "wq.notices_near_cure_deadline": ("Huomautuksen korjausaika päättyy viikon sisällä",
                                      "Rättelsetiden för meddelandet går ut inom en vecka",
                                      "Notices whose cure deadline ends within a week"),
    "wq.hardships_active": ("Voimassa olevat maksuvaikeuden syyt (laki 8 § 2 mom.)",
                            "Gällande orsaker till betalningssvårigheter (lagen 8 § 2 mom.)",
                            "Active causes of delay (Act section 8(2))"),
    "wq.discussions_requested": ("Pyydetyt henkilökohtaiset keskustelut", "Begärda personliga samtal",
                                 "Personal discussions requested"),
    "wq.unallocated_payments": ("Kohdistamattomat maksut", "Oallokerade betalningar", "Unallocated payments"),
    "wq.count": ("{n} kpl", "{n} st.", "{n} in all"),
    "wq.nothing": ("Roolillesi ei ole työjonoa.", "Din roll har ingen arbetskö.", "Your role has no work queue."),
    "since": ("alkaen", "sedan", "since"),
    "deadline": ("määräaika", "tidsfrist", "deadline"),
    # loan page
    "loan.title": ("Laina {loan_id}", "Lån {loan_id}", "Loan {loan_id}"),
    "loan.balances": ("Saldot {day}", "Saldon {day}", "Balances on {day}"),
    "loan.schedule": ("Maksusuunnitelma ja maksuohjeet", "Betalningsplan och betalningsanvisningar",
                      "Schedule and payment instructions"),
    "loan.timeline": ("Tapahtumat", "Händelser", "Timeline"),
    "loan.timeline_intro": ("Jokainen lainan tapahtuma: kuka, milloin, miksi ja millä perusteella.",
                            "Varje händelse i lånet: vem, när, varför och med vilken grund.",
                            "Every event of the loan: who, when, why and on what legal basis."),
    "status": ("Tila", "Status", "Status"),
    "status.current": ("ajan tasalla", "à jour", "current"),
    "status.late": ("myöhässä", "försenad", "late"),
    "status.accelerated": ("eräännytetty", "uppsagd", "accelerated"),
    "status.repaid": ("maksettu", "återbetald", "repaid"),
    "status.waived": ("vapautettu", "befriad", "waived"),
    "status.written_off": ("poistettu", "avskriven", "written off"),
    "status.collection": ("perinnässä", "i indrivning", "in collection"),
    "bal.principal": ("Myönnetty pääoma", "Beviljat kapital", "Principal granted"),
    "bal.principal_paid": ("Maksettu pääoma", "Betalt kapital", "Principal paid"),
    "bal.principal_waived": ("Vapautettu pääoma", "Efterskänkt kapital", "Principal waived"),
    "bal.principal_outstanding": ("Jäljellä oleva pääoma", "Återstående kapital", "Principal outstanding"),
    "bal.overdue_amount": ("Erääntynyt maksamatta", "Förfallet obetalt", "Overdue"),
    "bal.interest_due": ("Erääntynyt korko", "Förfallen ränta", "Interest due"),
    "bal.penalty_interest_outstanding": ("Viivästyskorko maksamatta", "Dröjsmålsränta obetald",
                                         "Penalty interest outstanding"),
    "bal.overpayment": ("Liikaa maksettu", "Överbetalt", "Overpaid"),
    "bal.payoff_amount": ("Koko velka tänään", "Hela skulden i dag", "Payoff amount"),
    "bal.next_due_date": ("Seuraava eräpäivä", "Nästa förfallodag", "Next due date"),
    "bal.maturity_date": ("Viimeinen eräpäivä", "Sista förfallodag", "Maturity date"),
    "bal.notice_pending": ("Huomautus voimassa", "Meddelande gäller", "Notice pending"),
    "yes": ("kyllä", "ja", "yes"),
    "no": ("ei", "nej", "no"),
    "col.instalment": ("Erä", "Rat", "Instalment"),
    "col.due_date": ("Eräpäivä", "Förfallodag", "Due date"),
    "col.amount": ("Määrä", "Belopp", "Amount"),
    "col.paid": ("Maksettu", "Betalt", "Paid"),
    "col.unpaid": ("Maksamatta", "Obetalt", "Unpaid"),
    "col.how_to_pay": ("Maksuohje", "Betalningsanvisning", "How to pay"),
    "col.when": ("Milloin", "När", "When"),
    "col.what": ("Mitä", "Vad", "What"),
    "col.who": ("Kuka", "Vem", "Who"),
    "col.why": ("Miksi", "Varför", "Why"),
    "col.basis": ("Oikeusperuste", "Rättslig grund", "Legal basis"),
    "pay.to": ("Saaja {payee}, tili {iban}, viite {reference}", "Mottagare {payee}, konto {iban}, referens "
               "{reference}", "Payee {payee}, account {iban}, reference {reference}"),
    "pay.barcode": ("Virtuaaliviivakoodi", "Virtuell streckkod", "Virtual barcode"),
    "effective": ("voimaan {day}", "gäller från {day}", "effective {day}"),
    "recorded": ("kirjattu {at}", "registrerad {at}", "recorded {at}"),
    "who.scheduler": ("Luotto (päivittäinen ajo)", "Luotto (daglig körning)", "Luotto (daily run)"),
    "who.payment": ("maksu pankista", "betalning från banken", "payment from the bank"),
    "hidden": ("henkilötieto, ei näytetä roolillesi", "personuppgift, visas inte för din roll",
               "personal data, not shown to your role"),
    "no_basis": ("–", "–", "–"),
    "reference": ("Viitenumero", "Referensnummer", "Reference"),
    # events
    "ev.LoanGranted": ("Laina myönnetty: {principal} €", "Lån beviljat: {principal} €", "Loan granted: €{principal}"),
    "ev.InstalmentFellDue": ("Erä {instalment} erääntyi: {amount} €", "Rat {instalment} förföll: {amount} €",
                             "Instalment {instalment} fell due: €{amount}"),
    "ev.InstalmentLate": ("Erä {instalment} myöhässä: {amount} €", "Rat {instalment} försenad: {amount} €",
                          "Instalment {instalment} late: €{amount}"),
    "ev.PaymentReceived": ("Maksu saatu: {amount} € (arvopäivä {value_date})",
                           "Betalning mottagen: {amount} € (valutadag {value_date})",
                           "Payment received: €{amount} (value date {value_date})"),
    "ev.PaymentReversed": ("Maksu {payment_id} peruttu", "Betalning {payment_id} återförd",
                           "Payment {payment_id} reversed"),
    "ev.NoticeSent": ("Ilmoitus lähetetty ({kind})", "Meddelande skickat ({kind})", "Notice sent ({kind})"),
    "ev.NoticeDeliveryRecorded": ("Ilmoituksen toimitus: {outcome}", "Meddelandets leverans: {outcome}",
                                  "Notice delivery: {outcome}"),
    "ev.AccelerationConditionsMet": ("Eräännyttämisen edellytykset täyttyivät: {delayed_amount} € viivästynyt",
                                     "Förutsättningarna för uppsägning uppfylldes: {delayed_amount} € försenat",
                                     "Acceleration conditions met: €{delayed_amount} delayed"),
    "ev.HardshipRecorded": ("Maksuvaikeuden syy kirjattu ({cause})", "Orsak till betalningssvårighet registrerad "
                            "({cause})", "Cause of delay recorded ({cause})"),
    "ev.HardshipEnded": ("Maksuvaikeuden syy päättyi", "Orsaken till betalningssvårigheten upphörde",
                         "Cause of delay ended"),
    "ev.LoanAccelerated": ("Laina eräännytetty: {accelerated_amount} €", "Lånet uppsagt: {accelerated_amount} €",
                           "Loan accelerated: €{accelerated_amount}"),
    "ev.AccelerationLapsed": ("Eräännyttäminen raukesi", "Uppsägningen förföll", "Acceleration lapsed"),
    "ev.AccelerationLapseRevoked": ("Raukeaminen peruttu", "Förfallandet återkallat", "Lapse revoked"),
    "ev.RepaymentDeferred": ("Maksuja siirretty ({kind})", "Betalningar uppskjutna ({kind})",
                             "Repayment deferred ({kind})"),
    "ev.RepaymentTermsChanged": ("Maksuehdot muutettu erästä {from_instalment}: {instalment_amount} €",
                                 "Betalningsvillkoren ändrade från rat {from_instalment}: {instalment_amount} €",
                                 "Terms changed from instalment {from_instalment}: €{instalment_amount}"),
    "ev.PaymentWaived": ("Vapautus maksusta ({kind}) {amount} €", "Befrielse från betalning ({kind}) {amount} €",
                         "Exemption ({kind}) €{amount}"),
    "ev.OverpaymentRefunded": ("Liikamaksu palautettu: {amount} €", "Överbetalning återbetald: {amount} €",
                               "Overpayment refunded: €{amount}"),
    "ev.LoanTransferredToCollection": ("Siirretty perintään", "Överfört till indrivning",
                                       "Transferred to collection"),
    "ev.LoanRepaid": ("Laina maksettu kokonaan", "Lånet helt återbetalt", "Loan repaid in full"),
    "ev.LoanWrittenOff": ("Laina poistettu: {amount} €", "Lånet avskrivet: {amount} €", "Loan written off: €{amount}"),
    "ev.LoanDisbursed": ("Laina maksettu saajalle: {amount} €", "Lånet utbetalt: {amount} €",
                         "Loan disbursed: €{amount}"),
    "ev.AppealFiled": ("Oikaisuvaatimus tapahtumasta {decision}", "Begäran om omprövning av händelse {decision}",
                       "Request for rectification of event {decision}"),
    "ev.AppealDecided": ("Oikaisuvaatimus ratkaistu: {outcome}", "Begäran om omprövning avgjord: {outcome}",
                         "Request for rectification decided: {outcome}"),
    "ev.AccelerationRevoked": ("Eräännyttäminen peruttu", "Uppsägningen återkallad", "Acceleration revoked"),
    # a loan's further pages
    "loan.actions": ("Toiminnot", "Åtgärder", "Actions"),
    "replay.title": ("Laina {loan_id} ajassa", "Lån {loan_id} i tiden", "Loan {loan_id} replayed"),
    "replay.title_short": ("Tilanne tiettynä päivänä", "Läget vid en viss tidpunkt", "Replay"),
    "replay.intro": ("Näytä laina sellaisena kuin se oli valittuna päivänä ja sellaisena kuin se tiedettiin "
                     "valittuna hetkenä (Helsingin aikaa).",
                     "Visa lånet som det var en vald dag och som det var känt vid en vald tidpunkt (Helsingforstid).",
                     "Show the loan as it stood on a chosen date, as known at a chosen instant (Helsinki time)."),
    "replay.on": ("Päivä", "Dag", "Date"),
    "replay.known_at": ("Tiedossa hetkellä", "Känt vid", "As known at"),
    "replay.show": ("Näytä", "Visa", "Show"),
    "replay.now": ("nyt", "nu", "now"),
    "replay.as": ("Näytetään tilanne {day} sellaisena kuin se tiedettiin: {at}.",
                  "Läget {day} visas så som det var känt: {at}.", "Showing the loan on {day} as known at: {at}."),
    "replay.seen": ("Mitä kukin päätöksentekijä näki", "Vad varje beslutsfattare såg", "What each decision-maker saw"),
    "replay.state_seen": ("Tilanne päätöstä tehtäessä", "Läget när beslutet fattades", "The loan as they saw it"),
    "replay.back": ("Takaisin lainaan", "Tillbaka till lånet", "Back to the loan"),
    "evidence.download": ("Lataa todistepaketti (zip)", "Ladda ner bevispaketet (zip)", "Download the evidence (zip)"),
    "decision.acceleration-notice": ("Eräännyttämisilmoitus", "Uppsägningsmeddelande", "Acceleration notice"),
    "decision.hardship": ("Maksuvaikeuden syy", "Orsak till betalningssvårighet", "Cause of delay (hardship)"),
    "decision.free-months": ("Vapaakuukaudet", "Fria månader", "Free months"),
    "decision.due-date-extension": ("Eräpäivän siirto", "Flyttad förfallodag", "Due date extension"),
    "decision.terms": ("Maksuehtojen muutos", "Ändrade betalningsvillkor", "Terms change"),
    "decision.exemption": ("Vapautus maksusta", "Befrielse från betalning", "Exemption"),
    "decision.recorded": ("Kirjattu: {what}.", "Registrerat: {what}.", "Recorded: {what}."),
    "decision.facts": ("Lainan tilanne {day}", "Lånets läge {day}", "The loan on {day}"),
    "decision.rules": ("Tarkistettavat säännöt", "Regler som kontrolleras", "Rules checked"),
    "decision.verdict": ("Sääntöjen tarkistus", "Regelkontroll", "Rule check"),
    "decision.refused": ("Säännöt eivät salli tätä päätöstä.", "Reglerna tillåter inte detta beslut.",
                         "The rules do not allow this decision."),
    "decision.allowed": ("Säännöt sallivat tämän päätöksen. Tarkista tiedot ja kirjaa.",
                         "Reglerna tillåter detta beslut. Kontrollera uppgifterna och registrera.",
                         "The rules allow this decision. Check the details and record it."),
    "decision.check": ("Tarkista säännöt", "Kontrollera reglerna", "Check the rules"),
    "decision.record": ("Kirjaa päätös", "Registrera beslutet", "Record the decision"),
    "field.cause": ("Syy", "Orsak", "Cause"),
    "field.kind": ("Laji", "Typ", "Kind"),
    "field.months": ("Kuukausia", "Månader", "Months"),
    "field.from_instalment": ("Alkaen erästä", "Från rat", "From instalment"),
    "field.instalment": ("Erä", "Rat", "Instalment"),
    "field.new_due_date": ("Uusi eräpäivä", "Ny förfallodag", "New due date"),
    "field.instalment_amount": ("Uusi erän määrä (€)", "Nytt ratbelopp (€)", "New instalment amount (€)"),
    "field.amount": ("Määrä (€, osittaisessa)", "Belopp (€, vid delvis)", "Amount (€, for partial)"),
    "field.override_reason": ("Poikkeamisen peruste (valinnainen)", "Grund för avvikelse (valfri)",
                              "Override reason (optional)"),
    "field.reasons": ("Perustelut", "Motivering", "Reasons"),
    "field.legal_basis": ("Oikeusperuste (valinnainen, oletus säännön mukaan)",
                          "Rättslig grund (valfri, annars enligt regeln)", "Legal basis (optional; default by rule)"),
    "field.on": ("Voimaan", "Gäller från", "Effective"),
    "evname.LoanGranted": ("Myöntäminen", "Beviljande", "Grant"),
    "evname.RepaymentDeferred": ("Maksujen siirto", "Uppskov", "Deferral"),
    "evname.RepaymentTermsChanged": ("Maksuehtojen muutos", "Ändrade villkor", "Terms change"),
    "evname.PaymentWaived": ("Vapautus", "Befrielse", "Exemption"),
    "evname.NoticeSent": ("Ilmoitus", "Meddelande", "Notice"),
    "evname.HardshipRecorded": ("Maksuvaikeuden syy", "Betalningssvårighet", "Cause of delay"),
    "evname.HardshipEnded": ("Maksuvaikeuden päättyminen", "Betalningssvårigheten upphörde", "Cause of delay ended"),
    "evname.LoanTransferredToCollection": ("Perintään siirto", "Överföring till indrivning", "To collection"),
    "evname.LoanWrittenOff": ("Poisto", "Avskrivning", "Write-off"),
    "evname.OverpaymentRefunded": ("Liikamaksun palautus", "Återbetalning", "Refund"),
    # payments
    "pay.allocated": ("Maksu {payment_id} kohdistettu.", "Betalningen {payment_id} allokerad.",
                      "Payment {payment_id} allocated."),
    "pay.report": ("Tuontiraportti ({format})", "Importrapport ({format})", "Import report ({format})"),
    "pay.kind.matched": ("Kohdistettu lainoihin", "Allokerade till lån", "Matched to loans"),
    "pay.kind.unmatched": ("Kohdistamattomiin", "Till oallokerade", "Unallocated"),
    "pay.kind.duplicates": ("Jo tuotu aiemmin", "Redan importerade", "Duplicates"),
    "pay.kind.reversed": ("Palautukset (maksu peruttu)", "Returer (betalning återförd)", "Returns (reversed)"),
    "pay.kind.rejected": ("Hylätyt", "Avvisade", "Rejected"),
    "pay.kind.queued": ("Palautukset odottamassa", "Returer som väntar", "Returns queued"),
    "pay.kind.entries": ("Tapahtumia", "Transaktioner", "Entries"),
    "pay.entry": ("Maksu", "Betalning", "Payment"),
    "pay.upload": ("Tuo pankin maksuaineisto", "Importera bankens betalningsfil", "Import a bank file"),
    "pay.file": ("Tiedosto (camt.054 tai KTL)", "Fil (camt.054 eller KTL)", "File (camt.054 or KTL)"),
    "pay.import": ("Tuo", "Importera", "Import"),
    "pay.allocate": ("Kohdista", "Allokera", "Allocate"),
    "pay.to_loan": ("Maksun {payment_id} laina", "Lån för betalningen {payment_id}", "Loan for payment {payment_id}"),
    # portfolio
    "port.title": ("Salkku {day}", "Portfölj {day}", "Portfolio on {day}"),
    "port.capital": ("Käytössä oleva pääoma ja raja", "Kapital i bruk och gränsen", "Capital in use against the limit"),
    "port.capital_text": ("Käytössä {in_use} €, raja {limit}.", "I bruk {in_use} €, gräns {limit}.",
                          "In use €{in_use}, limit {limit}."),
    "port.no_limit": ("ei rajaa", "ingen gräns", "none"),
    "port.delinquency": ("Erääntyneet iän mukaan", "Förfallna efter ålder", "Delinquency by age"),
    "port.age": ("Päivää myöhässä", "Dagar försenat", "Days late"),
    "port.age.1-30": ("1–30", "1–30", "1–30"),
    "port.age.31-60": ("31–60", "31–60", "31–60"),
    "port.age.61-90": ("61–90", "61–90", "61–90"),
    "port.age.over_90": ("yli 90", "över 90", "over 90"),
    "port.grants": ("Myönnöt kuukausittain", "Beviljanden per månad", "Grants by month"),
    "port.month": ("Kuukausi", "Månad", "Month"),
    "port.count": ("Lukumäärä", "Antal", "Count"),
    "port.table_below": ("luvut taulukossa alla", "siffrorna i tabellen nedan", "figures in the table below"),
    # access log
    "log.intro": ("Kuka käsitteli minkä lainan tai henkilön tietoja, milloin ja missä roolissa (lokitiedot).",
                  "Vem behandlade vilket låns eller vilken persons uppgifter, när och i vilken roll (logg).",
                  "Who processed which loan's or person's data, when and in which role (the access log)."),
    "log.subject": ("Käyttäjä", "Användare", "User"),
    "log.request": ("Pyyntö", "Begäran", "Request"),
    "log.status": ("Tulos", "Resultat", "Status"),
    "log.borrower": ("Henkilö", "Person", "Borrower"),
    "log.more": ("Vanhemmat", "Äldre", "Older"),
    # stored values shown in words
    "val.illness": ("sairaus", "sjukdom", "illness"),
    "val.unemployment": ("työttömyys", "arbetslöshet", "unemployment"),
    "val.other": ("muu syy", "annan orsak", "other"),
    "val.reminder": ("maksumuistutus", "betalningspåminnelse", "reminder"),
    "val.acceleration": ("eräännyttämisilmoitus", "uppsägningsmeddelande", "acceleration notice"),
    "val.free_months": ("vapaakuukaudet", "fria månader", "free months"),
    "val.due_date_extension": ("eräpäivän siirto", "flyttad förfallodag", "due date extension"),
    "val.partial": ("osittain", "delvis", "partial"),
    "val.full": ("kokonaan", "helt", "full"),
    "val.upheld": ("hyväksytty", "godkänd", "upheld"),
    "val.rejected": ("hylätty", "avslagen", "rejected"),
    "val.delivered": ("toimitettu", "levererad", "delivered"),
    "val.failed": ("epäonnistui", "misslyckades", "failed"),
    # errors, by code (the rule id and field are shown beside)
    "err.title": ("Virhe", "Fel", "Error"),
    "err.details": ("Tekninen kuvaus (englanniksi)", "Teknisk beskrivning (på engelska)", "Technical detail"),
    "err.rule": ("Sääntö {rule}", "Regel {rule}", "Rule {rule}"),
    "err.field": ("Kenttä: {field}", "Fält: {field}", "Field: {field}"),
    "err.back": ("Takaisin työjonoon", "Tillbaka till arbetskön", "Back to the work queue"),
    "err.invalid_request": ("Pyyntö ei kelpaa.", "Begäran är ogiltig.", "The request is not valid."),
    "err.limit_exceeded": ("Raja ylittyisi.", "Gränsen skulle överskridas.", "A limit would be exceeded."),
    "err.not_found": ("Ei löydy (tai ei kuulu organisaatiollesi).", "Hittas inte (eller hör inte till din "
                      "organisation).", "Not found (or not your organiser's)."),
    "err.payment_conflict": ("Maksu on jo kirjattu toisin tiedoin.", "Betalningen är redan registrerad med andra "
                             "uppgifter.", "The payment is already recorded with other content."),
    "err.loan_exists": ("Laina on jo olemassa.", "Lånet finns redan.", "The loan already exists."),
    "err.not_eligible": ("Edellytykset eivät täyty.", "Förutsättningarna uppfylls inte.",
                         "The conditions are not met."),
    "err.hardship_active": ("Maksuvaikeuden syy on voimassa.", "En orsak till betalningssvårigheter gäller.",
                            "A cause of delay is active."),
    "err.notice_pending": ("Huomautus on jo voimassa.", "Ett meddelande gäller redan.", "A notice is pending."),
    "err.loan_closed": ("Laina on päättynyt.", "Lånet är avslutat.", "The loan is closed."),
    "err.busy": ("Palvelu on kiireinen, yritä uudelleen.", "Tjänsten är upptagen, försök igen.",
                 "The service is busy; try again."),
    "err.internal_error": ("Odottamaton virhe.", "Oväntat fel.", "An unexpected error occurred."),
    "err.unauthenticated": ("Kirjaudu sisään.", "Logga in.", "Please sign in."),
    "err.forbidden": ("Roolillasi ei ole oikeutta tähän.", "Din roll har inte rätt till detta.",
                      "Your role may not do this."),
    "err.erasure_not_allowed": ("Poistaminen ei ole vielä sallittua.", "Radering är ännu inte tillåten.",
                                "Erasure is not allowed yet."),
    "err.four_eyes": ("Neljän silmän periaate: toinen henkilö päättää.", "Fyraögonsprincipen: en annan person "
                      "beslutar.", "Four eyes: another person must decide."),
    "err.application_exists": ("Hakemus on jo olemassa.", "Ansökan finns redan.", "The application already exists."),
    "err.csrf": ("Lomake on vanhentunut tai väärennetty. Lataa sivu uudelleen ja yritä uudestaan.",
                 "Formuläret är föråldrat eller förfalskat. Ladda om sidan och försök igen.",
                 "The form has expired or was forged. Reload the page and try again."),
    "err.dev_sign_in": ("Kehityskirjautuminen ei ole käytössä tässä ympäristössä.",
                        "Utvecklingsinloggning används inte i denna miljö.",
                        "Development sign-in is refused in this environment."),
    "err.sign_in_failed": ("Kirjautuminen epäonnistui.", "Inloggningen misslyckades.", "Sign-in failed."),
    # after acceleration (issue 22): court steps and the collection agency
    "legal.link": ("Oikeudelliset toimet ja perintä", "Rättsliga åtgärder och indrivning", "Legal steps and collection"),
    "legal.title": ("Laina {loan_id}: oikeudelliset toimet ja perintä", "Lån {loan_id}: rättsliga åtgärder och "
                    "indrivning", "Loan {loan_id}: legal steps and collection"),
    "legal.court": ("Hallinto-oikeus ja ulosotto", "Förvaltningsdomstol och utsökning", "Court and enforcement"),
    "legal.step": ("Vaihe", "Steg", "Step"),
    "legal.step.claim_filed": ("Hakemus jätetty hallinto-oikeuteen", "Ansökan lämnad till förvaltningsdomstolen",
                               "Claim filed with the court"),
    "legal.step.judgment": ("Päätös annettu", "Beslut meddelat", "Judgment given"),
    "legal.step.enforcement": ("Ulosotto aloitettu", "Utsökning inledd", "Enforcement started"),
    "legal.court_name": ("Tuomioistuin tai ulosottoviranomainen", "Domstol eller utsökningsmyndighet",
                         "Court or enforcement authority"),
    "legal.case_number": ("Diaarinumero", "Diarienummer", "Case number"),
    "legal.amount": ("Määrä (vaadittu, tuomittu tai ulosottoon)", "Belopp (yrkat, dömt eller till utsökning)",
                     "Amount (claimed, ordered paid or to enforcement)"),
    "legal.outcome": ("Lopputulos", "Utgång", "Outcome"),
    "legal.outcome_judgment": ("Lopputulos (vain päätökselle)", "Utgång (endast för beslut)",
                               "Outcome (judgment only)"),
    "legal.outcome.granted": ("Hyväksytty", "Bifallen", "Granted"),
    "legal.outcome.partly_granted": ("Osittain hyväksytty", "Delvis bifallen", "Partly granted"),
    "legal.outcome.rejected": ("Hylätty", "Avslagen", "Rejected"),
    "legal.transfers": ("Perintätoimistolle siirretyt", "Överfört till indrivningsbyrån",
                        "With the collection agency"),
    "legal.transfer": ("Siirto", "Överföring", "Transfer"),
    "legal.what": ("Mitä siirrettiin", "Vad som överfördes", "What was transferred"),
    "legal.instalments": ("Erät {numbers}", "Rater {numbers}", "Instalments {numbers}"),
    "legal.whole_loan": ("Koko eräännytetty laina", "Hela det uppsagda lånet", "The whole accelerated loan"),
    "legal.recalled": ("Palautettu", "Återkallad", "Recalled"),
    "legal.export": ("Perintätoimiston tiedosto", "Indrivningsbyråns fil", "The agency's file"),
    "legal.package": ("Oikeudenkäyntiaineisto", "Rättegångsmaterial", "Court package"),
    "legal.package_intro": ("Saatava valittuna päivänä tapahtumiin ja sääntöihin jäljitettynä, 8 §:n vaiheet "
                            "kirjeineen, maksuhistoria ja hakemusluonnos allekirjoitetussa todistemuodossa.",
                            "Fordran på den valda dagen spårad till händelser och regler, stegen enligt 8 § med "
                            "breven, betalningshistoriken och ett utkast till ansökan i det signerade bevisformatet.",
                            "The claim on the chosen date traced to its events and rules, the §8 trail with the "
                            "letters, the payment history and a draft application, in the signed evidence format."),
    "legal.claim_on": ("Saatava päivänä", "Fordran på dagen", "Claim on"),
    "legal.package_download": ("Lataa aineisto (zip)", "Ladda ner materialet (zip)", "Download the package (zip)"),
    "legal.record_step": ("Kirjaa oikeudellinen vaihe", "Registrera ett rättsligt steg", "Record a legal step"),
    "legal.record": ("Kirjaa", "Registrera", "Record"),
    "legal.transfer_to_agency": ("Siirrä perintätoimistolle", "Överför till indrivningsbyrån",
                                 "Transfer to the collection agency"),
    "legal.which": ("Erääntyneet erät (jos mitään ei valita: koko eräännytetty laina)",
                    "Förfallna rater (om inget väljs: hela det uppsagda lånet)",
                    "Overdue instalments (none ticked: the whole accelerated loan)"),
    "legal.overdue_row": ("Erä {number}, eräpäivä {due}, maksamatta {amount} €",
                          "Rat {number}, förfallodag {due}, obetalt {amount} €",
                          "Instalment {number}, due {due}, unpaid {amount} €"),
    "legal.none_overdue": ("Ei erääntyneitä eriä.", "Inga förfallna rater.", "No overdue instalments."),
    "legal.transfer_button": ("Siirrä perintään", "Överför till indrivning", "Transfer to collection"),
    "legal.agency_payment": ("Perintätoimiston perimä maksu", "Betalning som indrivningsbyrån drivit in",
                             "A payment the agency collected"),
    "legal.payment_id": ("Maksun tunnus", "Betalningens id", "Payment id"),
    "legal.value_date": ("Arvopäivä", "Valutadag", "Value date"),
    "legal.recall": ("Palauta siirto perintätoimistolta", "Återkalla överföringen från indrivningsbyrån",
                     "Recall the transfer from the agency"),
    "legal.recall_button": ("Palauta", "Återkalla", "Recall"),
    "legal.done.legal_step": ("Oikeudellinen vaihe kirjattu.", "Det rättsliga steget registrerat.",
                              "Legal step recorded."),
    "legal.done.transfer": ("Siirretty perintätoimistolle.", "Överfört till indrivningsbyrån.",
                            "Transferred to the collection agency."),
    "legal.done.payment": ("Perintätoimiston maksu kirjattu.", "Indrivningsbyråns betalning registrerad.",
                           "The agency's payment recorded."),
    "legal.done.recall": ("Siirto palautettu.", "Överföringen återkallad.", "Transfer recalled."),
}

# The catalogues of later pages, each a module holding a plain dict `M` of key: (fi, sv, en), merged
# here one line per module; a key defined twice is refused at import (no silent override).
PARTS = (
    "api.web.i18n_applications",
    "api.web.i18n_money",
    "api.web.i18n_reports",
)


def _merge(into: dict, names: tuple[str, ...]) -> None:
    import importlib

    for name in names:
        for key, texts in importlib.import_module(name).M.items():
            if key in into:
                raise ValueError(f"console catalogue key {key!r} of {name} is defined twice")
            into[key] = texts


_merge(M, PARTS)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def pick(accept_language: str | None, chosen: str | None = None) -> str:
    """The chosen language (cookie) if known, else the first of Accept-Language we speak, else Finnish."""
    if chosen in LANGUAGES:
        return chosen
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT


def t(lang: str, key: str, **values) -> str:
    text = M[key][LANGUAGES.index(lang)]
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), "")), text) if values or "{" in text else text


def maybe(lang: str, key: str, fallback: str) -> str:
    """A catalogue entry when there is one (a status, a role), else the stored value as it is."""
    return t(lang, key) if key in M else fallback


_ACT = {"fi": "laki sosiaalisesta luototuksesta (1133/2002)", "sv": "lagen om social kreditgivning (1133/2002)",
        "en": "the Act on Social Credit (1133/2002)"}
_SECTION = re.compile(r"§\s*(\d+[a-z]?)((?:\(\d+\))*)")


def _section_words(lang: str, number: str, parts: str) -> str:
    nums = re.findall(r"\((\d+)\)", parts)
    if lang == "en":
        return f"section {number}" + "".join(f"({n})" for n in nums)
    moment, point = ("mom.", "kohta") if lang == "fi" else ("mom.", "punkten")
    words = f"{number} §"
    if nums:
        words += f" {nums[0]} {moment}"
    if len(nums) > 1:
        words += f" {nums[1]} {point}"
    return words


def basis_in_words(text: str | None, lang: str) -> str:
    """'Act 1133/2002 §8(1)(1), §8(3)' -> 'laki sosiaalisesta luototuksesta (1133/2002) 8 § 1 mom. 1 kohta,
    8 § 3 mom.'; what is not a citation of the Act (a rule correction's note) is kept as written."""
    if not text:
        return t(lang, "no_basis")
    out = text.replace("Act 1133/2002", _ACT[lang])
    return _SECTION.sub(lambda m: _section_words(lang, m.group(1), m.group(2)), out)
