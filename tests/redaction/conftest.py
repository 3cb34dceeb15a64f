"""One Redactor per profile for the whole redaction test session: building one takes seconds.

Uses the normal cache location, so a second run starts warm.
"""

from __future__ import annotations

import pytest

from redaction import Redactor


@pytest.fixture(scope="session")
def redactor() -> Redactor:
    return Redactor()


@pytest.fixture(scope="session")
def research() -> Redactor:
    return Redactor(profile="research")
