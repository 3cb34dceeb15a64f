"""The widget comes back by itself after a dropped connection or a reload, without showing a
message twice and without losing what was sent meanwhile."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.conftest import login, shot

SOCKET_IO = re.compile(r"/socket\.io/")


def start_paired(phone: Page, desktop: Page) -> None:
    login(desktop, "vera")
    phone.goto("/")
    phone.get_by_role("button", name="Start een gesprek").click()
    expect(phone.get_by_role("heading", name="Je praat met Vera")).to_be_visible()


def chatter_says(phone: Page, desktop: Page, text: str) -> None:
    phone.get_by_role("textbox", name="Je bericht").fill(text)
    phone.get_by_role("button", name="Verstuur").click()
    expect(desktop.get_by_role("log").get_by_text(text)).to_be_visible()


def volunteer_says(desktop: Page, text: str) -> None:
    desktop.get_by_role("textbox", name="Bericht").fill(text)
    desktop.get_by_role("button", name="Verstuur").click()
    expect(desktop.get_by_role("log").get_by_text(text)).to_be_visible()


def once(page: Page, text: str) -> None:
    expect(page.get_by_role("log").get_by_text(text, exact=True)).to_have_count(1)


def test_after_a_reload_the_conversation_resumes_without_duplicates(
    phone: Page, desktop: Page
) -> None:
    start_paired(phone, desktop)
    chatter_says(phone, desktop, "Eerste bericht van mij")
    volunteer_says(desktop, "Eerste antwoord")
    expect(phone.get_by_role("log").get_by_text("Eerste antwoord")).to_be_visible()

    phone.reload()
    expect(phone.get_by_role("heading", name="Je praat met Vera")).to_be_visible()
    # The server resends only what this device had not received; the page says why the rest
    # is gone instead of keeping the conversation in the browser.
    expect(phone.get_by_text("Je gesprek gaat verder.", exact=False)).to_be_visible()
    expect(phone.get_by_role("log").get_by_text("Eerste antwoord")).to_have_count(0)

    chatter_says(phone, desktop, "Na het herladen")
    volunteer_says(desktop, "Ik ben er nog")
    once(phone, "Ik ben er nog")
    once(phone, "Na het herladen")
    once(desktop, "Na het herladen")
    once(desktop, "Eerste bericht van mij")
    desktop.get_by_role("button", name="Gesprek beëindigen").click()
    expect(phone.get_by_text("Jouw persoonlijke code")).to_be_visible()


def test_a_dropped_connection_reconnects_and_delivers_everything_once(
    phone: Page, desktop: Page
) -> None:
    # Every Socket.IO WebSocket of the phone goes through this route, so the test can cut it.
    routes: list[tuple[WebSocketRoute, WebSocketRoute]] = []

    def through(ws: WebSocketRoute) -> None:
        routes.append((ws, ws.connect_to_server()))

    phone.route_web_socket(SOCKET_IO, through)
    start_paired(phone, desktop)
    chatter_says(phone, desktop, "Voor de onderbreking")
    volunteer_says(desktop, "Antwoord voor de onderbreking")
    expect(phone.get_by_role("log").get_by_text("Antwoord voor de onderbreking")).to_be_visible()
    connections = len(routes)

    page_side, server_side = routes[-1]
    page_side.close(code=4000, reason="netwerk weg")
    server_side.close()
    # While the phone is away: the volunteer writes, the young person writes.
    volunteer_says(desktop, "Gemist terwijl je weg was")
    phone.get_by_role("textbox", name="Je bericht").fill("Geschreven tijdens het wegvallen")
    phone.get_by_role("button", name="Verstuur").click()

    expect(phone.get_by_role("log").get_by_text("Gemist terwijl je weg was")).to_be_visible(timeout=20_000)
    expect(desktop.get_by_role("log").get_by_text("Geschreven tijdens het wegvallen")).to_be_visible()
    assert len(routes) > connections  # it really reconnected
    expect(phone.get_by_role("status").filter(has_text="verbinding")).to_have_count(0)
    shot(phone, "widget-phone-5-after-reconnect")

    for text in ("Voor de onderbreking", "Antwoord voor de onderbreking",
                 "Gemist terwijl je weg was", "Geschreven tijdens het wegvallen"):
        once(phone, text)
        once(desktop, text)
    expect(phone.get_by_role("log").get_by_text("Verstuurd").last).to_be_visible()
    desktop.get_by_role("button", name="Gesprek beëindigen").click()
    expect(phone.get_by_text("Jouw persoonlijke code")).to_be_visible()


def test_a_failed_message_can_be_sent_again(phone: Page, desktop: Page) -> None:
    start_paired(phone, desktop)
    # The server does not answer this one message: the widget marks it failed, offers a retry.
    blocked: dict[str, Any] = {"armed": True}

    def drop_first_message(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            if blocked["armed"] and isinstance(message, str) and '"message"' in message:
                blocked["armed"] = False
                return  # lost on the way
            server.send(message)

        ws.on_message(from_page)

    phone.route_web_socket(SOCKET_IO, drop_first_message)
    phone.clock.install()  # before the page loads: Socket.IO keeps its own reference to setTimeout
    phone.reload()
    expect(phone.get_by_role("heading", name="Je praat met Vera")).to_be_visible()
    phone.get_by_role("textbox", name="Je bericht").fill("Komt dit aan?")
    phone.get_by_role("button", name="Verstuur").click()
    expect(phone.get_by_text("Versturen…")).to_be_visible()
    phone.clock.run_for(11_000)  # past the acknowledgement's time-out
    retry = phone.get_by_role("button", name="Opnieuw proberen")
    expect(retry).to_be_visible()
    shot(phone, "widget-phone-6-failed")
    retry.click()
    expect(desktop.get_by_role("log").get_by_text("Komt dit aan?")).to_have_count(1)
    expect(phone.get_by_role("log").get_by_text("Verstuurd")).to_be_visible()
    once(phone, "Komt dit aan?")
    desktop.get_by_role("button", name="Gesprek beëindigen").click()
    expect(phone.get_by_text("Jouw persoonlijke code")).to_be_visible()
