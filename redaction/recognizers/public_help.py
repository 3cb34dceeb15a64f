"""Public help numbers and sites: naming them identifies nobody (GUIDELINES.md).

Used by the phone and URL recognizers to leave these alone.
"""

from __future__ import annotations

# Free and shared-cost service numbers belong to organisations, never to a chatter.
SERVICE_PREFIXES = ("0800", "0900", "0906", "0909", "085", "088", "14")

HELP_NUMBERS = frozenset({"112", "113", "116111", "116000", "08000113", "08000432", "08002000",
                          "0900112", "09008844", "144"})

HELP_DOMAINS = frozenset({
    "kindertelefoon.nl", "113.nl", "helpwanted.nl", "veiligthuis.nl", "allesoke.nl",
    "alles-oke.nl", "korrelatie.nl", "sensoa.be", "awel.be", "jeugdformaat.nl", "mind.nl",
    "mijnkindertelefoon.nl", "fier.nl", "slachtofferhulp.nl", "politie.nl", "rijksoverheid.nl",
    "government.nl", "overheid.nl", "ggd.nl", "thuisarts.nl", "sense.info", "watwetwel.nl",
    "pestweb.nl", "meldknop.nl", "meldpunt.nl", "checkjezelf.nl", "offlimits.nl", "chatlijn.nl",
    "jouwggd.nl", "zelfmoordpreventie.nl", "stichting113.nl", "wijzijnmind.nl",
})


def is_public_number(digits: str) -> bool:
    """A help line or a service number (digits only, national form)."""
    return digits in HELP_NUMBERS or digits.startswith(SERVICE_PREFIXES[:4])


def is_public_domain(host: str) -> bool:
    host = host.lower().removeprefix("www.")
    return any(host == d or host.endswith("." + d) for d in HELP_DOMAINS)
