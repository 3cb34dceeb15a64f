"""The widget's own erasure and reference: the code is shown from the start of the chat, "Wis
mijn gesprek" after the end erases the conversation at once, and `Privacy` links the
helpline's statement (`privacy_url` of /api/config)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import Server
from tests.browser.test_privacy import end, paired, say


def test_the_chatter_sees_the_code_during_the_chat_and_erases_the_chat_at_the_end(
        phone: Page, desktop: Page, server: Server) -> None:
    paired(phone, desktop)
    during = phone.locator("#chat-reference-code").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}", during)
    say(phone, desktop, "dit wil ik meteen wissen")
    end(phone, desktop)
    assert phone.locator("#reference").inner_text().strip() == during
    phone.get_by_role("button", name="Wis mijn gesprek").click()
    expect(phone.locator("#erase-done")).to_have_text("Je gesprek is gewist.")
    expect(phone.get_by_role("button", name="Wis mijn gesprek")).to_be_hidden()
    # The code no longer finds anything.
    phone.goto("/wissen")
    phone.get_by_role("textbox", name="Je code").fill(during)
    phone.get_by_role("button", name="Wis mijn gesprek").click()
    expect(phone.get_by_role("status")).to_contain_text("hoort niet (meer) bij een gesprek")


def test_the_privacy_link_goes_to_the_configured_statement(phone: Page) -> None:
    phone.goto("/")
    link = phone.get_by_role("link", name="Privacy")
    expect(link).to_have_attribute("href", "/#privacy-title")
