"""Event files: the append-only records of a patch, chained by the hash of their bytes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from releasegate.core.errors import InputError
from releasegate.core.model import Event

PATCHES = "patches"


def patch_folders(paths: Iterable[str]) -> set[str]:
    """The ids of the patches whose folders hold `paths` (ledger paths)."""
    return {p.split("/")[1] for p in paths if p.startswith(f"{PATCHES}/") and p.count("/") >= 2}


def seq_of(path: str) -> int:
    name = path.rsplit("/", 1)[-1]
    digits = name.split("-", 1)[0]
    return int(digits) if digits.isdigit() else 0


def parse_event(path: str, raw: bytes, previous: Event | None, *,
                chained: bool = True) -> Event:
    """An event file read back; a broken chain or shape stops the reader (fail closed).

    `chained=False` reads one event on its own, without its predecessor to check."""
    from releasegate.config.strict_yaml import load_yaml_fast  # a cached state needs no YAML at all

    data = load_yaml_fast(raw, path)
    if not isinstance(data, dict) or "type" not in data:
        raise InputError("not an event file", file=path, code="ledger-corrupt")
    sha = hashlib.sha256(raw).hexdigest()
    expected_prev = previous.sha256 if previous else None
    if chained and data.get("prev") != expected_prev:
        raise InputError("the hash chain is broken: 'prev' does not match the previous "
                         "event file", file=path, code="ledger-corrupt",
                         hint="the ledger was edited by hand; restore it from git history")
    common = ("type", "patch", "seq", "prev", "at", "actor", "digest", "env")
    try:
        return Event(type=data["type"], patch=data["patch"], seq=int(data["seq"]),
                     prev=data["prev"], at=data["at"], actor=data["actor"],
                     digest=data["digest"], env=data.get("env"),
                     data=_restore_numbers({k: v for k, v in data.items() if k not in common}),
                     path=path, sha256=sha)
    except (KeyError, ValueError, TypeError) as exc:
        raise InputError(f"event file lacks a valid {exc}", file=path,
                         code="ledger-corrupt") from None


def _restore_numbers(data: dict[str, Any]) -> dict[str, Any]:
    # The strict loader keeps every scalar a string; the few numbers events hold
    # (test counts, file sizes) are turned back into numbers here, once.
    if isinstance(data.get("counts"), dict):
        data["counts"] = {k: int(v) for k, v in data["counts"].items()}
    for key in ("artifacts", "files"):
        for item in data.get(key) or ():
            if isinstance(item, dict) and "size" in item:
                item["size"] = int(item["size"])
    return data


def render_event(common: Mapping[str, Any], data: Mapping[str, Any]) -> bytes:
    """The bytes of a new event file: common fields first, then the type's own."""
    from releasegate.config.strict_yaml import dump_yaml

    return dump_yaml({**common, **data}).encode("utf-8")


def event_path(patch: str, seq: int, kind: str) -> str:
    return f"{PATCHES}/{patch}/events/{seq:04d}-{kind}.yaml"
