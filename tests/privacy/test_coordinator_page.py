"""The coordinator page in Chromium: login, a request registered, the audit log, Chart.js
charts under the strict CSP, and not one console error."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import Subprocess

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@pytest.fixture
def page_server(tmp_path: Path):  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")
    proc = Subprocess(tmp_path / "data")
    made = proc.cli("users", "add", "cor", "--role", "coordinator", "--password-stdin",
                    "--display-name", "Cor", stdin="wachtwoord-123\n")
    assert made.returncode == 0, made.stderr
    proc.start()
    yield proc
    proc.stop()


def test_a_coordinator_registers_a_request_and_sees_charts(page_server: Subprocess,
                                                           tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(page_server.url + "/coordinator")
        page.get_by_label("Gebruikersnaam").fill("cor")
        page.get_by_label("Wachtwoord").fill("wachtwoord-123")
        page.get_by_role("button", name="Inloggen").click()
        expect(page.get_by_role("heading", name="Verzoeken van betrokkenen")).to_be_visible()
        page.get_by_label("Soort verzoek").select_option("erasure")
        page.get_by_label("Code van de jongere").fill("k7m2 9qxd 4r")
        page.get_by_role("button", name="Verzoek registreren").click()
        row = page.locator("#request-rows tr").first
        expect(row).to_contain_text("Verwijdering")
        expect(row).to_contain_text("Niet (meer) gevonden")
        page.get_by_role("button", name="Filteren").click()
        expect(page.locator("#audit-rows")).to_contain_text("Verzoek geregistreerd")
        expect(page.locator("#charts canvas")).to_have_count(8)
        assert page.evaluate("() => typeof window.Chart") == "function"
        assert page.locator("#chart-hours").evaluate("c => c.width") > 0
        expect(page.locator("#block-empty")).to_be_visible()
        page.screenshot(path=str(tmp_path / "coordinator.png"), full_page=True)
        browser.close()
    assert problems == []
