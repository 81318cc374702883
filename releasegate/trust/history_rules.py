"""The rules git history must keep for the events it holds, checked without trusting the
event files themselves: each event file is added once, by a commit that is one act,
authored by the person the event names, and never changed or deleted afterwards. This
is what catches an edit of a patch's newest event, which no later event's hash names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from releasegate.core.model import Event, Person
from releasegate.ledger.store import Commit

ERROR, NOTE = "error", "note"


@dataclass(frozen=True)
class Finding:
    severity: str  # error: the ledger does not verify; note: worth a look, not a failure
    what: str
    patch: str | None = None
    file: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"severity": self.severity, "patch": self.patch, "file": self.file,
                "what": self.what}


def is_event_path(path: str) -> bool:
    parts = path.split("/")
    return len(parts) == 4 and parts[0] == "patches" and parts[2] == "events"


def history_findings(commits: list[Commit], events: Mapping[str, Event],
                     people: Mapping[str, Person],
                     signed: Callable[[Event], bool]) -> tuple[list[Finding], dict[str, Commit]]:
    """Findings about how the events came to be, and the commit that added each event
    file. `signed(event)` says whether the event's gate requires signatures (an author
    who is not the actor is then an error, else a note)."""
    findings: list[Finding] = []
    added: dict[str, Commit] = {}
    for commit in commits:
        new_events = [p for status, p in commit.changes if status == "A" and is_event_path(p)]
        for status, path in commit.changes:
            if is_event_path(path) and status != "A":
                verb = "deleted" if status == "D" else "changed"
                findings.append(Finding(ERROR, f"{verb} by commit {commit.sha[:12]} "
                                        f"({commit.author} <{commit.email}>, {commit.date}) "
                                        f"after it was recorded", path.split("/")[1], path))
        for path in new_events:
            added.setdefault(path, commit)
        if new_events:
            findings += _act_findings(commit, new_events)
    for path, event in events.items():
        if path in added:
            findings += _author_findings(added[path], event, people, signed(event))
    return findings, added


def _act_findings(commit: Commit, new_events: list[str]) -> list[Finding]:
    patch = new_events[0].split("/")[1]
    others = [p for _, p in commit.changes
              if not p.startswith(f"patches/{patch}/") or (is_event_path(p)
                                                          and p not in new_events)]
    if len(new_events) == 1 and not others:
        return []
    what = (f"commit {commit.sha[:12]} ({commit.author}, {commit.date}) is not one act: it "
            f"adds {len(new_events)} event(s)" + (f" and changes {len(others)} other file(s) "
                                                  f"such as {others[0]}" if others else ""))
    return [Finding(ERROR, what, patch, p) for p in new_events]


def _author_findings(commit: Commit, event: Event, people: Mapping[str, Person],
                     signed: bool) -> list[Finding]:
    person = people.get(event.actor)
    if person is not None and commit.email.lower() in {
            (person.email or "").lower(), f"{person.id}@releasegate.invalid"}:
        return []
    return [Finding(ERROR if signed else NOTE,
                    f"added by commit {commit.sha[:12]} authored by {commit.author} "
                    f"<{commit.email}>, not by {event.actor}, whom the event names",
                    event.patch, event.path)]
