"""The proctor console under test: a real notify (in process, console on a free port) and headless
Chromium from Debian driven by Selenium over chromedriver.

Selenium is synchronous and notify runs on the test's event loop, so every WebDriver call runs in a
thread (``Browser.call``): the page and the service make progress at the same time.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from notify_harness import NotifyHarness, start_notify, stop_notify

from proctor_runtime.tokens import Role

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                  "--window-size=1600,1000")

T = TypeVar("T")


@dataclass
class ConsoleEnv:
    notify: NotifyHarness
    base_url: str
    media_root: Path

    def proctor_token(self, *rooms: str, sub: str = "p1", role: Role = Role.PROCTOR) -> str:
        return self.notify.admin.issue(sub=sub, role=role, ttl_s=3600, sitting_id=self.notify.sitting_id,
                                       rooms=rooms)[0]

    def candidate_token(self, candidate_id: str) -> str:
        return self.notify.auth.issue(sub=candidate_id, role=Role.CANDIDATE, ttl_s=3600,
                                      sitting_id=self.notify.sitting_id, candidate_id=candidate_id,
                                      device_id=f"{candidate_id}-desktop")[0]


@pytest.fixture
async def console_env(pg_dsn, kafka_bootstrap, tmp_path) -> AsyncIterator[ConsoleEnv]:
    media = tmp_path / "media"
    media.mkdir()
    # no automatic warnings: the warnings a candidate gets in these tests are the ones the console sent
    h = await start_notify(pg_dsn, kafka_bootstrap, media, http_port=0, auto_warnings=False)
    handle = h.host.console[0]  # type: ignore[attr-defined]
    yield ConsoleEnv(h, f"http://127.0.0.1:{handle.port}", media)
    await stop_notify(h)


def chromium_missing() -> str:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        return (f"{' and '.join(missing)} not installed: the Debian packages chromium and chromium-driver "
                "(scripts/setup installs them)")
    return ""


class Browser:
    """One headless Chromium with a fresh profile."""

    def __init__(self, base_url: str) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.base_url = base_url
        self.profile = Path(tempfile.mkdtemp(prefix="console-chromium-"))
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self.profile}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
        self.driver.set_script_timeout(10)

    @classmethod
    async def start(cls, base_url: str) -> Browser:
        return await asyncio.to_thread(cls, base_url)

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)

    async def js(self, script: str, *args: Any) -> Any:
        return await self.call(self.driver.execute_script, script, *args)

    async def open(self, path: str = "/") -> None:
        await self.call(self.driver.get, self.base_url + path)

    async def login(self, token: str) -> None:
        """Sign in through the login form, as a proctor would."""
        from selenium.webdriver.common.by import By

        await self.open("/")

        def fill() -> None:
            self.driver.find_element(By.ID, "token-input").send_keys(token)
            self.driver.find_element(By.ID, "login-button").click()

        await self.call(fill)
        await self.wait(lambda d: d.find_element(By.ID, "conn").get_attribute("data-state") == "live",
                        what="the live feed to connect")

    async def wait(self, predicate: Callable[[Any], T], timeout_s: float = 10.0, what: str = "",
                   interval_s: float = 0.02) -> T:
        """Poll ``predicate(driver)`` (in a thread) until it returns something truthy."""
        from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

        deadline = time.monotonic() + timeout_s
        last_error: Exception | None = None
        while True:
            try:
                result = await self.call(predicate, self.driver)
                if result:
                    return result
            except (NoSuchElementException, StaleElementReferenceException) as exc:
                last_error = exc
            if time.monotonic() > deadline:
                banner = await self.js("const b = document.getElementById('error-banner');"
                                       "return b && !b.hidden ? b.textContent : '';")
                raise AssertionError(f"timed out after {timeout_s} s waiting for {what or predicate}"
                                     f" (page error banner: {banner!r}; last error: {last_error})")
            await asyncio.sleep(interval_s)

    async def quit(self) -> None:
        await self.call(self.driver.quit)
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture
def chromium() -> None:
    reason = chromium_missing()
    if reason:
        pytest.skip(reason)


@pytest.fixture
async def browsers(chromium: None, console_env: ConsoleEnv) -> AsyncIterator[Callable[[], Any]]:
    """A factory of browsers on the console; all are closed at the end of the test."""
    opened: list[Browser] = []

    async def make() -> Browser:
        browser = await Browser.start(console_env.base_url)
        opened.append(browser)
        return browser

    yield make
    for browser in opened:
        await browser.quit()
