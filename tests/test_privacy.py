"""De-identification of visitors' texts (faq.privacy.deidentify), and mask_id.

Every message is invented; the names, numbers and addresses belong to no one.
"""

from __future__ import annotations

import pytest

from faq.privacy import PLACEHOLDER, deidentify, mask_id

#: (message, what must disappear, placeholder kind that must appear)
CASES = [
    # names
    ("Hoi, ik ben Jan de Vries en ik slaap slecht", "Jan de Vries", "PERSOON"),
    ("mijn naam is marieke jansen, helpt magnesium?", "marieke", "PERSOON"),
    ("ik heet Pieter van den Berg en heb krampen", "Pieter van den Berg", "PERSOON"),
    ("alvast bedankt, groetjes Els", "Els", "PERSOON"),
    # phone numbers
    ("bel me op 06-12345678 over mijn bestelling", "12345678", "TELEFOONNUMMER"),
    ("mijn nummer is +31 6 1234 5678", "1234 5678", "TELEFOONNUMMER"),
    ("vaste lijn 020-1234567, liefst na vijven", "1234567", "TELEFOONNUMMER"),
    ("bereikbaar op 0470 12 34 56 (Antwerpen)", "0470 12 34 56", "TELEFOONNUMMER"),
    # e-mail addresses
    ("mail naar jan.devries@example.nl graag", "jan.devries@example.nl", "EMAILADRES"),
    ("stuur het naar sanne_88@voorbeeld.de", "sanne_88@voorbeeld.de", "EMAILADRES"),
    # addresses
    ("ik woon op de Kerkstraat 12 in Utrecht", "Kerkstraat 12", "LOCATIE"),
    ("adres: lindenlaan 4b, 3512 ab utrecht", "lindenlaan 4b", "LOCATIE"),
    ("postcode 3512AB, pakket niet ontvangen", "3512AB", "LOCATIE"),
    # dates
    ("ik ben geboren op 12 maart 1980", "12 maart 1980", "DATUM"),
    ("bloed laten prikken op 03-02-2025", "03-02-2025", "DATUM"),
    ("op 3 mei had ik een bloedtest", "3 mei", "DATUM"),
    # BSN and similar numbers
    ("mijn bsn is 123456782", "123456782", "BSN"),
    ("BSN 1234.56.782, klopt mijn dossier?", "1234.56.782", "BSN"),
    ("bsn 123 456 782", "123 456 782", "BSN"),
    ("rijksregisternummer 85.07.30-033.28", "85.07.30-033.28", "BSN"),
    ("klantnummer 987654321", "987654321", "ID"),
]


@pytest.mark.parametrize("text, secret, kind", CASES)
def test_personal_data_becomes_a_placeholder(text, secret, kind):
    result = deidentify(text)

    assert secret not in result, result
    assert kind in {m.group(1) for m in PLACEHOLDER.finditer(result)}, result


@pytest.mark.parametrize(
    "text",
    [
        "wat doet vitamine d in je lichaam",
        "hoeveel mg magnesium moet ik nemen als ik 4000 IE vitamine d slik?",
        "is 1000 mg magnesiumcitraat per dag veel?",
        "groetjes uit Gent",
        "ik ben onderweg 2 uur in de zon",
        "waarom d3 samen met k2 in de winter?",
        "1000 en 2000 IE, wat is het verschil",
    ],
)
def test_health_questions_without_personal_data_stay_as_typed(text):
    assert deidentify(text) == text


def test_the_rest_of_the_message_is_kept():
    result = deidentify(
        "Ik ben Jan de Vries (06-12345678), helpt magnesium bij krampen?"
    )

    assert (
        result
        == "Ik ben [PERSOON-1] ([TELEFOONNUMMER-1]), helpt magnesium bij krampen?"
    )


@pytest.mark.parametrize("text", [None, "", "   "])
def test_empty_input(text):
    assert deidentify(text) == (text or "")


@pytest.mark.parametrize(
    "conversation_id, masked",
    [
        ("whatsapp:+31612345678", "whatsapp:…5678"),
        ("rest:Zx81kqAbCdEf", "rest:Zx81…"),
    ],
)
def test_mask_id_keeps_channel_and_a_few_characters(conversation_id, masked):
    assert mask_id(conversation_id) == masked
