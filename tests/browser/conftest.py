"""Browser tests of the pages: a real chat server on 127.0.0.1 and Debian's Chromium.

Each test module gets its own server (fresh database, queue and rate limits; the redactor off
unless the module's `server_env` turns it on); helpers log in, start chats and check
accessibility with axe-core served from static/node_modules. The server and the browser are
children that die with the test run (tests/harness/processes.py)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.harness.processes import ROOT, dying
from tests.harness.servers import Subprocess

Server = Subprocess
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-quic", "--no-first-run", "--disable-sync",
]
PASSWORD = "correct horse battery"
ACCOUNTS = {"vera": "volunteer", "sam": "supervisor", "cor": "coordinator"}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}
NEUTRAL_SITE = "https://www.google.nl/"

expect.set_options(timeout=15_000)  # generous: the machine may be busy

if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (bin/setup --test)", allow_module_level=True)


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    """Extra environment for the module's server; a module overrides this fixture to configure it."""
    return {}


@pytest.fixture(scope="module")
def server(server_env: dict[str, str]) -> Iterator[Server]:
    with tempfile.TemporaryDirectory(prefix="chatserver-browser-") as tmp:
        srv = Server(Path(tmp) / "data", log_path=Path(tmp) / "server.log", **server_env)
        srv.add_accounts(ACCOUNTS, PASSWORD)  # display names: Vera, Sam, Cor
        srv.start()
        try:
            yield srv
        finally:
            srv.stop()
            if os.environ.get("BROWSER_TESTS_SHOW_SERVER_LOG"):
                print(srv.log())


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    # Module, not session: the sync API keeps an event loop marked running while it is open,
    # which would break the asyncio tests that pytest runs after the browser tests.
    ARTIFACTS.mkdir(exist_ok=True)
    from playwright._impl._driver import compute_driver_executable

    # Playwright starts its driver (which starts Chromium) itself: through a wrapper that
    # makes the driver die with this process; Chromium exits when the driver's pipe closes.
    node = dying(compute_driver_executable()[0], tmp_path_factory.mktemp("driver"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PLAYWRIGHT_NODEJS_PATH", str(node))
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()


def _neutral_site(context: BrowserContext) -> None:
    # The quick exit's neutral site, answered locally: the tests never leave the machine.
    context.route(NEUTRAL_SITE + "**", lambda route: route.fulfill(
        status=200, content_type="text/html",
        body="<!doctype html><html lang='nl'><title>Google</title><p>Zoeken</p></html>"))


@pytest.fixture
def phone(browser: Browser, server: Server) -> Iterator[Page]:
    context = browser.new_context(base_url=server.url, locale="nl-NL", **PHONE)
    _neutral_site(context)
    page = context.new_page()
    yield page
    leave_if_chatting(page)
    context.close()


@pytest.fixture
def desktop(browser: Browser, server: Server) -> Iterator[Page]:
    context = browser.new_context(base_url=server.url, locale="nl-NL", **DESKTOP)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def new_page(browser: Browser, server: Server) -> Iterator[Any]:
    """A factory of extra pages, each in its own context (its own storage, like another device)."""
    contexts: list[BrowserContext] = []

    def make(kind: str = "desktop") -> Page:
        context = browser.new_context(base_url=server.url, locale="nl-NL",
                                      **(PHONE if kind == "phone" else DESKTOP))
        _neutral_site(context)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        for page in context.pages:
            leave_if_chatting(page)
        context.close()


def leave_if_chatting(page: Page) -> None:
    """A failed test must not leave its chatter in the queue for the next one."""
    with contextlib.suppress(Exception):  # best effort in teardown
        stop = page.get_by_role("button", name="Stop gesprek")
        if stop.is_visible():
            stop.click(timeout=2000)
            expect(page.get_by_role("heading", name="Het gesprek is afgelopen")).to_be_visible(
                timeout=3000)


# ---------------------------------------------------------------- scenario helpers

def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def login(page: Page, username: str = "vera", *, available: bool = True) -> None:
    page.goto("/console")
    page.get_by_role("textbox", name="Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    toggle = page.get_by_role("button", name="Beschikbaar")
    expect(toggle).to_be_visible()
    expect(toggle).to_be_enabled()  # enabled once the server has sent the `state`
    if available and toggle.get_attribute("aria-pressed") != "true":
        toggle.click()
        expect(toggle).to_have_attribute("aria-pressed", "true")


def start_chat(page: Page) -> None:
    page.goto("/")
    page.get_by_role("button", name="Start een gesprek").click()
    expect(page.get_by_role("button", name="Stop gesprek")).to_be_visible()


def chat_log(page: Page) -> Any:
    return page.get_by_role("log").locator("visible=true")


def axe_violations(page: Page, server: Server) -> list[dict[str, Any]]:
    page.add_script_tag(url=server.url + "/vendor/axe.min.js")
    result: dict[str, Any] = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"] if v["impact"] in ("serious", "critical")
    ]
