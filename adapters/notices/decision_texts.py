"""The wording of decision letters (R-APP-5, 9, 10) in Finnish and Swedish.

Terms follow the Act 1133/2002 and the organisers' guidelines in the seeds (oikaisuvaatimus, maksuvara,
vapaakuukausi, maksuvapautus); the appeal instructions follow the Social Welfare Act 1301/2014 §48–49,
the Administrative Procedure Act 434/2003 ch. 7a and §59 (notification by letter on the seventh day).
"""
from __future__ import annotations

FI = {
    "title_loan": "Päätös sosiaalisesta luotosta",
    "title_free_months": "Päätös vapaakuukausihakemukseen",
    "title_exemption": "Päätös maksuvapautushakemukseen",
    "title_terms_change": "Päätös takaisinmaksuehtojen muuttamista koskevaan hakemukseen",
    "title_due_date_extension": "Päätös eräpäivän siirtämistä koskevaan hakemukseen",
    "title_appeal": "Päätös oikaisuvaatimukseen",
    "date": "Päivämäärä", "application": "Hakemus", "loan": "Luotto", "phone": "Puhelin",
    "granted": "Hakemus on hyväksytty.", "rejected": "Hakemus on hylätty.",
    "appeal_upheld": "Oikaisuvaatimus on hyväksytty.", "appeal_partly_upheld": "Oikaisuvaatimus on hyväksytty "
    "osittain.", "appeal_rejected": "Oikaisuvaatimus on hylätty.",
    "decision": "Päätös", "figures": "Laskelma ja ehdot",
    "requested_amount": "Haettu määrä", "principal": "Myönnetty määrä", "purpose": "Käyttötarkoitus",
    "capacity": "Maksuvara (pienin kuukausi)", "term": "Laina-aika", "months": "{n} kuukautta",
    "instalment": "Kuukausierä", "largest": "Suurin maksuerä", "first_due": "Ensimmäinen eräpäivä",
    "last_due": "Viimeinen eräpäivä", "interest": "Korko", "interest_none": "koroton",
    "interest_fixed": "kiinteä {rate} % vuodessa, enintään viitekorko",
    "interest_reference": "korkolain 12 §:n viitekorko {margin} %-yksikköä",
    "no_other_costs": "Luotosta ei peritä muita luottokustannuksia (laki 1133/2002, 6 §).",
    "offered": "Lainaa varten on varattu määräraha. Luottosopimus on allekirjoitettava viimeistään {date}; "
               "laina maksetaan vasta, kun sopimus on allekirjoitettu.",
    "waiting": "Luottopääoma ei tällä hetkellä riitä lainaan. Hakemus odottaa päätösten järjestyksessä; "
               "sija jonossa: {position}. Saatte tarjouksen, kun aiemmat luotonsaajat ovat maksaneet lainojaan.",
    "grounds": "Hylkäämisen perusteet", "reasons": "Perustelut",
    "override": "Perustelut myöntämiselle todetuista esteistä huolimatta",
    "decided_by": "Päätöksen tekijä", "legal": "Sovelletut oikeusohjeet",
    "free_months": "Vapaakuukausia {months} erästä {from_instalment} alkaen",
    "due_date_extension": "Erän {instalment} uusi eräpäivä {new_due_date}",
    "terms_change": "Uusi maksuerä {instalment_amount} erästä {from_instalment} alkaen",
    "exemption_partial": "Osittainen maksuvapautus {amount}", "exemption_full": "Täysi maksuvapautus",
    "applied_for": "Haettu",
    "discussion_title": "Oikeus henkilökohtaiseen keskusteluun ja taloudelliseen neuvontaan",
    "discussion": "Teillä on oikeus keskustella henkilökohtaisesti sosiaalisen luoton myöntäjää edustavan "
                  "viranhaltijan kanssa, ja keskustelu järjestetään ilman aiheetonta viivytystä, kun pyydätte "
                  "sitä. Teille järjestetään myös tarvittaessa taloudellista neuvontaa ja ohjausta (laki "
                  "sosiaalisesta luototuksesta 1133/2002, 9 §). Pyytäkää keskustelua soittamalla numeroon "
                  "{phone}.",
    "rectification_title": "Oikaisuvaatimusohje",
    "rectification_body": "Oikaisuvaatimuksen käsittelee",
    "rectification_default": "luotonmyöntäjän toimielin, joka käsittelee yksilöasiat",
    "rectification": "Tähän päätökseen tyytymätön voi vaatia siihen oikaisua. Oikaisuvaatimus on tehtävä "
                     "kirjallisesti 30 päivän kuluessa päätöksen tiedoksisaannista. Jos päätös lähetetään "
                     "kirjeellä, asianosaisen katsotaan saaneen siitä tiedon seitsemäntenä päivänä kirjeen "
                     "lähettämisestä, jollei muuta näytetä; sähköisesti lähetetystä päätöksestä kolmantena "
                     "päivänä viestin lähettämisestä. Oikaisuvaatimuksessa on ilmoitettava päätös, johon "
                     "oikaisua vaaditaan, millaista oikaisua vaaditaan ja millä perusteilla, sekä vaatijan nimi "
                     "ja yhteystiedot. Oikaisuvaatimuksen voi toimittaa luotonmyöntäjälle yllä olevien "
                     "yhteystietojen kautta. Päätökseen ei saa hakea muutosta valittamalla suoraan "
                     "tuomioistuimeen. (Sosiaalihuoltolaki 1301/2014, 48 §; hallintolaki 434/2003, 7 a luku; "
                     "laki sosiaalisesta luototuksesta 1133/2002, 11 §.)",
    "appeal_title": "Valitusosoitus",
    "appeal_court": "Valitusviranomainen", "appeal_court_default": "hallinto-oikeus",
    "appeal": "Tähän oikaisuvaatimuksen johdosta annettuun päätökseen tyytymätön voi hakea siihen muutosta "
              "valittamalla hallinto-oikeuteen. Valitus on tehtävä kirjallisesti 30 päivän kuluessa "
              "päätöksen tiedoksisaannista; tiedoksisaannin ajankohta määräytyy kuten edellä. Valituksessa on "
              "ilmoitettava päätös, johon haetaan muutosta, mihin kohtiin muutosta haetaan ja mitä muutoksia "
              "siihen vaaditaan tehtäväksi, vaatimusten perustelut sekä valittajan nimi ja yhteystiedot. "
              "(Sosiaalihuoltolaki 1301/2014, 49 §; laki oikeudenkäynnistä hallintoasioissa 808/2019.)",
    "notified": "Tiedoksianto: päätös lähetetään kirjeenä tai sähköisenä viestinä.",
}

