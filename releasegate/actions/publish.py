"""publish: the notice board, a static web site of every notice, the environment board
and Atom feeds, written into a folder any intranet web server can host.

Everything is read from one snapshot of the ledger. A patch's page is cached under
.git/releasegate/site/, keyed by its folder's tree id, the configuration, the
renderer and (for a patch on its way) its next gate's report, so a re-publish renders
only the patches that changed; the folder then receives only the files whose bytes
differ.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from releasegate.actions.gate import GateReport, at_next_gate, report_for
from releasegate.actions.notices import TEMPLATES, notice_report, warn_uncommitted_templates
from releasegate.actions.views import all_states
from releasegate.core.board import Board, PatchView
from releasegate.core.model import Pipeline, Verdict
from releasegate.core.state import PatchState
from releasegate.ledger.cache import read_cache, write_cache
from releasegate.ledger.events import PATCHES
from releasegate.ledger.pipeline import CHECKLISTS, CONFIG_FILE, load_pipeline
from releasegate.ledger.snapshot import Snapshot
from releasegate.ledger.transaction import Ledger
from releasegate.notices.context import default_kind
from releasegate.site.build import PatchPage, SiteRenderer, renderer_fingerprint, site_files
from releasegate.site.paths import index_path


@dataclass(frozen=True)
class Published:
    """What a publish did: the files it wrote, left alone and removed."""

    directory: Path
    index: Path
    written: tuple[str, ...]
    unchanged: int
    removed: tuple[str, ...]
    patches: int
    languages: tuple[str, ...]
    rendered: int  # patch pages rendered; the others came from the cache

    def to_dict(self) -> dict[str, Any]:
        return {"directory": str(self.directory), "index": str(self.index),
                "written": len(self.written), "unchanged": self.unchanged,
                "removed": len(self.removed), "patches": self.patches,
                "languages": list(self.languages), "rendered": self.rendered,
                "written_files": list(self.written), "removed_files": list(self.removed)}


@dataclass(frozen=True)
class Next:
    """A patch's next gate as evaluated now; both None in the last environment."""

    report: GateReport | None
    problem: str | None


def publish_site(ledger: Ledger, directory: Path) -> tuple[Published, list[str]]:
    """Write the notice board of the ledger's committed state into `directory`: an
    index per language, a page per patch and language, the environment board and
    Atom feeds. Files whose bytes are unchanged are left alone; files an earlier
    publish wrote that are no longer part of the site are removed; nothing else in
    `directory` is touched."""
    from releasegate.site.files import prepare_folder, write_site

    directory = directory.expanduser().resolve()
    prepare_folder(directory)
    snap = ledger.snapshot()
    pipeline = load_pipeline(snap)
    warn_uncommitted_templates(ledger, snap)
    states = all_states(ledger, snap)
    upcoming = [s for s in states if pipeline.following(s.env) is not None]
    preload_gate_inputs(ledger, snap, upcoming)
    nexts = {s.id: next_gate(ledger, snap, pipeline, s) for s in upcoming}
    board = Board(pipeline, [PatchView(s, _verdict(nexts.get(s.id)), _problem(nexts.get(s.id)))
                             for s in states])
    renderer = SiteRenderer(snap, pipeline)
    pages, rendered = patch_pages(ledger, snap, renderer, states, nexts)
    files = site_files(renderer, board, pages, ledger_id(ledger, snap))
    outcome = write_site(directory, files)
    languages = pipeline.notice_settings().languages
    return Published(directory, directory / index_path(languages[0], languages),
                     outcome.written, outcome.unchanged, outcome.removed, len(states),
                     languages, rendered), [*snap.warnings, *outcome.warnings]


def _verdict(found: Next | None) -> Verdict | None:
    return found.report.verdict if found is not None and found.report is not None else None


def _problem(found: Next | None) -> str | None:
    return found.problem if found is not None else None


def next_gate(ledger: Ledger, snap: Snapshot, pipeline: Pipeline, state: PatchState) -> Next:
    """The report of the patch's next gate now: the board's verdict and the technical
    notice's test comparisons from one evaluation."""
    # Damaged records raise: never publish over them.
    return Next(*at_next_gate(pipeline, state,
                              lambda target: report_for(ledger, snap, state, target)))


