"""Security headers on every HTTP response, and a cap on request bodies.

A strict Content-Security-Policy (no inline script), no referrer, no sniffing, no framing
except by the helpline's own configured sites (the widget only)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatserver.config import Network
from chatserver.privacy.addresses import is_trusted


def is_https(scope: Mapping[str, Any], proxies: tuple[Network, ...]) -> bool:
    """TLS on the socket, or X-Forwarded-Proto: https from a trusted proxy (and only then)."""
    if scope.get("scheme") in ("https", "wss"):
        return True
    client = scope.get("client")
    if not proxies or not client or not is_trusted(client[0], proxies):
        return False
    for name, value in scope.get("headers") or ():
        if name.lower() == b"x-forwarded-proto":
            # The last value is the one the trusted proxy itself appended.
            return value.decode("latin-1").split(",")[-1].strip().lower() == "https"
    return False


def csp(frame_ancestors: str) -> str:
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; media-src 'self' data:; object-src 'none'; "
        f"base-uri 'none'; form-action 'self'; frame-ancestors {frame_ancestors}"
    )


class SecurityHeaders:
    def __init__(self, app: ASGIApp, embed_origins: tuple[str, ...],
                 trusted_proxies: tuple[Network, ...] = ()) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies
        widget_ancestors = " ".join(("'self'", *embed_origins))
        self.widget_csp = csp(widget_ancestors).encode()
        self.strict_csp = csp("'none'").encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        framable = path in ("/", "/widget") or path.startswith("/static/")
        policy = self.widget_csp if framable else self.strict_csp
        https = is_https(scope, self.trusted_proxies)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = [
                    (b"content-security-policy", policy),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    # embed.js is loaded by the helpline's own sites with a <script> tag
                    (b"cross-origin-resource-policy",
                     b"cross-origin" if path == "/static/embed.js" else b"same-origin"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                ]
                if not framable:
                    extra.append((b"x-frame-options", b"DENY"))
                if https:
                    extra.append((b"strict-transport-security", b"max-age=31536000"))
                if b"cache-control" not in present:
                    extra.append((b"cache-control", b"no-store"))
                headers.extend(h for h in extra if h[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuses request bodies over `max_body` before any handler reads them.

    In front of Engine.IO too: an oversized polling POST otherwise leaves the request hanging
    (the socket's close waits for a GET that never comes), and with it graceful shutdown."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = self.max_body + 1
        if length is not None and length > self.max_body:
            await _reply(send, 413, "payload_too_large", "Het verzoek is te groot.")
            return
        if (length is None and scope.get("method") == "POST"
                and scope.get("path", "").startswith("/socket.io")):
            await _reply(send, 411, "length_required", "Stuur een Content-Length mee.")
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, counted_receive, send)
        except _BodyTooLarge:
            await _reply(send, 413, "payload_too_large", "Het verzoek is te groot.")


class _BodyTooLarge(Exception):
    pass


async def _reply(send: Any, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})
