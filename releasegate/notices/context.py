"""What a notice says, in the reader's language, before any layout.

`build_context` turns a patch's state, the pipeline and (for technical readers) a gate
report into plain values: every fixed phrase from the catalogue, every manifest text
in the reader's language (or the other one, marked), every time in the pipeline's
time zone. Templates only arrange these values. Pure: no git, files or clock.

Every value is display text: a ledger written before releasegate refused control
characters may hold them, so each character input would refuse is shown as a visible
escape (`\x1b`), and a line break in a one-line value becomes a space
(`core.text.shown_line`); only the multi-line texts (`MULTILINE`) keep theirs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any, Protocol, TypeVar

from releasegate.core.clock import parse_stamp
from releasegate.core.errors import InputError, RuleError
from releasegate.core.model import Pipeline, Verdict
from releasegate.core.regression import Comparison
from releasegate.core.state import PatchState, TestRecording
from releasegate.core.text import ANY_LANGUAGE, Text, shown_line, shown_text
from releasegate.notices import AUDIENCES, KINDS, LANGUAGES
from releasegate.notices.catalogue import (
    env_name,
    format_bytes,
    format_time,
    has_phrase,
    join,
    phrase,
)


class Report(Protocol):
    """The gate evidence a technical notice shows: a verdict and the regression
    comparisons behind it (releasegate.actions.gate.GateReport is one)."""

    @property
    def verdict(self) -> Verdict: ...

    @property
    def comparisons(self) -> tuple[Comparison, ...]: ...


@dataclass(frozen=True)
class Group:
    label: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class Suite:
    heading: str
    counts: str
    baseline: str | None
    groups: tuple[Group, ...]


@dataclass(frozen=True)
class ArtifactRow:
    name: str
    size: str
    sha256: str


@dataclass(frozen=True)
class ConditionRow:
    status: str  # pass | fail | waived, for styling
    status_text: str
    label: str
    detail: str


@dataclass(frozen=True)
class Gate:
    heading: str
    outcome: str
    conditions: tuple[ConditionRow, ...]
    signoffs: tuple[str, ...]
    checklists: tuple[str, ...]


@dataclass(frozen=True)
class Technical:
    vendor: str
    vendor_ref: str
    version: str
    digest: str
    artifacts: tuple[ArtifactRow, ...]
    suites: tuple[Suite, ...]
    waivers: tuple[str, ...]
    gate: Gate | None
    rollback: str


@dataclass(frozen=True)
class NoticeContext:
    """Everything a template may show; each value already in the reader's language."""

    patch: str
    kind: str
    audience: str
    lang: str
    subject: str
    title: str
    lead: str
    system: str
    functions: str
    what: tuple[str, ...]
    when: str
    downtime: str
    action: str
    fixes: tuple[str, ...]
    contact: str
    footer: tuple[str, ...]
    technical: Technical | None


# The values that are multi-line texts (the manifest's summary and business impact,
# downtime and rollback plan); every other value is shown on one line.
MULTILINE = frozenset({"what", "downtime", "rollback"})
Shown = TypeVar("Shown")


def shown_values(value: Shown, multiline: frozenset[str] = MULTILINE) -> Shown:
    """`value` (a string, a tuple of them, or a frozen dataclass of those) with every
    string made display text: `shown_text` for the fields named in `multiline`,
    `shown_line` for every other."""
    shown: Shown = _shown(value, multiline, False)
    return shown


def _shown(value: Any, multiline: frozenset[str], lines: bool) -> Any:
    if isinstance(value, str):
        return shown_text(value) if lines else shown_line(value)
    if isinstance(value, tuple):
        return tuple(_shown(item, multiline, lines) for item in value)
    if is_dataclass(value) and not isinstance(value, type):
        return replace(value, **{f.name: _shown(getattr(value, f.name), multiline,
                                                f.name in multiline)
                                 for f in fields(value)})
    return value


def localized(text: Text | None, lang: str) -> str | None:
    """`text` in `lang`; else the text given without a language, as is; else another
    language's text behind a marker saying which. None when nothing is given."""
    if not text:
        return None
    for key in (lang, ANY_LANGUAGE):
        value = text.get(key, "").strip()
        if value:
            return value
    others = [k for k in LANGUAGES if k in text] + [k for k in text if k not in LANGUAGES]
    for other in others:
        value = text[other].strip()
        if value:
            marker = f"fallback.{other}"
            return (phrase(lang, marker) if has_phrase(lang, marker) else f"({other}) ") + value
    return None


def check_choices(audience: str, lang: str, kind: str) -> None:
    """Refuse an audience, language or kind that notices do not have."""
    for name, value, known in (("audience", audience, AUDIENCES), ("language", lang, LANGUAGES),
                               ("kind", kind, KINDS)):
        if value not in known:
            raise InputError(f"unknown notice {name} '{value}'; choose one of: "
                             f"{', '.join(known)}", code="notice-choice")


