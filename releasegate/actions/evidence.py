"""Evidence for a gate: checklists, JUnit test results, sign-offs."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from releasegate.actions.board_rows import with_rows
from releasegate.actions.common import (
    append_event,
    check_env,
    load_patch,
    refuse_passed_gate,
)
from releasegate.actions.signed_acts import sign_act
from releasegate.config.strict_yaml import Document, Path_
from releasegate.core.errors import InputError, NotFoundError, RuleError, did_you_mean
from releasegate.core.model import ChecklistItem, ChecklistTemplate, Pipeline
from releasegate.core.text import check_text, shown_line, text_hint, text_problem
from releasegate.evidence.artifacts import file_sha256
from releasegate.ledger.actor import resolve_actor
from releasegate.ledger.events import PATCHES
from releasegate.ledger.ids import check_id
from releasegate.ledger.pipeline import load_pipeline
from releasegate.ledger.snapshot import Snapshot
from releasegate.ledger.transaction import Ledger, Write

if TYPE_CHECKING:
    from releasegate.evidence.junit_job import JUnitJob

_URL = re.compile(r"https?://[^\s]+")


# -- checklists -----------------------------------------------------------------------

def find_template(pipeline: Pipeline, template: str, env: str) -> ChecklistTemplate:
    """The template `template`, which the gate of `env` must list."""
    check_env(pipeline, env)
    if template not in pipeline.templates:
        raise NotFoundError(f"unknown checklist template '{template}'", code="unknown-template",
                            hint=did_you_mean(template, pipeline.templates))
    listed = pipeline.environment(env).gate.checklists
    if template not in listed:
        raise RuleError(f"the {env} gate does not ask for checklist '{template}'; it asks for: "
                        f"{', '.join(listed) or 'none'}", code="not-in-gate")
    return pipeline.templates[template]


def normalize_answers(template: ChecklistTemplate, raw: Any,
                      doc: Document | None = None) -> dict[str, dict[str, str]]:
    """Answers checked against the template, as stored: item -> {value, reason}."""
    if not isinstance(raw, dict):
        raise _answer_error(doc, (), "answers must be a map of item id to answer")
    items = {item.id: item for item in template.items}
    answers: dict[str, dict[str, str]] = {}
    for key, value in raw.items():
        if isinstance(key, str) and (problem := text_problem(key)) is not None:
            raise _answer_error(doc, (), f"the key '{shown_line(key)}' {problem}",
                                line_of=(key,))
        if key not in items:
            raise _answer_error(doc, (key,), f"'{template.id}' has no item '{key}'; its items "
                                f"are: {', '.join(items)}", hint=did_you_mean(key, items))
        answers[key] = _normalize_one(items[key], value, doc)
    for item in template.items:
        if item.required and item.id not in answers:
            raise _answer_error(doc, (), f"required item '{item.id}' is not answered",
                                hint=f"add '{item.id}:' to the answers")
    return answers


def _normalize_one(item: ChecklistItem, value: Any, doc: Document | None) -> dict[str, str]:
    reason = None
    if isinstance(value, dict):
        reason, value = value.get("reason"), value.get("value")
    if not isinstance(value, str) or not value.strip():
        raise _answer_error(doc, (item.id,), "expected a non-empty answer")
    _check_answer_text(doc, (item.id,), value, multiline=item.type == "text")
    if isinstance(reason, str):
        _check_answer_text(doc, (item.id, "reason"), reason, multiline=True)
    value = value.strip()
    if value == "n/a":
        if not item.allow_na:
            raise _answer_error(doc, (item.id,), f"'{item.id}' may not be answered n/a")
        if not isinstance(reason, str) or not reason.strip():
            raise _answer_error(doc, (item.id,), "n/a needs a reason",
                                hint="write {value: n/a, reason: why it does not apply}")
        return {"value": "n/a", "reason": reason.strip()}
    if item.type == "confirm" and value not in ("yes", "no"):
        raise _answer_error(doc, (item.id,), f"expected yes or no; got {value!r}")
    if item.type == "choice" and value not in item.choices:
        raise _answer_error(doc, (item.id,), f"expected one of {', '.join(item.choices)}; "
                            f"got {value!r}", hint=did_you_mean(value, item.choices))
    if item.type == "url" and not _URL.fullmatch(value):
        raise _answer_error(doc, (item.id,), f"expected an http(s) URL; got {value!r}")
    return {"value": value}


def _check_answer_text(doc: Document | None, path: Path_, text: str, *,
                       multiline: bool) -> None:
    """A text item's answer and an n/a reason may span lines; no answer holds a control
    character (core.text)."""
    problem = text_problem(text, multiline=multiline)
    if problem is not None:
        raise _answer_error(doc, path, problem, hint=text_hint(text, multiline=multiline))


def _answer_error(doc: Document | None, path: Path_, message: str,
                  hint: str | None = None, line_of: Path_ | None = None) -> InputError:
    if doc is not None:
        error = doc.error(path, message, hint=hint)
        if line_of is not None:
            error.line, error.column = doc.line_of(line_of), None
        return error
    return InputError(message, key=".".join(map(str, path)) or None, hint=hint,
                      code="bad-answer")


@dataclass(frozen=True)
class Recorded:
    patch: str
    env: str
    kind: str
    detail: Mapping[str, Any]


def fill_checklist(ledger: Ledger, claimed: str | None, patch: str, template: str, env: str,
                   answers: Any, answers_doc: Document | None = None, *,
                   key: Path | None = None) -> tuple[Recorded, list[str]]:
    """Record a completed checklist for the gate of `env`, signed with `key` when one
    is given (a gate that requires signatures refuses it unsigned)."""
    check_text(template, "TEMPLATE")
    check_text(env, "--env")

    def operation(snap: Snapshot) -> Write[Recorded]:
        pipeline = load_pipeline(snap)
        chosen = find_template(pipeline, template, env)
        actor = resolve_actor(pipeline, claimed, ledger.store)
        if not any(pipeline.holds(actor.id, role) for role in chosen.roles):
            raise RuleError(f"{actor.id} may not fill '{template}': it needs one of the roles "
                            f"{', '.join(chosen.roles)}", code="not-allowed")
        state = load_patch(ledger, snap, patch)
        refuse_passed_gate(pipeline, state, env)
        stored = normalize_answers(chosen, answers, answers_doc)
        data = {"template": template, "answers": stored}
        act = sign_act(snap, pipeline, state, actor, "checklist", env, data, key)
        result = Recorded(state.id, env, "checklist", data)
        return append_event(state, actor, "checklist", env, act.data,
                            f"checklist {template} for {env} by {actor.id}", result=result,
                            files=act.files, at=act.at)

    return ledger.transact(with_rows(ledger, operation), own_patch_only=True)


# -- test results ---------------------------------------------------------------------

def record_tests(ledger: Ledger, claimed: str | None, patch: str, env: str,
                 files: Sequence[Path], suite: str | None = None,
                 job: JUnitJob | None = None) -> tuple[Recorded, list[str]]:
    """Record JUnit results that ran in `env` for the patch's current digest.

    `job` is the files' reading, when the caller started it early (the CLI does, so
    that parsing overlaps the imports); otherwise it starts here.
    """
    from releasegate.evidence.junit_job import JUnitJob

    if not files:
        raise InputError("no JUnit files given", code="usage")
    check_text(env, "--env")
    for path in files:
        check_text(path.name, "FILE")
    if suite is not None:
        check_text(suite, "--suite")
    suite = check_id("suite name", suite or files[0].stem)
    if job is None:
        with JUnitJob(files) as own:
            return _record_tests(ledger, claimed, patch, env, suite, own)
    return _record_tests(ledger, claimed, patch, env, suite, job)


def _record_tests(ledger: Ledger, claimed: str | None, patch: str, env: str, suite: str,
                  job: JUnitJob) -> tuple[Recorded, list[str]]:
    # While the job parses: git stores the raw files, GitPython is loaded and the
    # files are hashed.
    for path in job.files:
        if path.is_file():
            ledger.store.prehash(path)
    ledger.store.prepare_writes()
    listed = []
    for path in job.files:
        try:
            sha, size = file_sha256(path)
        except InputError:
            job.result()  # the parser's account of an unreadable file is the clearer
            raise
        listed.append({"name": path.name, "sha256": sha, "size": size})
    reading = job.result()
    counts = reading.counts
    stored: dict[str, Any] = {}
    for path, item, summary in zip(job.files, listed, reading.summaries, strict=True):
        stored[f"evidence/{item['sha256']}.xml"] = path
        stored[f"evidence/{item['sha256']}.json"] = summary
        item["summary_sha256"] = file_sha256(summary)[0]  # what every read checks

    def operation(snap: Snapshot) -> Write[Recorded]:
        pipeline = load_pipeline(snap)
        check_env(pipeline, env)
        actor = resolve_actor(pipeline, claimed, ledger.store)
        state = load_patch(ledger, snap, patch)
        if env not in state.entered:
            raise RuleError(f"{state.id} has not entered {env} with its current digest; tests "
                            f"recorded for {env} must have run there", code="not-in-env",
                            hint=f"promote it to {env} first (`releasegate promote {state.id}`)")
        data = {"suite": suite, "files": listed, "counts": counts}
        prefix = f"{PATCHES}/{state.id}/"
        return append_event(state, actor, "tests", env, data,
                            f"tests {suite} in {env}: {counts['tests']} tests, "
                            f"{counts['failed']} failed, {counts['errors']} errors",
                            files={prefix + k: v for k, v in stored.items()},
                            result=Recorded(state.id, env, "tests",
                                            {"suite": suite, "digest": state.digest,
                                             **counts}))

    recorded, warnings = ledger.transact(with_rows(ledger, operation), own_patch_only=True)
    if counts["tests"] - counts["skipped"] <= 0:
        from releasegate.core.gates.tests import conditions_counting

        failing = conditions_counting(load_pipeline(ledger.snapshot()), env, suite)
        warnings.append(f"{suite}: nothing executed ({counts['tests']} tests, "
                        f"{counts['skipped']} skipped); "
                        + (f"{failing} will fail" if failing
                           else "no gate's tests condition counts this suite"))
    return recorded, warnings


# -- sign-offs ------------------------------------------------------------------------

def sign_off(ledger: Ledger, claimed: str | None, patch: str, env: str, role: str,
             reject: bool = False, comment: str | None = None, *,
             key: Path | None = None, on_behalf_of: str | None = None,
             evidence: Path | None = None) -> tuple[Recorded, list[str]]:
    """Approve or reject the patch for the gate of `env`, in `role`; signed with `key`
    when one is given (a gate that requires signatures refuses it unsigned).

    With `on_behalf_of` (and `evidence`, the file the decision arrived in), the acting
    person records that person's decision as a proxy: they must hold a role of
    `rules.proxies_by`, and the approver must be able to sign it off themselves. The
    recorder is the event's actor (and the signer); the gate counts it for the
    approver, where the role's rule says `proxy: allow`.
    """
    check_text(env, "--env")
    check_text(role, "--role")
    if comment is not None:
        check_text(comment, "--comment", multiline=True)
    if (on_behalf_of is None) != (evidence is None):
        raise InputError("--on-behalf-of and --evidence go together: a proxy sign-off "
                         "needs the evidence of the approver's decision", code="usage")
    proof = None
    if on_behalf_of is not None and evidence is not None:
        from releasegate.evidence.proxies import read_evidence

        check_text(on_behalf_of, "--on-behalf-of")
        check_text(evidence.name, "--evidence")
        proof = read_evidence(evidence)

    def operation(snap: Snapshot) -> Write[Recorded]:
        pipeline = load_pipeline(snap)
        check_env(pipeline, env)
        wanted = [s.role for s in pipeline.environment(env).gate.signoffs]
        if role not in wanted:
            raise RuleError(f"the {env} gate asks for no sign-off from role '{role}'; it asks "
                            f"for: {', '.join(wanted) or 'none'}", code="not-in-gate",
                            hint=did_you_mean(role, wanted))
        actor = resolve_actor(pipeline, claimed, ledger.store)
        state = load_patch(ledger, snap, patch)
        refuse_passed_gate(pipeline, state, env)
        approver = actor.id
        if on_behalf_of is not None:
            approver = on_behalf_of
            _check_recorder(pipeline, state, actor.id, approver)
        _check_signer(pipeline, state, approver, env, role)
        decision = "reject" if reject else "approve"
        data: dict[str, Any] = {"role": role, "decision": decision}
        if comment:
            data["comment"] = comment
        files: dict[str, Any] = {}
        said = f"{decision} for {env} as {role} by {actor.id}"
        if proof is not None:
            from releasegate.evidence.proxies import proxy_record

            data["proxy"] = proxy_record(approver, actor.id, state.id, proof)
            files[data["proxy"]["evidence"]] = proof.data
            said = (f"{decision} for {env} as {role} by {approver}, recorded by {actor.id} "
                    "on their behalf")
        act = sign_act(snap, pipeline, state, actor, "signoff", env, data, key)
        return append_event(state, actor, "signoff", env, act.data, said,
                            result=Recorded(state.id, env, "signoff", data),
                            files={**files, **act.files}, at=act.at)

    recorded, warnings = ledger.transact(with_rows(ledger, operation), own_patch_only=True)
    if on_behalf_of is not None:
        rule = next((r for r in load_pipeline(ledger.snapshot()).environment(env).gate.signoffs
                     if r.role == role), None)
        if rule is not None and rule.proxy != "allow":
            warnings.append(f"the {env} gate does not allow proxy sign-offs for role {role} "
                            "(proxy: deny): recorded, but it does not count")
    return recorded, warnings


def _check_recorder(pipeline: Pipeline, state: Any, recorder: str, approver: str) -> None:
    """Whether `recorder` may record a sign-off on `approver`'s behalf."""
    if approver == recorder:
        raise RuleError(f"{recorder} cannot sign off on their own behalf by proxy",
                        code="proxy-self",
                        hint="sign off without --on-behalf-of and --evidence")
    if approver not in pipeline.people:
        raise NotFoundError(f"unknown person '{approver}' (--on-behalf-of)",
                            code="unknown-person", hint=did_you_mean(approver, pipeline.people))
    allowed = pipeline.rules.proxies_by
    if not any(pipeline.holds(recorder, r) for r in allowed):
        who = ", ".join(allowed) if allowed else "nobody (rules.proxies_by is empty)"
        raise RuleError(f"{recorder} may not record sign-offs on behalf of others; proxies "
                        f"are for: {who}", code="not-allowed",
                        hint=None if allowed else "list the roles under rules.proxies_by")
    if recorder in state.deliverers:
        did = "submitted" if recorder == state.submitter else "re-delivered"
        raise RuleError(f"{recorder} {did} {state.id} and may not record a sign-off on "
                        "anyone's behalf (four eyes)", code="four-eyes")


