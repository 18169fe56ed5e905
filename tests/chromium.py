"""Headless Chromium for the browser tier (the course site and the class report): one way to
find it, start it with no network, and say plainly when it is missing or broken.

With a `ForeignRequests` recorder as its proxy, every request the browser makes to another host
(from a page, a web worker or a service worker alike) is refused and written down, so a test
can assert there was none."""

from __future__ import annotations

import contextlib
import os
import socketserver
import threading
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
    # Chromium's own services (autofill, hints, network time, sign-in, push messaging) would
    # ask Google's hosts on their own: switched off, or pointed at the dead port below, so a
    # request to another host can only come from the pages under test
    "--disable-features=AutofillServerCommunication,OptimizationGuideModelDownloading,"
    "OptimizationHintsFetching,OptimizationTargetPrediction,OptimizationHints,Translate,"
    "MediaRouter,DialMediaRouteProvider,NetworkTimeServiceQuerying,"
    "CertificateTransparencyComponentUpdater",
    "--no-pings",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    *(f"--{service}=http://127.0.0.1:9" for service in (
        "google-base-url", "gaia-url", "lso-url", "gcm-checkin-url", "gcm-registration-url",
        "gcm-mcs-endpoint")),
    # no network but the loopback address: names do not resolve, and anything else goes to a
    # proxy on the discard port, where nothing listens
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1",
]


class ForeignRequests:
    """A proxy on the loopback address that refuses every request it gets and records it
    ("GET http://host/path", "CONNECT host:443"). Chromium sends it everything but requests to
    127.0.0.1, so what it records is exactly what the browser tried to fetch from elsewhere."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        record = self.seen

        class Refuse(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                line = self.rfile.readline(4096).decode("latin-1").strip()
                if line:
                    record.append(" ".join(line.split()[:2]))
                self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Refuse)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ForeignRequests:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


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
def headless_chromium(tmp_path_factory: pytest.TempPathFactory,
                      foreign: ForeignRequests | None = None, leave_pages: bool = False) -> Iterator:
    """A Selenium driver of headless Chromium that never downloads anything; quits on exit.
    Requests to other hosts go to ``foreign`` when given (else to a port nobody listens on);
    ``leave_pages`` answers a page's "leave this page?" prompt (unsaved work) with yes."""
    require_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        if foreign is not None and flag.startswith("--proxy-server="):
            flag = f"--proxy-server=http://127.0.0.1:{foreign.port}"
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if leave_pages:
        options.set_capability("unhandledPromptBehavior", "accept")
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
