"""Logs cannot leak: an exception inside a Socket.IO connect handler, a database error and
uvicorn's own errors, each carrying a known IPv4 address, a compressed IPv6 address, a chatter's
address hash or a text someone typed, leave none of them in any output stream of the server or
in any file of its data directory. Tracebacks still say where it went wrong."""

from __future__ import annotations

import logging
import sqlite3
import sys
from pathlib import Path

import httpx
import pytest
import socketio

from chatserver.logs import HIDDEN, PrivacyFilter, redacted_traceback, scrub
from chatserver.privacy.addresses import hash_address
from tests.harness.processes import BIN, ROOT, run
from tests.harness.servers import Subprocess, server_env

IPV4 = "203.0.113.77"
IPV6 = "2a02:a45f:1234::abcd"
TEXT = "mijn stiefvader slaat mij"
IP_HASH_KEY = "h" * 40


def leaks(output: str | bytes) -> list[str]:
    """Which of the known values (and the address hashes of both addresses) `output` holds."""
    values = [IPV4, IPV6, TEXT, *(hash_address(IP_HASH_KEY.encode(), a) for a in (IPV4, IPV6))]
    if isinstance(output, bytes):
        return [v for v in values if v.encode() in output or v.encode("utf-16-le") in output]
    return [v for v in values if v in output]


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


