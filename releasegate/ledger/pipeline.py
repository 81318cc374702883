"""The committed pipeline: releasegate.yaml and the checklist templates, validated once
per version of those files and cached under .git; uncommitted edits are warned about."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from releasegate import __version__
from releasegate.core.errors import InputError, UsageError
from releasegate.core.model import ChecklistTemplate, Pipeline
from releasegate.ledger.cache import read_cache, write_cache
from releasegate.ledger.snapshot import Snapshot
from releasegate.ledger.store import git_blob_id

CONFIG_FILE = "releasegate.yaml"
CHECKLISTS = "checklists"


def load_pipeline(snap: Snapshot) -> Pipeline:
    """The committed pipeline with its checklist templates, validated: once per snapshot,
    and from the cache under .git while those files are unchanged."""
    loaded = snap.memo.get("pipeline")
    if loaded is None:
        loaded = snap.memo["pipeline"] = _load_pipeline(snap)
    assert isinstance(loaded, Pipeline)
    return loaded


def _load_pipeline(snap: Snapshot) -> Pipeline:
    snap.prefetch([CONFIG_FILE, CHECKLISTS], read=False)  # a cached pipeline needs ids only
    config = snap.entry(CONFIG_FILE)
    if config is None:
        raise UsageError(f"{CONFIG_FILE} is not committed in {snap.store.root}",
                         hint="commit it with git, or run `releasegate init`")
    template_paths = sorted(p for p in snap.paths(CHECKLISTS) if p.endswith(".yaml"))
    key_src = "\n".join([__version__, config.sha,
                         *(f"{p} {snap.entry(p).sha}" for p in template_paths)])  # type: ignore[union-attr]
    key = snap.memo["pipeline_key"] = hashlib.sha1(key_src.encode()).hexdigest()
    cache = _cache_file(snap.store.root, key)
    if not snap.historical:  # the working tree is compared with the current head only
        warn_uncommitted(snap, [CONFIG_FILE, *template_paths], CHECKLISTS, "*.yaml",
                         also=[CONFIG_FILE])
    cached = _LOADED.get(key) or read_cache(cache)
    if isinstance(cached, Pipeline):
        _LOADED[key] = cached
        return cached
    from releasegate.config.parse import parse_pipeline, parse_template
    from releasegate.config.strict_yaml import load_yaml

    templates: dict[str, ChecklistTemplate] = {}
    for path in template_paths:
        raw = snap.read(path)
        assert raw is not None
        template = parse_template(load_yaml(raw, path))
        stem = path.rsplit("/", 1)[-1].removesuffix(".yaml")
        if template.id != stem:
            raise InputError(f"template id '{template.id}' does not match its file name",
                             file=path, key="id", hint=f"set id: {stem}", code="config")
        templates[template.id] = template
    raw_config = snap.read(CONFIG_FILE)
    assert raw_config is not None
    pipeline = parse_pipeline(load_yaml(raw_config, CONFIG_FILE), templates)
    write_cache(cache, pipeline)
    _LOADED[key] = pipeline
    return pipeline


def pipeline_key(snap: Snapshot) -> str:
    """What the loaded pipeline is derived from: releasegate's version and the ids of
    releasegate.yaml and the checklist templates, as one id."""
    load_pipeline(snap)
    key: str = snap.memo["pipeline_key"]
    return key


# Pipelines this process loaded, by the ids of their files: an audit's replays at many
# past heads mostly see the same configuration.
_LOADED: dict[str, Pipeline] = {}


def _cache_file(root: Path, key: str) -> Path | None:
    git_dir = root / ".git"
    return git_dir / "releasegate" / f"pipeline-{key}.pickle" if git_dir.is_dir() else None


def warn_uncommitted(snap: Snapshot, committed: Sequence[str], folder: str, pattern: str,
                     also: Sequence[str] = ()) -> None:
    """Warn about each file read as committed (`committed`, `also`, and those matching
    `pattern` in `folder`) whose working-tree copy differs or is new."""
    root = snap.store.root
    on_disk = [*also, *(f"{folder}/{p.name}" for p in sorted((root / folder).glob(pattern)))]
    for path in dict.fromkeys([*committed, *on_disk]):
        entry = snap.entry(path)
        try:
            current = git_blob_id((root / path).read_bytes())
        except OSError:
            current = None
        if entry is None or current != entry.sha:
            snap.warnings.append(f"uncommitted changes in {path} are ignored; "
                                 "commit them to apply")
