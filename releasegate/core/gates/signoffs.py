"""signoffs: approvals by distinct people holding each role, under the four-eyes rules.

A proxy sign-off (recorded by a holder of a `rules.proxies_by` role on the approver's
behalf) is the approver's decision: it counts for them, for the role and for distinct
people, never for its recorder. It takes part only where the role's rule says
`proxy: allow`, and only while its recorder may record proxies; elsewhere it is left
out (it neither counts, nor blocks, nor replaces the approver's own decision) and the
row's detail says so.
"""

from __future__ import annotations

from releasegate.core.gates.gate_context import GateContext
from releasegate.core.gates.gate_evidence import gate_evidence
from releasegate.core.model import Condition, SignoffRule
from releasegate.core.state import Signoff


def latest_decisions(ctx: GateContext) -> list[Signoff]:
    """Each person's latest decision per role for this gate, in recording order; proxy
    sign-offs that may not take part are left out."""
    latest: dict[tuple[str, str], Signoff] = {}
    for signoff in ctx.state.signoffs:
        if signoff.env == ctx.target.name and proxy_problem(ctx, signoff) is None:
            latest.pop((signoff.person, signoff.role), None)
            latest[(signoff.person, signoff.role)] = signoff
    return sorted(latest.values(), key=lambda s: s.event.seq)


def proxy_problem(ctx: GateContext, signoff: Signoff) -> str | None:
    """Why the proxy sign-off may not take part in this gate; None when it may (and for
    a sign-off that is no proxy)."""
    proxy = signoff.proxy
    if proxy is None:
        return None
    rules = ctx.pipeline.rules
    rule = next((r for r in ctx.target.gate.signoffs if r.role == signoff.role), None)
    if rule is None or rule.proxy != "allow":
        return f"the {signoff.role} rule says proxy: deny"
    if not any(ctx.pipeline.holds(proxy.recorded_by, r) for r in rules.proxies_by):
        return f"{proxy.recorded_by} holds no role of rules.proxies_by"
    if proxy.recorded_by in ctx.state.deliverers:
        did = "submitted" if proxy.recorded_by == ctx.state.submitter else "re-delivered"
        return f"{proxy.recorded_by} {did} the patch"
    if proxy.recorded_by == signoff.person:
        return f"{proxy.recorded_by} recorded it for themselves"
    return None


def by_whom(signoff: Signoff) -> str:
    """The approver, marked when their decision was recorded by proxy."""
    if signoff.proxy is None:
        return signoff.person
    return f"{signoff.person} (by proxy: recorded by {signoff.proxy.recorded_by})"


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
    left_out = _left_out(ctx, rule)
    rejected = [s for s in latest_decisions(ctx) if s.role == rule.role and not s.approve]
    if rejected:
        who = ", ".join(f"{s.person}" + (f" ({s.comment})" if s.comment else "")
                        + (f" (by proxy: recorded by {s.proxy.recorded_by})" if s.proxy
                           else "") for s in rejected)
        return Condition("signoffs", rule.role, "fail", f"rejected by {who}; blocks until "
                         "the same person approves" + _not_counted(left_out))
    names = ", ".join(by_whom(s) for s in good)
    if len(good) >= rule.count:
        return Condition("signoffs", rule.role, "pass",
                         f"approved by {names}" + _not_counted(left_out))
    detail = (f"needs {rule.count} approval{'s' if rule.count > 1 else ''} from role "
              f"{rule.role}; has {len(good)}" + (f" ({names})" if names else ""))
    return Condition("signoffs", rule.role, "fail", detail + _not_counted(ignored + left_out))


def _not_counted(notes: list[str]) -> str:
    return "; not counted: " + "; ".join(notes) if notes else ""


def _left_out(ctx: GateContext, rule: SignoffRule) -> list[str]:
    """The proxy sign-offs for the role that may not take part, and why; only each
    person's latest such sign-off is named."""
    latest: dict[str, tuple[Signoff, str]] = {}
    for s in ctx.state.signoffs:
        if s.env == ctx.target.name and s.role == rule.role and s.proxy is not None:
            problem = proxy_problem(ctx, s)
            if problem is not None:
                latest[s.person] = (s, problem)
    return [f"{s.person}'s {'approval' if s.approve else 'rejection'} recorded by "
            f"{s.proxy.recorded_by} by proxy ({problem})"
            for s, problem in latest.values() if s.proxy is not None]


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
