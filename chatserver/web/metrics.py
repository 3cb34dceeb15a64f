"""GET /metrics: the Prometheus text format for operators, behind a bearer token of their own.

Without CHATSERVER_METRICS_TOKEN the route answers 404 as if it did not exist."""

from __future__ import annotations

import hmac

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from chatserver.context import Context
from chatserver.metrics import Meter
from chatserver.web.responses import error


def routes(ctx: Context, meter: Meter) -> list[Route]:
    token = ctx.settings.metrics_token

    async def metrics(request: Request) -> Response:
        if not token:
            return error("not_found", "Deze pagina bestaat niet.")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        # compare_digest takes as long for any wrong token of a given length.
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                                 token.encode()):
            response = error("unauthorized", "Een geldig token voor /metrics is nodig.")
            response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        return Response(await meter.exposition(ctx), media_type=CONTENT_TYPE_LATEST,
                        headers={"Cache-Control": "no-store"})

    return [Route("/metrics", metrics, methods=["GET"])]
