"""A helpline's own site adds the chat with one <script> tag: a launcher button opens the
widget in an iframe, and `Snel weg` inside it leaves the helpline's site too.

The helpline's site is a second little web server on another port: another origin."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import NEUTRAL_SITE, Server, shot
from tests.harness.processes import free_port

HOST_PORT = free_port()
HOST = f"http://localhost:{HOST_PORT}"


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return {"CHATSERVER_EMBED_ORIGINS": HOST}


@pytest.fixture(scope="module")
def host_site(server: Server) -> Iterator[str]:
    page = (
        "<!doctype html><html lang='nl'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>Hulplijn</title></head><body><h1>Welkom bij de hulplijn</h1>"
        "<p>Hier staat de website van de hulplijn.</p>"
        f"<script src='{server.url}/static/embed.js' data-label='Chat met ons' defer></script>"
        "</body></html>"
    ).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", HOST_PORT), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield HOST
    httpd.shutdown()
    httpd.server_close()


def test_another_site_may_load_the_embed_script(phone: Page, host_site: str) -> None:
    phone.goto(host_site + "/")
    expect(phone.get_by_role("button", name="Chat met ons")).to_be_visible(timeout=3000)


def test_one_script_tag_adds_a_launcher_that_opens_the_chat(
    phone: Page, host_site: str, server: Server
) -> None:
    phone.goto(host_site + "/")
    launcher = phone.get_by_role("button", name="Chat met ons")
    expect(launcher).to_be_visible()
    shot(phone, "embed-phone-1-launcher")
    launcher.click()
    frame = phone.locator("iframe[title='Chat met ons']")
    chat = frame.content_frame
    expect(chat.get_by_role("button", name="Start een gesprek")).to_be_visible()
    shot(phone, "embed-phone-2-open")

    # The chat folds away and comes back; the helpline's page stays where it was.
    # By keyboard: in about one run in five under load, Chromium's hit test inside the freshly
    # opened iframe gave the click to the header's brand for the whole 30 s (not reproducible
    # with a screenshot at hand; the layout it shows has no overlap).
    hide = chat.get_by_role("button", name="Verbergen")
    hide.focus()
    hide.press("Enter")
    expect(frame).to_be_hidden()
    phone.get_by_role("button", name="Chat met ons").click()
    expect(frame).to_be_visible()

    # `Snel weg` inside the chat takes the whole tab to the neutral site, without a way back.
    chat.get_by_role("button", name="Snel weg").click()
    phone.wait_for_url(NEUTRAL_SITE)
    phone.go_back()
    assert not phone.url.startswith(host_site)
