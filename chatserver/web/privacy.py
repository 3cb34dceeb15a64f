"""HTTP API of the privacy operations: requests of data subjects, research export, audit log,
statistics (coordinator and up). Every route goes through `Guard.staff` (web/responses.py):
every error is {"error": {"code", "message"}}; bad input 400, a step the state refuses 409."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from chatserver.actions.common import audit as record
from chatserver.auth import StaffMember
from chatserver.clock import iso
from chatserver.errors import ChatError
from chatserver.privacy import audit, research
from chatserver.privacy.commands import parse_moment
from chatserver.privacy.requests import SubjectRequests
from chatserver.privacy.statistics import statistics, window
from chatserver.privacy.terms import Terms
from chatserver.privacy.timezone import local
from chatserver.web.responses import Handler, StaffHandler, error, json_body, ok

if TYPE_CHECKING:
    from chatserver.web.api import Api

def routes(api: Api) -> list[BaseRoute]:
    ctx = api.ctx
    store = ctx.store
    register = SubjectRequests(store, ctx.clock, ctx.settings.secret_key,
                               Terms.of(ctx.settings))
    coordinator = api.guard.staff("coordinator")

    def query(request: Request, name: str, limit: int = 100) -> str | None:
        value = request.query_params.get(name)
        if value is not None and len(value) > limit:
            raise ChatError("invalid", f"`{name}` is te lang.")
        return value or None

    def moment(request: Request, name: str) -> Any:
        try:
            return parse_moment(query(request, name), name)
        except ValueError as exc:
            raise ChatError("invalid_date", str(exc)) from exc

    def day(request: Request, name: str) -> date | None:
        try:
            return research.parse_day(query(request, name), name)
        except ValueError as exc:
            raise ChatError("invalid_date", str(exc)) from exc

    # -- requests of data subjects -----------------------------------------------------------

    async def list_requests(request: Request, member: StaffMember) -> Response:
        status = query(request, "status")
        requests = await register.list(status)
        await record(ctx, member, "requests_read", None, {"status": status})
        return ok({"requests": requests})

    async def create_request(request: Request, member: StaffMember) -> Response:
        data = await json_body(request)
        received = data.get("received_at")
        if received is not None and not isinstance(received, str):
            raise ChatError("invalid_date", "received_at is een datum (YYYY-MM-DD).")
        try:
            received_at = parse_moment(received, "received_at")
        except ValueError as exc:
            raise ChatError("invalid_date", str(exc)) from exc
        note = data.get("note")
        if note is not None and (not isinstance(note, str) or len(note) > 2000):
            raise ChatError("invalid", "Een notitie is tekst van hoogstens 2000 tekens.")
        view = await register.create(member, data.get("kind"), data.get("reference"),
                                     received_at, note)
        return ok({"ok": True, "request": view}, status=201)

    async def get_request(request: Request, member: StaffMember) -> Response:
        view = await register.get(request.path_params["id"])
        await record(ctx, member, "request_read", None, {"request_id": view["id"], "kind": view["kind"]})
        return ok({"request": view})

    async def extend(request: Request, member: StaffMember) -> Response:
        data = await json_body(request)
        view = await register.extend(member, request.path_params["id"], data.get("months"),
                                     data.get("reason"), data.get("person_told"))
        return ok({"ok": True, "request": view})

    async def access(request: Request, member: StaffMember) -> Response:
        export = await register.access(member, request.path_params["id"])
        return ok(export)

    async def erase(request: Request, member: StaffMember) -> Response:
        data = await json_body(request)
        return ok(await register.erase(member, request.path_params["id"], data.get("confirm")))

    async def close(request: Request, member: StaffMember) -> Response:
        data = await json_body(request)
        view = await register.close(member, request.path_params["id"], data.get("outcome"),
                                    data.get("note"))
        return ok({"ok": True, "request": view})

    # -- audit log ---------------------------------------------------------------------------

    async def audit_log(request: Request, member: StaffMember) -> Response:
        since, until = moment(request, "since"), moment(request, "until")
        action = query(request, "action", 48)
        if action is not None and not audit.ACTION_SHAPE.match(action):
            raise ChatError("invalid_action", "Een handeling is een woord als transcript_read.")
        raw_limit = query(request, "limit", 6) or "200"
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 1000:
            raise ChatError("invalid_limit", "`limit` is een getal van 1 tot 1000.")
        rows = await store.audit.entries(
            since=since, until=until, actor=query(request, "actor", 64), action=action,
            conversation_id=query(request, "conversation_id", 64), limit=int(raw_limit))
        await record(ctx, member, "audit_read", None, {
            k: v for k, v in request.query_params.items() if k in (
                "since", "until", "actor", "action", "conversation_id")})
        return ok({"entries": [audit.entry(r) for r in rows], "actions": list(audit.ACTIONS)})

    # -- statistics --------------------------------------------------------------------------

    async def stats(request: Request, member: StaffMember) -> Response:
        since, until = window(day(request, "since"), day(request, "until"),
                              local(ctx.clock.now()).date())
        return ok(await statistics(store, since, until))

    # -- research export ---------------------------------------------------------------------

    async def export(request: Request, member: StaffMember) -> Response:
        since, until = day(request, "since"), day(request, "until")
        fmt = query(request, "format", 8) or "jsonl"
        if fmt not in research.FORMATS:
            raise ChatError("invalid_format", "Kies jsonl of csv.")
        await record(ctx, member, "research_export", None, {
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None, "format": fmt})

        async def body() -> AsyncIterator[bytes]:
            async for chunk in research.export(store, since, until, fmt):
                yield chunk.encode()

        stamp = iso(ctx.clock.now())[:10]
        media = "application/x-ndjson" if fmt == "jsonl" else "text/csv; charset=utf-8"
        return StreamingResponse(body(), media_type=media, headers={
            "Content-Disposition": f'attachment; filename="onderzoeksdata-{stamp}.{fmt}"',
            "Cache-Control": "no-store",
        })

    paths: list[tuple[str, StaffHandler, str]] = [
        ("/api/privacy/requests", list_requests, "GET"),
        ("/api/privacy/requests", create_request, "POST"),
        ("/api/privacy/requests/{id}", get_request, "GET"),
        ("/api/privacy/requests/{id}/extend", extend, "POST"),
        ("/api/privacy/requests/{id}/access", access, "POST"),
        ("/api/privacy/requests/{id}/erase", erase, "POST"),
        ("/api/privacy/requests/{id}/close", close, "POST"),
        ("/api/privacy/audit", audit_log, "GET"),
        ("/api/privacy/statistics", stats, "GET"),
        ("/api/privacy/research/export", export, "GET"),
    ]
    merged: dict[str, dict[str, Handler]] = {}
    for path, handler, method in paths:
        merged.setdefault(path, {})[method] = coordinator(handler)

    def dispatch(methods: dict[str, Handler]) -> Handler:
        async def endpoint(request: Request) -> Response:
            handler = methods.get("GET" if request.method == "HEAD" else request.method)
            if handler is None:
                return error("method_not_allowed")
            return await handler(request)

        return endpoint

    return [Route(path, dispatch(methods), methods=list(methods)) for path, methods in merged.items()]
