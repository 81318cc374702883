"""Text and JSON shapes of verdicts, patches, events and the board (no terminal I/O)."""

from __future__ import annotations

from typing import Any

from releasegate.core.board import Board, PatchView, board_json, patch_summary
from releasegate.core.model import Event, Verdict
from releasegate.core.regression import CLASSES, Comparison
from releasegate.core.state import PatchState
from releasegate.core.text import text_in


def table(rows: list[list[str]], indent: str = "  ") -> str:
    """Rows aligned in columns; the last column is never padded."""
    if not rows:
        return ""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=False)] + [row[-1]]
        lines.append(indent + "  ".join(cells).rstrip())
    return "\n".join(lines)


_MARK = {"pass": "PASS", "fail": "FAIL", "waived": "WAIVED"}


def verdict_text(verdict: Verdict) -> str:
    state = "OPEN" if verdict.open else "CLOSED"
    head = (f"{verdict.patch}: gate {verdict.source or '(none)'} -> {verdict.target} is "
            f"{state}\ndigest {verdict.digest}")
    rows = [[_MARK[c.status], c.kind, c.name, c.detail] for c in verdict.conditions]
    return head + "\n" + table(rows)


def comparison_text(comparison: Comparison) -> str:
    """A suite's comparison with its baseline: counts, then the tests of each class."""
    c = comparison
    if c.baseline is None:
        head = f"{c.suite} in {c.env}: no baseline yet (no other patch of this system has " \
               f"been promoted out of {c.env})"
    else:
        head = (f"{c.suite} in {c.env}: against {c.baseline.patch} (promoted out of {c.env} "
                f"at {c.baseline.promoted_at})")
    counts = ", ".join(f"{name.replace('_', ' ')} {n}" for name, n in c.counts().items())
    lines = [head, f"  {counts}"]
    for name in CLASSES:
        tests = getattr(c, name)
        if tests:
            lines.append(f"  {name.replace('_', ' ')}:")
            for test in tests:
                message = c.messages.get(test, "") if name == "new_failures" else ""
                lines.append(f"    {test}" + (f"  {message}" if message else ""))
    return "\n".join(lines)


def patch_json(view: PatchView) -> dict[str, Any]:
    state = view.state
    doc = patch_summary(state)
    doc["artifacts"] = [vars(a) for a in state.artifacts]
    doc["entered"] = {env: e.at for env, e in state.entered.items()}
    doc["evidence"] = evidence_json(state)
    doc["next"] = view.next_verdict.to_dict() if view.next_verdict else None
    if view.problem:
        doc["problem"] = view.problem
    return doc


def evidence_json(state: PatchState) -> dict[str, Any]:
    gates: dict[str, Any] = {}
    for c in state.checklists:
        gates.setdefault(c.env, {}).setdefault("checklists", []).append(
            {"template": c.template, "by": c.person, "at": c.event.at})
    for s in state.signoffs:
        gates.setdefault(s.env, {}).setdefault("signoffs", []).append(
            {"role": s.role, "by": s.person, "decision": "approve" if s.approve else "reject",
             "at": s.event.at, "comment": s.comment})
    for w in state.waivers:
        gates.setdefault(w.env, {}).setdefault("waivers", []).append(
            {"test": w.pattern, "by": w.person, "reason": w.reason, "until": w.until,
             "at": w.event.at})
    tests: dict[str, Any] = {}
    for t in state.tests:
        tests.setdefault(t.env, []).append({"suite": t.suite, "at": t.event.at, **t.counts})
    return {"gates": gates, "tests": tests}


def patch_detail(view: PatchView) -> str:
    state, m = view.state, view.state.manifest
    lines = [f"{state.id}  {text_in(m.title)}",
             f"  system {m.system}, vendor {m.vendor}"
             + (f" ({m.vendor_ref})" if m.vendor_ref else ""),
             f"  submitted by {state.submitter} at {state.events[0].at}",
             f"  digest {state.digest}",
             f"  in {state.env or 'no environment yet'}"]
    for env, event in state.entered.items():
        lines.append(f"    entered {env} at {event.at} ({event.actor})")
    lines.append("evidence for this digest:")
    for c in state.checklists:
        lines.append(f"  checklist {c.template} for {c.env} by {c.person} at {c.event.at}")
    for t in state.tests:
        lines.append(f"  tests {t.suite} in {t.env}: {t.counts['tests']} tests, "
                     f"{t.counts['failed']} failed, {t.counts['errors']} errors, "
                     f"{t.counts['skipped']} skipped")
    for s in state.signoffs:
        word = "approved" if s.approve else "rejected"
        lines.append(f"  {word} for {s.env} as {s.role} by {s.person} at {s.event.at}")
    for w in state.waivers:
        lines.append(f"  waiver {w.pattern} for {w.env} by {w.person} until {w.until}: "
                     f"{w.reason}")
    if len(lines) and lines[-1] == "evidence for this digest:":
        lines.append("  none yet")
    if view.next_verdict is not None:
        lines.append("next gate:")
        lines.append(verdict_text(view.next_verdict))
    elif view.problem:
        lines.append(f"next gate cannot be evaluated: {view.problem}")
    else:
        lines.append("in the last environment; no further gate")
    return "\n".join(lines)


def event_json(event: Event) -> dict[str, Any]:
    return {"seq": event.seq, "type": event.type, "at": event.at, "actor": event.actor,
            "env": event.env, "digest": event.digest, "file": event.path,
            "sha256": event.sha256, "prev": event.prev, "data": dict(event.data)}


def event_line(event: Event) -> str:
    return f"{event.seq:>4}  {event.at}  {event.actor:<12} {describe(event)}"


def describe(event: Event) -> str:
    """One line saying what an event recorded."""
    d = event.data
    counts = d.get("counts") or {}
    if event.type == "submitted":
        return f"submitted ({d.get('vendor')}, {d.get('system')})"
    if event.type == "revised":
        return "revised: new artifacts, starts over"
    if event.type == "checklist":
        return f"filled checklist {d.get('template')} for {event.env}"
    if event.type == "tests":
        return (f"recorded tests {d.get('suite')} in {event.env}: {counts.get('tests')} tests, "
                f"{counts.get('failed')} failed, {counts.get('errors')} errors")
    if event.type == "signoff":
        word = "approved" if d.get("decision") == "approve" else "rejected"
        comment = f": {d['comment']}" if d.get("comment") else ""
        return f"{word} for {event.env} as {d.get('role')}{comment}"
    if event.type == "waiver":
        return f"waived {d.get('test')} for {event.env} until {d.get('until')}: {d.get('reason')}"
    if event.type == "promoted":
        return f"promoted from {d.get('from') or '(none)'} to {event.env}"
    return event.type


def board_text(board: Board) -> str:
    doc = board_json(board)
    lines = []
    sections = [("not yet in any environment", doc["not_yet_in_any"])]
    sections += [(e["name"], e["patches"]) for e in doc["environments"]]
    for name, patches in sections:
        if not patches and name.startswith("not yet"):
            continue
        lines.append(f"{name}:" + ("" if patches else " (empty)"))
        for p in patches:
            lines.append(f"  {p['id']}  {p['title']}  [{p['digest'][:19]}]")
            nxt = p["next"]
            if nxt is None:
                continue
            if nxt["open"]:
                lines.append(f"    gate to {nxt['to']} is open: ready to promote")
            else:
                lines.append(f"    gate to {nxt['to']} waits for:")
                lines += [f"      - {w}" for w in nxt["waiting_for"]]
    return "\n".join(lines)
