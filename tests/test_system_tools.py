"""A test that drives a missing system tool fails with one line saying what to install,
not with a BrokenPipeError from deep inside the browser driver."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = '''
from tests import browser, servers, system_tools

def test_chromium(monkeypatch):
    monkeypatch.setitem(system_tools.PACKAGES, "chromium", lambda: False)
    with browser.chromium():
        pass

def test_openssl(monkeypatch, tmp_path):
    monkeypatch.setitem(system_tools.PACKAGES, "openssl", lambda: False)
    servers.loopback_certificate(tmp_path)
'''


def test_a_missing_tool_fails_the_test_with_one_line_naming_the_package(
        tmp_path: Path) -> None:
    probe = ROOT / "tests" / f"probe_{tmp_path.name}.py"
    probe.write_text(PROBE, encoding="utf-8")
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               "-p", "no:randomly", str(probe)], cwd=ROOT,
                              capture_output=True, text=True, timeout=120, check=False)
    finally:
        probe.unlink()
    assert done.returncode == 1
    assert "2 failed" in done.stdout
    for package in ("chromium", "openssl"):
        assert (f"{package} is not installed; install it (Debian: `apt-get install "
                f"{package}`)") in done.stdout
    assert "BrokenPipeError" not in done.stdout
    assert "Traceback" not in done.stdout
