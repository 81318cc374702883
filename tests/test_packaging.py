"""What `pip install .` ships: every module, template, schema and default checklist."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_DATA = ("*.py", "*.j2", "*.json", "*.yaml", "*.css", "*.js")


def test_the_wheel_holds_every_file_of_the_package(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(tmp_path), str(ROOT)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("releasegate-*.whl")
    inside = set(zipfile.ZipFile(wheel).namelist())
    expected = {p.relative_to(ROOT).as_posix() for pattern in SHIPPED_DATA
                for p in (ROOT / "releasegate").rglob(pattern) if "__pycache__" not in p.parts}
    assert expected - inside == set()
    assert {"releasegate/checklists/intake.yaml", "releasegate/checklists/dev-review.yaml",
            "releasegate/checklists/test-review.yaml",
            "releasegate/checklists/change-readiness.yaml"} <= inside