SV = {
    "title_loan": "Beslut om social kredit",
    "title_free_months": "Beslut om ansökan om betalningsfria månader",
    "title_exemption": "Beslut om ansökan om befrielse från betalning",
    "title_terms_change": "Beslut om ansökan om ändring av återbetalningsvillkoren",
    "title_due_date_extension": "Beslut om ansökan om uppskov med förfallodagen",
    "title_appeal": "Beslut med anledning av begäran om omprövning",
    "date": "Datum", "application": "Ansökan", "loan": "Kredit", "phone": "Telefon",
    "granted": "Ansökan har beviljats.", "rejected": "Ansökan har avslagits.",
    "appeal_upheld": "Begäran om omprövning har godkänts.", "appeal_partly_upheld": "Begäran om omprövning har "
    "delvis godkänts.", "appeal_rejected": "Begäran om omprövning har avslagits.",
    "decision": "Beslut", "figures": "Kalkyl och villkor",
    "requested_amount": "Ansökt belopp", "principal": "Beviljat belopp", "purpose": "Användningsändamål",
    "capacity": "Betalningsförmåga (lägsta månad)", "term": "Lånetid", "months": "{n} månader",
    "instalment": "Månadsrat", "largest": "Största rat", "first_due": "Första förfallodag",
    "last_due": "Sista förfallodag", "interest": "Ränta", "interest_none": "räntefri",
    "interest_fixed": "fast {rate} % per år, högst referensräntan",
    "interest_reference": "referensräntan enligt 12 § i räntelagen {margin} procentenheter",
    "no_other_costs": "Inga andra kreditkostnader tas ut för krediten (6 § i lagen 1133/2002).",
    "offered": "Anslag har reserverats för lånet. Kreditavtalet ska undertecknas senast {date}; lånet betalas "
               "ut först när avtalet har undertecknats.",
    "waiting": "Lånekapitalet räcker för närvarande inte till lånet. Ansökan väntar i beslutens ordning; "
               "plats i kön: {position}. Ni får ett erbjudande när tidigare låntagare har betalat av sina lån.",
    "grounds": "Grunder för avslaget", "reasons": "Motivering",
    "override": "Motivering för beviljandet trots konstaterade hinder",
    "decided_by": "Beslutsfattare", "legal": "Tillämpade rättsregler",
    "free_months": "{months} betalningsfria månader från rat {from_instalment}",
    "due_date_extension": "Ny förfallodag för rat {instalment}: {new_due_date}",
    "terms_change": "Ny rat {instalment_amount} från rat {from_instalment}",
    "exemption_partial": "Partiell befrielse från betalning {amount}", "exemption_full": "Full befrielse från betalning",
    "applied_for": "Ansökt",
    "discussion_title": "Rätt till personligt samtal och ekonomisk rådgivning",
    "discussion": "Ni har rätt att personligen diskutera med en tjänsteinnehavare som företräder den som beviljar "
                  "social kredit, och samtalet ordnas utan ogrundat dröjsmål när ni begär det. Vid behov ordnas "
                  "också ekonomisk rådgivning och handledning för er (9 § i lagen om social kreditgivning "
                  "1133/2002). Begär ett samtal genom att ringa {phone}.",
    "rectification_title": "Anvisning för begäran om omprövning",
    "rectification_body": "Begäran om omprövning behandlas av",
    "rectification_default": "kreditgivarens organ som behandlar individärenden",
    "rectification": "Den som är missnöjd med detta beslut får begära omprövning av det. Begäran om omprövning "
                     "ska framställas skriftligen inom 30 dagar från delfåendet av beslutet. Om beslutet sänds "
                     "som brev anses parten ha fått del av det den sjunde dagen efter att brevet sändes, om inte "
                     "något annat visas; ett beslut som sänts elektroniskt den tredje dagen efter att meddelandet "
                     "sändes. I begäran ska anges det beslut som omprövningen gäller, vilken omprövning som "
                     "begärs och på vilka grunder, samt namn och kontaktuppgifter. Begäran kan lämnas till "
                     "kreditgivaren via kontaktuppgifterna ovan. Ändring i beslutet får inte sökas genom besvär "
                     "direkt hos domstol. (Socialvårdslagen 1301/2014, 48 §; förvaltningslagen 434/2003, 7 a "
                     "kap.; lagen om social kreditgivning 1133/2002, 11 §.)",
    "appeal_title": "Besvärsanvisning",
    "appeal_court": "Besvärsmyndighet", "appeal_court_default": "förvaltningsdomstolen",
    "appeal": "Den som är missnöjd med detta beslut som meddelats med anledning av begäran om omprövning får "
              "söka ändring i det genom besvär hos förvaltningsdomstolen. Besväret ska anföras skriftligen inom "
              "30 dagar från delfåendet av beslutet; tidpunkten för delfåendet bestäms som ovan. I besväret ska "
              "anges det beslut i vilket ändring söks, till vilka delar ändring söks och vilka ändringar som "
              "yrkas, grunderna för yrkandena samt ändringssökandens namn och kontaktuppgifter. "
              "(Socialvårdslagen 1301/2014, 49 §; lagen om rättegång i förvaltningsärenden 808/2019.)",
    "notified": "Delgivning: beslutet sänds som brev eller som elektroniskt meddelande.",
}