async def test_errors_inside_the_server_leave_no_address_hash_or_text(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = Subprocess(data_dir, log_path=tmp_path / "server.log",
                        CHATSERVER_TRUSTED_PROXIES="127.0.0.1",
                        CHATSERVER_IP_HASH_KEY=IP_HASH_KEY)
    server.start()
    try:
        # The database breaks under the running server: a chatter's connect handler looks up
        # sanctions by address hash, a login looks up the name typed.
        with sqlite3.connect(data_dir / "chatserver.sqlite3") as db:
            db.execute("ALTER TABLE sanctions RENAME TO sanctions_gone")
            db.execute("ALTER TABLE staff_users RENAME TO staff_users_gone")
        for address in (IPV4, IPV6):
            client = socketio.AsyncClient(reconnection=False)
            refusals: list[dict[str, str]] = []
            client.on("connect_error", refusals.append, namespace="/chat")
            with pytest.raises(socketio.exceptions.ConnectionError):
                await client.connect(server.url, namespaces=["/chat"], transports=["websocket"],
                                     headers={"X-Forwarded-For": address}, wait_timeout=30)
            await client.disconnect()
            # refused at once with a code, not left waiting for an answer that never comes
            assert [r["code"] for r in refusals] == ["internal"]
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                r = await http.post("/api/auth/login",
                                    json={"username": TEXT, "password": "wachtwoord-123"},
                                    headers={"X-Forwarded-For": address})
            assert r.status_code == 500
            assert r.json()["error"]["code"] == "internal"
    finally:
        server.stop()
    log = server.log()
    # The failures were logged, with where they happened ...
    assert "connect failed on /chat" in log  # the connect handler's, refused with `internal`
    assert "Exception in ASGI application" in log  # uvicorn's: the login
    assert "sqlalchemy.exc.OperationalError: " + HIDDEN in log
    assert 'chatserver/actions/conversations.py", line' in log and "in sanction_refusal" in log
    # ... and nothing of what the chatter or the person logging in sent.
    assert leaks(log) == [], log[-4000:]
    for name, data in files_under(data_dir).items():
        assert leaks(data) == [], name


@pytest.mark.parametrize("address", [IPV4, IPV6])
def test_uvicorn_errors_name_no_address(tmp_path: Path, address: str) -> None:
    """Bound to an address this machine does not have: uvicorn logs the failure with it."""
    data_dir = tmp_path / "data"
    done = run([BIN / "chatserver", "serve", "--host", address, "--port", "8000", "--dev"],
               capture_output=True, text=True, env=server_env(data_dir), cwd=ROOT, timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "uvicorn.error: [Errno" in output and "[address]" in output, output
    assert leaks(output) == [], output
    for name, data in files_under(data_dir).items():
        assert leaks(data) == [], name


# -- the filter itself ---------------------------------------------------------------------------


@pytest.mark.parametrize(("address", "written"), [
    (IPV6, "{}"), ("2001:db8::1", "{}"), ("::1", "{}"), ("::ffff:192.0.2.1", "{}"),
    ("fe80::1%eth0", "{}"), ("2001:0db8:0000:0000:0000:ff00:0042:8329", "{}"),
    ("2001:db8::1", "[{}]:443"), ("2001:db8::2", "({}, 8000, 0, 0)"), (IPV4, "{}:51234"),
    ("2001:db8::1", "van {}: geweigerd"), ("2001:db8::1", "{}."), ("1:2:3:4:5:6:7:8", "{}"),
    ("::", "http://[{}]:8000"), ("2001:db8::1", "from:{}"),
])
def test_every_spelling_of_an_address_is_masked(address: str, written: str) -> None:
    masked = scrub(f"peer {written.format(address)} said hi")
    assert masked == f"peer {written.format('[address]')} said hi"


def test_text_that_joins_an_address_goes_with_it() -> None:
    # "ad:2001:db8::1" is an address itself; "mijn ip:" is not hex and stays.
    assert scrub("ad:2001:db8::1 en mijn ip:2001:db8::2") == "[address] en mijn ip:[address]"


@pytest.mark.parametrize("text", ["03:31:01,123", "a:b", "the ratio 3:2:1", "deadbeef",
                                  "a" * 5000, "deadbeef:cafe"])
def test_times_and_words_are_not_taken_for_addresses(text: str) -> None:
    assert scrub(text) == text


def test_a_long_run_of_colons_is_masked_whole() -> None:
    assert scrub("x " + "1:" * 5000 + " y") == "x [address] y"


def record(name: str, msg: str, *args: object, exc: BaseException | None = None,
           ) -> logging.LogRecord:
    info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, info)


def formatted(rec: logging.LogRecord) -> str | None:
    if not PrivacyFilter().filter(rec):
        return None
    return logging.Formatter("%(name)s: %(message)s").format(rec)


def raised(message: str) -> BaseException:
    try:
        try:
            raise KeyError(message)
        except KeyError as exc:
            raise RuntimeError(f"wrapped: {message}") from exc
    except RuntimeError as exc:
        return exc


def test_the_filter_scrubs_arguments_and_tracebacks_but_keeps_where() -> None:
    out = formatted(record("chatserver.x", "from %s: %r", IPV6, {"peer": IPV4},
                           exc=raised(f"{TEXT} from {IPV4}")))
    assert out is not None
    assert leaks(out) == [], out
    assert "chatserver.x: from [address]: {'peer': '[address]'}" in out
    assert "in raised" in out and f"KeyError: {HIDDEN}" in out and f"RuntimeError: {HIDDEN}" in out
    # A traceback someone formatted already keeps its frames only.
    rec = record("uvicorn.error", "boom")
    rec.exc_text = ("Traceback (most recent call last):\n  File \"x.py\", line 1, in f\n"
                    f"    g()\nValueError: {TEXT}")
    out = formatted(rec)
    assert out is not None and TEXT not in out and 'File "x.py", line 1, in f' in out


def test_socketio_lines_lose_sids_and_everything_after_the_first_line() -> None:
    out = formatted(record("engineio.server", "Cannot send to sid %s\n%s",
                           "AbCdEfGhIjKlMnOpQrSt", TEXT))
    assert out == "engineio.server: Cannot send to sid [sid]"
    assert redacted_traceback(raised(TEXT)).count(HIDDEN) == 2


def test_library_handlers_warnings_and_uncaught_exceptions_go_through_the_filter(
    tmp_path: Path,
) -> None:
    """python-socketio and python-engineio (given False) attach handlers of their own; warnings
    and uncaught exceptions (main thread, other threads) are printed directly: after the
    server's logging configuration, all of them go through the filter."""
    script = (
        "import logging, socketio, engineio\n"
        "socketio.AsyncServer(async_mode='asgi', logger=False, engineio_logger=False)\n"
        "from chatserver import logs\n"
        "logs.configure('INFO')\n"
        f"logging.getLogger('engineio.server').error('from %s', {IPV6!r})\n"
        f"logging.getLogger('socketio.server').error('from %s', {IPV4!r})\n"
        "import warnings\n"
        f"warnings.warn('a warning from {IPV4}')\n"
        "import threading\n"
        "def fail(): raise ValueError(" + repr(TEXT) + ")\n"
        "t = threading.Thread(target=fail, name='writer'); t.start(); t.join()\n"
        "raise RuntimeError(" + repr(TEXT) + ")\n"
    )
    done = run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
               env=server_env(tmp_path), timeout=60)
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("[address]") == 3, done.stderr
    assert "uncaught ValueError in thread writer" in done.stderr
    assert f"ValueError: {HIDDEN}" in done.stderr and f"RuntimeError: {HIDDEN}" in done.stderr
    assert leaks(done.stderr) == [], done.stderr
