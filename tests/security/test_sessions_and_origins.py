"""Staff sessions and the browser boundary: expiry, cookies, TOTP, login limits, origins
(cross-site WebSocket hijacking, CSRF) and security headers."""

from __future__ import annotations

from pathlib import Path

import httpx
import pyotp
import pytest
import socketio

from chatserver.clock import FrozenClock
from chatserver.config import Settings
from chatserver.store.keys import totp_context
from tests.helpers import Peer, Server, running, server_env

PASSWORD = "wachtwoord-123"
SITE = "https://chat.example.nl"
EVIL = "https://evil.example"


def make_settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env(server_env(tmp_path / "data", CHATSERVER_SQLITE_SYNCHRONOUS="NORMAL",
                                        **env))


async def login(http: httpx.AsyncClient, name: str, **extra: str) -> httpx.Response:
    return await http.post("/api/auth/login",
                           json={"username": name, "password": PASSWORD, **extra})


async def me(srv: Server, token: str) -> int:
    async with srv.http() as http:
        r = await http.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        return r.status_code


# -- expiry ------------------------------------------------------------------------------------


async def test_a_session_expires_after_30_idle_minutes_and_then_refuses_the_socket(
    settings: Settings, clock: FrozenClock,
) -> None:
    async with running(settings, clock) as srv:
        await srv.add_user("vera")
        token = await srv.login("vera")
        clock.advance(minutes=20)
        assert await me(srv, token) == 200  # activity moves the idle deadline
        clock.advance(minutes=29)
        assert await me(srv, token) == 200
        clock.advance(minutes=30, seconds=1)
        assert await me(srv, token) == 401
        peer = Peer(srv.url, "/staff")
        with pytest.raises(socketio.exceptions.ConnectionError):
            await peer.connect(auth={"token": token})
        assert peer.connect_error["code"] == "unauthorized"


async def test_an_active_session_still_ends_after_12_hours(
    settings: Settings, clock: FrozenClock,
) -> None:
    async with running(settings, clock) as srv:
        await srv.add_user("vera")
        token = await srv.login("vera")
        for _ in range(35):  # 35 × 20 min = 11 h 40 min of steady work
            clock.advance(minutes=20)
            assert await me(srv, token) == 200
        clock.advance(minutes=20)
        assert await me(srv, token) == 401


# -- cookies -----------------------------------------------------------------------------------


async def test_cookie_is_httponly_strict_and_secure_only_behind_tls(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, CHATSERVER_TRUSTED_PROXIES="127.0.0.1")
    async with running(settings) as srv:
        await srv.add_user("vera")
        async with srv.http() as http:
            plain = (await login(http, "vera")).headers["set-cookie"].lower()
            tls = (await http.post("/api/auth/login", json={
                "username": "vera", "password": PASSWORD},
                headers={"X-Forwarded-Proto": "https"}))
            hsts = tls.headers.get("strict-transport-security")
            tls_cookie = tls.headers["set-cookie"].lower()
        for cookie in (plain, tls_cookie):
            assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
        assert "secure" not in plain
        assert "secure" in tls_cookie and hsts == "max-age=31536000"

    # The same header from a peer that is not a trusted proxy is ignored.
    untrusted = make_settings(tmp_path / "b")
    async with running(untrusted) as srv:
        await srv.add_user("vera")
        async with srv.http() as http:
            r = await http.post("/api/auth/login", json={"username": "vera", "password": PASSWORD},
                                headers={"X-Forwarded-Proto": "https"})
        assert "secure" not in r.headers["set-cookie"].lower()
        assert "strict-transport-security" not in r.headers


# -- TOTP --------------------------------------------------------------------------------------


async def enrol(srv: Server, name: str) -> pyotp.TOTP:
    store = srv.components.store
    user = await store.staff.user_by_name(name)
    assert user is not None
    secret = pyotp.random_base32()
    await store.staff.update_user(user.id, totp_secret=store.sealer.seal(secret, totp_context(user.id)))
    return pyotp.TOTP(secret)


