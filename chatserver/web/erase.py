"""`POST /api/erase`: the young person's own erasure with their reference code (page /wissen).

Anyone may call it; attempts are limited per address hash (the code has 50 bits, but a
flood of guesses is refused all the same), and the answer never says more than the
contract: done, or no such conversation."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from chatserver.context import Context
from chatserver.errors import ChatError
from chatserver.privacy.addresses import scope_address_hash
from chatserver.privacy.self_erasure import erase_by_reference
from chatserver.privacy.terms import Terms
from chatserver.ratelimit import KeyedBuckets
from chatserver.web.responses import json_body, ok, public


def routes(ctx: Context) -> list[Route]:
    # Ten tries, then one a minute, per address hash.
    attempts = KeyedBuckets(rate=1 / 60, burst=10)

    async def erase(request: Request) -> Response:
        settings = ctx.settings
        address = scope_address_hash(request.scope, settings.ip_hash_key,
                                     settings.trusted_proxies)
        if not attempts.take(address, ctx.clock.monotonic()):
            raise ChatError("rate_limited", "Te veel pogingen. Probeer het over een paar "
                                            "minuten opnieuw.")
        data = await json_body(request, max_bytes=1024)
        return ok(await erase_by_reference(ctx.store, ctx.clock, settings.secret_key,
                                           data.get("reference"), Terms.of(settings)))

    return [Route("/api/erase", public(erase), methods=["POST"])]
