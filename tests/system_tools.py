"""The programs the suite drives for real besides Python and git: headless Chromium (with
CJK fonts, so Chinese pages render) for the notice board, openssl for TLS, and
OpenSSH's ssh-keygen for signed approvals.

`python -m pytest` installs whatever is missing before the first test, on a Debian or
Ubuntu machine where it may (root, apt-get); elsewhere a test that needs a missing tool
fails with one line naming what to install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"

# Debian package -> how to tell that it is there.
PACKAGES: dict[str, Callable[[], bool]] = {
    "chromium": lambda: Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK),
    "openssl": lambda: shutil.which("openssl") is not None,
    "openssh-client": lambda: shutil.which("ssh-keygen") is not None,
    "fonts-noto-cjk": lambda: _has_cjk_font(),
}


def _has_cjk_font() -> bool:
    if shutil.which("fc-list") is None:
        return False
    listing = subprocess.run(["fc-list"], capture_output=True, text=True, check=False)
    return "noto sans cjk" in listing.stdout.lower()


def missing() -> list[str]:
    return [name for name, present in PACKAGES.items() if not present()]


def install_missing(report: Callable[[str], object] = print) -> list[str]:
    """Install the missing packages with apt-get where that is possible; the names of
    those still missing afterwards."""
    needed = missing()
    if not needed or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return needed
    report(f"installing what the tests drive: {' '.join(needed)} (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"],
                    ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *needed]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False,
                              timeout=900)
        if done.returncode != 0:
            report(f"`{' '.join(command)}` failed: {done.stderr.strip()[-500:]}")
            break
    return missing()


def require(package: str) -> None:
    """Fail the calling test with one line when `package` is not installed."""
    if not PACKAGES[package]():
        pytest.fail(f"{package} is not installed; install it (Debian: `apt-get install "
                    f"{package}`) or run the tests as root on Debian, where they install it",
                    pytrace=False)
