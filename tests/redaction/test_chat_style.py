"""Messages typed the way young people type: lower case, no punctuation, names of every background.

Written for these tests (no sentence, name or place of either development set); each rule or list
added for chat-style text has at least three variants here.
"""

from __future__ import annotations

import pytest

from redaction import Redactor
from tests.redaction.expect import assert_found, assert_nothing

# (text, [(entity type, substring that must be covered by a span of that type)])
FOUND = [
    # lower-case full names, particles, surnames after a first name
    ("noah van der meulen lacht me uit", [("PERSON", "noah van der meulen")]),
    ("amira el haddouchi zit naast me", [("PERSON", "amira el haddouchi")]),
    ("gister zei tim de graaf dat ik lelijk ben", [("PERSON", "tim de graaf")]),
    ("mijn buurmeisje yara bouzid wordt geslagen", [("PERSON", "yara bouzid")]),
    # titles and "familie" with a lower-case surname
    ("meneer de boer van wiskunde doet raar", [("PERSON", "de boer")]),
    ("mevrouw kaya geeft me altijd een onvoldoende", [("PERSON", "kaya")]),
    ("juf van der linden weet het ook", [("PERSON", "van der linden")]),
    ("de familie smits woont achter ons", [("PERSON", "smits")]),
    ("bij fam demir thuis is het altijd gezellig", [("PERSON", "demir")]),
    ("mijn achternaam is de groot", [("PERSON", "de groot")]),
    ("haar achternaam is wieringa", [("PERSON", "wieringa")]),
    ("his last name is van dalen", [("PERSON", "van dalen")]),
    # names after relations and before "is mn beste vriend(in)"
    ("mijn stiefzus tsion slaapt bij ons", [("PERSON", "tsion")]),
    ("mn neef dawit wil dat ik meega", [("PERSON", "dawit")]),
    ("winter is mijn beste vriendin en ze snijdt zichzelf", [("PERSON", "winter")]),
    ("selam is mn beste vriend maar hij praat niet meer", [("PERSON", "selam")]),
    ("kay was mijn beste maatje", [("PERSON", "kay")]),
    # repeated letters and English relations
    ("heyyy ik ben saraaa", [("PERSON", "saraaa")]),
    ("ik ben liesbethhh en ik ben 13", [("PERSON", "liesbethhh")]),
    ("mijn vriendin mirtheee is weg", [("PERSON", "mirtheee")]),
    ("me and my bestie ayla are scared", [("PERSON", "ayla")]),
    ("my boyfriend ravi hits me", [("PERSON", "ravi")]),
    ("my sister hanna is sick", [("PERSON", "hanna")]),
    # ALL CAPS
    ("WAAROM PEST MILAN MIJ ELKE DAG", [("PERSON", "MILAN")]),
    ("IK WOON IN ASSEN EN WIL WEG", [("LOCATION", "ASSEN")]),
    ("ZE NOEMEN ME STEEDS MILAN DE DIKKE", [("PERSON", "MILAN")]),
    # schools without capitals or a type word
    ("ik zit op het bonhoeffer in enschede", [("SCHOOL", "bonhoeffer")]),
    ("zit in 3 havo op het comenius en het is kut", [("SCHOOL", "comenius")]),
    ("ik studeer aan de tue en ben eenzaam", [("SCHOOL", "tue")]),
    ("mijn broertje zit op cbs de wegwijzer", [("SCHOOL", "cbs de wegwijzer")]),
    ("ik zit op roc da vinci en", [("SCHOOL", "roc da vinci")]),
    ("ik ga naar het huygens lyceum na de zomer", [("SCHOOL", "huygens lyceum")]),
    ("onze basisschool heet de klimop", [("SCHOOL", "klimop")]),
    ("mijn school heet het baken", [("SCHOOL", "baken")]),
    ("mn middelbare heet stanislas", [("SCHOOL", "stanislas")]),
    ("ik zit in 2 havo op t hooghuis", [("SCHOOL", "hooghuis")]),
    ("zit nu in de brugklas op t vechtdal", [("SCHOOL", "vechtdal")]),
    ("ik studeer aan de vu maar wil stoppen", [("SCHOOL", "vu")]),
    ("mijn zus studeert aan de has in den bosch", [("SCHOOL", "has")]),
    ("ik doe mbo bij het deltion", [("SCHOOL", "deltion")]),
    ("ik doe havo bij het landstede", [("SCHOOL", "landstede")]),
    ("mijn broer doet vmbo op scalda", [("SCHOOL", "scalda")]),
    ("op het wellantcollege is het kut", [("SCHOOL", "wellantcollege")]),
    ("de leraren van het stanislascollege zijn streng", [("SCHOOL", "stanislascollege")]),
    ("mn broertje zit op de bonifatiusschool", [("SCHOOL", "bonifatiusschool")]),
    # clubs in lower case
    ("ik speel bij vv brederode en de trainer schreeuwt", [("SPORTS_CLUB", "vv brederode")]),
    ("ik hockey bij hdm en daar word ik buitengesloten", [("SPORTS_CLUB", "hdm")]),
    ("mn broer voetbalt bij zwaluwen 30 in vlaardingen", [("SPORTS_CLUB", "zwaluwen 30")]),
    ("ik wil bij hc rotterdam hockeyen", [("SPORTS_CLUB", "hc rotterdam")]),
    ("ik heb bij sc genemuiden gevoetbald", [("SPORTS_CLUB", "sc genemuiden")]),
    ("mijn zus turnt bij sv urk", [("SPORTS_CLUB", "sv urk")]),
    # organisations in lower case
    ("mn zus werkt bij de kruidvat in tiel", [("ORGANIZATION", "kruidvat")]),
    ("ik werk bij de coop in emmen als vakkenvuller", [("ORGANIZATION", "coop")]),
    ("ik ga naar buurthuis de schakel na school", [("ORGANIZATION", "buurthuis de schakel")]),
    ("mijn vader ligt in het gelre ziekenhuis", [("ORGANIZATION", "gelre ziekenhuis")]),
    ("we bidden in de mevlana moskee", [("ORGANIZATION", "mevlana moskee")]),
    # places and neighbourhoods in lower case
    ("ik woon in hoogvliet en het is hier niet veilig", [("LOCATION", "hoogvliet")]),
    ("mijn opa woont in de jordaan", [("NEIGHBOURHOOD", "jordaan")]),
    ("we wonen in de vogelaarsbuurt", [("NEIGHBOURHOOD", "vogelaarsbuurt")]),
    ("mn tante in berkane belt elke dag", [("LOCATION", "berkane")]),
    ("ik kom uit willemstad en woon nu hier", [("LOCATION", "willemstad")]),
    ("ik woon in emmen zuid", [("NEIGHBOURHOOD", "emmen zuid")]),
    ("we wonen nu in de rivierenwijk", [("NEIGHBOURHOOD", "rivierenwijk")]),
    ("hij komt uit de transvaalbuurt", [("NEIGHBOURHOOD", "transvaalbuurt")]),
    ("er wordt gedeald bij ons in de bloemenwijk", [("NEIGHBOURHOOD", "bloemenwijk")]),
    ("ik woon in t harde", [("LOCATION", "harde")]),
    ("we wonen in 't zandt", [("LOCATION", "zandt")]),
    ("wij wonen in het hogeland", [("LOCATION", "hogeland")]),
    # known towns in lower case without a cue (rare as words, no plural or verb form)
    ("nuenen is zo saai man", [("LOCATION", "nuenen")]),
    ("baarn heeft niks voor jongeren", [("LOCATION", "baarn")]),
    ("mn vader rijdt elke dag naar zundert", [("LOCATION", "zundert")]),
    ("ik woon nu in goes bij mn pleegouders", [("LOCATION", "goes")]),
    ("mijn vader komt uit sluis", [("LOCATION", "sluis")]),
    ("ik zit op een school in leiden", [("LOCATION", "leiden")]),
    # addresses in lower case without a usual street ending
    ("ik woon op weverij 14", [("ADDRESS", "weverij 14")]),
    ("mijn adres is dorpsplein 3a", [("ADDRESS", "dorpsplein 3a")]),
    ("we wonen aan de kerkpad 9", [("ADDRESS", "kerkpad 9")]),
    # dates of birth in other forms
    ("ik word 15 op 9 maart en niemand weet het", [("DATE_OF_BIRTH", "9 maart")]),
    ("mn verjaardag is de 12e van augustus", [("DATE_OF_BIRTH", "12e van augustus")]),
    ("geboortedatum 2011.02.09", [("DATE_OF_BIRTH", "2011.02.09")]),
    ("i was born on the 2nd of may 2010", [("DATE_OF_BIRTH", "2nd of may 2010")]),
    ("born april 21 2009", [("DATE_OF_BIRTH", "april 21 2009")]),
    ("mijn bday is 3-11 en ik wil niks", [("DATE_OF_BIRTH", "3-11")]),
    ("jarig op 29/2 lol", [("DATE_OF_BIRTH", "29/2")]),
    ("mn verjaardag: 12/09", [("DATE_OF_BIRTH", "12/09")]),
    # e-mail addresses written out, handles without @
    ("mail naar sem.v[at]outlook.com", [("EMAIL_ADDRESS", "sem.v[at]outlook.com")]),
    ("mijn mail is jade (at) live dot nl", [("EMAIL_ADDRESS", "jade (at) live dot nl")]),
    ("stuur naar floor_k{at}gmail.com", [("EMAIL_ADDRESS", "floor_k{at}gmail.com")]),
    ("ik heb twee snaps, de ene is zoezoetje", [("SOCIAL_HANDLE", "zoezoetje")]),
    ("mijn insta's zijn kiki.lifestyle en nog een", [("SOCIAL_HANDLE", "kiki.lifestyle")]),
    ("mn tiktok account: danslover", [("SOCIAL_HANDLE", "danslover")]),
    ("mijn snaps zijn fem.xo en femprivee", [("SOCIAL_HANDLE", "femprivee")]),
    ("insta: bo_2011, boback", [("SOCIAL_HANDLE", "boback")]),
    ("mijn discord is kaasje#1234 of kaasjealt", [("SOCIAL_HANDLE", "kaasjealt")]),
    ("add me op snap floortjeex", [("SOCIAL_HANDLE", "floortjeex")]),
    ("volg me op insta miloudanst", [("SOCIAL_HANDLE", "miloudanst")]),
    ("zoek me op tiktok kiekiedance", [("SOCIAL_HANDLE", "kiekiedance")]),
]