# R-APP-4 grounds in the applicant's words, each with the figures that decided it.
GROUNDS = {
    "fi": {
        "no_payment_capacity": "Maksuvara ei riitä luoton takaisinmaksuun: pienin kuukausittainen maksuvara on "
                               "{capacity}, ja suurin maksuerä olisi {largest_instalment}.",
        "amount_below_minimum": "Haettu määrä {requested_amount} alittaa luoton vähimmäismäärän {min_loan_amount}.",
        "amount_above_maximum": "Haettu määrä {requested_amount} ylittää luoton enimmäismäärän {max_loan_amount}.",
        "total_debt_limit": "Hakijan velkojen kokonaismäärä {total_debt} ylittää rajan "
                            "{max_total_debt_of_applicant}.",
        "open_loan": "Hakijalla on maksamatta aiemmin myönnetty sosiaalinen luotto.",
        "not_resident": "Hakijan kotikunta {home_municipality} ei ole luotonmyöntäjän alueella (laki 1133/2002, "
                        "4 § 2 mom.).",
        "can_save": "Hakija voi maksuvarallaan {capacity} kuukaudessa säästää haetun määrän {requested_amount} "
                    "kohtuullisessa ajassa ({saving_months} kuukautta).",
        "unsettled_debts_remain": "Luotosta huolimatta hakijalle jäisi järjestelemättömiä velkoja "
                                  "{remaining_amount}.",
        "debt_adjustment_ongoing": "Hakija on yksityishenkilön velkajärjestelyssä eikä voi velkaantua lisää ilman "
                                   "velkojien suostumusta.",
        "market_credit_available": "Hakijalla on maksuvaransa puitteissa mahdollisuus saada kohtuuehtoista "
                                   "luottoa tavanomaisilta luottomarkkinoilta.",
        "business_purpose": "Luottoa haetaan yritystoiminnan rahoittamiseen.",
        "social_assistance_covers": "Hakijalla on oikeus toimeentulotukeen hakemuksen kohteena oleviin menoihin.",
        "realisable_assets": "Hakijalla on realisoitavaa omaisuutta.",
        "no_commitment_to_counselling": "Hakija ei sitoudu taloudelliseen neuvontaan ja ohjaukseen.",
        "unstable_finances": "Hakijan taloudellinen tilanne on vakiintumaton.",
        "same_need_granted_before": "Hakijalle on myönnetty sosiaalista luottoa aiemmin samaan tarpeeseen.",
        "student_loan_alternative": "Luottoa haetaan vaihtoehtona opintolainalle.",
        "moving_away": "Luottoa haetaan muuton yhteydessä pois luotonmyöntäjän alueelta.",
        "other": "Muu peruste (katso perustelut).",
    },
    "sv": {
        "no_payment_capacity": "Betalningsförmågan räcker inte för återbetalningen: den lägsta månatliga "
                               "betalningsförmågan är {capacity}, och den största raten skulle vara "
                               "{largest_instalment}.",
        "amount_below_minimum": "Det ansökta beloppet {requested_amount} underskrider kreditens minimibelopp "
                                "{min_loan_amount}.",
        "amount_above_maximum": "Det ansökta beloppet {requested_amount} överskrider kreditens maximibelopp "
                                "{max_loan_amount}.",
        "total_debt_limit": "Sökandens sammanlagda skulder {total_debt} överskrider gränsen "
                            "{max_total_debt_of_applicant}.",
        "open_loan": "Sökanden har en tidigare beviljad social kredit som inte är återbetald.",
        "not_resident": "Sökandens hemkommun {home_municipality} ligger inte inom kreditgivarens område (4 § 2 mom. "
                        "i lagen 1133/2002).",
        "can_save": "Sökanden kan med sin betalningsförmåga {capacity} i månaden spara det ansökta beloppet "
                    "{requested_amount} inom skälig tid ({saving_months} månader).",
        "unsettled_debts_remain": "Trots krediten skulle sökanden ha oreglerade skulder kvar {remaining_amount}.",
        "debt_adjustment_ongoing": "Sökanden omfattas av skuldsanering för privatpersoner och får inte skuldsätta "
                                   "sig ytterligare utan borgenärernas samtycke.",
        "market_credit_available": "Sökanden har inom ramen för sin betalningsförmåga möjlighet att få kredit på "
                                   "skäliga villkor på den vanliga kreditmarknaden.",
        "business_purpose": "Krediten söks för att finansiera företagsverksamhet.",
        "social_assistance_covers": "Sökanden har rätt till utkomststöd för de utgifter som ansökan gäller.",
        "realisable_assets": "Sökanden har egendom som kan realiseras.",
        "no_commitment_to_counselling": "Sökanden förbinder sig inte till ekonomisk rådgivning och handledning.",
        "unstable_finances": "Sökandens ekonomiska situation är instabil.",
        "same_need_granted_before": "Sökanden har tidigare beviljats social kredit för samma behov.",
        "student_loan_alternative": "Krediten söks som ett alternativ till studielån.",
        "moving_away": "Krediten söks i samband med flytt bort från kreditgivarens område.",
        "other": "Annan grund (se motiveringen).",
    },
}

