"""The one root exception of the redaction package.

Raised for configuration problems found at start-up (a missing pipeline, an unreadable cache).
"""


class RedactionError(Exception):
    """Something the redactor needs is missing or misconfigured."""
