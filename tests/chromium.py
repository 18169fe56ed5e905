"""Headless Chromium for the browser tier (the course site and the class report): one way to
find it, start it with no network, and say plainly when it is missing or broken."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("COURSE_CHROMEDRIVER", "/usr/bin/chromedriver")

FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--hide-scrollbars",
    "--window-size=1280,900",
    # no network but the loopback address: names do not resolve, and anything else goes to a
    # proxy on the discard port, where nothing listens
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1",
]


def require_chromium() -> None:
    """Fail (never skip) when the browser tier cannot run: a skipped tier would hide a broken page."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER)
               if not (Path(path).is_file() and os.access(path, os.X_OK))]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not found: install Debian's chromium and chromium-driver "
            "(`make test` does it with apt-get when it runs as root), or deselect with -m 'not browser'",
            pytrace=False,
        )


@contextlib.contextmanager
def headless_chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """A Selenium driver of headless Chromium that never downloads anything; quits on exit."""
    require_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    log = tmp_path_factory.mktemp("chromedriver") / "chromedriver.log"
    service = Service(executable_path=CHROMEDRIVER, log_output=str(log))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SE_OFFLINE", "true")  # Selenium Manager stays offline
        try:
            driver = webdriver.Chrome(service=service, options=options)
        except Exception as error:  # a broken install must say why, not hang or skip
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            pytest.fail(f"Chromium did not start: {error}\n{tail}")
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
