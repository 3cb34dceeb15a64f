"""The JSON API: health, staff login and logout, transcripts, configuration.

Staff authenticate with the session cookie or a Bearer token; cookie-authenticated calls that
change state must come from an allowed origin (CSRF)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from chatserver import access, events
from chatserver.auth import COOKIE, Sessions, StaffMember
from chatserver.context import Context
from chatserver.errors import ChatError
from chatserver.privacy.addresses import scope_address_hash
from chatserver.privacy.retention import Retention
from chatserver.ratelimit import KeyedBuckets
from chatserver.service import ChatService
from chatserver.web.headers import is_https
from chatserver.web.responses import error, from_chat_error, json_body, ok
from redaction import ENTITY_TYPES

SAFE = ("GET", "HEAD", "OPTIONS")
# Login errors that ask for (another) second factor: 401 like a wrong password.
LOGIN_401 = ("otp_required", "invalid_otp", "otp_not_enrolled")
# The console's one table of Dutch names of the entity types (hints, manual redaction): a
# placeholder stands in a redacted text, a label in a sentence ("Mogelijk herkenbaar: naam").
ENTITY_LABELS = {
    "PERSON": "naam", "LOCATION": "plaats", "NEIGHBOURHOOD": "wijk", "ADDRESS": "adres",
    "POSTCODE": "postcode", "SCHOOL": "school", "SPORTS_CLUB": "sportclub",
    "ORGANIZATION": "organisatie", "PHONE_NUMBER": "telefoonnummer",
    "EMAIL_ADDRESS": "e-mailadres", "SOCIAL_HANDLE": "gebruikersnaam", "URL": "url",
    "IBAN": "IBAN", "BSN": "BSN", "LICENSE_PLATE": "kenteken", "DATE_OF_BIRTH": "geboortedatum",
    "IP_ADDRESS": "IP-adres",
}


def _same_origin(request: Request, allowed: tuple[str, ...]) -> bool:
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return False
    parts = urlsplit(origin)
    base = f"{parts.scheme}://{parts.netloc}"
    host = request.headers.get("host", "")
    return parts.netloc == host or base in allowed


class Api:
    def __init__(self, ctx: Context, service: ChatService, sessions: Sessions) -> None:
        self.ctx = ctx
        self.service = service
        self.sessions = sessions
        self.settings = ctx.settings
        # Logins: 10 tries, then one per 6 s; per account and per address hash alike.
        self.login_by_name = KeyedBuckets(rate=1 / 6, burst=10)
        self.login_by_address = KeyedBuckets(rate=1 / 6, burst=20)

    def routes(self) -> list[Route]:
        return [
            Route("/healthz", self.healthz, methods=["GET"]),
            Route("/api/config", self.config, methods=["GET"]),
            Route("/api/auth/login", self.login, methods=["POST"]),
            Route("/api/auth/logout", self.logout, methods=["POST"]),
            Route("/api/me", self.me, methods=["GET"]),
            Route("/api/conversations/{id}/transcript", self.transcript, methods=["GET"]),
        ]

    async def member(self, request: Request, *, logout: bool = False) -> StaffMember:
        """The staff member behind a request; ChatError `unauthorized` or `csrf` otherwise.

        With the cookie, a change must come from this site. Logout alone may also come with no
        Origin or Referer at all (a non-browser client; browsers send Origin with every POST,
        and the SameSite=Strict cookie never travels cross-site): the worst a forged logout can
        do is end a session, and a foreign Origin is still refused."""
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return await self.sessions.check(auth[7:].strip(), self.ctx.clock.now())
        token = request.cookies.get(COOKIE)
        no_origin = not (request.headers.get("origin") or request.headers.get("referer"))
        if token and request.method not in SAFE and not (logout and no_origin) and not (
            _same_origin(request, self.settings.allowed_origins)
        ):
            raise ChatError("csrf", "Dit verzoek komt niet van deze site.")
        return await self.sessions.check(token, self.ctx.clock.now())

    async def healthz(self, request: Request) -> Response:
        """200 when the server can keep its promises; 503 when the database or Redis is down,
        the redactor failed, or retention is more than a day overdue."""
        database = await self.ctx.store.db.ping()
        healthy = database
        body: dict[str, Any] = {"database": "ok" if database else "unavailable"}
        if self.settings.redis_url:
            redis = await self.ctx.live.ping()
            healthy = healthy and redis
            body["redis"] = "ok" if redis else "unavailable"
        redactor = self.ctx.redactor.status
        healthy = healthy and redactor != "failed"
        if database:
            retention = Retention(self.settings, self.ctx.store, self.ctx.clock, None)
            overdue = await retention.overdue()
            healthy = healthy and not overdue
            body["retention"] = "overdue" if overdue else "ok"
        body = {"status": "ok" if healthy else "unavailable", **body, "redactor": redactor}
        return JSONResponse(body, status_code=200 if healthy else 503,
                            headers={"Cache-Control": "no-store"})

    async def config(self, request: Request) -> Response:
        s = self.settings
        return ok({
            "topics": list(s.topics),
            "max_text_length": s.max_text_length,
            "max_capacity": s.max_capacity,
            "timeout_minutes": {"default": s.timeout_default_minutes,
                                "min": s.timeout_min_minutes, "max": s.timeout_max_minutes},
            "block_days": s.block_default_days,
            "entity_types": list(ENTITY_TYPES),
            # A type the table lacks keeps its own name rather than disappearing from the console.
            "entity_labels": {t: ENTITY_LABELS.get(t, t) for t in ENTITY_TYPES},
        })

    async def login(self, request: Request) -> Response:
        try:
            # A browser always sends Origin on a cross-site POST: no logging in from elsewhere.
            if request.headers.get("origin") and not _same_origin(
                request, self.settings.allowed_origins
            ):
                raise ChatError("csrf", "Dit verzoek komt niet van deze site.")
            data = await json_body(request)
            username, password = data.get("username"), data.get("password")
            otp = data.get("otp")
            if not isinstance(username, str) or not isinstance(password, str) or not username \
                    or len(username) > 64 or len(password) > 1024:
                raise ChatError("invalid", "Vul een gebruikersnaam en wachtwoord in.")
            if otp is not None and (not isinstance(otp, str) or len(otp) > 16):
                raise ChatError("invalid", "De code bestaat uit zes cijfers.")
            now = self.ctx.clock.monotonic()
            address = scope_address_hash(request.scope, self.settings.ip_hash_key,
                                         self.settings.trusted_proxies)
            # Only failed attempts count: a shift of volunteers logging in from one office
            # address is not an attack; guessing passwords is.
            name = username.lower()
            if not self.login_by_address.allows(address, now) or not self.login_by_name.allows(
                name, now
            ):
                raise ChatError("rate_limited", "Te veel inlogpogingen. Wacht een minuut.")
            try:
                token, member = await self.sessions.login(
                    username, password, self.ctx.clock.now(), otp or None
                )
            except ChatError:
                self.login_by_address.take(address, now)
                self.login_by_name.take(name, now)
                raise
        except ChatError as err:
            return error(err.code, err.message, 401 if err.code in LOGIN_401 else None)
        response = ok({"token": token, "role": member.role, "display_name": member.display_name})
        response.set_cookie(
            COOKIE, token, httponly=True, samesite="strict", path="/",
            # Production is served over TLS only, whatever the last hop says.
            secure=is_https(request.scope, self.settings.trusted_proxies)
            or self.settings.environment == "production",
            max_age=int(self.sessions.absolute.total_seconds()),
        )
        return response

    async def logout(self, request: Request) -> Response:
        try:
            member = await self.member(request, logout=True)
        except ChatError as err:
            return from_chat_error(err)
        await self.sessions.logout(member, self.ctx.clock.now())
        await self.service.logout_sockets(member)
        response = ok({"ok": True})
        response.delete_cookie(
            COOKIE, path="/", httponly=True, samesite="strict",
            secure=is_https(request.scope, self.settings.trusted_proxies)
            or self.settings.environment == "production",
        )
        return response

    async def me(self, request: Request) -> Response:
        try:
            member = await self.member(request)
        except ChatError as err:
            return from_chat_error(err)
        return ok({"username": member.username, "display_name": member.display_name,
                   "role": member.role})

    async def transcript(self, request: Request) -> Response:
        try:
            member = await self.member(request)
            cid = request.path_params["id"]
            if len(cid) > 64:
                raise ChatError("not_found")
            row = await self.ctx.store.conversations.get(cid)
            if row is None:
                raise ChatError("not_found")
            access.require_reader(row.volunteer_id, member)
            messages = await self.ctx.store.messages.of_conversation(cid)
            await self.service.audit(member, "transcript_read", cid)
        except ChatError as err:
            return from_chat_error(err)
        return ok({
            "conversation_id": cid,
            "messages": [events.transcript_entry(m) for m in messages],
        })


async def not_found(request: Request, exc: Exception) -> Response:
    return error("not_found", "Deze pagina bestaat niet.")


async def method_not_allowed(request: Request, exc: Exception) -> Response:
    return error("method_not_allowed", "Deze methode wordt hier niet ondersteund.")


async def internal(request: Request, exc: Exception) -> Response:
    return error("internal")
