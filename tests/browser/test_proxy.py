"""The widget and the console in Chromium through nginx (deploy/nginx.conf, TLS) in front of two
workers on Redis: the deployment of docs/operations.md, as a young person and a volunteer use it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DESKTOP, PASSWORD, PHONE, leave_if_chatting, login, shot
from tests.harness.nginx import Nginx, nginx_binary
from tests.live.redis_server import RedisServer
from tests.scale.conftest import Cluster

if nginx_binary() is None or shutil.which("redis-server") is None:
    pytest.skip("nginx or redis-server is not installed (bin/setup --test)",
                allow_module_level=True)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    root = tmp_path_factory.mktemp("proxied")
    redis = RedisServer(root / "redis")
    redis.start()
    cluster = Cluster(root, redis, CHATSERVER_TRUSTED_PROXIES="127.0.0.1/32")
    try:
        workers = cluster.start(2)
        workers[0].add_accounts({"vera": "volunteer"}, PASSWORD)
        nginx = Nginx(root / "nginx", [w.port for w in workers])
        nginx.start()
        try:
            yield nginx
        finally:
            nginx.stop()
    finally:
        cluster.stop()
        redis.stop()


@pytest.fixture
def pages(browser: Browser, proxy: Nginx) -> Iterator[tuple[Page, Page]]:
    """A phone with the widget and a desktop with the console, both at the proxy's https
    address (its certificate is a throwaway one)."""
    contexts = [browser.new_context(base_url=proxy.url, locale="nl-NL", ignore_https_errors=True,
                                    **kind) for kind in (PHONE, DESKTOP)]
    phone, desktop = (c.new_page() for c in contexts)
    yield phone, desktop
    leave_if_chatting(phone)
    for context in contexts:
        context.close()


def test_a_chat_through_the_proxy_in_chromium(pages: tuple[Page, Page]) -> None:
    phone, desktop = pages
    phone.goto("/")
    expect(phone.get_by_role("heading", name="Gespreksregels")).to_be_visible()
    assert phone.url.startswith("https://")
    phone.get_by_role("button", name="Start een gesprek").click()
    expect(phone.get_by_text("Jij bent de volgende!")).to_be_visible()

    login(desktop, "vera")
    cookie = next(c for c in desktop.context.cookies() if c["httpOnly"])
    assert cookie["secure"] is True  # X-Forwarded-Proto: https from the trusted proxy
    expect(phone.get_by_role("heading", name="Je praat met Vera")).to_be_visible()

    phone.get_by_role("textbox", name="Je bericht").fill("Hoi, lukt het via de proxy?")
    phone.get_by_role("button", name="Verstuur").click()
    expect(desktop.get_by_role("log").get_by_text("Hoi, lukt het via de proxy?")).to_be_visible()
    desktop.get_by_role("textbox", name="Bericht").fill("Ja, ik lees je goed.")
    desktop.get_by_role("button", name="Verstuur").click()
    expect(phone.get_by_role("log").get_by_text("Ja, ik lees je goed.")).to_be_visible()
    shot(phone, "proxy-widget-phone-chat")

    desktop.get_by_role("button", name="Gesprek beëindigen").click()
    expect(phone.get_by_role("heading", name="Het gesprek is afgelopen")).to_be_visible()
