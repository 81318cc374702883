"""`verify-artifact`: the deploy job's last step before it installs anything.

The files must be exactly the patch's artifacts of its current digest (the same
names and the same bytes), and the patch must have entered the environment with
that digest; otherwise the answer says which file differs and how.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from releasegate.actions.common import check_env, load_patch
from releasegate.core.model import Artifact
from releasegate.ledger.pipeline import load_pipeline
from releasegate.ledger.transaction import Ledger


@dataclass(frozen=True)
class ArtifactCheck:
    patch: str
    env: str
    digest: str  # the approved digest
    given: str  # the digest of the files given
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_artifacts(ledger: Ledger, patch: str, files: Sequence[Path],
                     env: str | None = None) -> tuple[ArtifactCheck, list[str]]:
    """Whether `files` are the approved artifacts of `patch`, promoted into `env`
    (default: the last environment) with that digest."""
    from releasegate.evidence.artifacts import hash_artifacts

    snap = ledger.snapshot()
    pipeline = load_pipeline(snap)
    target = check_env(pipeline, env, "--env") if env else pipeline.env_names[-1]
    state = load_patch(ledger, snap, patch)
    given, hashed = hash_artifacts(list(files))
    problems = _differences(state.artifacts, hashed)
    entered = state.entered.get(target)
    if entered is None:
        where = f"it is in {state.env}" if state.env else "it is in no environment yet"
        problems.append(f"{state.id} was not promoted into {target} with its current digest "
                        f"{state.digest} ({where})")
    return ArtifactCheck(state.id, target, state.digest, given, tuple(problems)), snap.warnings


def _differences(approved: Sequence[Artifact], given: Sequence[Artifact]) -> list[str]:
    wanted = {a.name: a for a in approved}
    have = {a.name: a for a in given}
    by_hash = {a.sha256: a.name for a in approved}
    problems = []
    for name, artifact in sorted(have.items()):
        expected = wanted.get(name)
        if expected is None:
            twin = by_hash.get(artifact.sha256)
            problems.append(f"{name}: not an approved artifact" + (
                f" (its bytes are those of {twin}: renamed?)" if twin else ""))
        elif expected.sha256 != artifact.sha256:
            problems.append(f"{name}: different bytes: sha256 {artifact.sha256}, "
                            f"{artifact.size} bytes; approved sha256 {expected.sha256}, "
                            f"{expected.size} bytes")
    for name in sorted(set(wanted) - set(have)):
        problems.append(f"{name}: approved artifact missing from the files given")
    return problems
