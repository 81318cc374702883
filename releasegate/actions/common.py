"""What every act shares: loading a patch, checking names, appending an event."""

from __future__ import annotations

from typing import Any

from releasegate.errors import InputError, NotFoundError, RuleError, did_you_mean
from releasegate.events import PATCHES, event_path, render_event
from releasegate.gitstore import Identity
from releasegate.ledger import CHECKLISTS, CONFIG_FILE, Ledger, Snapshot, Write
from releasegate.model import Person, Pipeline
from releasegate.state import PatchState, fold
from releasegate.yamlio import load_yaml_fast


def utc_now() -> str:
    from releasegate import clock

    return clock.stamp(clock.now())


def identity_of(person: Person) -> Identity:
    return Identity(person.name, person.email or f"{person.id}@releasegate.invalid")


def load_patch(ledger: Ledger, snap: Snapshot, patch: str) -> PatchState:
    """The folded state of `patch` (found case-insensitively) at the snapshot."""
    pid = ledger.resolve_patch(snap, patch)
    snap.prefetch([CONFIG_FILE, CHECKLISTS, f"{PATCHES}/{pid}"])
    return fold_patch(snap, pid)


def fold_patch(snap: Snapshot, pid: str) -> PatchState:
    from releasegate.config import manifest_from_data

    raw = snap.read(f"{PATCHES}/{pid}/patch.yaml")
    events = snap.events(pid)
    if raw is None or not events:
        raise InputError(f"patch {pid} has no manifest or no events", code="ledger-corrupt",
                         file=f"{PATCHES}/{pid}")
    return fold(manifest_from_data(load_yaml_fast(raw, f"{PATCHES}/{pid}/patch.yaml")), events)


def check_env(pipeline: Pipeline, env: str, option: str = "--env") -> str:
    """`env` when the pipeline has it; a usage error with a suggestion otherwise."""
    if env not in pipeline.env_names:
        raise NotFoundError(f"unknown environment '{env}' ({option}); the pipeline has: "
                            f"{', '.join(pipeline.env_names)}", code="unknown-env",
                            hint=did_you_mean(env, pipeline.env_names))
    return env


def refuse_passed_gate(pipeline: Pipeline, state: PatchState, env: str) -> None:
    """Evidence for a gate the patch has already passed can change nothing."""
    if pipeline.index(state.env) >= pipeline.index(env):
        raise RuleError(f"{state.id} is already in {state.env}; evidence for the {env} gate "
                        "can no longer change anything", code="gate-passed")


def append_event(state: PatchState, actor: Person, kind: str, env: str | None,
                 data: dict[str, Any], message: str, *, digest: str | None = None,
                 files: dict[str, Any] | None = None, result: Any = None) -> Write[Any]:
    """A Write adding the patch's next event, chained to the previous one."""
    seq = state.last_seq + 1
    common: dict[str, Any] = {
        "type": kind, "patch": state.id, "seq": seq,
        "prev": state.events[-1].sha256 if state.events else None,
        "at": utc_now(), "actor": actor.id, "digest": digest or state.digest}
    if env is not None:
        common["env"] = env
    written = {**(files or {}), event_path(state.id, seq, kind): render_event(common, data)}
    return Write(files=written, message=f"{state.id}: {message}\n\nby {actor.id}",
                 result=result, author=identity_of(actor))
