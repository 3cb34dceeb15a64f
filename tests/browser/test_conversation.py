"""A whole conversation between a phone-sized widget and the volunteer console."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import Server, login, shot


def test_a_young_person_and_a_volunteer_talk_until_the_end(
    phone: Page, desktop: Page, server: Server
) -> None:
    # The young person reads the rules first.
    phone.goto("/")
    expect(phone.get_by_role("heading", name="Gespreksregels")).to_be_visible()
    expect(phone.get_by_role("heading", name="Jouw privacy")).to_be_visible()
    shot(phone, "widget-phone-1-welcome")

    # Nobody is available yet: the queue position shows, live.
    phone.get_by_role("button", name="Start een gesprek").click()
    expect(phone.get_by_text("Jij bent de volgende!")).to_be_visible()
    shot(phone, "widget-phone-2-queue")

    # A volunteer logs in and becomes available: the chat is paired at once.
    login(desktop, "vera")
    expect(desktop.get_by_text("eerste contact").first).to_be_visible()
    expect(phone.get_by_role("heading", name="Je praat met Vera")).to_be_visible()

    phone_text = phone.get_by_role("textbox", name="Je bericht")
    phone_text.fill("Hoi, ik wil iets vertellen over school")
    phone.get_by_role("button", name="Verstuur").click()
    expect(phone.get_by_role("log").get_by_text("Verstuurd")).to_be_visible()
    expect(desktop.get_by_role("log").get_by_text("Hoi, ik wil iets vertellen over school")).to_be_visible()

    # Typing shows on the other side.
    desktop_text = desktop.get_by_role("textbox", name="Bericht")
    desktop_text.press_sequentially("Fijn", delay=20)
    expect(phone.get_by_text("Vera is aan het typen…")).to_be_visible()
    desktop_text.fill("Fijn dat je er bent. Vertel maar, ik lees mee.")
    desktop.get_by_role("button", name="Verstuur").click()
    expect(phone.get_by_role("log").get_by_text("Fijn dat je er bent. Vertel maar, ik lees mee.")).to_be_visible()
    expect(phone.get_by_text("Vera is aan het typen…")).to_be_hidden()

    phone_text.press_sequentially("Ze lachen me", delay=20)
    expect(desktop.get_by_text(re.compile(r"is aan het typen…"))).to_be_visible()
    phone_text.fill("Ze lachen me uit in de klas.\nElke dag weer.")
    phone_text.press("Enter")
    expect(desktop.get_by_role("log").get_by_text("Elke dag weer.", exact=False)).to_be_visible()
    shot(phone, "widget-phone-3-chat")
    shot(desktop, "console-desktop-1-chat")

    # The volunteer ends the conversation; the young person gets a personal code.
    desktop.get_by_role("button", name="Gesprek beëindigen").click()
    expect(phone.get_by_role("heading", name="Het gesprek is afgelopen")).to_be_visible()
    expect(phone.get_by_text("Jouw persoonlijke code")).to_be_visible()
    expect(phone.locator("#reference")).not_to_be_empty()
    expect(phone.get_by_text("je gesprek in te zien of te laten wissen", exact=False)).to_be_visible()
    shot(phone, "widget-phone-4-ended")

    # The volunteer registers age and topic.
    expect(desktop.get_by_role("heading", name="Registratie")).to_be_visible()
    desktop.get_by_label("Leeftijd").fill("14")
    desktop.get_by_label("Onderwerp").select_option("Pesten")
    shot(desktop, "console-desktop-2-registration")
    desktop.get_by_role("button", name="Registratie opslaan").click()
    expect(desktop.get_by_text("Opgeslagen.", exact=False)).to_be_visible()


def test_a_message_with_html_is_shown_as_text_on_both_sides(
    phone: Page, desktop: Page, server: Server
) -> None:
    login(desktop, "vera")
    phone.goto("/")
    phone.get_by_role("button", name="Start een gesprek").click()
    expect(phone.get_by_role("heading", name="Je praat met Vera")).to_be_visible()

    evil = '<img src=x onerror="window.__owned=1"><b>vet</b> & <script>window.__owned=2</script>'
    phone.get_by_role("textbox", name="Je bericht").fill(evil)
    phone.get_by_role("button", name="Verstuur").click()
    expect(desktop.get_by_role("log").get_by_text(evil)).to_be_visible()
    expect(phone.get_by_role("log").get_by_text(evil)).to_be_visible()

    reply = "<i>schuin</i> <a href='javascript:alert(1)'>klik</a>"
    desktop.get_by_role("textbox", name="Bericht").fill(reply)
    desktop.get_by_role("button", name="Verstuur").click()
    expect(phone.get_by_role("log").get_by_text(reply)).to_be_visible()

    for page in (phone, desktop):
        log = page.get_by_role("log")
        assert log.locator("img, b, i, a, script").count() == 0
        assert page.evaluate("() => window.__owned") is None
    desktop.get_by_role("button", name="Gesprek beëindigen").click()
    expect(phone.get_by_role("heading", name="Het gesprek is afgelopen")).to_be_visible()