NOTHING = [
    "ik zit op het vwo en het gaat slecht",
    "we zaten op het dak te praten",
    "ik zit op de bank en huil",
    "ik train bij de sportschool",
    "ik speel bij mijn oma op de ipad",
    "mijn moeder werkt bij de jumbo",
    "ik lag in het ziekenhuis",
    "ik woon in de stad maar voel me alleen",
    "ik kijk at home tv",
    "mijn insta is echt saai",
    "op 4 okt heb ik een proefwerk",
    "ik moet naar vmbo-t volgend jaar",
    "ik ga naar bijles",
    "IK BEN ZO MOE VAN ALLES",
    "ik woon op nummer 5",
    "dat vind ik echt goor",
    "kunnen we appen",
    "het is 3-1 geworden bij voetbal",
    "ik ben bang in huis",
    "ik wil in vrede leven",
    "ik woon in een nieuwbouwwijk",
    "mijn school heet gewoon school",
    "ik ga op de fiets op het plein",
    "ik zit op het lyceum",
    "ik ga naar het nieuwe college volgend jaar",
    "hahahaaa ik ben zooo moeee",
    "mijn moeder poetst bij een rijke familie",
    "mijn vader werkt bij de gemeente",
    "ik doe het bij de jumbo",
    "zet het op snap gewoon",
    "ik zit de hele dag op mn kamer",
    "ik lig al uren op mn bed",
    "hij zit altijd op zn telefoon",
    "ik ben fan van de efteling",
    "ik ben lid van de bieb",
    "ik ben fan van die serie op netflix",
    "ik ga naar de dansschool en de rijschool",
    "op de basisschool was het leuker",
    "de zomerschool is saai",
]


@pytest.mark.parametrize(("text", "expected"), FOUND)
def test_finds_in_chat_style(redactor: Redactor, text: str,
                             expected: list[tuple[str, str]]) -> None:
    assert_found(redactor, text, expected)


@pytest.mark.parametrize("text", NOTHING)
def test_leaves_innocent_chat_alone(redactor: Redactor, text: str) -> None:
    assert_nothing(redactor, text)
