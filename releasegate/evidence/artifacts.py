"""Artifact hashing: the patch digest anyone can recompute with coreutils.

The digest is "sha256:" + the sha256 of a `sha256sum`-style listing: one line
"<hex>  <base name>\\n" per artifact, sorted by name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from releasegate.core.errors import InputError
from releasegate.core.model import Artifact

_CHUNK = 1024 * 1024


def file_sha256(path: Path) -> tuple[str, int]:
    """The sha256 (hex) and size of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}", file=str(path),
                         code="unreadable-file") from None
    return digest.hexdigest(), size


def hash_artifacts(paths: Sequence[Path]) -> tuple[str, tuple[Artifact, ...]]:
    """The patch digest and the artifacts (name, size, sha256), sorted by name."""
    if not paths:
        raise InputError("a patch needs at least one artifact",
                         hint="list them under 'artifacts' in the manifest or pass --artifact",
                         code="no-artifacts")
    artifacts: dict[str, Artifact] = {}
    for path in paths:
        if not path.is_file():
            raise InputError(f"artifact {path} does not exist or is not a file",
                             file=str(path), code="unreadable-file")
        if path.name in artifacts:
            raise InputError(f"two artifacts are named {path.name}; names must be unique "
                             "because the digest lists base names", file=str(path),
                             code="duplicate-artifact")
        sha, size = file_sha256(path)
        artifacts[path.name] = Artifact(path.name, size, sha)
    ordered = tuple(artifacts[name] for name in sorted(artifacts))
    return digest_of(ordered), ordered


def digest_of(artifacts: Sequence[Artifact]) -> str:
    listing = "".join(f"{a.sha256}  {a.name}\n" for a in sorted(artifacts, key=lambda a: a.name))
    return "sha256:" + hashlib.sha256(listing.encode("utf-8")).hexdigest()
