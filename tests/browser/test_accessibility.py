"""axe-core (from static/node_modules, served through /vendor) finds no serious or critical
problem on any page, in each of its states."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import Server, axe_violations, login, shot


def test_the_pages_have_no_serious_accessibility_problems(
    phone: Page, desktop: Page, new_page: Any, server: Server
) -> None:
    found: dict[str, list[dict[str, Any]]] = {}

    def check(page: Page, state: str) -> None:
        found[state] = axe_violations(page, server)

    phone.goto("/")
    expect(phone.get_by_role("button", name="Start een gesprek")).to_be_visible()
    check(phone, "widget: rules and privacy")
    phone.get_by_role("button", name="Start een gesprek").click()
    expect(phone.get_by_role("status").filter(has_text="volgende")).to_be_visible()
    check(phone, "widget: in the queue")

    desktop.goto("/console")
    expect(desktop.get_by_role("button", name="Inloggen")).to_be_visible()
    desktop.get_by_role("button", name="Inloggen").click()  # empty: shows the error too
    expect(desktop.get_by_role("alert")).to_be_visible()
    shot(desktop, "console-desktop-0-login")
    check(desktop, "console: login")

    login(desktop, "vera")
    expect(phone.get_by_role("heading", name="Je praat met Vera")).to_be_visible()
    phone.get_by_role("textbox", name="Je bericht").fill("Hoi, ik ben het")
    phone.get_by_role("button", name="Verstuur").click()
    expect(desktop.get_by_role("log").get_by_text("Hoi, ik ben het")).to_be_visible()
    desktop.get_by_role("textbox", name="Bericht").fill("Hoi! Fijn dat je er bent.")
    desktop.get_by_role("button", name="Verstuur").click()
    expect(phone.get_by_role("log").get_by_text("Hoi! Fijn dat je er bent.")).to_be_visible()
    check(phone, "widget: chatting")
    check(desktop, "console: chatting")

    supervisor = new_page("desktop")
    login(supervisor, "sam", available=False)
    expect(supervisor.get_by_role("row").filter(has_text="Vera")).to_be_visible()
    check(supervisor, "console: supervisor overview")
    supervisor.get_by_role("button", name="Lees mee met").click()
    expect(supervisor.get_by_role("log").get_by_text("Hoi, ik ben het")).to_be_visible()
    check(supervisor, "console: monitoring")

    desktop.get_by_role("button", name="Gesprek beëindigen").click()
    expect(phone.get_by_text("Jouw persoonlijke code")).to_be_visible()
    expect(desktop.get_by_role("heading", name="Registratie")).to_be_visible()
    check(phone, "widget: ended with the personal code")
    check(desktop, "console: registration")

    phone.set_viewport_size({"width": 1366, "height": 900})
    shot(phone, "widget-desktop-ended")
    assert not any(found.values()), found
