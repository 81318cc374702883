"""The environment board and a patch's place on it, as data every view shares."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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


def next_of(verdict: Verdict | None) -> dict[str, Any] | None:
    """A next-gate verdict as the board shows it."""
    if verdict is None:
        return None
    return {"to": verdict.target, "open": verdict.open, "waiting_for": waiting_for(verdict)}


def board_json(board: Board) -> dict[str, Any]:
    return board_doc(board.pipeline.env_names,
                     [(patch_summary(v.state), next_of(v.next_verdict)) for v in board.patches])


def board_doc(env_names: Sequence[str],
              patches: Iterable[tuple[dict[str, Any], dict[str, Any] | None]]) -> dict[str, Any]:
    """The board: each environment with its patches (summary and next gate), and the
    patches not yet in any."""
    envs: dict[str, list[Any]] = {name: [] for name in env_names}
    waiting: list[Any] = []
    for summary, following in patches:
        entry = {**summary, "next": following}
        (envs[summary["env"]] if summary["env"] else waiting).append(entry)
    return {"environments": [{"name": n, "patches": p} for n, p in envs.items()],
            "not_yet_in_any": waiting}
