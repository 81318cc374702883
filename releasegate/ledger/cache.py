"""Derived caches inside the repository's .git folder: safe to delete, rebuilt on demand.

Entries are pickles stamped with the releasegate version. The folder belongs to the
repository's owner, like git's hooks; a damaged or foreign entry is simply rebuilt.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from releasegate import __version__

# Bumped when a cached type changes shape, so entries of the old shape are rebuilt.
FORMAT = 2
STAMP = f"{__version__}/{FORMAT}"


def read_cache(path: Path | None) -> object:
    """The value stored at `path` by this version of releasegate, else None."""
    if path is None:
        return None
    try:
        stamped = pickle.loads(path.read_bytes())
    except Exception:
        return None
    if isinstance(stamped, tuple) and len(stamped) == 2 and stamped[0] == STAMP:
        return stamped[1]
    return None


def write_cache(path: Path | None, value: object) -> None:
    """Store `value` at `path`, atomically; a failure only costs a rebuild later."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(pickle.dumps((STAMP, value)))
        tmp.replace(path)
    except OSError:
        pass
