"""Supervisors see the ongoing conversations and the queue, read along and whisper; a
whisper reaches the volunteer only. Several chats of one volunteer sit side by side as tabs."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.conftest import login, shot


def test_a_supervisor_reads_along_and_whispers_to_the_volunteer(
    phone: Page, desktop: Page, new_page: Any
) -> None:
    supervisor = new_page("desktop")
    login(supervisor, "sam", available=False)
    expect(supervisor.get_by_role("heading", name="Lopende gesprekken")).to_be_visible()
    expect(supervisor.get_by_text("Er lopen nu geen gesprekken.")).to_be_visible()

    login(desktop, "vera")
    phone.goto("/")
    phone.get_by_role("button", name="Start een gesprek").click()
    expect(phone.get_by_role("heading", name="Je praat met Vera")).to_be_visible()
    phone.get_by_role("textbox", name="Je bericht").fill("Mag ik iets vragen over thuis?")
    phone.get_by_role("button", name="Verstuur").click()
    expect(desktop.get_by_role("log").get_by_text("Mag ik iets vragen over thuis?")).to_be_visible()

    # The live list shows the chat with its volunteer; the supervisor opens it read-only.
    row = supervisor.get_by_role("row").filter(has_text="Vera")
    expect(row).to_be_visible()
    row.get_by_role("button", name="Lees mee met").click()
    expect(supervisor.get_by_role("log").get_by_text("Mag ik iets vragen over thuis?")).to_be_visible()
    expect(supervisor.get_by_role("textbox", name="Bericht")).to_have_count(0)

    # Live events of the conversation reach the supervisor too.
    desktop.get_by_role("textbox", name="Bericht").fill("Natuurlijk, vertel maar.")
    desktop.get_by_role("button", name="Verstuur").click()
    expect(supervisor.get_by_role("log").get_by_text("Natuurlijk, vertel maar.")).to_be_visible()

    supervisor.get_by_role("textbox", name="Fluistering aan de vrijwilliger").fill(
        "Vraag of er thuis iemand is om mee te praten.")
    supervisor.get_by_role("button", name="Fluister").click()
    whisper = desktop.locator(".whisper", has_text="Vraag of er thuis iemand is om mee te praten.")
    expect(whisper).to_be_visible()
    expect(whisper).to_contain_text("Fluistering")
    expect(whisper).to_contain_text("Sam")
    shot(supervisor, "console-desktop-5-supervisor-monitor")
    shot(desktop, "console-desktop-6-whisper")
    expect(phone.get_by_role("log")).not_to_contain_text("Vraag of er thuis iemand")

    supervisor.get_by_role("tab", name="Overzicht").click()
    shot(supervisor, "console-desktop-7-supervisor-overview")
    desktop.get_by_role("button", name="Gesprek beëindigen").click()
    expect(phone.get_by_role("heading", name="Het gesprek is afgelopen")).to_be_visible()
    expect(supervisor.get_by_text("Er lopen nu geen gesprekken.")).to_be_visible()


def test_two_chats_side_by_side_with_unread_counts(
    desktop: Page, new_page: Any
) -> None:
    login(desktop, "vera", available=False)
    toggle = desktop.get_by_role("button", name="Beschikbaar")
    if toggle.get_attribute("aria-pressed") == "true":  # still available from an earlier session
        toggle.click()
        expect(toggle).to_have_attribute("aria-pressed", "false")
    desktop.get_by_label("Capaciteit").select_option("2")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")

    first, second = new_page("phone"), new_page("phone")
    for phone in (first, second):
        phone.goto("/")
        phone.get_by_role("button", name="Start een gesprek").click()
        expect(phone.get_by_role("heading", name="Je praat met Vera")).to_be_visible()
    tabs = desktop.get_by_role("tab")
    expect(tabs).to_have_count(2)

    # A message in the chat that is not open shows as an unread count on its tab.
    selected = desktop.get_by_role("tab", selected=True)
    other = desktop.get_by_role("tab", selected=False)
    other_alias = other.locator(".tab__name").inner_text()
    selected_alias = selected.locator(".tab__name").inner_text()
    assert other_alias != selected_alias
    # Which phone belongs to the tab that is not selected? Send from both, check the badge.
    first.get_by_role("textbox", name="Je bericht").fill("Hallo van de eerste")
    first.get_by_role("button", name="Verstuur").click()
    second.get_by_role("textbox", name="Je bericht").fill("Hallo van de tweede")
    second.get_by_role("button", name="Verstuur").click()
    # The new chat counts as unread until opened, and so does its message.
    expect(other.locator(".badge")).to_have_text("2")
    expect(desktop).to_have_title("(2) Console – Even praten")
    shot(desktop, "console-desktop-8-two-chats")
    other.click()
    expect(desktop.get_by_role("tab", name=other_alias)).to_have_attribute("aria-selected", "true")
    expect(desktop.get_by_role("tab", name=other_alias).locator(".badge")).to_be_hidden()
    expect(desktop).to_have_title("Console – Even praten")
    for _ in range(2):
        desktop.get_by_role("button", name="Gesprek beëindigen").click()
        desktop.get_by_role("button", name="Sluit gesprek").click()
    for phone in (first, second):
        expect(phone.get_by_role("heading", name="Het gesprek is afgelopen")).to_be_visible()


def test_after_a_dropped_connection_the_supervisor_is_where_they_were(
    phone: Page, desktop: Page, new_page: Any
) -> None:
    supervisor = new_page("desktop")
    # Every Socket.IO WebSocket of the supervisor goes through this route, so the test can cut it.
    routes: list[tuple[WebSocketRoute, WebSocketRoute]] = []

    def through(ws: WebSocketRoute) -> None:
        routes.append((ws, ws.connect_to_server()))

    supervisor.route_web_socket(re.compile(r"/socket\.io/"), through)
    login(supervisor, "sam", available=False)
    login(desktop, "vera")
    phone.goto("/")
    phone.get_by_role("button", name="Start een gesprek").click()
    expect(phone.get_by_role("heading", name="Je praat met Vera")).to_be_visible()
    supervisor.get_by_role("row").filter(has_text="Vera").get_by_role("button", name="Lees mee met").click()
    reading = supervisor.get_by_role("tab", name=re.compile("meelezen"))
    expect(reading).to_have_attribute("aria-selected", "true")
    supervisor.get_by_role("tab", name="Overzicht").click()

    connections = len(routes)
    page_side, server_side = routes[-1]
    page_side.close(code=4000, reason="netwerk weg")
    server_side.close()
    desktop.get_by_role("textbox", name="Bericht").fill("Geschreven terwijl Sam weg was")
    desktop.get_by_role("button", name="Verstuur").click()

    # Reading along again after the reconnect: what was missed arrives in the (hidden) tab, once.
    missed = supervisor.locator(".conv__log").get_by_text("Geschreven terwijl Sam weg was")
    expect(missed).to_have_count(1, timeout=20_000)
    assert len(routes) > connections  # it really reconnected
    # And the supervisor is still on the overview.
    expect(supervisor.get_by_role("tab", name="Overzicht")).to_have_attribute("aria-selected", "true")
    expect(supervisor.get_by_role("heading", name="Lopende gesprekken")).to_be_visible()
    expect(supervisor.get_by_role("status").filter(has_text="Verbinding")).to_have_count(0)
    reading.click()
    expect(supervisor.get_by_role("log").get_by_text("Geschreven terwijl Sam weg was")).to_have_count(1)
    desktop.get_by_role("button", name="Gesprek beëindigen").click()
    expect(phone.get_by_role("heading", name="Het gesprek is afgelopen")).to_be_visible()