def preload_gate_inputs(ledger: Ledger, snap: Snapshot, states: list[PatchState]) -> None:
    """Read the stored test summaries the gate reports of `states` need (theirs and
    every shipped baseline's) with one git process, instead of one per report. The
    states themselves, dependencies included, are already folded."""
    from releasegate.evidence.baselines import recording_files, shipped_index

    if not states:
        return
    wanted = {(s.id, sha) for s in states for r in s.tests for sha in recording_files(r)}
    for patch, (_, _, shipped) in shipped_index(ledger, snap).items():
        wanted.update((patch, sha) for ref in shipped for sha in ref.evidence.files)
    snap.read_many(sorted(f"{PATCHES}/{patch}/evidence/{sha}.json" for patch, sha in wanted))


def ledger_id(ledger: Ledger, snap: Snapshot) -> str:
    """The ledger's first commit: what tells its feeds from another ledger's."""
    if snap.head is None:
        return "empty"
    roots = ledger.store.run("rev-list", "--max-parents=0", snap.head).decode().split()
    return sorted(roots)[0] if roots else snap.head


# -- patch pages, cached ------------------------------------------------------------------

def patch_pages(ledger: Ledger, snap: Snapshot, renderer: SiteRenderer,
                states: list[PatchState],
                nexts: dict[str, Next]) -> tuple[dict[tuple[str, str], PatchPage], int]:
    """Every patch's page in every language, from the cache where its key matches;
    also how many patches had to be rendered."""
    config = configuration_key(snap)
    trees = snap.patch_trees()
    pages: dict[tuple[str, str], PatchPage] = {}
    missing: list[tuple[PatchState, str]] = []
    for state in states:
        key = page_key(config, trees.get(state.id, ""), renderer.languages,
                       default_kind(renderer.pipeline, state), nexts.get(state.id))
        cached = read_cache(_cache_file(ledger, state.id))
        if (isinstance(cached, tuple) and len(cached) == 2 and cached[0] == key
                and isinstance(cached[1], dict) and set(cached[1]) == set(renderer.languages)):
            pages.update({(state.id, lang): page for lang, page in cached[1].items()})
        else:
            missing.append((state, key))
    if missing:
        pages.update(_render_pages(ledger, snap, renderer, missing, nexts))
    return pages, len(missing)


def _render_pages(ledger: Ledger, snap: Snapshot, renderer: SiteRenderer,
                  missing: list[tuple[PatchState, str]],
                  nexts: dict[str, Next]) -> dict[tuple[str, str], PatchPage]:
    pipeline = renderer.pipeline
    preload_gate_inputs(ledger, snap, [s for s, _ in missing if s.id not in nexts])
    pages = {}
    for state, key in missing:
        kind = default_kind(pipeline, state)
        found = nexts.get(state.id)
        report = (found.report if found is not None
                  else notice_report(ledger, snap, pipeline, state, kind))
        rendered = {}
        for lang in renderer.languages:
            notice = renderer.notice(state, report, lang=lang, kind=kind)
            rendered[lang] = PatchPage(renderer.patch_page(state, notice, lang),
                                       notice.subject, notice.business)
            pages[(state.id, lang)] = rendered[lang]
        write_cache(_cache_file(ledger, state.id), (key, rendered))
    return pages


def configuration_key(snap: Snapshot) -> str:
    """What every page depends on in the ledger besides the patch itself: the
    pipeline, its checklists and any notice templates the ledger overrides."""
    snap.prefetch([CONFIG_FILE, CHECKLISTS, TEMPLATES])
    paths = [CONFIG_FILE, *sorted(snap.paths(CHECKLISTS)), *sorted(snap.paths(TEMPLATES))]
    entries = [(p, entry.sha) for p in paths if (entry := snap.entry(p)) is not None]
    return hashlib.sha256(json.dumps(entries).encode()).hexdigest()


def page_key(config: str, tree: str, languages: tuple[str, ...], kind: str,
             found: Next | None) -> str:
    """The cache key of a patch's pages: the renderer, the configuration, the patch's
    folder, the languages and kind, and for a patch on its way its gate report now (a
    waiver may expire, a baseline move on, without the folder changing)."""
    gate = ("" if found is None else repr(found.report) if found.report is not None
            else found.problem)
    parts = [renderer_fingerprint(), config, tree, " ".join(languages), kind, gate or ""]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _cache_file(ledger: Ledger, patch: str) -> Path | None:
    git_dir = ledger.root / ".git"
    if not git_dir.is_dir():
        return None
    return git_dir / "releasegate" / "site" / f"{patch}.pickle"