def _check_signer(pipeline: Pipeline, state: Any, person: str, env: str, role: str) -> None:
    if not pipeline.holds(person, role):
        holders = ", ".join(pipeline.roles.get(role, ())) or "none"
        raise RuleError(f"{person} does not hold role '{role}'", code="not-allowed",
                        hint=f"holders of {role}: {holders}")
    if pipeline.rules.four_eyes and person in state.deliverers:
        did = "submitted" if person == state.submitter else "re-delivered"
        raise RuleError(f"{person} {did} {state.id} and may not sign it off (four eyes)",
                        code="four-eyes")
    if pipeline.rules.one_role_per_person:
        for other in state.signoffs:
            if other.env == env and other.person == person and other.role != role:
                raise RuleError(f"{person} already signed the {env} gate as '{other.role}'; "
                                "one person counts for one role per gate",
                                code="one-role-per-person")



# -- waivers --------------------------------------------------------------------------

def waive(ledger: Ledger, claimed: str | None, patch: str, env: str, pattern: str,
          reason: str, until: str, *, key: Path | None = None) -> tuple[Recorded, list[str]]:
    """Waive failing tests matching `pattern` for the gate of `env`, until a time;
    signed with `key` when one is given."""
    from releasegate.actions.gate import check_report
    from releasegate.core import clock

    check_text(env, "--env")
    check_text(pattern, "--test")
    check_text(reason, "--reason", multiline=True)
    check_text(until, "--until")
    pattern, reason = pattern.strip(), reason.strip()
    if not pattern or len(pattern) > 500:
        raise InputError("--test must be a glob on 'classname::name' of 1-500 characters",
                         code="usage")
    if not reason:
        raise InputError("--reason must say why the failures may be waived", code="usage")

    def operation(snap: Snapshot) -> Write[Recorded]:
        pipeline = load_pipeline(snap)
        check_env(pipeline, env)
        if not pipeline.environment(env).gate.tests:
            raise RuleError(f"the {env} gate has no tests condition; there is nothing to waive",
                            code="not-in-gate")
        expiry = clock.parse_until(until, pipeline.timezone)
        if expiry <= clock.now():
            raise InputError(f"--until {until} is in the past", code="bad-time",
                             hint="give a future date")
        actor = resolve_actor(pipeline, claimed, ledger.store)
        state = load_patch(ledger, snap, patch)
        refuse_passed_gate(pipeline, state, env)
        _check_waiver(pipeline, state, actor.id)
        data = {"test": pattern, "reason": reason, "until": clock.stamp(expiry, millis=False)}
        act = sign_act(snap, pipeline, state, actor, "waiver", env, data, key)
        return append_event(state, actor, "waiver", env, act.data,
                            f"waiver for {env} by {actor.id}: {pattern}",
                            result=Recorded(state.id, env, "waiver", data),
                            files=act.files, at=act.at)

    recorded, warnings = ledger.transact(with_rows(ledger, operation), own_patch_only=True)
    report, _ = check_report(ledger, recorded.patch, env)
    for row in report.verdict.conditions:
        if row.kind == "waiver" and row.name == pattern and row.status != "waived":
            warnings.append(f"waiver '{pattern}' {row.detail.split(';')[0]} at present")
    return recorded, warnings


def _check_waiver(pipeline: Pipeline, state: Any, person: str) -> None:
    allowed = pipeline.rules.waivers_by
    if person in state.deliverers:
        raise RuleError(f"{person} submitted or re-delivered {state.id} and may not waive its "
                        "failures", code="four-eyes")
    if not any(pipeline.holds(person, role) for role in allowed):
        who = ", ".join(allowed) if allowed else "nobody (rules.waivers_by is empty)"
        raise RuleError(f"{person} may not waive failing tests; waivers are for: {who}",
                        code="not-allowed",
                        hint=None if allowed else "list the roles under rules.waivers_by")