async def test_totp_second_factor(tmp_path: Path, clock: FrozenClock) -> None:
    settings = make_settings(tmp_path, CHATSERVER_REQUIRE_TOTP_FOR="coordinator,admin")
    async with running(settings, clock) as srv:
        await srv.add_user("vera")
        await srv.add_user("cor", role="coordinator")
        await srv.add_user("ada", role="admin")
        totp = await enrol(srv, "ada")
        code = totp.at(clock.now())
        async with srv.http() as http:
            # A volunteer without TOTP logs in exactly as the protocol says.
            r = await login(http, "vera")
            assert r.status_code == 200 and set(r.json()) == {"token", "role", "display_name"}
            # A coordinator must enrol first.
            r = await login(http, "cor")
            assert r.status_code == 401 and r.json()["error"]["code"] == "otp_not_enrolled"
            # The second factor is asked for only after a right password.
            r = await http.post("/api/auth/login", json={"username": "ada", "password": "fout"})
            assert r.json()["error"]["code"] == "invalid_credentials"
            r = await login(http, "ada")
            assert r.status_code == 401 and r.json()["error"]["code"] == "otp_required"
            wrong = "000000" if code != "000000" else "111111"
            r = await login(http, "ada", otp=wrong)
            assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_otp"
            r = await http.post("/api/auth/login", json={
                "username": "ada", "password": PASSWORD, "otp": 123456})
            assert r.status_code == 400 and r.json()["error"]["code"] == "invalid"
            r = await login(http, "ada", otp=code)
            assert r.status_code == 200 and r.json()["role"] == "admin"
            # A code works once.
            r = await login(http, "ada", otp=code)
            assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_otp"
            clock.advance(seconds=30)
            r = await login(http, "ada", otp=totp.at(clock.now()))
            assert r.status_code == 200
            # The secret is stored sealed, bound to its account.
            user = await srv.components.store.staff.user_by_name("ada")
            assert user is not None and user.totp_secret.startswith("g1:")


