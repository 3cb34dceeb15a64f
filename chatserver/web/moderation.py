"""HTTP API of moderation: blocks (list, create, lift) and chatters with repeated time-outs
(coordinator and up). Reads of these lists are audited."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from chatserver import events, moderation
from chatserver.actions import moderation as actions
from chatserver.actions.common import audit
from chatserver.auth import StaffMember
from chatserver.clock import iso
from chatserver.errors import ChatError
from chatserver.store import utc
from chatserver.web.responses import json_body, ok, optional_json_body

if TYPE_CHECKING:
    from chatserver.web.api import Api


def routes(api: Api) -> list[BaseRoute]:
    ctx = api.ctx
    store = ctx.store
    coordinator = api.guard.staff("coordinator")

    async def list_sanctions(request: Request, member: StaffMember) -> Response:
        kind = request.query_params.get("kind", "block")
        if kind not in ("block", "timeout"):
            raise ChatError("invalid", "`kind` is block of timeout.")
        active = request.query_params.get("active") in ("1", "true")
        now = ctx.clock.now()
        rows = await store.sanctions.find(kind=kind, active_at=now if active else None)
        items = await moderation.describe(store, rows[:1000], now)
        await audit(ctx, member, "sanctions_read", None, {"kind": kind, "active": active})
        return ok({"blocks" if kind == "block" else "timeouts": items})

    async def create_block(request: Request, member: StaffMember) -> Response:
        req = events.block_request(await json_body(request))
        return ok(await actions.block(ctx, member, req.conversation_id, req.days, req.reason,
                                        req.override_reason))

    async def lift(request: Request, member: StaffMember) -> Response:
        data = await optional_json_body(request)
        reason = events.optional_text(data, "reason", 500)
        return ok(await actions.lift(ctx, member, request.path_params["id"][:64], reason))

    async def repeat_timeouts(request: Request, member: StaffMember) -> Response:
        raw = request.query_params.get("min", "2")
        if not raw.isdigit() or not 1 <= int(raw) <= 100:
            raise ChatError("invalid", "`min` is een getal van 1 tot 100.")
        now = ctx.clock.now()
        since = now - timedelta(days=ctx.settings.timeout_window_days)
        rows = await store.sanctions.find(kind="timeout", since=since)
        chatters = []
        for group in moderation.repeat_offenders(rows, int(raw)):
            convs = []
            for r in group:
                conv = await store.conversations.get(r.conversation_id) if r.conversation_id \
                    else None
                convs.append({"conversation_id": r.conversation_id,
                              "alias": conv.alias if conv else None,
                              "at": iso(utc(r.created_at) or now)})
            latest = convs[-1]
            blocked = await store.sanctions.active(group[-1].address_hash, now)
            chatters.append({
                "alias": latest["alias"],
                "conversation_id": latest["conversation_id"],
                "timeouts": len(group),
                "last_timeout_at": latest["at"],
                "blocked": blocked is not None and blocked.kind == "block",
                "conversations": convs,
            })
        await audit(ctx, member, "repeat_timeouts_read", None, {"min": int(raw)})
        return ok({"chatters": chatters, "window_days": ctx.settings.timeout_window_days})

    return [
        Route("/api/moderation/blocks", coordinator(list_sanctions), methods=["GET"]),
        Route("/api/moderation/blocks", coordinator(create_block), methods=["POST"]),
        Route("/api/moderation/blocks/{id}/lift", coordinator(lift), methods=["POST"]),
        Route("/api/moderation/sanctions", coordinator(list_sanctions), methods=["GET"]),
        Route("/api/moderation/sanctions/{id}/lift", coordinator(lift), methods=["POST"]),
        Route("/api/moderation/timeouts", coordinator(repeat_timeouts), methods=["GET"]),
    ]
