"""What every act shares: loading a patch, checking names, appending an event."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from releasegate.core.errors import InputError, NotFoundError, RuleError, did_you_mean
from releasegate.core.model import Person, Pipeline
from releasegate.core.state import PatchState, fold
from releasegate.ledger.cache import read_cache, write_cache
from releasegate.ledger.events import PATCHES, event_path, render_event
from releasegate.ledger.snapshot import Snapshot
from releasegate.ledger.store import Author
from releasegate.ledger.transaction import Ledger, Write


def utc_now() -> str:
    from releasegate.core import clock

    return clock.stamp(clock.now())


def identity_of(person: Person) -> Author:
    return Author(person.name, person.email or f"{person.id}@releasegate.invalid")


def load_patch(ledger: Ledger, snap: Snapshot, patch: str) -> PatchState:
    """The folded state of `patch` (found case-insensitively) at the snapshot."""
    return fold_patch(snap, ledger.resolve_patch(snap, patch))


def fold_patch(snap: Snapshot, pid: str) -> PatchState:
    """The patch's state, folded once per version of its folder: the fold (and the
    hash chain check) is cached under .git keyed by the folder's tree id, which any
    change to the patch's files changes."""
    folded: dict[str, PatchState] = snap.memo.setdefault("states", {})
    if pid in folded:
        return folded[pid]
    tree = snap.patch_tree(pid)
    cache = _state_cache(snap, tree)
    cached = read_cache(cache)
    state = cached if isinstance(cached, PatchState) else _fold_from_files(snap, pid)
    if cached is None:
        write_cache(cache, state)
    folded[pid] = state
    return state


def cached_state(snap: Snapshot, tree: str) -> bool:
    """Whether the state of the patch folder `tree` is in the cache."""
    cache = _state_cache(snap, tree)
    return cache is not None and cache.exists()


def _state_cache(snap: Snapshot, tree: str | None) -> Path | None:
    git_dir = snap.store.root / ".git"
    if tree is None or not git_dir.is_dir():
        return None
    return git_dir / "releasegate" / "states" / f"{tree}.pickle"


def _fold_from_files(snap: Snapshot, pid: str) -> PatchState:
    from releasegate.config.parse import manifest_from_data
    from releasegate.config.strict_yaml import load_yaml_fast

    snap.prefetch([f"{PATCHES}/{pid}"])
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
                 files: dict[str, Any] | None = None, result: Any = None,
                 at: str | None = None) -> Write[Any]:
    """A Write adding the patch's next event, chained to the previous one."""
    seq = state.last_seq + 1
    common: dict[str, Any] = {
        "type": kind, "patch": state.id, "seq": seq,
        "prev": state.events[-1].sha256 if state.events else None,
        "at": at or utc_now(), "actor": actor.id, "digest": digest or state.digest}
    if env is not None:
        common["env"] = env
    written = {**(files or {}), event_path(state.id, seq, kind): render_event(common, data)}
    return Write(files=written, message=f"{state.id}: {message}\n\nby {actor.id}",
                 result=result, author=identity_of(actor))
