"""The shape every event file must have, and what each type must carry: checked by the
audit for every event, whoever wrote it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from releasegate.core.model import Event, Pipeline

_SHA256 = re.compile(r"[0-9a-f]{64}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")

# type -> (whether it names an environment, its own required fields and their types)
TYPES: dict[str, tuple[bool, Mapping[str, type]]] = {
    "submitted": (False, {"artifacts": list}),
    "revised": (False, {"artifacts": list}),
    "checklist": (True, {"template": str, "answers": dict}),
    "tests": (True, {"suite": str, "files": list, "counts": dict}),
    "signoff": (True, {"role": str, "decision": str}),
    "waiver": (True, {"test": str, "reason": str, "until": str}),
    "promoted": (True, {"verdict": list, "evidence": list}),
    "notified": (False, {}),
    "rolled-back": (True, {}),
    "incident": (True, {}),
}


def shape_problems(event: Event, pipeline: Pipeline, folder: str) -> list[str]:
    """What is wrong with the event's shape; empty when it has the shape of its type."""
    if event.type not in TYPES:
        return [f"unknown event type '{event.type}'"]
    problems = []
    if event.patch != folder:
        problems.append(f"names patch {event.patch} but lies in the folder of {folder}")
    if event.prev is not None and not _SHA256.fullmatch(str(event.prev)):
        problems.append("'prev' is not a sha256")
    if not _STAMP.fullmatch(str(event.at)):
        problems.append(f"'at' is not a UTC time stamp: {event.at!r}")
    if not _DIGEST.fullmatch(str(event.digest)):
        problems.append("'digest' is not sha256:<64 hex>")
    if event.actor not in pipeline.people and event.type != "notified":
        problems.append(f"'actor' {event.actor!r} is no person of the pipeline")
    with_env, fields = TYPES[event.type]
    if with_env and event.env not in pipeline.env_names:
        problems.append(f"'env' {event.env!r} is no environment of the pipeline")
    problems += [f"lacks '{name}' ({kind.__name__})" for name, kind in fields.items()
                 if not isinstance(event.data.get(name), kind)]
    problems += _own_problems(event.type, event.data)
    return problems


def _own_problems(kind: str, data: Mapping[str, Any]) -> list[str]:
    if kind == "signoff" and data.get("decision") not in ("approve", "reject"):
        return [f"'decision' is {data.get('decision')!r}, not approve or reject"]
    if kind == "tests":
        files = data.get("files") or []
        if not all(isinstance(f, dict) and _SHA256.fullmatch(str(f.get("sha256"))) for f in files):
            return ["a file entry lacks its sha256"]
    return []
