"""Headless Chromium for tests, driven through the DevTools protocol over a pipe.

`--remote-debugging-pipe` makes Chromium read protocol messages from file descriptor
3 and answer on 4, each a JSON text ending in a NUL byte, so no websocket client (and
no Python package beyond the standard library) is needed. Every browser runs in its
own process group with its own profile folder and is killed by that group's id when
the test is done or its time is up; nothing is left running.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import signal
import struct
import subprocess
import tempfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.system_tools import CHROMIUM, require

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--mute-audio",
         "--force-device-scale-factor=1", "--remote-debugging-pipe")
LIMIT = 60.0  # seconds one browser may live


class BrowserError(AssertionError):
    """The browser did not answer, or answered with a protocol error."""


@dataclass
class Page:
    """One tab, with everything it reported since it was opened."""

    browser: Browser
    session: str
    events: list[dict[str, Any]] = field(default_factory=list)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        return self.browser.call(method, params, session=self.session)

    def open(self, url: str, width: int = 1280, height: int = 900, mobile: bool = False) -> None:
        """Load `url` at the given viewport and wait until its load event fired."""
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=mobile)
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.browser.wait_for(self, "Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        reply = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                          awaitPromise=True)
        if "exceptionDetails" in reply:
            raise BrowserError(f"{expression!r} threw: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events
                if e["method"] == "Network.requestWillBeSent"]

    def problems(self) -> list[str]:
        """Failed requests, uncaught exceptions, console errors and error log entries."""
        found = []
        for e in self.events:
            method, params = e["method"], e.get("params", {})
            if method == "Network.loadingFailed":
                found.append(f"failed request: {params.get('errorText')}")
            elif method == "Runtime.exceptionThrown":
                found.append(f"uncaught: {params['exceptionDetails']}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in (
                    "error", "assert"):
                found.append(f"console.{params['type']}: {params.get('args')}")
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                found.append(f"log: {params['entry'].get('text')} {params['entry'].get('url')}")
        return found


class Browser:
    """A running headless Chromium and the protocol channel to it."""

    def __init__(self, process: subprocess.Popen[bytes], commands: int, replies: int) -> None:
        self.process = process
        self.commands = commands
        self.replies = replies
        self.deadline = time.monotonic() + LIMIT
        self._buffer = b""
        self._next_id = 0
        self._pages: dict[str, Page] = {}

    def call(self, method: str, params: dict[str, Any] | None = None, *,
             session: str | None = None) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method,
                                   "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.commands, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == message["id"]:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result

    def new_page(self) -> Page:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target,
                                                      "flatten": True})["sessionId"]
        page = Page(self, session)
        self._pages[session] = page
        for domain in ("Page", "Runtime", "Network", "Log"):
            page.call(f"{domain}.enable")
        return page

    def wait_for(self, page: Page, method: str) -> dict[str, Any]:
        seen = len(page.events)
        while True:
            for event in page.events[seen:]:
                if event["method"] == method:
                    return event
            seen = len(page.events)
            self._receive()

    def _receive(self) -> dict[str, Any]:
        """The next message; events are filed with the page they belong to."""
        while b"\0" not in self._buffer:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"no answer from Chromium within {LIMIT:.0f} s")
            ready, _, _ = select.select([self.replies], [], [], left)
            if ready:
                chunk = os.read(self.replies, 1 << 16)
                if not chunk:
                    raise BrowserError("Chromium closed the protocol pipe")
                self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        message: dict[str, Any] = json.loads(raw)
        page = self._pages.get(message.get("sessionId", ""))
        if "method" in message and page is not None:
            page.events.append(message)
        return message


def _high_fd(fd: int) -> int:
    """`fd` moved to a number above 9, so the child can map it onto 3 or 4 safely."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved


@contextmanager
def chromium(log: Path | None = None) -> Iterator[Browser]:
    """A headless Chromium for the length of the `with` block, then killed."""
    require("chromium")
    profile = Path(tempfile.mkdtemp(prefix="rg-chromium-"))
    to_browser_r, to_browser_w = (_high_fd(fd) for fd in os.pipe())
    from_browser_r, from_browser_w = (_high_fd(fd) for fd in os.pipe())
    # bash (dash takes one-digit descriptors only) puts the pipe ends where Chromium
    # looks for them, 3 and 4, then becomes Chromium: the pid we hold is the browser's.
    script = (f'exec "$@" 3<&{to_browser_r} 4>&{from_browser_w} '
              f"{to_browser_r}<&- {from_browser_w}>&-")
    command = ["bash", "-c", script, "bash", CHROMIUM, *FLAGS, f"--user-data-dir={profile}",
               "about:blank"]
    with open(log or os.devnull, "wb") as errors:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=errors,
                                   stderr=errors, pass_fds=(to_browser_r, from_browser_w),
                                   start_new_session=True)
    os.close(to_browser_r)
    os.close(from_browser_w)
    browser = Browser(process, to_browser_w, from_browser_r)
    try:
        yield browser
    finally:
        _stop(browser)
        shutil.rmtree(profile, ignore_errors=True)


def _stop(browser: Browser) -> None:
    try:
        browser.deadline = min(browser.deadline, time.monotonic() + 5)
        browser.call("Browser.close")
    except (BrowserError, OSError):
        pass
    with suppress(subprocess.TimeoutExpired):
        browser.process.wait(timeout=5)
    with suppress(ProcessLookupError):  # its helpers (zygote, renderers) share its group
        os.killpg(browser.process.pid, signal.SIGKILL)
    if browser.process.poll() is None:
        browser.process.wait(timeout=10)
    os.close(browser.commands)
    os.close(browser.replies)


# -- reading PNG files without an imaging library -------------------------------------

@dataclass(frozen=True)
class Png:
    width: int
    height: int
    byte_values: int  # distinct byte values in the image data: a blank image has few


def read_png(path: Path) -> Png:
    """The size of a PNG screenshot, and a cheap measure of how much it shows.

    A one-colour image compresses to a handful of byte values whatever filter each row
    uses; anti-aliased text and coloured elements give well over a hundred."""
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise AssertionError(f"{path} is not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    chunks, pos = [], 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            chunks.append(data[pos + 8:pos + 8 + length])
        pos += 12 + length
    return Png(width, height, len(set(zlib.decompress(b"".join(chunks)))))