async def test_users_totp_command_enrols_and_prints_the_uri(tmp_path: Path) -> None:
    from tests.helpers import Subprocess

    proc = Subprocess(tmp_path / "data")
    proc.cli("users", "add", "ada", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    out = proc.cli("users", "totp", "ada")
    assert out.returncode == 0, out.stderr
    uri = out.stdout.splitlines()[0]
    assert uri.startswith("otpauth://totp/") and "ada" in uri
    totp = pyotp.parse_uri(uri)
    settings = Settings.from_env(proc.env)
    async with running(settings) as srv, srv.http() as http:
        assert (await login(http, "ada")).json()["error"]["code"] == "otp_required"
        assert (await login(http, "ada", otp=totp.now())).status_code == 200
    assert proc.cli("users", "totp", "ada", "--remove").returncode == 0


# -- login limits ------------------------------------------------------------------------------


async def test_login_is_rate_limited_per_account_and_per_address(
    settings: Settings, clock: FrozenClock,
) -> None:
    async with running(settings, clock) as srv:
        await srv.add_user("vera")
        async with srv.http() as http:
            codes = [(await http.post("/api/auth/login", json={
                "username": "vera", "password": "fout"})).json()["error"]["code"]
                for _ in range(11)]
            assert codes == ["invalid_credentials"] * 10 + ["rate_limited"]
            r = await login(http, "vera")  # even the right password waits now
            assert r.status_code == 429 and "Wacht" in r.json()["error"]["message"]
            # Per address: failures under other account names from the same address run out
            # too (20 failures in all; the refused attempts above did not count).
            statuses = [(await http.post("/api/auth/login", json={
                "username": f"gok{i}", "password": "fout"})).status_code for i in range(11)]
            assert statuses[:10] == [401] * 10 and statuses[-1] == 429
            clock.advance(minutes=2)  # the buckets refill
            assert (await login(http, "vera")).status_code == 200


async def test_successful_logins_do_not_use_up_the_address(
    settings: Settings, clock: FrozenClock,
) -> None:
    # A shift of volunteers logging in from one office address is not an attack.
    async with running(settings, clock) as srv:
        for i in range(30):
            await srv.add_user(f"vrijwilliger{i}")
        async with srv.http() as http:
            statuses = [(await login(http, f"vrijwilliger{i}")).status_code for i in range(30)]
        assert statuses == [200] * 30


# -- origins -----------------------------------------------------------------------------------


async def cookie_of(srv: Server, name: str) -> str:
    await srv.add_user(name)
    async with srv.http() as http:
        r = await login(http, name)
    return r.headers["set-cookie"].split(";")[0]


async def refused(url: str, namespace: str, headers: dict[str, str], auth: object = None) -> bool:
    peer = Peer(url, namespace)
    try:
        await peer.connect(auth=auth, headers=headers)
    except socketio.exceptions.ConnectionError:
        return True
    await peer.close()
    return False


async def test_a_foreign_origin_cannot_open_staff_or_chat_sockets(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, CHATSERVER_ALLOWED_ORIGINS=SITE)
    async with running(settings) as srv:
        cookie = await cookie_of(srv, "vera")
        # Cross-site WebSocket hijacking: the victim's browser sends the cookie and its Origin.
        assert await refused(srv.url, "/staff", {"Cookie": cookie, "Origin": EVIL})
        assert await refused(srv.url, "/chat", {"Origin": EVIL})
        assert await refused(srv.url, "/chat", {"Origin": "null"})
        assert await refused(srv.url, "/chat", {"Origin": SITE + ".evil.example"})
        # The configured site works, with the cookie too.
        assert not await refused(srv.url, "/staff", {"Cookie": cookie, "Origin": SITE})
        assert not await refused(srv.url, "/chat", {"Origin": SITE})
        assert await refused(srv.url, "/staff", {"Cookie": "chatserver_session=vals",
                                                  "Origin": SITE})


async def test_without_configured_origins_only_the_same_origin_is_accepted(
    server: Server,
) -> None:
    cookie = await cookie_of(server, "vera")
    assert await refused(server.url, "/staff", {"Cookie": cookie, "Origin": EVIL})
    assert await refused(server.url, "/chat", {"Origin": EVIL})
    assert not await refused(server.url, "/staff", {"Cookie": cookie, "Origin": server.url})
    assert not await refused(server.url, "/chat", {"Origin": server.url})


async def test_cookie_state_changes_need_an_allowed_origin(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, CHATSERVER_ALLOWED_ORIGINS=SITE)
    async with running(settings) as srv:
        await srv.add_user("vera")
        async with srv.http() as http:
            # A cross-site page cannot log someone in (login CSRF) ...
            r = await http.post("/api/auth/login", json={"username": "vera",
                                                         "password": PASSWORD},
                                headers={"Origin": EVIL})
            assert r.status_code == 403 and r.json()["error"]["code"] == "csrf"
            assert "set-cookie" not in r.headers
            r = await login(http, "vera")
            token = r.json()["token"]
            # ... nor use the cookie to change state: a foreign origin, or "null" ...
            for headers in ({"Origin": EVIL}, {"Origin": "null"},
                            {"Referer": EVIL + "/pagina"}):
                r = await http.post("/api/auth/logout", headers=headers)
                assert r.status_code == 403 and r.json()["error"]["code"] == "csrf", headers
            # ... or no origin at all, except for logout (a forged logout only ends a session)
            r = await http.post("/api/moderation/blocks", json={"conversation_id": "x"})
            assert r.status_code == 403 and r.json()["error"]["code"] == "csrf"
            assert await me(srv, token) == 200  # the session survived every attempt
            # A bearer token is no ambient credential: no origin needed.
            r = await http.get("/api/me", headers={"Origin": EVIL})
            assert r.status_code == 200  # reading with the cookie is harmless (no CORS)
            assert "access-control-allow-origin" not in r.headers
            r = await http.post("/api/auth/logout", headers={"Origin": SITE})
            assert r.status_code == 200
            assert await me(srv, token) == 401


# -- headers -----------------------------------------------------------------------------------


async def test_security_headers_on_pages_and_api(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, CHATSERVER_EMBED_ORIGINS="https://www.partner.example")
    async with running(settings) as srv, srv.http() as http:
        widget = await http.get("/")
        console = await http.get("/console")
        health = await http.get("/healthz")
    for r in (widget, console, health):
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "unsafe-eval" not in csp and "object-src 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'self' https://www.partner.example" in \
        widget.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in console.headers["content-security-policy"]
    assert console.headers["x-frame-options"] == "DENY"
