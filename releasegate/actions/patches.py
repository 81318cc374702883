"""Registering vendor patches: submit and revise."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from releasegate.actions.board_rows import with_rows
from releasegate.actions.common import append_event, identity_of, load_patch, utc_now
from releasegate.config.strict_yaml import load_yaml
from releasegate.core.errors import RuleError
from releasegate.core.model import Artifact, Manifest
from releasegate.core.text import check_text, text_in
from releasegate.evidence.artifacts import hash_artifacts, read_regular
from releasegate.ledger.actor import resolve_actor
from releasegate.ledger.events import PATCHES, event_path, render_event
from releasegate.ledger.pipeline import load_pipeline
from releasegate.ledger.snapshot import Snapshot
from releasegate.ledger.transaction import Ledger, Write, unchanged

MANIFEST_MAX_BYTES = 256 * 1024


@dataclass(frozen=True)
class Submitted:
    patch: str
    digest: str
    artifacts: tuple[Artifact, ...]
    recorded: bool
    warnings: tuple[str, ...] = ()


def read_manifest(path: Path) -> tuple[Manifest, bytes]:
    """The manifest at `path`, validated; its bytes are stored as submitted."""
    from releasegate.config.parse import parse_manifest

    raw = read_regular(path, "manifest", MANIFEST_MAX_BYTES)
    return parse_manifest(load_yaml(raw, str(path), max_bytes=MANIFEST_MAX_BYTES)), raw


def submit_patch(ledger: Ledger, claimed: str | None, manifest_path: Path,
                 artifact_paths: Sequence[Path] = ()) -> Submitted:
    """Register a vendor patch from its manifest and artifacts; the first event."""
    _check_names(artifact_paths)
    manifest, raw = read_manifest(manifest_path)
    paths = [manifest_path.parent / a for a in manifest.artifacts] + list(artifact_paths)
    digest, artifacts = hash_artifacts(paths)

    def operation(snap: Snapshot) -> Write[Submitted]:
        actor = resolve_actor(load_pipeline(snap), claimed, ledger.store)
        existing = snap.patch_dirs().get(manifest.id.lower())
        if existing is not None:
            return unchanged(_resubmission(ledger, snap, existing, manifest, digest, raw))
        warnings = [f"{manifest.id} depends on {dep}, which is not in the ledger yet"
                    for dep in manifest.depends_on
                    if dep.lower() not in snap.patch_dirs()]
        snap.warnings.extend(warnings)
        event = {"type": "submitted", "patch": manifest.id, "seq": 1, "prev": None,
                 "at": utc_now(), "actor": actor.id, "digest": digest}
        data: dict[str, Any] = {
            "system": manifest.system, "vendor": manifest.vendor,
            "title": text_in(manifest.title),
            "manifest_sha256": hashlib.sha256(raw).hexdigest(),
            "artifacts": [_artifact_data(a) for a in artifacts]}
        files: dict[str, bytes | Path] = {f"{PATCHES}/{manifest.id}/patch.yaml": raw,
                 event_path(manifest.id, 1, "submitted"): render_event(event, data)}
        return Write(files, f"{manifest.id}: submitted by {actor.id}\n\n{digest}",
                     Submitted(manifest.id, digest, artifacts, True), identity_of(actor))

    result, warnings = ledger.transact(with_rows(ledger, operation))
    return Submitted(result.patch, result.digest, result.artifacts, result.recorded,
                     tuple(warnings))


def _resubmission(ledger: Ledger, snap: Snapshot, existing: str, manifest: Manifest,
                  digest: str, raw: bytes) -> Submitted:
    state = load_patch(ledger, snap, existing)
    first = state.events[0]
    same_manifest = first.data.get("manifest_sha256") == hashlib.sha256(raw).hexdigest()
    if existing == manifest.id and first.digest == digest and same_manifest:
        return Submitted(existing, digest, state.artifacts, False)
    if existing == manifest.id and first.digest == digest:
        raise RuleError(f"patch {existing} was submitted with another manifest; a manifest is "
                        "kept as submitted", code="duplicate-patch",
                        hint="give the changed delivery a new patch id")
    raise RuleError(f"patch {existing} already exists"
                    + (" (ids are unique regardless of case)" if existing != manifest.id
                       else " with other artifacts"),
                    code="duplicate-patch",
                    hint=f"a vendor re-delivery is `releasegate patch revise {existing} "
                         "--artifact FILE...`")


def revise_patch(ledger: Ledger, claimed: str | None, patch: str,
                 artifact_paths: Sequence[Path]) -> Submitted:
    """A vendor re-delivery: a new digest, and the patch starts over from the start."""
    _check_names(artifact_paths)
    digest, artifacts = hash_artifacts(list(artifact_paths))

    def operation(snap: Snapshot) -> Write[Submitted]:
        actor = resolve_actor(load_pipeline(snap), claimed, ledger.store)
        state = load_patch(ledger, snap, patch)
        if state.digest == digest:
            return unchanged(Submitted(state.id, digest, artifacts, False))
        data = {"previous_digest": state.digest,
                "artifacts": [_artifact_data(a) for a in artifacts]}
        return append_event(state, actor, "revised", None, data,
                            f"revised by {actor.id}; starts over\n\n{digest}", digest=digest,
                            result=Submitted(state.id, digest, artifacts, True))

    result, warnings = ledger.transact(with_rows(ledger, operation), own_patch_only=True)
    return Submitted(result.patch, result.digest, result.artifacts, result.recorded,
                     tuple(warnings))


def _check_names(artifact_paths: Sequence[Path]) -> None:
    """An artifact's file name is shown in notices and on the site: one plain line."""
    for path in artifact_paths:
        check_text(path.name, "--artifact")


def _artifact_data(artifact: Artifact) -> dict[str, Any]:
    return {"name": artifact.name, "size": artifact.size, "sha256": artifact.sha256}

