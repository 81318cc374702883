"""signoffs: approvals by distinct people holding each role, under the four-eyes rules."""

from __future__ import annotations

from releasegate.core.gates.gate_context import GateContext
from releasegate.core.gates.gate_evidence import gate_evidence
from releasegate.core.model import Condition, SignoffRule
from releasegate.core.state import Signoff


def latest_decisions(ctx: GateContext) -> list[Signoff]:
    """Each person's latest decision per role for this gate, in recording order."""
    latest: dict[tuple[str, str], Signoff] = {}
    for signoff in ctx.state.signoffs:
        if signoff.env == ctx.target.name:
            latest.pop((signoff.person, signoff.role), None)
            latest[(signoff.person, signoff.role)] = signoff
    return sorted(latest.values(), key=lambda s: s.event.seq)


def counted(ctx: GateContext) -> list[Signoff]:
    """The approvals that count for the gate's roles."""
    result = []
    for rule in ctx.target.gate.signoffs:
        result += _approvals(ctx, rule)[0]
    return result


def evaluate(ctx: GateContext) -> list[Condition]:
    return [_evaluate_rule(ctx, rule) for rule in ctx.target.gate.signoffs]


def _evaluate_rule(ctx: GateContext, rule: SignoffRule) -> Condition:
    good, ignored = _approvals(ctx, rule)
    rejected = [s for s in latest_decisions(ctx) if s.role == rule.role and not s.approve]
    if rejected:
        who = ", ".join(f"{s.person}" + (f" ({s.comment})" if s.comment else "")
                        for s in rejected)
        return Condition("signoffs", rule.role, "fail", f"rejected by {who}; blocks until "
                         "the same person approves")
    names = ", ".join(s.person for s in good)
    if len(good) >= rule.count:
        return Condition("signoffs", rule.role, "pass", f"approved by {names}")
    detail = (f"needs {rule.count} approval{'s' if rule.count > 1 else ''} from role "
              f"{rule.role}; has {len(good)}" + (f" ({names})" if names else ""))
    if ignored:
        detail += "; not counted: " + "; ".join(ignored)
    return Condition("signoffs", rule.role, "fail", detail)


def _approvals(ctx: GateContext, rule: SignoffRule) -> tuple[list[Signoff], list[str]]:
    rules = ctx.pipeline.rules
    evidence = gate_evidence(ctx)
    newest = evidence[-1] if evidence else None
    first_role: dict[str, str] = {}
    for s in latest_decisions(ctx):
        if s.approve:
            first_role.setdefault(s.person, s.role)
    good: list[Signoff] = []
    ignored: list[str] = []
    for s in latest_decisions(ctx):
        if s.role != rule.role or not s.approve:
            continue
        if rules.four_eyes and s.person in ctx.state.deliverers:
            did = "submitted" if s.person == ctx.state.submitter else "re-delivered"
            ignored.append(f"{s.person} {did} the patch")
        elif not ctx.pipeline.holds(s.person, rule.role):
            ignored.append(f"{s.person} no longer holds {rule.role}")
        elif rules.one_role_per_person and first_role.get(s.person) != rule.role:
            ignored.append(f"{s.person} already counts as {first_role[s.person]}")
        elif rules.stale_signoffs and newest is not None and s.event.seq < newest.seq:
            ignored.append(f"{s.person} signed before newer evidence "
                           f"({newest.path.rsplit('/', 1)[-1]}); stale")
        elif s.person not in {g.person for g in good}:
            good.append(s)
    return good, ignored
