"""The environment board and a patch's place on it, as data every view shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from releasegate.core.model import Pipeline, Verdict
from releasegate.core.state import PatchState
from releasegate.core.text import text_in


@dataclass(frozen=True)
class PatchView:
    state: PatchState
    next_verdict: Verdict | None
    problem: str | None = None


@dataclass(frozen=True)
class Board:
    pipeline: Pipeline
    patches: list[PatchView]


def patch_summary(state: PatchState) -> dict[str, Any]:
    """The fields every JSON view of a patch shares."""
    m = state.manifest
    return {"id": state.id, "system": m.system, "vendor": m.vendor, "title": text_in(m.title),
            "env": state.env, "digest": state.digest, "submitter": state.submitter,
            "submitted_at": state.events[0].at}


def waiting_for(verdict: Verdict) -> list[str]:
    """The details of the conditions that still fail."""
    return [f"{c.kind} {c.name}: {c.detail}" if c.name != c.kind else f"{c.kind}: {c.detail}"
            for c in verdict.conditions if c.status == "fail"]


def board_json(board: Board) -> dict[str, Any]:
    envs: dict[str, list[Any]] = {name: [] for name in board.pipeline.env_names}
    waiting: list[Any] = []
    for view in board.patches:
        entry = {**patch_summary(view.state), "next": None}
        if view.next_verdict is not None:
            entry["next"] = {"to": view.next_verdict.target, "open": view.next_verdict.open,
                             "waiting_for": waiting_for(view.next_verdict)}
        (envs[view.state.env] if view.state.env else waiting).append(entry)
    return {"environments": [{"name": n, "patches": p} for n, p in envs.items()],
            "not_yet_in_any": waiting}