def check_kind(pipeline: Pipeline, state: PatchState, kind: str) -> None:
    """An upcoming notice for a patch already in the last environment, or a released
    one for a patch not there, would tell readers something untrue."""
    last = pipeline.env_names[-1]
    if kind == "upcoming" and state.env == last:
        raise RuleError(f"{state.id} is already in {last}; an upcoming notice no longer "
                        "applies", code="notice-kind", hint="use --kind released")
    if kind == "released" and state.env != last:
        raise RuleError(f"{state.id} has not reached {last} (it is in "
                        f"{state.env or 'no environment yet'}); it cannot be announced as "
                        "released", code="notice-kind", hint="use --kind upcoming")


def build_context(pipeline: Pipeline, state: PatchState, report: Report | None, *,
                  audience: str, lang: str, kind: str,
                  sender: str | None = None) -> NoticeContext:
    """The notice's values for `audience` in `lang`; `report` feeds the technical part."""
    check_choices(audience, lang, kind)
    check_kind(pipeline, state, kind)
    m = state.manifest
    title = shown_line(localized(m.title, lang) or state.id)
    status = phrase(lang, f"status.{kind}")
    what = tuple(t for t in (localized(m.summary, lang), localized(m.business_impact, lang))
                 if t)
    footer = (phrase(lang, "footer.sender", sender=sender),) if sender else ()
    return shown_values(NoticeContext(
        patch=state.id, kind=kind, audience=audience, lang=lang,
        subject=phrase(lang, f"subject.{kind}", patch=state.id, title=" ".join(title.split())),
        title=title, lead=phrase(lang, "lead", status=status, system=m.system, patch=state.id),
        system=m.system,
        functions=join(lang, m.affected_modules) or phrase(lang, "functions.none"),
        what=what or (phrase(lang, "what.none"),),
        when=_when(pipeline, state, kind, lang),
        downtime=localized(m.downtime, lang) or phrase(lang, "downtime.unknown"),
        action=phrase(lang, "action.none"),
        fixes=tuple(t for t in (localized(f, lang) for f in m.fixes) if t),
        contact=(localized(m.contact, lang) or localized(pipeline.notice_settings().contact, lang)
                 or phrase(lang, "contact.default")),
        footer=(*footer, phrase(lang, "footer.generated")),
        technical=(_technical(pipeline, state, report, kind, lang)
                   if audience == "technical" else None)))


def _when(pipeline: Pipeline, state: PatchState, kind: str, lang: str) -> str:
    last = pipeline.env_names[-1]
    if kind == "released":
        entered = parse_stamp(state.entered[last].at)
        return phrase(lang, "when.released", env=env_name(lang, last),
                      time=format_time(lang, entered, pipeline.timezone))
    if kind == "rolled-back":
        return phrase(lang, "when.rolled-back", env=env_name(lang, last))
    following = pipeline.following(state.env) or last
    if state.env is None:
        return phrase(lang, "when.upcoming.new", next=env_name(lang, following))
    return phrase(lang, "when.upcoming", current=env_name(lang, state.env),
                  next=env_name(lang, following))


def _technical(pipeline: Pipeline, state: PatchState, report: Report | None, kind: str,
               lang: str) -> Technical:
    m = state.manifest
    missing = phrase(lang, "not_given")
    return Technical(
        vendor=m.vendor, vendor_ref=m.vendor_ref or missing, version=m.version or missing,
        digest=state.digest,
        artifacts=tuple(ArtifactRow(a.name, format_bytes(lang, a.size), a.sha256)
                        for a in state.artifacts),
        suites=_suites(pipeline, state, report, lang),
        waivers=_waivers(pipeline, state, report, lang),
        gate=_gate(pipeline, state, report, kind, lang) if report is not None else None,
        rollback=localized(m.rollback_plan, lang) or phrase(lang, "rollback.none"))


def _time(pipeline: Pipeline, lang: str, stamp: str) -> str:
    return format_time(lang, parse_stamp(stamp), pipeline.timezone)


def person_name(pipeline: Pipeline, person: str) -> str:
    known = pipeline.people.get(person)
    return known.name if known is not None else person


def _suites(pipeline: Pipeline, state: PatchState, report: Report | None,
            lang: str) -> tuple[Suite, ...]:
    latest: dict[tuple[str, str], TestRecording] = {}
    for recording in state.tests:
        latest[(recording.env, recording.suite)] = recording
    compared = {(c.env, c.suite): c for c in report.comparisons} if report else {}
    order = sorted(latest, key=lambda k: (pipeline.env_names.index(k[0])
                                          if k[0] in pipeline.env_names else 99, k[1]))
    return tuple(_suite(pipeline, latest[k], compared.get(k), lang) for k in order)


