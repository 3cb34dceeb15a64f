"""The Dutch recognizers, one module per kind of detail, and the list the engine registers.

Every recognizer is a Presidio `EntityRecognizer` for language `nl`.
"""

from __future__ import annotations

from redaction.lexicon import Lexicon
from redaction.name_model import NameModel
from redaction.recognizers.base import DutchRecognizer, Found, tokenize
from redaction.recognizers.bsn import BsnRecognizer
from redaction.recognizers.date_of_birth import DateOfBirthRecognizer
from redaction.recognizers.email import EmailRecognizer
from redaction.recognizers.iban import IbanRecognizer
from redaction.recognizers.ip_address import IpAddressRecognizer
from redaction.recognizers.license_plate import LicensePlateRecognizer
from redaction.recognizers.names import PersonRecognizer
from redaction.recognizers.organisations import OrganisationRecognizer
from redaction.recognizers.phone import PhoneRecognizer
from redaction.recognizers.places import PlaceRecognizer
from redaction.recognizers.postcode import PostcodeRecognizer
from redaction.recognizers.schools import SchoolRecognizer
from redaction.recognizers.social_handle import SocialHandleRecognizer
from redaction.recognizers.sports_clubs import SportsClubRecognizer
from redaction.recognizers.streets import StreetRecognizer
from redaction.recognizers.url import UrlRecognizer

__all__ = ["DutchRecognizer", "Found", "dutch_recognizers", "tokenize"]


def dutch_recognizers(lexicon: Lexicon,
                      name_model: NameModel | None = None) -> list[DutchRecognizer]:
    """One instance of every recognizer, sharing one lexicon (and the trained name model)."""
    return [
        PhoneRecognizer(), PostcodeRecognizer(), BsnRecognizer(), IbanRecognizer(),
        LicensePlateRecognizer(), DateOfBirthRecognizer(), EmailRecognizer(), UrlRecognizer(),
        IpAddressRecognizer(), SocialHandleRecognizer(lexicon), PersonRecognizer(lexicon, name_model),
        PlaceRecognizer(lexicon), StreetRecognizer(), SchoolRecognizer(lexicon), SportsClubRecognizer(lexicon),
        OrganisationRecognizer(lexicon),
    ]
