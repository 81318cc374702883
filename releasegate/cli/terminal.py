"""Text and JSON shapes of verdicts, patches, events and the board (no terminal I/O).

Every text that comes from outside (titles, names, reasons, test ids and messages)
goes through `tty_text` on its way into a text view: a control character is shown
escaped (\\x1b, \\n), so it neither drives the terminal nor starts a line of its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from releasegate.core.board import PatchView, patch_summary
from releasegate.core.model import Event, Verdict
from releasegate.core.regression import CLASSES, Comparison
from releasegate.core.state import PatchState, Proxy
from releasegate.core.text import text_in

# C0 and C1 controls and DEL; the line and paragraph separators; the bidirectional
# overrides and isolates, which reorder what a terminal shows.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def tty_text(text: object) -> str:
    """`text` for a terminal: each control character shown as its escape (ESC as
    \\x1b, a newline as \\n), everything else as it is."""
    return _CONTROL.sub(_escaped, str(text))


def _escaped(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


def table(rows: list[list[str]], indent: str = "  ") -> str:
    """Rows aligned in columns; the last column is never padded. Cells are escaped."""
    if not rows:
        return ""
    rows = [[tty_text(cell) for cell in row] for row in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=False)] + [row[-1]]
        lines.append(indent + "  ".join(cells).rstrip())
    return "\n".join(lines)


_MARK = {"pass": "PASS", "fail": "FAIL", "waived": "WAIVED"}


def verdict_text(verdict: Verdict) -> str:
    state = "OPEN" if verdict.open else "CLOSED"
    gate = (f"already in {verdict.target}" if verdict.source == verdict.target
            and verdict.open else
            f"gate {verdict.source or '(none)'} -> {verdict.target} is {state}")
    head = tty_text(f"{verdict.patch}: {gate}") + f"\ndigest {tty_text(verdict.digest)}"
    rows = [[_MARK[c.status], c.kind, c.name, c.detail] for c in verdict.conditions]
    return head + "\n" + table(rows)


def comparison_text(comparison: Comparison) -> str:
    """A suite's comparison with its baseline: counts, then the tests of each class
    (and, without a baseline, the failing tests of a `SuiteDiff`)."""
    from releasegate.actions.gate import SuiteDiff

    c = comparison
    if c.baseline is None:
        head = f"{c.suite} in {c.env}: no baseline yet (no other patch of this system has " \
               f"been promoted out of {c.env})"
    else:
        head = (f"{c.suite} in {c.env}: against {c.baseline.patch} (promoted out of {c.env} "
                f"at {c.baseline.promoted_at})")
    counts = ", ".join(f"{name.replace('_', ' ')} {n}" for name, n in c.counts().items())
    lines = [tty_text(head), f"  {counts}"]
    # Without a baseline no failure is classified: the failing tests are listed as such.
    failing = c.failing if isinstance(c, SuiteDiff) and c.baseline is None else ()
    for name, tests in [*((n, getattr(c, n)) for n in CLASSES), ("failing", failing)]:
        if tests:
            lines.append(f"  {name.replace('_', ' ')}:")
            for test in tests:
                message = (c.messages.get(test, "") if name in ("new_failures", "failing")
                           else "")
                lines.append(f"    {tty_text(test)}" + (f"  {tty_text(message)}" if message
                                                         else ""))
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
        entry: dict[str, Any] = {"role": s.role, "by": s.person,
                                 "decision": "approve" if s.approve else "reject",
                                 "at": s.event.at, "comment": s.comment}
        if s.proxy is not None:
            entry["proxy"] = proxy_json(s.person, s.proxy)
        gates.setdefault(s.env, {}).setdefault("signoffs", []).append(entry)
    for w in state.waivers:
        gates.setdefault(w.env, {}).setdefault("waivers", []).append(
            {"test": w.pattern, "by": w.person, "reason": w.reason, "until": w.until,
             "at": w.event.at})
    tests: dict[str, Any] = {}
    for t in state.tests:
        tests.setdefault(t.env, []).append({"suite": t.suite, "at": t.event.at, **t.counts})
    return {"gates": gates, "tests": tests}


def proxy_json(person: str, proxy: Proxy) -> dict[str, str]:
    """A proxy sign-off's proxy, as its event records it."""
    return {"for": person, "recorded_by": proxy.recorded_by, "evidence": proxy.evidence,
            "evidence_sha256": proxy.evidence_sha256, "evidence_name": proxy.evidence_name}


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
        proxy = (f" (by proxy: recorded by {s.proxy.recorded_by}; evidence "
                 f"{s.proxy.evidence_name}, sha256 {s.proxy.evidence_sha256})"
                 if s.proxy is not None else "")
        lines.append(f"  {word} for {s.env} as {s.role} by {s.person} at {s.event.at}{proxy}")
    for w in state.waivers:
        lines.append(f"  waiver {w.pattern} for {w.env} by {w.person} until {w.until}: "
                     f"{w.reason}")
    if len(lines) and lines[-1] == "evidence for this digest:":
        lines.append("  none yet")
    lines = [tty_text(line) for line in lines]  # each one line, whatever the texts hold
    if view.next_verdict is not None:
        lines.append("next gate:")
        lines.append(verdict_text(view.next_verdict))
    elif view.problem:
        lines.append(tty_text(f"next gate cannot be evaluated: {view.problem}"))
    else:
        lines.append("in the last environment; no further gate")
    return "\n".join(lines)


def event_json(event: Event) -> dict[str, Any]:
    return {"seq": event.seq, "type": event.type, "at": event.at, "actor": event.actor,
            "env": event.env, "digest": event.digest, "file": event.path,
            "sha256": event.sha256, "prev": event.prev, "data": dict(event.data)}


def event_line(event: Event) -> str:
    return tty_text(f"{event.seq:>4}  {event.at}  {event.actor:<12} {describe(event)}")


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
        proxy = d.get("proxy")
        if isinstance(proxy, Mapping):
            return (f"{word} for {event.env} as {d.get('role')} on behalf of "
                    f"{proxy.get('for')} (evidence {proxy.get('evidence_name')}){comment}")
        return f"{word} for {event.env} as {d.get('role')}{comment}"
    if event.type == "waiver":
        return f"waived {d.get('test')} for {event.env} until {d.get('until')}: {d.get('reason')}"
    if event.type == "promoted":
        return f"promoted from {d.get('from') or '(none)'} to {event.env}"
    return event.type


def board_text(doc: dict[str, Any]) -> str:
    """The board (as `board_doc` gives it) for a terminal."""
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
    # One line each: a title or a reason cannot start a line that looks like a heading.
    return "\n".join(tty_text(line) for line in lines)
