"""A volunteer gives a time-out: the chat ends, and the young person's next connection is
refused with the end date. (Own module, so its server's sanction on 127.0.0.1 stays here.)"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import login, shot


def test_a_time_out_ends_the_chat_and_refuses_the_next_one_with_its_end_date(
    phone: Page, desktop: Page
) -> None:
    login(desktop, "vera")
    phone.goto("/")
    phone.get_by_role("button", name="Start een gesprek").click()
    expect(phone.get_by_role("heading", name="Je praat met Vera")).to_be_visible()

    desktop.get_by_role("button", name="Time-out").click()
    dialog = desktop.get_by_role("dialog", name="Time-out geven")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Duur in minuten").fill("45")
    shot(desktop, "console-desktop-9-timeout-dialog")
    dialog.get_by_role("button", name="Bevestigen").click()
    expect(desktop.get_by_text(re.compile(r"Time-out gegeven tot"))).to_be_visible()

    expect(phone.get_by_role("heading", name="Het gesprek is afgelopen")).to_be_visible()
    expect(phone.get_by_text("je kunt een tijdje niet chatten", exact=False)).to_be_visible()
    phone.get_by_role("button", name="Nieuw gesprek").click()
    phone.get_by_role("button", name="Start een gesprek").click()
    expect(phone.get_by_role("heading", name="Je kunt nu even niet chatten")).to_be_visible()
    expect(phone.get_by_text(re.compile(r"Je kunt weer chatten vanaf .*\d{4}"))).to_be_visible()
    shot(phone, "widget-phone-7-refused")

    # A fresh visit is refused the same way.
    phone.reload()
    phone.get_by_role("button", name="Start een gesprek").click()
    expect(phone.get_by_role("heading", name="Je kunt nu even niet chatten")).to_be_visible()
