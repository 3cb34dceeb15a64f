"""JSON responses and errors in the protocol's one shape: {"error": {"code", "message"}}."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from chatserver.errors import MESSAGES, ChatError

STATUS = {
    "invalid": 400,
    "too_long": 400,
    "empty": 400,
    "invalid_credentials": 401,
    "unauthorized": 401,
    "forbidden": 403,
    "csrf": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "conversation_ended": 409,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "rate_limited": 429,
    "internal": 500,
    "unavailable": 503,
}


def error(code: str, message: str | None = None, status: int | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message or MESSAGES.get(code, code)}},
        status_code=status or STATUS.get(code, 400),
        headers={"Cache-Control": "no-store"},
    )


def from_chat_error(err: ChatError) -> JSONResponse:
    return error(err.code, err.message)


def ok(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers={"Cache-Control": "no-store"})


async def json_body(request: Request, max_bytes: int = 64 * 1024) -> dict[str, Any]:
    """The request's JSON object, or ChatError `invalid`."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise ChatError("invalid", "Stuur JSON (Content-Type: application/json).")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise ChatError("invalid", "Het verzoek is te groot.")
    import json

    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ChatError("invalid", "Het verzoek is geen geldige JSON.") from exc
    if not isinstance(data, dict):
        raise ChatError("invalid", "Het verzoek moet een JSON-object zijn.")
    return data
