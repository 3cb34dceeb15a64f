"""The one HTTP handler style of chatserver/web/: JSON responses and errors in the protocol's
one shape, `{"error": {"code", "message"}}`, and two wrappers that every route goes through.

- `public(handler)`: a `ChatError` raised in the handler becomes its error response.
- `Guard.staff(role)(handler)`: the same, after the staff member behind the request (session
  cookie or Bearer token, CSRF checked) is known and has at least `role`; the handler gets
  `(request, member)`."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chatserver.auth import COOKIE, Sessions, StaffMember
from chatserver.errors import MESSAGES, ChatError

STATUS = {
    "invalid": 400,
    "too_long": 400,
    "empty": 400,
    "invalid_credentials": 401,
    "unauthorized": 401,
    # Login errors that ask for (another) second factor: 401 like a wrong password.
    "otp_required": 401,
    "invalid_otp": 401,
    "otp_not_enrolled": 401,
    "forbidden": 403,
    "csrf": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "conversation_ended": 409,
    "conversation_active": 409,
    # The register of requests: a state that does not allow the step.
    "already_closed": 409,
    "already_extended": 409,
    "too_late": 409,
    "wrong_kind": 409,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "rate_limited": 429,
    "internal": 500,
    "unavailable": 503,
}

SAFE = ("GET", "HEAD", "OPTIONS")

Handler = Callable[[Request], Awaitable[Response]]
StaffHandler = Callable[[Request, StaffMember], Awaitable[Response]]


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
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ChatError("invalid", "Het verzoek is geen geldige JSON.") from exc
    if not isinstance(data, dict):
        raise ChatError("invalid", "Het verzoek moet een JSON-object zijn.")
    return data


async def optional_json_body(request: Request) -> dict[str, Any]:
    """The JSON object of a request whose body may be left out (an empty object then)."""
    if request.headers.get("content-length") in (None, "0"):
        return {}
    return await json_body(request)


def public(handler: Handler) -> Handler:
    """A route anyone may call: its `ChatError`s become error responses."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except ChatError as err:
            return from_chat_error(err)

    endpoint.__name__ = getattr(handler, "__name__", "endpoint")
    return endpoint


def same_origin(request: Request, allowed: tuple[str, ...]) -> bool:
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return False
    parts = urlsplit(origin)
    base = f"{parts.scheme}://{parts.netloc}"
    host = request.headers.get("host", "")
    return parts.netloc == host or base in allowed


class Guard:
    """Who is behind a staff request; `staff(role)` wraps a handler that needs one."""

    def __init__(self, sessions: Sessions, now: Callable[[], datetime],
                 allowed_origins: tuple[str, ...]) -> None:
        self.sessions = sessions
        self.now = now
        self.allowed_origins = allowed_origins

    async def member(self, request: Request, *, logout: bool = False) -> StaffMember:
        """The staff member behind a request; ChatError `unauthorized` or `csrf` otherwise.

        With the cookie, a change must come from this site. Logout alone may also come with no
        Origin or Referer at all (a non-browser client; browsers send Origin with every POST,
        and the SameSite=Strict cookie never travels cross-site): the worst a forged logout can
        do is end a session, and a foreign Origin is still refused."""
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return await self.sessions.check(auth[7:].strip(), self.now())
        token = request.cookies.get(COOKIE)
        no_origin = not (request.headers.get("origin") or request.headers.get("referer"))
        if token and request.method not in SAFE and not (logout and no_origin) and not (
            same_origin(request, self.allowed_origins)
        ):
            raise ChatError("csrf", "Dit verzoek komt niet van deze site.")
        return await self.sessions.check(token, self.now())

    def staff(self, role: str = "volunteer", *, logout: bool = False
              ) -> Callable[[StaffHandler], Handler]:
        def wrap(handler: StaffHandler) -> Handler:
            async def endpoint(request: Request) -> Response:
                member = await self.member(request, logout=logout)
                member.require(role)
                return await handler(request, member)

            endpoint.__name__ = getattr(handler, "__name__", "endpoint")
            return public(endpoint)

        return wrap