def _suite(pipeline: Pipeline, recording: TestRecording, comparison: Comparison | None,
           lang: str) -> Suite:
    counts = phrase(lang, "suite.counts", **recording.counts)
    heading = phrase(lang, "suite.heading", suite=recording.suite,
                     env=env_name(lang, recording.env))
    if comparison is None:
        return Suite(heading, counts, None, ())
    return Suite(heading, counts, _baseline(pipeline, comparison, lang),
                 _groups(comparison, lang))


def _baseline(pipeline: Pipeline, comparison: Comparison, lang: str) -> str:
    env = env_name(lang, comparison.env)
    if comparison.baseline is None:
        return phrase(lang, "suite.no_baseline", env=env)
    return phrase(lang, "suite.baseline", patch=comparison.baseline.patch, env=env,
                  time=_time(pipeline, lang, comparison.baseline.promoted_at))


def _groups(comparison: Comparison, lang: str) -> tuple[Group, ...]:
    new = tuple(_with_message(t, comparison.messages) for t in comparison.new_failures)
    groups = [Group(phrase(lang, "suite.new_failures"), new)]
    for name in ("known_failures", "fixed", "missing"):
        tests = comparison.still_failing if name == "known_failures" else getattr(
            comparison, name)
        if tests:
            groups.append(Group(phrase(lang, f"suite.{name}"), tuple(tests)))
    return tuple(groups)


def _with_message(test: str, messages: Mapping[str, str]) -> str:
    message = messages.get(test, "").strip()
    return f"{test} — {message}" if message else test


def _waivers(pipeline: Pipeline, state: PatchState, report: Report | None,
             lang: str) -> tuple[str, ...]:
    if report is None:
        return ()
    verdict = report.verdict
    shown = {c.name for c in verdict.conditions if c.kind == "waiver"}
    return tuple(phrase(lang, "waiver.line", pattern=w.pattern,
                        person=person_name(pipeline, w.person),
                        until=_time(pipeline, lang, w.until), reason=w.reason)
                 for w in state.waivers
                 if w.env == verdict.target and w.pattern in shown
                 and w.event.path in verdict.evidence)


def _gate(pipeline: Pipeline, state: PatchState, report: Report, kind: str,
          lang: str) -> Gate:
    verdict = report.verdict
    target = env_name(lang, verdict.target)
    entered = state.entered.get(verdict.target) if kind != "upcoming" else None
    if entered is not None:
        outcome = phrase(lang, "gate.passed", person=person_name(pipeline, entered.actor),
                         target=target, time=_time(pipeline, lang, entered.at))
    else:
        outcome = phrase(lang, "gate.open" if verdict.open else "gate.closed")
    evidence = set(verdict.evidence)
    return Gate(heading=phrase(lang, "h.gate", target=target), outcome=outcome,
                conditions=tuple(_condition(c.kind, c.name, c.status, c.detail, lang)
                                 for c in verdict.conditions),
                signoffs=tuple(_signoff_lines(pipeline, state, evidence, lang)),
                checklists=tuple(_checklist_lines(pipeline, state, evidence, lang)))


def _condition(kind: str, name: str, status: str, detail: str, lang: str) -> ConditionRow:
    kind_key, status_key = f"kind.{kind}", f"status.{status}"
    shown = phrase(lang, kind_key) if has_phrase(lang, kind_key) else kind
    return ConditionRow(
        status=status,
        status_text=phrase(lang, status_key) if has_phrase(lang, status_key) else status,
        label=shown if name == kind else phrase(lang, "condition.named", kind=shown, name=name),
        detail=detail)


def _signoff_lines(pipeline: Pipeline, state: PatchState, evidence: set[str],
                   lang: str) -> Iterable[str]:
    for s in state.signoffs:
        if s.event.path in evidence:
            line = phrase(lang, "signoff.approve" if s.approve else "signoff.reject",
                          role=s.role, person=person_name(pipeline, s.person),
                          time=_time(pipeline, lang, s.event.at))
            if s.comment:
                line += " " + phrase(lang, "signoff.comment", comment=s.comment.strip())
            if s.proxy is not None:
                line += " " + phrase(
                    lang, "signoff.proxy", recorder=person_name(pipeline, s.proxy.recorded_by),
                    person=person_name(pipeline, s.person), evidence=s.proxy.evidence_name,
                    sha256=s.proxy.evidence_sha256)
            yield line


def _checklist_lines(pipeline: Pipeline, state: PatchState, evidence: set[str],
                     lang: str) -> Iterable[str]:
    for c in state.checklists:
        if c.event.path in evidence:
            template = pipeline.templates.get(c.template)
            title = (localized(template.title, lang) if template else None) or c.template
            yield phrase(lang, "checklist.line", title=title,
                         person=person_name(pipeline, c.person),
                         time=_time(pipeline, lang, c.event.at))


def default_kind(pipeline: Pipeline, state: PatchState) -> str:
    """`released` once the patch is in the last environment, `upcoming` before."""
    return "released" if state.env == pipeline.env_names[-1] else "upcoming"
