"""Each kind of detail, as tables of text -> the parts that must disappear, and of innocent text.

Sentences are written for these tests, with other names and places than the development set.
"""

from __future__ import annotations

import pytest

from redaction import Redactor
from tests.redaction.expect import assert_found, assert_nothing

# (text, [(entity type, substring that must be covered by a span of that type)])
FOUND = [
    # phone numbers
    ("bel me op 0612345678 pls", [("PHONE_NUMBER", "0612345678")]),
    ("mijn nummer: 06 - 8765 4321", [("PHONE_NUMBER", "8765 4321")]),
    ("app me 06-87654321", [("PHONE_NUMBER", "06-87654321")]),
    ("vast nummer 030-2345678", [("PHONE_NUMBER", "030-2345678")]),
    ("thuis 0512 345678", [("PHONE_NUMBER", "0512 345678")]),
    ("+31 6 2345 6789 is van mij", [("PHONE_NUMBER", "+31 6 2345 6789")]),
    ("0031 6 23456789", [("PHONE_NUMBER", "0031 6 23456789")]),
    ("mijn belgische nummer +32 470 12 34 56", [("PHONE_NUMBER", "+32 470 12 34 56")]),
    # postcodes
    ("postcode 3581 AB", [("POSTCODE", "3581 AB")]),
    ("we wonen in 1234ab", [("POSTCODE", "1234ab")]),
    ("postcode is 6821 ae", [("POSTCODE", "6821 ae")]),
    # BSN
    ("mijn bsn is 111222333", [("BSN", "111222333")]),
    ("bsn 1112.22.333", [("BSN", "1112.22.333")]),
    ("bsn: 111 222 333", [("BSN", "111 222 333")]),
    # IBAN
    ("maak het over naar NL91ABNA0417164300", [("IBAN", "NL91ABNA0417164300")]),
    ("rekening nl91 abna 0417 1643 00 graag", [("IBAN", "nl91 abna 0417 1643 00")]),
    ("BE71 0961 2345 6769 is belgisch", [("IBAN", "BE71 0961 2345 6769")]),
    # licence plates
    ("kenteken 12-ABC-3", [("LICENSE_PLATE", "12-ABC-3")]),
    ("een auto met 1-KBB-22", [("LICENSE_PLATE", "1-KBB-22")]),
    ("zijn scooter dfg-12-h", [("LICENSE_PLATE", "dfg-12-h")]),
    ("oude auto AB-12-CD", [("LICENSE_PLATE", "AB-12-CD")]),
    ("kenteken GXK12B", [("LICENSE_PLATE", "GXK12B")]),
    # dates of birth
    ("ik ben geboren op 7-4-2010", [("DATE_OF_BIRTH", "7-4-2010")]),
    ("geboortedatum 2009-02-28", [("DATE_OF_BIRTH", "2009-02-28")]),
    ("jarig op 30 oktober", [("DATE_OF_BIRTH", "30 oktober")]),
    ("geboren 1 mei 2011 in het ziekenhuis", [("DATE_OF_BIRTH", "1 mei 2011")]),
    # e-mail, URLs, IP addresses
    ("mail naar emma.devries@gmail.com", [("EMAIL_ADDRESS", "emma.devries@gmail.com")]),
    ("kijk op https://www.tiktok.com/@evi.dansjes", [("URL", "https://www.tiktok.com/@evi.dansjes")]),
    ("mijn site is www.jurre-games.nl.", [("URL", "www.jurre-games.nl")]),
    ("instagram.com/mees_2010 is nep", [("URL", "instagram.com/mees_2010")]),
    ("zijn ip is 81.204.17.9", [("IP_ADDRESS", "81.204.17.9")]),
    ("ipv6 2a02:a210:22c0::1", [("IP_ADDRESS", "2a02:a210:22c0::1")]),
    # social handles
    ("volg @bo.vd.berg op insta", [("SOCIAL_HANDLE", "@bo.vd.berg")]),
    ("mijn snap is lottie_2010", [("SOCIAL_HANDLE", "lottie_2010")]),
    ("insta: lotte.vdm", [("SOCIAL_HANDLE", "lotte.vdm")]),
    ("voeg me toe op discord: nina#0420", [("SOCIAL_HANDLE", "nina#0420")]),
    ("zijn gamertag is DarkSlayer99", [("SOCIAL_HANDLE", "DarkSlayer99")]),
    # schools, clubs, organisations
    ("ik zit op het Gomarus College in Gorinchem", [("SCHOOL", "Gomarus College")]),
    ("mijn zusje zit op basisschool Het Kompas", [("SCHOOL", "basisschool Het Kompas")]),
    ("ik zit op het SGL", [("SCHOOL", "SGL")]),
    ("ik zit op de Jozefschool", [("SCHOOL", "Jozefschool")]),
    ("ik voetbal bij RKVV Volendam", [("SPORTS_CLUB", "RKVV Volendam")]),
    ("ik zit op korfbalvereniging Dos '46", [("SPORTS_CLUB", "korfbalvereniging Dos '46")]),
    ("ik hockey bij Push Breda", [("SPORTS_CLUB", "Push Breda")]),
    ("ik werk bij de Kruidvat in Assen", [("ORGANIZATION", "Kruidvat"), ("LOCATION", "Assen")]),
    ("we gaan naar jongerencentrum Het Honk", [("ORGANIZATION", "jongerencentrum Het Honk")]),
    # streets
    ("mijn adres is Julianalaan 12b", [("ADDRESS", "Julianalaan 12b")]),
    ("ik woon op de Hoofdweg 221", [("ADDRESS", "Hoofdweg 221")]),
    ("hij woont op Oranjeboom 7", [("ADDRESS", "Oranjeboom 7")]),
    ("ik woon aan de dorpsstraat 4", [("ADDRESS", "dorpsstraat 4")]),
    # places and neighbourhoods
    ("ik woon in zwolle", [("LOCATION", "zwolle")]),
    ("ik kom uit Eindhoven", [("LOCATION", "Eindhoven")]),
    ("mijn vader woont in Friesland", [("LOCATION", "Friesland")]),
    ("ik woon in de wijk Lombok", [("NEIGHBOURHOOD", "Lombok")]),
    ("we zijn verhuisd naar Lissabon", [("LOCATION", "Lissabon")]),
    ("ik woon in Den Dolder", [("LOCATION", "Den Dolder")]),
    ("ik woon in 's-Hertogenbosch", [("LOCATION", "'s-Hertogenbosch")]),
    # person names, with case and context
    ("ik ben lisa", [("PERSON", "lisa")]),
    ("hoi ik heet Bas", [("PERSON", "Bas")]),
    ("mijn stiefvader Gerard slaat me", [("PERSON", "Gerard")]),
    ("wessel en jeroen pesten me", [("PERSON", "wessel"), ("PERSON", "jeroen")]),
    ("mijn ex noah stuurt steeds berichten", [("PERSON", "noah")]),
    ("juf Annemiek zei dat", [("PERSON", "Annemiek")]),
    ("mevrouw van der Linden is streng", [("PERSON", "van der Linden")]),
    ("hij heet Sven Jansen", [("PERSON", "Sven Jansen")]),
    ("gepest door Milan en Luuk", [("PERSON", "Milan"), ("PERSON", "Luuk")]),
]

NOTHING = [
    "ik ben 14 en ik voel me rot",
    "ik ben bang en moe",
    "ik heb een roos gekocht voor mijn moeder",
    "we hadden les over mars en venus",
    "bel 112 of chat met 113, of kijk op 113.nl",
    "de Kindertelefoon is 0800-0432, kindertelefoon.nl",
    "mijn moeder werkt bij de jumbo",
    "ik ben fan van Ajax",
    "in 2012 en 2013 woonden we in Turkije",
    "mijn vader komt uit Marokko",
    "ik heb snapchat en tiktok maar mn ouders weten het niet",
    "op 12 jan heb ik een toets",
    "ik zit in 3 havo",
    "ik zit op het vwo",
    "ik ga naar de bergen",
    "met kerst is het altijd ruzie",
]


@pytest.mark.parametrize(("text", "expected"), FOUND)
def test_finds(redactor: Redactor, text: str, expected: list[tuple[str, str]]) -> None:
    assert_found(redactor, text, expected)


@pytest.mark.parametrize("text", NOTHING)
def test_leaves_innocent_text_alone(redactor: Redactor, text: str) -> None:
    assert_nothing(redactor, text)
