"""A coordinator blocks from the console: at most 90 days, and without an earlier time-out only
with a reason for it. (Own module: the block on 127.0.0.1 would refuse every other test's chatter.)"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import login


def test_a_block_without_an_earlier_time_out_needs_the_override_reason(
    phone: Page, desktop: Page
) -> None:
    login(desktop, "cor")
    phone.goto("/")
    phone.get_by_role("button", name="Start een gesprek").click()
    expect(phone.get_by_role("heading", name="Je praat met Cor")).to_be_visible()

    desktop.get_by_role("button", name="Blokkeren").click()
    dialog = desktop.get_by_role("dialog", name="Blokkeren")
    expect(dialog).to_be_visible()
    days = dialog.get_by_label("Aantal dagen (hoogstens 90)")
    expect(days).to_have_attribute("max", "90")
    expect(days).to_have_value("90")
    dialog.get_by_label("Reden (intern)").fill("scheldt")
    dialog.get_by_role("button", name="Blokkeer").click()
    expect(desktop.get_by_text(re.compile(r"nog geen eerdere time-out"))).to_be_visible()

    desktop.get_by_role("button", name="Blokkeren").click()
    dialog.get_by_label("Reden om zonder eerdere time-out te blokkeren").fill(
        "bedreigt de vrijwilliger")
    dialog.get_by_role("button", name="Blokkeer").click()
    expect(desktop.get_by_text(re.compile(r"Geblokkeerd tot"))).to_be_visible()
    expect(phone.get_by_role("heading", name="Het gesprek is afgelopen")).to_be_visible()
