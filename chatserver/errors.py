"""Errors as values a client can act on: a stable code and a human message.

Handlers raise `ChatError` inside; the edge turns it into `{"ok": false, "error": {...}}`."""

from __future__ import annotations

from typing import Any

import socketio.exceptions

# Dutch messages for young people; staff consoles are Dutch too.
MESSAGES: dict[str, str] = {
    "invalid": "Dat bericht kon niet worden verwerkt.",
    "too_long": "Je bericht is te lang. Probeer het in kortere stukjes.",
    "empty": "Je bericht is leeg.",
    "rate_limited": "Je stuurt erg veel berichten tegelijk. Wacht even en probeer het opnieuw.",
    "not_in_conversation": "Je zit nu niet in een gesprek.",
    "already_started": "Je gesprek is al begonnen.",
    "not_found": "Dat gesprek of bericht bestaat niet (meer).",
    "forbidden": "Dat mag je niet doen.",
    "unauthorized": "Je bent niet (meer) ingelogd.",
    "invalid_credentials": "Gebruikersnaam of wachtwoord klopt niet.",
    "conversation_ended": "Dit gesprek is al afgelopen.",
    "not_available": "Je staat niet op beschikbaar.",
    "queue_full": "Het is nu erg druk. Probeer het over een paar minuten opnieuw.",
    "timeout": "Je hebt een time-out gekregen.",
    "blocked": "Je bent geblokkeerd.",
    "unavailable": "De chat is even niet beschikbaar. Probeer het zo opnieuw.",
    "redactor_unavailable": "Het verwijderen van persoonsgegevens lukt nu niet. Probeer het opnieuw.",
    "internal": "Er ging iets mis aan onze kant. Probeer het opnieuw.",
}


class ChatError(Exception):
    """The root exception of the server: something a client asked for cannot be done."""

    def __init__(self, code: str, message: str | None = None, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.message = message or MESSAGES.get(code, code)
        self.extra = extra

    def payload(self) -> dict[str, Any]:
        return {"ok": False, "error": {"code": self.code, "message": self.message, **self.extra}}


class Refused(socketio.exceptions.ConnectionRefusedError):
    """Refuses a Socket.IO connection with `data` as the `connect_error` payload.

    The keys are repeated under "data" because the JavaScript client exposes only
    `err.message` and `err.data`, while the Python client hands over the whole object."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__()
        self.error_args = {**data, "data": dict(data)}

    @classmethod
    def of(cls, code: str) -> Refused:
        return cls({"code": code, "message": MESSAGES.get(code, code)})


class ConfigError(Exception):
    """The configuration cannot work; raised at start-up, never at first use."""