# The legal basis a letter shows when the decision names none of its own (the events record it in English).
LEGAL = {
    "fi": {"loan": "Laki sosiaalisesta luototuksesta (1133/2002) 4 ja 5 §",
           "free_months": "Laki sosiaalisesta luototuksesta (1133/2002) 7 a §",
           "exemption": "Laki sosiaalisesta luototuksesta (1133/2002) 7 b §",
           "terms_change": "Laki sosiaalisesta luototuksesta (1133/2002) 6 §",
           "due_date_extension": "Laki sosiaalisesta luototuksesta (1133/2002) 6 §",
           "appeal": "Hallintolaki (434/2003) 49 d §; sosiaalihuoltolaki (1301/2014) 48 §"},
    "sv": {"loan": "Lagen om social kreditgivning (1133/2002) 4 och 5 §",
           "free_months": "Lagen om social kreditgivning (1133/2002) 7 a §",
           "exemption": "Lagen om social kreditgivning (1133/2002) 7 b §",
           "terms_change": "Lagen om social kreditgivning (1133/2002) 6 §",
           "due_date_extension": "Lagen om social kreditgivning (1133/2002) 6 §",
           "appeal": "Förvaltningslagen (434/2003) 49 d §; socialvårdslagen (1301/2014) 48 §"},
}

TEXTS = {"fi": FI, "sv": SV}
