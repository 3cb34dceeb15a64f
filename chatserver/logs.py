"""Logging that never writes an address, an engine.io sid, a token or a cookie.

uvicorn logs `IP:port - "WebSocket /socket.io/?…sid=…"` on every handshake even without an
access log: those lines are dropped, and any address-like text left is masked."""

from __future__ import annotations

import logging
import logging.config
import re
from typing import Any

_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{0,4}(?![\w:])|::1\b")
_SECRETS = re.compile(r"(?i)\b(sid|token|session|cookie|resume_token|EIO)=[^&\s\"']*")
_DROP = ('"WebSocket ', "connection open", "connection closed", "connection rejected")


def scrub(text: str) -> str:
    text = _IPV4.sub("[address]", text)
    text = _IPV6.sub("[address]", text)
    return _SECRETS.sub(lambda m: m.group(1) + "=[hidden]", text)


class PrivacyFilter(logging.Filter):
    """Drops handshake lines; masks addresses, sids and tokens in everything else."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is dropped, not raised
            return False
        if any(marker in message for marker in _DROP):
            return False
        if record.name.startswith(("engineio", "socketio")):
            # Their tracebacks can quote a client's payload: keep the first line only.
            message = message.splitlines()[0] if message else message
            record.exc_info = None
            record.exc_text = None
        record.msg = scrub(message)
        record.args = None
        return True


def configure(level: str = "INFO") -> dict[str, Any]:
    """Install the logging configuration; returns it for uvicorn's `log_config`."""
    config: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"privacy": {"()": PrivacyFilter}},
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "plain",
                "filters": ["privacy"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True, "level": level},
            "uvicorn.error": {"handlers": [], "propagate": True, "level": level},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "CRITICAL"},
            "websockets": {"handlers": [], "propagate": True, "level": "WARNING"},
            "socketio": {"handlers": [], "propagate": True, "level": "WARNING"},
            "engineio": {"handlers": [], "propagate": True, "level": "WARNING"},
        },
    }
    logging.config.dictConfig(config)
    return config
