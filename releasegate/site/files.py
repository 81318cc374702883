"""Writing the site: only the files whose bytes changed, and a manifest of what it wrote.

A folder may hold other files (a web server's own, a README, a git checkout): only
paths listed in the manifest of an earlier publish are ever deleted, and only when
they lie inside the folder. Files are replaced atomically, so a web server never
serves half a page.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from releasegate.core.errors import InputError
from releasegate.site.paths import MANIFEST

_HINT = "choose a folder you may write to, e.g. `releasegate publish site`"


@dataclass(frozen=True)
class Outcome:
    written: tuple[str, ...]
    unchanged: int
    removed: tuple[str, ...]
    warnings: tuple[str, ...] = ()


def prepare_folder(directory: Path) -> None:
    """Create the site's folder; refuse one that cannot be written to."""
    if directory.is_file():
        raise InputError("cannot write the notice board here: it is a file",
                         file=str(directory), code="unwritable-dir", hint=_HINT)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f".releasegate-probe.{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise _unwritable(directory, exc) from None


def write_site(directory: Path, files: Mapping[str, bytes]) -> Outcome:
    """Make `directory` hold `files` (paths relative to it): write those whose bytes
    differ, leave the rest, and remove what an earlier publish wrote that is gone now."""
    previous, warnings = _read_manifest(directory)
    written, unchanged = [], 0
    for path in sorted(files):
        if _holds(directory / path, files[path]):
            unchanged += 1
        else:
            _write(directory, path, files[path])
            written.append(path)
    removed = [p for p in sorted(previous - files.keys()) if _remove(directory, p)]
    manifest = json.dumps({"generator": "releasegate", "files": sorted(files)}, indent=1)
    if not _holds(directory / MANIFEST, manifest.encode() + b"\n"):
        _write(directory, MANIFEST, manifest.encode() + b"\n")
    return Outcome(tuple(written), unchanged, tuple(removed), tuple(warnings))


def _holds(target: Path, data: bytes) -> bool:
    try:
        return target.stat().st_size == len(data) and target.read_bytes() == data
    except OSError:
        return False


def _write(directory: Path, path: str, data: bytes) -> None:
    target = directory / path
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _unwritable(directory, exc, path) from None


def _unwritable(directory: Path, exc: OSError, path: str | None = None) -> InputError:
    where = directory / path if path else directory
    return InputError(f"cannot write the notice board here: {exc.strerror or exc}",
                      file=str(where), code="unwritable-dir", hint=_HINT)


# -- the manifest of what releasegate wrote ---------------------------------------------

def _read_manifest(directory: Path) -> tuple[set[str], list[str]]:
    """The paths an earlier publish wrote, and warnings about a manifest not usable."""
    try:
        doc = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return set(), []
    except (OSError, ValueError) as exc:
        return set(), [f"{directory / MANIFEST} is not readable ({exc}); files of earlier "
                       "publishes that are gone now were left in place"]
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, list):
        return set(), [f"{directory / MANIFEST} lists no files; nothing was removed"]
    return {p for p in files if isinstance(p, str) and _ours(p)}, []


def _ours(path: str) -> bool:
    """A plain relative path inside the site: never absolute, never climbing out."""
    pure = PurePosixPath(path)
    return (bool(path) and not pure.is_absolute() and "\\" not in path
            and all(part not in ("", ".", "..") for part in path.split("/"))
            and path != MANIFEST)


def _remove(directory: Path, path: str) -> bool:
    target = directory / path
    try:
        if not target.is_file() or target.is_symlink():
            return False
        target.unlink()
    except OSError as exc:
        raise _unwritable(directory, exc, path) from None
    _prune_empty_folders(directory, target.parent)
    return True


def _prune_empty_folders(directory: Path, folder: Path) -> None:
    # Only empty folders go, so nothing the site does not own is touched.
    while folder != directory and directory in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
