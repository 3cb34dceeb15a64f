"""The JSON API: health, staff login and logout, transcripts, configuration.

Staff authenticate with the session cookie or a Bearer token; cookie-authenticated calls that
change state must come from an allowed origin (CSRF). Every route is wrapped by `public` or
`Guard.staff` (web/responses.py): the one place for authentication and error translation."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from chatserver import access, events
from chatserver.actions import sessions as session_actions
from chatserver.actions.common import audit, stored_conversation
from chatserver.auth import COOKIE, StaffMember
from chatserver.context import Context
from chatserver.errors import ChatError
from chatserver.privacy.addresses import scope_address_hash
from chatserver.privacy.retention import Retention
from chatserver.ratelimit import KeyedBuckets
from chatserver.web.headers import is_https
from chatserver.web.responses import Guard, error, json_body, ok, public, same_origin
from redaction import ENTITY_TYPES

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


class Api:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.sessions = ctx.sessions
        self.settings = ctx.settings
        self.guard = Guard(ctx.sessions, ctx.clock.now, ctx.settings.allowed_origins)
        # Logins: 10 tries, then one per 6 s; per account and per address hash alike.
        self.login_by_name = KeyedBuckets(rate=1 / 6, burst=10)
        self.login_by_address = KeyedBuckets(rate=1 / 6, burst=20)

    def routes(self) -> list[Route]:
        staff = self.guard.staff
        return [
            Route("/healthz", public(self.healthz), methods=["GET"]),
            Route("/api/config", public(self.config), methods=["GET"]),
            Route("/api/auth/login", public(self.login), methods=["POST"]),
            Route("/api/auth/logout", staff(logout=True)(self.logout), methods=["POST"]),
            Route("/api/me", staff()(self.me), methods=["GET"]),
            Route("/api/conversations/{id}/transcript", staff()(self.transcript),
                  methods=["GET"]),
        ]

    async def healthz(self, request: Request) -> Response:
        """200 when the server can keep its promises; 503 when the database or Redis is down,
        delivery between workers is not subscribed, the redactor failed, or retention is more
        than a day overdue."""
        database = await self.ctx.store.db.ping()
        healthy = database
        body: dict[str, Any] = {"database": "ok" if database else "unavailable"}
        if self.settings.redis_url:
            redis = await self.ctx.live.ping()
            # Events between workers travel on the delivery listener's subscriptions: while it
            # is not subscribed (Redis restarting), a message to a socket elsewhere waits.
            delivery, _ = self.ctx.outbox.delivery()
            healthy = healthy and redis and delivery
            body["redis"] = "ok" if redis else "unavailable"
            body["delivery"] = "ok" if delivery else "unavailable"
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
            "privacy_url": s.privacy_url,
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
        # A browser always sends Origin on a cross-site POST: no logging in from elsewhere.
        if request.headers.get("origin") and not same_origin(
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
        response = ok({"token": token, "role": member.role, "display_name": member.display_name})
        response.set_cookie(
            COOKIE, token, httponly=True, samesite="strict", path="/",
            # Production is served over TLS only, whatever the last hop says.
            secure=self._secure(request),
            max_age=int(self.sessions.absolute.total_seconds()),
        )
        return response

    def _secure(self, request: Request) -> bool:
        return is_https(request.scope, self.settings.trusted_proxies) \
            or self.settings.environment == "production"

    async def logout(self, request: Request, member: StaffMember) -> Response:
        await self.sessions.logout(member, self.ctx.clock.now())
        await session_actions.logout_sockets(self.ctx, member)
        response = ok({"ok": True})
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict",
                               secure=self._secure(request))
        return response

    async def me(self, request: Request, member: StaffMember) -> Response:
        return ok({"username": member.username, "display_name": member.display_name,
                   "role": member.role})

    async def transcript(self, request: Request, member: StaffMember) -> Response:
        cid = request.path_params["id"]
        if len(cid) > 64:
            raise ChatError("not_found")
        row = await stored_conversation(self.ctx, cid)
        access.require_reader(row.volunteer_id, member)
        messages = await self.ctx.store.messages.of_conversation(cid)
        await audit(self.ctx, member, "transcript_read", cid)
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
