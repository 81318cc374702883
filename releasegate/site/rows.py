"""What the site's pages show, in the reader's language, before any layout.

Pure: patch states, the pipeline and the board in; frozen rows out. Times are shown
in the pipeline's time zone; every list is sorted, so the same ledger always gives
the same pages. Every value is one line of display text (`shown_values`): a control
character an old ledger holds is shown as a visible escape.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from releasegate.core.board import Board, PatchView, waiting_for
from releasegate.core.clock import parse_stamp
from releasegate.core.model import Condition, Pipeline
from releasegate.core.state import PatchState
from releasegate.notices.catalogue import env_name, phrase
from releasegate.notices.context import localized, shown_values

ONE_LINE: frozenset[str] = frozenset()  # no value of a row spans lines


@dataclass(frozen=True)
class Row:
    """One notice on the index."""

    patch: str
    title: str
    system: str
    env: str  # "" while in no environment
    env_label: str
    kind: str
    status: str
    updated: str  # the latest event's UTC stamp
    updated_text: str
    search: str  # lower-case text the search box matches


@dataclass(frozen=True)
class Holding:
    """A patch installed in an environment."""

    patch: str
    title: str
    digest: str
    since: str
    since_text: str


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    patches: tuple[Holding, ...]


@dataclass(frozen=True)
class Waiting:
    """A condition the next gate still waits for, and who can meet it."""

    text: str
    whom: str


@dataclass(frozen=True)
class OnTheWay:
    """A patch short of the last environment and what its next gate waits for."""

    patch: str
    title: str
    current: str
    target: str
    ready: bool
    waits: tuple[Waiting, ...]
    problem: str | None


def latest_stamp(state: PatchState) -> str:
    """When the patch last changed: its latest event's time."""
    return state.events[-1].at


def local_time(pipeline: Pipeline, stamp: str) -> str:
    """A recorded UTC stamp as `YYYY-MM-DD HH:MM` in the pipeline's time zone."""
    moment: datetime = parse_stamp(stamp).astimezone(ZoneInfo(pipeline.timezone))
    return moment.strftime("%Y-%m-%d %H:%M")


def title_of(state: PatchState, lang: str) -> str:
    return localized(state.manifest.title, lang) or state.id


def env_label(lang: str, env: str | None) -> str:
    return env_name(lang, env) if env else phrase(lang, "env.none")


def index_rows(pipeline: Pipeline, states: list[PatchState], kinds: dict[str, str],
               lang: str) -> list[Row]:
    """Every patch's notice, the latest change first."""
    rows = sorted((shown_values(_row(pipeline, state, kinds[state.id], lang), ONE_LINE)
                   for state in states), key=lambda r: r.patch)
    return sorted(rows, key=lambda r: parse_stamp(r.updated), reverse=True)


def _row(pipeline: Pipeline, state: PatchState, kind: str, lang: str) -> Row:
    m = state.manifest
    titles = {text.strip() for text in m.title.values()}
    search = " ".join([state.id, m.system, m.vendor, *sorted(titles)]).lower()
    stamp = latest_stamp(state)
    return Row(patch=state.id, title=title_of(state, lang), system=m.system,
               env=state.env or "", env_label=env_label(lang, state.env), kind=kind,
               status=phrase(lang, f"status.{kind}"), updated=stamp,
               updated_text=local_time(pipeline, stamp), search=search)


def columns(board: Board, lang: str) -> list[Column]:
    """Each environment in pipeline order and the patches installed in it."""
    pipeline = board.pipeline
    found: dict[str, list[Holding]] = {name: [] for name in pipeline.env_names}
    for view in board.patches:
        state = view.state
        if state.env in found:
            since = state.entered[state.env].at
            found[state.env].append(Holding(state.id, title_of(state, lang), state.digest,
                                            since, local_time(pipeline, since)))
    return [shown_values(Column(name, env_name(lang, name), tuple(found[name])), ONE_LINE)
            for name in found]


def on_the_way(board: Board, lang: str) -> list[OnTheWay]:
    """Patches with a next gate, in the order of the pipeline, then by id."""
    pipeline = board.pipeline
    views = [v for v in board.patches if pipeline.following(v.state.env) is not None]
    views.sort(key=lambda v: (-pipeline.index(v.state.env), v.state.id))
    return [shown_values(_on_the_way(pipeline, view, lang), ONE_LINE) for view in views]


def _on_the_way(pipeline: Pipeline, view: PatchView, lang: str) -> OnTheWay:
    state, verdict = view.state, view.next_verdict
    target = pipeline.following(state.env) or ""
    waits: tuple[Waiting, ...] = ()
    if verdict is not None:
        failing = [c for c in verdict.conditions if c.status == "fail"]
        waits = tuple(Waiting(text, _whom(pipeline, c, lang))
                      for c, text in zip(failing, waiting_for(verdict), strict=True))
    return OnTheWay(patch=state.id, title=title_of(state, lang),
                    current=env_label(lang, state.env), target=env_name(lang, target),
                    ready=verdict is not None and verdict.open, waits=waits,
                    problem=view.problem)


def _whom(pipeline: Pipeline, condition: Condition, lang: str) -> str:
    """Who can meet a failing condition: the holders of the role that signs it off, or
    of the roles that fill the checklist; nobody in particular for the others."""
    roles: tuple[str, ...] = ()
    if condition.kind == "signoffs":
        roles = (condition.name,)
    elif condition.kind == "checklists" and condition.name in pipeline.templates:
        roles = pipeline.templates[condition.name].roles
    names = [f"{pipeline.people[p].name if p in pipeline.people else p} ({role})"
             for role in roles for p in pipeline.roles.get(role, ())]
    return phrase(lang, "format.list_separator").join(names) or phrase(lang,
                                                                          "board.anyone")
